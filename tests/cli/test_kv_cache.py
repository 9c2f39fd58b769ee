"""The KV cache figure (model/memory.h) against llama.cpp itself (llama-cpp-python).

One small model per architecture, random weights, made with gguf-py, is loaded by llama.cpp at
several context sizes and KV types; llama.cpp logs every cache it allocates as

    llama_kv_cache: size = 6.38 MiB (13056 cells, 3 layers, 1/1 seqs), K (f16): 3.19 MiB, V (f16): 3.19 MiB

(a second one for the sliding-window layers of gemma2 and gemma3). bin/test-kv-cache gives the
core's figure for llama.cpp's layout: the context padded to 256 cells, sliding-window layers
holding the whole context (swa_full, llama-cpp-python's default) or their window plus the
512-token micro-batch. Cells and layers must be equal, and K, V and their sum equal as llama.cpp
prints them, to 0.01 MiB. That is equality to the byte: every cache here has more than 5243
cells, and K or V rows differ, if at all, by at least 2 bytes (a row is whole F16/BF16/F32
elements or Q8_0/Q4_0 blocks of 34/18 bytes), so two figures that differ at all differ by more
than 5243 x 2 > 0.01 x 2^20 bytes and print differently.

gguf-inspect --ctx shows the layout the model needs (no padding, a window's worth of cells in
sliding-window layers); it is checked against the core with that layout and against sizes
worked out here. docs/MEMORY.md says how the two layouts differ.
"""
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("llama_cpp", reason="llama-cpp-python not installed (scripts/setup.sh installs it)")
gguf = pytest.importorskip("gguf")
from gguf.constants import GGUFValueType as VT  # noqa: E402

BIN = Path(os.environ["GGUFTK_BIN"])
KV_TOOL = BIN / "test-kv-cache"
INSPECT = BIN / "gguf-inspect"
MIB = 1 << 20
PAD, UBATCH = 256, 512  # llama.cpp's context padding; llama-cpp-python's micro-batch (min(n_ctx, 512))
WINDOW = 5000           # sliding window: 5000 + 512 -> 5632 cells, more than 5243 too


def make_model(path, arch, n_layer, n_embd=64, head_dim=None, n_head_kv=2, swa=None, extra=()):
    """A model llama.cpp loads: the architecture's tensors at tiny sizes (4 heads). Without
    head_dim, a head is n_embd / 4 wide (key_length and value_length are left out)."""
    n_head, n_ff, vocab = 4, 128, 320
    hd = head_dim or n_embd // n_head
    rng = np.random.default_rng(3)
    w = gguf.GGUFWriter(str(path), arch)
    w.add_context_length(32768)
    w.add_embedding_length(n_embd)
    w.add_block_count(n_layer)
    w.add_feed_forward_length(n_ff)
    w.add_head_count(n_head)
    w.add_head_count_kv(n_head_kv)
    if head_dim:
        w.add_key_length(head_dim)
        w.add_value_length(head_dim)
    w.add_layer_norm_rms_eps(1e-6)
    w.add_rope_freq_base(10000.0)
    w.add_rope_dimension_count(hd)
    if swa is not None:
        w.add_sliding_window(swa)
    for key, value, vtype in extra:
        w.add_key_value(key, value, vtype)
    w.add_tokenizer_model("llama")
    w.add_token_list(["<unk>", "<s>", "</s>"] + [f"t{i}" for i in range(vocab - 3)])
    w.add_token_scores([0.0] * vocab)
    w.add_token_types([2, 3, 3] + [1] * (vocab - 3))
    w.add_bos_token_id(1)
    w.add_eos_token_id(2)

    def weight(name, rows, cols):
        w.add_tensor(name, (0.02 * rng.standard_normal((rows, cols))).astype(np.float32))

    def norm(name, n):
        w.add_tensor(name, np.ones(n, dtype=np.float32))

    weight("token_embd.weight", vocab, n_embd)
    norm("output_norm.weight", n_embd)
    if arch != "gemma2":  # gemma2 ties the output to the embeddings
        weight("output.weight", vocab, n_embd)
    for i in range(n_layer):
        b = f"blk.{i}."
        norm(b + "attn_norm.weight", n_embd)
        if arch == "phi3":
            weight(b + "attn_qkv.weight", (n_head + 2 * n_head_kv) * hd, n_embd)
        else:
            weight(b + "attn_q.weight", n_head * hd, n_embd)
            weight(b + "attn_k.weight", n_head_kv * hd, n_embd)
            weight(b + "attn_v.weight", n_head_kv * hd, n_embd)
        if arch == "qwen2":
            norm(b + "attn_q.bias", n_head * hd)
            norm(b + "attn_k.bias", n_head_kv * hd)
            norm(b + "attn_v.bias", n_head_kv * hd)
        if arch in ("qwen3", "gemma3"):
            norm(b + "attn_q_norm.weight", hd)
            norm(b + "attn_k_norm.weight", hd)
        weight(b + "attn_output.weight", n_embd, n_head * hd)
        norm(b + "ffn_norm.weight", n_embd)
        if arch in ("gemma2", "gemma3"):
            norm(b + "post_attention_norm.weight", n_embd)
            norm(b + "post_ffw_norm.weight", n_embd)
        if arch == "phi3":
            weight(b + "ffn_up.weight", 2 * n_ff, n_embd)
        else:
            weight(b + "ffn_gate.weight", n_ff, n_embd)
            weight(b + "ffn_up.weight", n_ff, n_embd)
        weight(b + "ffn_down.weight", n_embd, n_ff)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


