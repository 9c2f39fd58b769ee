"""gguf-dequant end to end: every type against ggml's reference files, every output format
read back by an independent reader (gguf-py, NumPy, safetensors, and a small parser here).

The references (all-types.ref-f16.gguf / ref-f32.gguf) were written by ggml itself; outputs
must match them byte for byte. cli_common's parser reads GGUF directly because gguf-py's reader
rejects the input fixture (it does not know every type in it).
"""
import json
import os
import struct
import subprocess
from pathlib import Path

import numpy as np
import pytest

from cli_common import FLOATS, INTEGERS, NUMPY, TYPES, Gguf  # noqa: F401

BIN = Path(os.environ["GGUFTK_BIN"]) / "gguf-dequant"
FIXTURES = Path(os.environ["GGUFTK_FIXTURES"])
ALL = FIXTURES / "all-types.gguf"
REF = {"f16": FIXTURES / "all-types.ref-f16.gguf", "f32": FIXTURES / "all-types.ref-f32.gguf"}


def run(*args, check=True, **kw):
    p = subprocess.run([str(BIN), *map(str, args)], capture_output=True, text=True, **kw)
    if check and p.returncode != 0:
        raise AssertionError(f"gguf-dequant {' '.join(map(str, args))} -> {p.returncode}\n{p.stderr}")
    return p


@pytest.fixture(scope="module")
def src():
    return Gguf(ALL)


@pytest.fixture(scope="module")
def refs():
    return {k: Gguf(v) for k, v in REF.items()}


def np_values(t):
    return np.frombuffer(t["data"], dtype=NUMPY[t["type"]]).reshape(list(reversed(t["dims"])))


@pytest.mark.parametrize("to", ["f16", "f32"])
def test_every_type_matches_ggml_reference(tmp_path, src, refs, to):
    out = tmp_path / "out.gguf"
    run(ALL, "-o", out, "--to", to, "--device", "cpu")
    got, ref = Gguf(out), refs[to]
    assert got.order == src.order  # tensor order kept
    checked = 0
    for name in src.order:
        s, g = src.tensors[name], got.tensors[name]
        assert g["dims"] == s["dims"], name
        assert g["offset"] % got.alignment == 0, name
        if s["type"] in FLOATS or s["type"] in INTEGERS:
            assert g["type"] == s["type"] and g["data"] == s["data"], f"{name}: not copied byte for byte"
        else:
            r = ref.tensors[name]
            assert g["type"] == to.upper() == r["type"], name
            assert g["data"] == r["data"], f"{name} ({s['type']}): differs from ggml's {to}"
            checked += 1
    assert checked >= 27  # every quantized type of the fixture, plus the edge-case tensors


@pytest.mark.parametrize("to", ["f16", "f32"])
def test_all_converts_float_tensors_too(tmp_path, src, refs, to):
    out = tmp_path / "out.gguf"
    run(ALL, "-o", out, "--to", to, "--all", "--device", "cpu")
    got, ref = Gguf(out), refs[to]
    for name in src.order:
        s, g = src.tensors[name], got.tensors[name]
        if s["type"] in INTEGERS:
            assert g["type"] == s["type"] and g["data"] == s["data"], name
        else:
            assert g["type"] == to.upper(), name
            assert g["data"] == ref.tensors[name]["data"], f"{name} ({s['type']})"


@pytest.mark.parametrize("to,ftype", [("f16", 1), ("f32", 0), ("bf16", 32)])
def test_metadata_copied_in_order_with_file_type(tmp_path, src, to, ftype):
    out = tmp_path / "out.gguf"
    run(ALL, "-o", out, "--to", to)
    got = Gguf(out)
    # The fixture has no general.file_type: it is added after the last general.* entry.
    keys = [k for k, *_ in src.kvs]
    assert "general.file_type" not in keys
    last_general = max(i for i, k in enumerate(keys) if k.startswith("general."))
    keys.insert(last_general + 1, "general.file_type")
    assert [k for k, *_ in got.kvs] == keys
    raw = {k: r for k, _, _, r in src.kvs}
    for k, t, v, r in got.kvs:
        if k == "general.file_type":
            assert t == 4 and v == ftype
        else:
            assert r == raw[k], k  # byte for byte
    assert got.alignment == src.alignment


def test_file_type_replaced_in_place(tmp_path):
    run(ALL, "-o", tmp_path / "f32.gguf", "--to", "f32")
    run(tmp_path / "f32.gguf", "-o", tmp_path / "bf16.gguf", "--to", "bf16", "--all")
    a, b = Gguf(tmp_path / "f32.gguf"), Gguf(tmp_path / "bf16.gguf")
    assert [k for k, *_ in a.kvs] == [k for k, *_ in b.kvs]
    assert (a.meta("general.file_type"), b.meta("general.file_type")) == (0, 32)


