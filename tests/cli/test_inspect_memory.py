"""gguf-inspect --ctx N [--kv-type T]: the memory section in every view, on a gguf-py model of a
known architecture, on the fixture (whose architecture is not known), and on a split model.
(The KV figure itself is compared with llama.cpp in test_kv_cache.py and worked out by hand in
test_memory.cpp.)
"""
import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

gguf = pytest.importorskip("gguf")

BIN = Path(os.environ["GGUFTK_BIN"])
INSPECT = BIN / "gguf-inspect"
ALL = Path(os.environ["GGUFTK_FIXTURES"]) / "all-types.gguf"


def run(*args):
    return subprocess.run([str(INSPECT), *map(str, args)], capture_output=True, text=True, timeout=60)


def write(path, n_layer=2, **writer_args):
    """qwen2, 2 layers of 128 wide with 4 heads of 32 and 2 KV heads: 256 bytes per token per layer in F16."""
    w = gguf.GGUFWriter(str(path), "qwen2", **writer_args)
    w.add_block_count(n_layer)
    w.add_embedding_length(128)
    w.add_head_count(4)
    w.add_head_count_kv(2)
    for i in range(n_layer):
        w.add_tensor(f"blk.{i}.attn_k.weight", np.zeros((64, 128), dtype=np.float16))
        w.add_tensor(f"blk.{i}.attn_norm.weight", np.ones(128, dtype=np.float32))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


WEIGHTS = 2 * (64 * 128 * 2 + 128 * 4)  # bytes of the tensors above
PER_TOKEN = 2 * 2 * 2 * 32 * 2          # layers x (K, V) x KV heads x head width x F16


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    path = tmp_path_factory.mktemp("mem") / "qwen2.gguf"
    write(path)
    return path


def test_text(model):
    p = run(model, "--ctx", 1000, "--no-metadata", "--no-tensors")
    assert p.returncode == 0, p.stderr
    section = p.stdout.split("\nMemory (a context of 1000 tokens, KV cache F16)\n", 1)[1].splitlines()
    # gguf-dequant copies the F16 and F32 tensors of this model whatever the target: the same bytes.
    assert section == [
        f"  weights as stored    {WEIGHTS} bytes (33.0 KiB)",
        f"  weights --to f16     {WEIGHTS} bytes (33.0 KiB)",
        f"  weights --to bf16    {WEIGHTS} bytes (33.0 KiB)",
        f"  weights --to f32     {WEIGHTS} bytes (33.0 KiB)",
        f"  KV cache             {1000 * PER_TOKEN} bytes (500.0 KiB): 2 layers x 1000 tokens",
        f"  as stored + KV cache {WEIGHTS + 1000 * PER_TOKEN} bytes (533.0 KiB)",
        f"  --to f16 + KV cache  {WEIGHTS + 1000 * PER_TOKEN} bytes (533.0 KiB)",
        f"  --to bf16 + KV cache {WEIGHTS + 1000 * PER_TOKEN} bytes (533.0 KiB)",
        f"  --to f32 + KV cache  {WEIGHTS + 1000 * PER_TOKEN} bytes (533.0 KiB)",
    ]


