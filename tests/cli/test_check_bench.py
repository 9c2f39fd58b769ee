"""gguf-dequant --check on the bench model (scripts/make-bench-model: Qwen2.5-0.5B-Instruct
Q4_K_M's layout, Q4_K/Q5_0/Q6_K/Q8_0/F32, 630 M values) against NumPy's float64 statistics of
gguf-py's own dequantization of every tensor: min/max/mean/std to 1e-12 relative, zeros and
all-zero rows exact. Slow (about 20 s: gguf-py dequantizes in NumPy)."""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

import gguf

BIN = Path(os.environ["GGUFTK_BIN"]) / "gguf-dequant"
SOURCE = Path(os.environ["GGUFTK_SOURCE"])


def test_bench_model_statistics_match_gguf_py(tmp_path):
    path = tmp_path / "bench.gguf"
    subprocess.run([sys.executable, SOURCE / "scripts" / "make-bench-model", path, "3"], check=True,
                   stdout=subprocess.DEVNULL)
    p = subprocess.run([str(BIN), path, "--check", "--json", "--to", "f16"], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    doc = json.loads(p.stdout)
    got = {t["name"]: t["stats"] for t in doc["tensors"]}
    reader = gguf.GGUFReader(str(path))
    assert len(got) == len(reader.tensors) == 291
    for t in reader.tensors:
        v = gguf.quants.dequantize(t.data, t.tensor_type).astype(np.float64)
        s = got[t.name]
        assert s["values"] == v.size and s["nan"]["count"] == 0 and s["inf"]["count"] == 0, t.name
        assert (s["min"], s["max"]) == (v.min(), v.max()), t.name
        for key, want in (("mean", v.mean()), ("std", v.std())):
            assert abs(s[key] - want) <= 1e-12 * abs(want), (t.name, key, s[key], want)
        assert s["zeros"] == int((v == 0).sum()), t.name
        rows = v.reshape(-1, int(t.shape[0]))
        assert s["zero_rows"] == int((rows == 0).all(axis=1).sum()), t.name
