"""gguf-dequant's FP16 GGUF in llama.cpp's own loader (llama-cpp-python carries llama.cpp).

The bench model (scripts/make-bench-model: Qwen2.5-0.5B-Instruct Q4_K_M's layout, random
blocks) is converted to F16, F32 and BF16 GGUF; llama.cpp must load each output (which checks
every tensor's name, type, shape and data range against the qwen2 architecture) and run a
forward pass with finite logits. The quantized input is loaded too, as the control: a failure
there is this test's set-up, not gguf-dequant.

llama.cpp computes quantized matrix products on activations it quantizes to 8 bits, so the
logits of the quantized model and of its exact FP16 dequantization are not equal, and through
24 layers of random weights they drift apart: measured here, their correlation is 0.76-0.84,
while two bench models of different seeds correlate at 0.001. So a correlation above 0.5 says
"the same model", and a conversion that garbled any large tensor would fall to about zero.
"""
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

llama_cpp = pytest.importorskip("llama_cpp", reason="llama-cpp-python not installed (scripts/setup.sh installs it)")

BIN = Path(os.environ["GGUFTK_BIN"])
SOURCE = Path(os.environ["GGUFTK_SOURCE"])
TOKENS = [151643, 9707, 11, 1879, 0]


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    path = tmp_path_factory.mktemp("llama") / "bench.gguf"
    subprocess.run([sys.executable, SOURCE / "scripts" / "make-bench-model", path, "7"], check=True,
                   stdout=subprocess.DEVNULL)
    return path


def logits(path):
    m = llama_cpp.Llama(model_path=str(path), n_ctx=32, n_threads=os.cpu_count() or 2, verbose=False,
                        logits_all=True)
    try:
        assert m.n_vocab() == 151936
        m.eval(TOKENS)
        return np.array(m.scores[len(TOKENS) - 1], dtype=np.float64)
    finally:
        m.close()


@pytest.fixture(scope="module")
def control(model):
    return logits(model)


@pytest.mark.parametrize("to", ["f16", "f32", "bf16"])
def test_llama_cpp_loads_and_runs_the_output(model, control, to, tmp_path):
    out = tmp_path / f"bench-{to}.gguf"
    subprocess.run([BIN / "gguf-dequant", model, "-o", out, "--to", to, "--device", "cpu"], check=True,
                   capture_output=True)
    got = logits(out)
    out.unlink()
    assert np.isfinite(got).all()
    assert np.corrcoef(got, control)[0, 1] > 0.5