def test_markdown(model):
    p = run(model, "--ctx", 1000, "--kv-type", "q8_0", "--markdown")
    assert p.returncode == 0, p.stderr
    md = p.stdout.split("\n## Memory (a context of 1000 tokens, KV cache Q8_0)\n\n", 1)[1]
    kv = 1000 * 2 * 2 * (2 * 32 // 32 * 34)
    assert f"| KV cache | {kv} bytes (265.6 KiB): 2 layers x 1000 tokens |" in md
    assert f"| as stored + KV cache | {WEIGHTS + kv} bytes" in md


@pytest.mark.parametrize("kv_type,bytes_per_elem", [("f16", 2), ("BF16", 2), ("f32", 4)])
def test_json(model, kv_type, bytes_per_elem):
    d = json.loads(run(model, "--ctx", 4096, "--kv-type", kv_type, "--json").stdout)
    assert list(d)[-1] == "memory"
    kv = 4096 * 2 * 2 * 2 * 32 * bytes_per_elem
    assert d["memory"] == {
        "ctx": 4096, "kv_type": kv_type.lower(), "kv_cache_bytes": kv,
        "kv_cache": {"layers": 2, "sliding_window_layers": 0, "sliding_window": 0, "cells": 4096,
                     "sliding_window_cells": 0, "k_bytes": kv // 2, "v_bytes": kv // 2},
        "weights_bytes": {"stored": WEIGHTS, "f16": WEIGHTS, "bf16": WEIGHTS, "f32": WEIGHTS},
        "weights_plus_kv_bytes": {t: WEIGHTS + kv for t in ("stored", "f16", "bf16", "f32")}}


def test_no_memory_without_ctx(model):
    assert "memory" not in json.loads(run(model, "--json").stdout)
    assert "Memory" not in run(model).stdout


def test_architecture_not_known():
    p = run(ALL, "--ctx", 10, "--no-metadata", "--no-tensors")
    assert p.returncode == 0
    assert p.stdout.splitlines()[-1] == "  KV cache          not known for architecture 'fixture'"
    assert "as stored + KV cache" not in p.stdout
    m = json.loads(run(ALL, "--ctx", 10, "--json").stdout)["memory"]
    assert m["kv_cache_bytes"] is None and m["kv_cache_unknown"] == "not known for architecture 'fixture'"
    assert "weights_plus_kv_bytes" not in m and m["weights_bytes"]["stored"] == 189868


def test_dequantized_weights_are_what_gguf_dequant_writes(tmp_path):
    # The fixture's quantized tensors grow when converted: each target's weights are the tensor
    # bytes of the file gguf-dequant writes (the header and alignment padding are not weights).
    d = json.loads(run(ALL, "--ctx", 10, "--json").stdout)
    weights = d["memory"]["weights_bytes"]
    for to in ("f16", "bf16", "f32"):
        assert weights[to] == d["summary"]["dequantized"][to]["default"]["tensor_bytes"]
        out = tmp_path / f"all-{to}.gguf"
        p = subprocess.run([str(BIN / "gguf-dequant"), str(ALL), "-o", str(out), "--to", to], capture_output=True,
                           text=True, timeout=60)
        assert p.returncode == 0, p.stderr
        written = gguf.GGUFReader(str(out))
        assert weights[to] == sum(int(t.n_bytes) for t in written.tensors)
    assert weights["f16"] > weights["stored"] and weights["f32"] > weights["f16"]


@pytest.mark.parametrize("args,words", [
    (["--kv-type", "q8_0"], "--kv-type requires --ctx"),
    (["--ctx", "8", "--kv-type", "q4_k"], "the KV cache types are f16, bf16, q8_0, q4_0 and f32"),
    (["--ctx", "0"], "0 is not a whole number from 1"),
    (["--ctx", "-5"], "is not a whole number"),
])
def test_usage_mistakes(model, args, words):
    p = run(model, *args)
    assert p.returncode == 2 and words in p.stderr, p.stderr


def test_split_model_weights_of_every_shard(tmp_path):
    write(tmp_path / "m.gguf", n_layer=4, split_max_tensors=4)
    shards = sorted(tmp_path.glob("m-*.gguf"))
    assert [p.name for p in shards] == ["m-00001-of-00002.gguf", "m-00002-of-00002.gguf"]
    one = json.loads(run(shards[0], "--ctx", 100, "--json", "--shard-only").stdout)["memory"]
    every = json.loads(run(shards[1], "--ctx", 100, "--json").stdout)["memory"]
    assert every["weights_bytes"]["stored"] == 2 * one["weights_bytes"]["stored"] == 2 * WEIGHTS
    # The KV cache is the model's, from shard 1's metadata, whichever shard was named.
    assert every["kv_cache_bytes"] == one["kv_cache_bytes"] == 100 * 4 * 2 * 2 * 32 * 2
    assert "(this shard's alone: --shard-only)" in run(shards[0], "--ctx", 100, "--shard-only").stdout
    assert "this shard's alone" not in run(shards[0], "--ctx", 100).stdout
