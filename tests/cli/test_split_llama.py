"""A split model through gguf-dequant and into llama.cpp's own loader (llama-cpp-python).

A small random-weight llama is written by gguf-py as F32, quantized to Q4_K_M by llama.cpp
(llama_model_quantize), then written again by gguf-py's GGUFWriter twice: whole, and split into
shards of at most 8 tensors. gguf-dequant converts both to F16 (the split kept); llama.cpp must
load the split output from its first shard and give exactly the logits of the unsplit F16
output: the same weights, so the same numbers, bit for bit. The quantized inputs are loaded too,
as the control that the set-up itself is sound.
"""
import ctypes
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

gguf = pytest.importorskip("gguf")
llama_cpp = pytest.importorskip("llama_cpp", reason="llama-cpp-python not installed (scripts/setup.sh installs it)")
from cli_common import Gguf, rewrite_gguf  # noqa: E402

BIN = Path(os.environ["GGUFTK_BIN"])
N_VOCAB, N_EMBD, N_FF, N_HEAD, N_LAYER = 512, 256, 512, 4, 3
TOKENS = [1, 17, 42, 300, 7, 5]


def write_f32_llama(path, seed=11):
    rng = np.random.default_rng(seed)
    w = gguf.GGUFWriter(str(path), "llama")
    w.add_name("tiny random llama")
    w.add_context_length(64)
    w.add_embedding_length(N_EMBD)
    w.add_block_count(N_LAYER)
    w.add_feed_forward_length(N_FF)
    w.add_head_count(N_HEAD)
    w.add_head_count_kv(N_HEAD)
    w.add_rope_dimension_count(N_EMBD // N_HEAD)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_file_type(0)
    w.add_tokenizer_model("llama")
    w.add_token_list(["<unk>", "<s>", "</s>"] + [f"t{i}" for i in range(3, N_VOCAB)])
    w.add_token_scores([0.0] * N_VOCAB)
    w.add_token_types([2, 3, 3] + [1] * (N_VOCAB - 3))

    def weight(name, *shape, scale=0.05):
        w.add_tensor(name, (rng.standard_normal(shape) * scale).astype(np.float32))

    weight("token_embd.weight", N_VOCAB, N_EMBD, scale=1.0)
    for i in range(N_LAYER):
        b = f"blk.{i}."
        w.add_tensor(b + "attn_norm.weight", np.ones(N_EMBD, np.float32))
        for n in ("attn_q", "attn_k", "attn_v", "attn_output"):
            weight(b + n + ".weight", N_EMBD, N_EMBD)
        w.add_tensor(b + "ffn_norm.weight", np.ones(N_EMBD, np.float32))
        weight(b + "ffn_gate.weight", N_FF, N_EMBD)
        weight(b + "ffn_up.weight", N_FF, N_EMBD)
        weight(b + "ffn_down.weight", N_EMBD, N_FF)
    w.add_tensor("output_norm.weight", np.ones(N_EMBD, np.float32))
    weight("output.weight", N_VOCAB, N_EMBD)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    d = tmp_path_factory.mktemp("llama-split")
    write_f32_llama(d / "f32.gguf")
    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = llama_cpp.LLAMA_FTYPE_MOSTLY_Q4_K_M
    params.nthread = 2
    assert llama_cpp.llama_model_quantize(str(d / "f32.gguf").encode(), str(d / "q4km.gguf").encode(),
                                          ctypes.byref(params)) == 0
    (whole,) = rewrite_gguf(d / "q4km.gguf", d / "whole.gguf")
    shards = rewrite_gguf(d / "q4km.gguf", d / "split.gguf", split_max_tensors=8)
    assert len(shards) == 4
    types = {t["type"] for t in Gguf(whole).tensors.values()}
    assert {"Q4_K", "Q6_K", "F32"} <= types  # what llama.cpp made of it
    return d, whole, shards


def logits(path):
    m = llama_cpp.Llama(model_path=str(path), n_ctx=32, n_threads=2, verbose=False, logits_all=True)
    try:
        m.eval(TOKENS)
        return np.array(m.scores[len(TOKENS) - 1], dtype=np.float32)
    finally:
        m.close()


def dequant(*args):
    p = subprocess.run([str(BIN / "gguf-dequant"), *map(str, args), "--device", "cpu"], capture_output=True,
                       text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    return p


def test_llama_cpp_loads_the_split_f16_output_with_the_unsplit_logits(models, tmp_path):
    d, whole, shards = models
    control = logits(shards[0])  # the quantized split input, loaded by llama.cpp from its first shard
    assert np.array_equal(control, logits(whole))

    dequant(whole, "-o", tmp_path / "whole-f16.gguf")
    dequant(shards[2], "-o", tmp_path / "split-f16.gguf")
    outs = [tmp_path / f"split-f16-0000{k}-of-00004.gguf" for k in (1, 2, 3, 4)]
    assert all(p.exists() for p in outs)

    # Every tensor bit-exact to the unsplit conversion, the shards holding what the inputs held.
    ref = Gguf(tmp_path / "whole-f16.gguf")
    seen = []
    for out, src in zip(outs, shards):
        g = Gguf(out)
        assert g.order == Gguf(src).order
        for n in g.order:
            assert g.tensors[n]["data"] == ref.tensors[n]["data"], n
            assert g.tensors[n]["type"] == ref.tensors[n]["type"], n
        seen += g.order
    assert seen == ref.order

    split_logits = logits(outs[0])
    assert np.isfinite(split_logits).all()
    assert np.array_equal(split_logits, logits(tmp_path / "whole-f16.gguf"))
    # And it is the quantized model's conversion: llama.cpp's quantized products differ from
    # exact F16 ones only by their 8-bit activations.
    assert np.corrcoef(split_logits, control)[0, 1] > 0.9


def test_llama_cpp_loads_the_merged_output(models, tmp_path):
    _, whole, shards = models
    dequant(shards[0], "-o", tmp_path / "merged.gguf", "--merge")
    dequant(whole, "-o", tmp_path / "whole-f16.gguf")
    assert (tmp_path / "merged.gguf").read_bytes() == (tmp_path / "whole-f16.gguf").read_bytes()
    assert np.array_equal(logits(tmp_path / "merged.gguf"), logits(tmp_path / "whole-f16.gguf"))