SOFTCAP = [("gemma2.attn_logit_softcapping", 50.0, VT.FLOAT32), ("gemma2.final_logit_softcapping", 30.0, VT.FLOAT32)]
# name: (architecture, make_model's arguments). Heads of 32 or 64 elements, whole Q8_0/Q4_0 blocks.
MODELS = {
    "llama": ("llama", dict(n_layer=3, head_dim=32)),
    "mistral3": ("mistral3", dict(n_layer=2, head_dim=64)),
    "qwen2": ("qwen2", dict(n_layer=3, n_embd=128)),  # heads from embedding_length / head_count
    "qwen3": ("qwen3", dict(n_layer=3, head_dim=64)),
    "phi3": ("phi3", dict(n_layer=2, n_embd=128, n_head_kv=4, swa=2047)),  # a window llama.cpp leaves unused
    "gemma2": ("gemma2", dict(n_layer=4, head_dim=64, swa=WINDOW, extra=SOFTCAP)),
    "gemma3": ("gemma3", dict(n_layer=8, head_dim=64, swa=WINDOW)),
    "gemma3-flags": ("gemma3", dict(n_layer=5, head_dim=32, swa=WINDOW, extra=[
        ("gemma3.attention.sliding_window_pattern", [True, False, True, True, False], VT.ARRAY)])),
}
TYPES = {"f32": 0, "f16": 1, "q4_0": 2, "q8_0": 8, "bf16": 30}  # ggml type ids


def configs(name):
    """(n_ctx, kv type, swa_full) to load a model at: every type at one size, F16 at another."""
    out = [(13000, t, True) for t in TYPES] + [(6000, "f16", True)]
    if name.startswith("gemma"):
        out += [(13000, t, False) for t in ("f16", "q8_0")] + [(6000, "bf16", False)]
    return out


LOADER = r"""
import json, sys, llama_cpp
for i, (path, n_ctx, k, swa_full, type_id) in enumerate(json.loads(sys.argv[1])):
    print(f"@@ config {i}", file=sys.stderr, flush=True)
    m = llama_cpp.Llama(model_path=path, n_ctx=n_ctx, verbose=True, type_k=type_id, type_v=type_id,
                        flash_attn=k in ("q8_0", "q4_0"), swa_full=swa_full, n_threads=1)
    m.close()
"""
CACHE_LINE = re.compile(r"llama_kv_cache: size = +([\d.]+) MiB \( *(\d+) cells, +(\d+) layers,.*"
                        r"K \((\w+)\): +([\d.]+) MiB, V \((\w+)\): +([\d.]+) MiB")