def test_file_type_added_when_absent(tmp_path):
    # A file with no general.file_type: written after the last general.* entry.
    kvs = [("general.architecture", "llama"), ("general.name", "x"), ("other.key", "y")]
    raw = b"".join(struct.pack("<Q", len(k)) + k.encode() + struct.pack("<IQ", 8, len(v)) + v.encode()
                   for k, v in kvs)
    info = struct.pack("<Q", 1) + b"w" + struct.pack("<IQQIQ", 2, 32, 2, 8, 0)
    head = struct.pack("<IIQQ", 0x46554747, 3, 1, len(kvs)) + raw + info
    head += b"\0" * (-len(head) % 32)
    block = struct.pack("<e", 0.5) + bytes(range(32))
    path = tmp_path / "in.gguf"
    path.write_bytes(head + block * 2)
    run(path, "-o", tmp_path / "out.gguf")
    got = Gguf(tmp_path / "out.gguf")
    assert [k for k, *_ in got.kvs] == ["general.architecture", "general.name", "general.file_type", "other.key"]
    assert got.meta("general.file_type") == 1
    expect = (np.frombuffer(bytes(range(32)), dtype=np.int8).astype(np.float32) * np.float32(0.5)).astype("<f2")
    assert got.tensors["w"]["data"] == expect.tobytes() * 2


def test_gguf_py_reads_the_f16_output(tmp_path, refs):
    gguf = pytest.importorskip("gguf")
    out = tmp_path / "out.gguf"
    run(ALL, "-o", out)
    r = gguf.GGUFReader(str(out))
    ours = Gguf(out)
    assert [t.name for t in r.tensors] == ours.order
    for t in r.tensors:
        g = ours.tensors[t.name]
        assert t.tensor_type.name == g["type"], t.name
        assert [int(x) for x in t.shape] == g["dims"], t.name
        assert t.data.tobytes() == g["data"], t.name
    assert int(r.fields["general.file_type"].parts[-1][0]) == 1


def test_tensors_glob_converts_only_the_selection_in_gguf(tmp_path, src, refs):
    out = tmp_path / "out.gguf"
    run(ALL, "-o", out, "--tensors", "q4_K.*,q8_0.*")
    got = Gguf(out)
    assert got.order == src.order  # the unselected tensors are still there
    for name in src.order:
        g, s = got.tensors[name], src.tensors[name]
        if name.startswith(("q4_K.", "q8_0.")):
            assert g["type"] == "F16" and g["data"] == refs["f16"].tensors[name]["data"], name
        else:
            assert g["type"] == s["type"] and g["data"] == s["data"], name
    # Quantized tensors remain, so no file type is claimed (the fixture has none).
    assert "general.file_type" not in [k for k, *_ in got.kvs]


def test_npy_directory(tmp_path, src, refs):
    out = tmp_path / "npy"
    run(ALL, "-o", out, "--format", "npy", "--to", "f32")
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["format"] == "npy"
    assert [t["name"] for t in manifest["tensors"]] == src.order
    assert manifest["metadata"]["general.architecture"] == src.meta("general.architecture").decode()
    for entry in manifest["tensors"]:
        name, s = entry["name"], src.tensors[entry["name"]]
        a = np.load(out / entry["file"])
        assert list(a.shape) == list(reversed(s["dims"])) == entry["shape"], name
        if s["type"] in INTEGERS or s["type"] in ("F32", "F16", "F64"):
            assert a.dtype == np.dtype(NUMPY[s["type"]]), name  # integers keep their dtype
            assert a.tobytes() == s["data"], name
        else:  # quantized, and BF16 (NumPy has none): converted
            assert a.dtype == np.float32, name
            assert a.tobytes() == refs["f32"].tensors[name]["data"], name
    assert sorted(os.listdir(out)) == sorted([t["file"] for t in manifest["tensors"]] + ["manifest.json"])


def read_safetensors(path):
    """(header dict, data bytes) of a safetensors file, read by hand (NumPy has no bfloat16)."""
    b = Path(path).read_bytes()
    (n,) = struct.unpack_from("<Q", b, 0)
    return json.loads(b[8:8 + n]), b[8 + n:]