def llama_cpp_caches(runs):
    """What llama.cpp logs for each run: [(cells, layers, total MiB, K MiB, V MiB), ...] per run."""
    p = subprocess.run([sys.executable, "-c", LOADER, json.dumps(runs)], capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr[-3000:]
    parts = p.stderr.split("@@ config ")[1:]
    assert len(parts) == len(runs)
    out = []
    for (_, _, k, _, _), part in zip(runs, parts):
        caches = []
        for m in CACHE_LINE.finditer(part):
            assert m[4] == k and m[6] == k, m[0]
            caches.append((int(m[2]), int(m[3]), m[1], m[5], m[7]))
        out.append(caches)
    return out


def core(path, n_ctx, kv_type, pad=1, ubatch=0, swa_full=False):
    p = subprocess.run([str(KV_TOOL), str(path), str(n_ctx), kv_type, str(pad), str(ubatch), str(int(swa_full))],
                       capture_output=True, text=True, timeout=60, check=True)
    assert not p.stdout.startswith("unknown"), p.stdout
    keys = ["cells", "swa_cells", "layers", "swa_layers", "window", "k", "v", "swa_k", "swa_v"]
    return dict(zip(keys, map(int, p.stdout.split())))


def mib(n):
    return f"{n / MIB:.2f}"


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    root = tmp_path_factory.mktemp("kv")
    paths = {}
    for name, (arch, args) in MODELS.items():
        paths[name] = root / f"{name}.gguf"
        make_model(paths[name], arch, **args)
    return paths


@pytest.mark.parametrize("name", list(MODELS))
def test_kv_cache_is_what_llama_cpp_allocates(models, name):
    path = models[name]
    runs = [(str(path), n_ctx, k, swa_full, TYPES[k]) for n_ctx, k, swa_full in configs(name)]
    for (_, n_ctx, k, swa_full, _), caches in zip(runs, llama_cpp_caches(runs)):
        ours = core(path, n_ctx, k, PAD, UBATCH, swa_full)
        expected = [(ours["cells"], ours["layers"] - ours["swa_layers"], ours["k"] - ours["swa_k"], ours["v"] - ours["swa_v"])]
        if ours["swa_layers"]:
            expected.append((ours["swa_cells"], ours["swa_layers"], ours["swa_k"], ours["swa_v"]))
        assert len(caches) == len(expected), (n_ctx, k, swa_full, caches)
        for (cells, layers, total, k_mib, v_mib), (e_cells, e_layers, e_k, e_v) in zip(caches, expected):
            assert cells > 5243  # what makes agreement at 0.01 MiB agreement to the byte (see above)
            assert (cells, layers, total, k_mib, v_mib) == (e_cells, e_layers, mib(e_k + e_v), mib(e_k), mib(e_v)), \
                (n_ctx, k, swa_full)


@pytest.mark.parametrize("name,n_ctx,kv_type,per_token", [
    # bytes per token of a full-context layer: (K + V) x heads x width x bytes per element
    ("llama", 4096, "f16", 3 * 2 * 2 * 32 * 2),
    ("qwen3", 1000, "q8_0", 3 * 2 * 2 * (64 // 32 * 34)),
    ("phi3", 777, "f32", 2 * 2 * 4 * 32 * 4),
])
def test_inspect_shows_the_cache_the_model_needs(models, name, n_ctx, kv_type, per_token):
    d = json.loads(subprocess.run([str(INSPECT), models[name], "--ctx", str(n_ctx), "--kv-type", kv_type, "--json"],
                                  capture_output=True, text=True, check=True).stdout)
    m = d["memory"]
    assert m["ctx"] == n_ctx and m["kv_type"] == kv_type
    assert m["kv_cache_bytes"] == n_ctx * per_token
    deq = {t: d["summary"]["dequantized"][t]["default"]["tensor_bytes"] for t in ("f16", "bf16", "f32")}
    assert m["weights_bytes"] == {"stored": d["summary"]["bytes"], **deq}
    assert m["weights_plus_kv_bytes"] == {t: w + n_ctx * per_token for t, w in m["weights_bytes"].items()}


def test_inspect_sliding_window_layers_keep_their_window(models):
    for n_ctx in (3000, 13000):
        d = json.loads(subprocess.run([str(INSPECT), models["gemma3"], "--ctx", str(n_ctx), "--json"],
                                      capture_output=True, text=True, check=True).stdout)
        kv = d["memory"]["kv_cache"]
        # 8 layers: 0-4 and 6, 7 have a window (il % 6 < 5), layer 5 sees the whole context.
        assert (kv["layers"], kv["sliding_window_layers"], kv["sliding_window"]) == (8, 7, WINDOW)
        row = 2 * 64 * 2  # heads x width x F16
        assert d["memory"]["kv_cache_bytes"] == 2 * row * (n_ctx + 7 * min(n_ctx, WINDOW))
        assert core(models["gemma3"], n_ctx, "f16")["k"] == d["memory"]["kv_cache"]["k_bytes"]