def test_safetensors_file(tmp_path, src, refs):
    st = pytest.importorskip("safetensors")
    from safetensors.numpy import load_file
    out = tmp_path / "out.safetensors"
    run(ALL, "-o", out, "--format", "safetensors", "--to", "f16", "--all")  # --all: NumPy has no bfloat16
    tensors = load_file(str(out))  # the safetensors package validates header and offsets
    assert sorted(tensors) == sorted(src.order)
    with st.safe_open(str(out), framework="numpy") as f:
        meta = f.metadata()
    assert meta["general.architecture"] == src.meta("general.architecture").decode()
    assert meta["fixture.u32"] == str(src.meta("fixture.u32"))
    assert json.loads(meta["fixture.arr_i32"]) == src.meta("fixture.arr_i32")
    for name in src.order:
        s, a = src.tensors[name], tensors[name]
        assert list(a.shape) == list(reversed(s["dims"])), name
        if s["type"] in INTEGERS or s["type"] == "F16":
            assert a.dtype == np.dtype(NUMPY[s["type"]]), name  # integers keep their dtype
            assert a.tobytes() == s["data"], name
        else:
            assert a.dtype == np.float16 and a.tobytes() == refs["f16"].tensors[name]["data"], name


def test_safetensors_bf16(tmp_path, src, refs):
    st = pytest.importorskip("safetensors")
    out = tmp_path / "out.safetensors"
    run(ALL, "-o", out, "--format", "safetensors", "--to", "bf16", "--all")
    with st.safe_open(str(out), framework="numpy") as f:  # header and offsets valid
        assert sorted(f.keys()) == sorted(src.order)
    header, data = read_safetensors(out)
    f32 = refs["f32"]
    for name in src.order:
        s, h = src.tensors[name], header[name]
        got = data[h["data_offsets"][0]:h["data_offsets"][1]]
        assert h["shape"] == list(reversed(s["dims"])), name
        if s["type"] in INTEGERS:
            assert h["dtype"] == s["type"] and got == s["data"], name
            continue
        assert h["dtype"] == "BF16", name
        if s["type"] == "BF16":
            assert got == s["data"], name
            continue
        # BF16 of ggml's float32 values, rounded to nearest even, computed here independently.
        bits = np.frombuffer(f32.tensors[name]["data"], dtype="<u4").astype(np.uint64)
        expect = ((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16).astype("<u2")
        nan = (bits & 0x7FFFFFFF) > 0x7F800000
        expect[nan] = ((bits[nan] >> 16) | 0x40).astype("<u2")
        assert got == expect.tobytes(), name


def test_raw_directory(tmp_path, src, refs):
    out = tmp_path / "raw"
    run(ALL, "-o", out, "--format", "raw", "--tensors", "q*")
    manifest = json.loads((out / "manifest.json").read_text())
    names = [t["name"] for t in manifest["tensors"]]
    assert names == [n for n in src.order if n.startswith("q")]  # only the selection
    for entry in manifest["tensors"]:
        assert entry["dtype"] == "float16"
        assert (out / entry["file"]).read_bytes() == refs["f16"].tensors[entry["name"]]["data"]


@pytest.mark.parametrize("fmt", ["npy", "raw"])
def test_directory_output_with_trailing_slash(tmp_path, fmt):
    # `-o weights/` names the same directory as `-o weights`: same files, same bytes, nothing
    # left beside it; and with --force it replaces the one it wrote.
    plain, slashed = tmp_path / "plain", tmp_path / "slashed"
    run(ALL, "-o", plain, "--format", fmt, "--tensors", "q8_0.*")
    for force in ([], ["--force"]):
        run(ALL, "-o", f"{slashed}/", "--format", fmt, "--tensors", "q8_0.*", *force)
        assert sorted(os.listdir(tmp_path)) == ["plain", "slashed"]
        assert sorted(os.listdir(slashed)) == sorted(os.listdir(plain))
        for f in os.listdir(plain):
            if f != "manifest.json":
                assert (slashed / f).read_bytes() == (plain / f).read_bytes(), f


def test_directory_output_with_trailing_slash_over_a_file(tmp_path):
    (tmp_path / "weights").write_bytes(b"not a directory")
    p = run(ALL, "-o", f"{tmp_path}/weights/", "--format", "npy", check=False)
    assert p.returncode == 1 and p.stderr.startswith("error:") and "exists and is not a directory" in p.stderr, p.stderr
    assert os.listdir(tmp_path) == ["weights"]
    assert (tmp_path / "weights").read_bytes() == b"not a directory"


def test_stats(tmp_path, refs):
    p = run(ALL, "-o", tmp_path / "out.gguf", "--stats", "--tensors", "q5_0.*")
    rows = {line.split()[0]: line.split() for line in p.stdout.splitlines()[1:]}
    assert set(rows) == {"q5_0.weight", "q5_0.large"}
    for name, row in rows.items():
        v = np.frombuffer(refs["f16"].tensors[name]["data"], dtype="<f2").astype(np.float64)
        _, typ, mn, mx, mean, absmax, nan, inf = row
        assert typ == "Q5_0"
        assert float(mn) == pytest.approx(v.min(), rel=1e-5)
        assert float(mx) == pytest.approx(v.max(), rel=1e-5)
        assert float(absmax) == pytest.approx(np.abs(v).max(), rel=1e-5)
        assert float(mean) == pytest.approx(v.mean(), rel=1e-4, abs=1e-9)
        assert (nan, inf) == ("0", "0")


def test_thread_count_does_not_change_the_output(tmp_path):
    outs = []
    for n in (1, 3):
        out = tmp_path / f"out{n}.gguf"
        run(ALL, "-o", out, "--threads", n, "--to", "bf16", "--all")
        outs.append(out.read_bytes())
    assert outs[0] == outs[1]


def test_device_selection(tmp_path):
    out = tmp_path / "cuda.gguf"
    p = run(ALL, "-o", out, "--device", "cuda", check=False)
    if p.returncode == 0:  # a CUDA build on a GPU machine: it must agree with the CPU
        cpu = tmp_path / "cpu.gguf"
        run(ALL, "-o", cpu, "--device", "cpu")
        assert out.read_bytes() == cpu.read_bytes()
    else:
        assert p.returncode == 1
        assert p.stderr.startswith("error:") and "--device cuda" in p.stderr
        assert not out.exists()
        assert os.listdir(tmp_path) == []
    p = run(ALL, "-o", tmp_path / "auto.gguf", "--device", "auto")
    assert p.stderr.count("\n") <= 2  # at most the one-line notice and the summary
    # No GPU stack at all (a build without CUDA, or no CUDA driver): the CPU, without a word.
    # The note is for a GPU that was there to be had: a CUDA build finding the driver.
    why = run(ALL, "-o", tmp_path / "x.gguf", "--device", "cuda", check=False).stderr
    if "no CUDA support" in why or "no CUDA driver" in why:
        assert "note:" not in p.stderr and p.stderr.count("\n") == 1, p.stderr


def test_target_names_in_any_case(tmp_path):
    # --to takes F16 and Bf16 as --type takes q6_k: the same output, and the summary line names
    # the target as it always does.
    for spelling, to in (("F16", "f16"), ("Bf16", "bf16"), ("F32", "f32")):
        want, got = tmp_path / f"{to}.gguf", tmp_path / f"{spelling}.gguf"
        run(ALL, "-o", want, "--to", to)
        p = run(ALL, "-o", got, "--to", spelling)
        assert f" converted to {to}, " in p.stderr, p.stderr
        assert got.read_bytes() == want.read_bytes(), spelling
    p = run(ALL, "-o", tmp_path / "x.npy", "--format", "npy", "--to", "BF16", check=False)
    assert p.returncode == 2 and "NumPy has no bfloat16" in p.stderr  # still BF16, in any case


def test_help_and_usage_errors(tmp_path):
    p = run("--help")
    assert "Examples:" in p.stdout and "--tensors" in p.stdout
    for args in (["--to", "f8"], ["--format", "npy", "--to", "bf16"], ["--format", "zip"], ["--device", "tpu"]):
        p = run(ALL, "-o", tmp_path / "x", *args, check=False)
        assert p.returncode == 2, args
        assert p.stderr.startswith("error:"), args
    assert run(ALL, check=False).returncode == 2  # no -o
    assert os.listdir(tmp_path) == []


def test_format_from_the_extension(tmp_path):
    out = tmp_path / "model.SafeTensors"
    run(ALL, "-o", out, "--tensors", "q8_0.*")
    n = struct.unpack("<Q", out.read_bytes()[:8])[0]
    assert "q8_0.weight" in json.loads(out.read_bytes()[8:8 + n])
    out = tmp_path / "model.gguf"
    run(ALL, "-o", out, "--tensors", "q8_0.*")
    assert out.read_bytes()[:4] == b"GGUF"
    out = tmp_path / "model.bin"  # any other name: GGUF, as before
    run(ALL, "-o", out, "--tensors", "q8_0.*")
    assert out.read_bytes()[:4] == b"GGUF"


@pytest.mark.parametrize("name,fmt", [("x.gguf", "safetensors"), ("x.gguf", "npy"), ("x.safetensors", "gguf"),
                                      ("x.safetensors", "raw")])
def test_format_contradicting_the_extension_is_a_usage_error(tmp_path, name, fmt):
    p = run(ALL, "-o", tmp_path / name, "--format", fmt, check=False)
    assert p.returncode == 2 and "contradicts the extension" in p.stderr, p.stderr
    assert os.listdir(tmp_path) == []
