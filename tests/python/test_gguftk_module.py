"""The gguftk package (python/gguftk/: ctypes + NumPy over libgguftk) against gguf-py, byte for byte.

- the tensor table and every metadata value equal gguf-py's GGUFReader's;
- every tensor whose type gguf-py can dequantize (found by asking it, not listed here) gives the
  same float32 bits, the same float16 bits as NumPy's rounding of gguf-py's float32, and the
  same bfloat16 bits as round-to-nearest-even of them; through File.dequantize, dequantize_rows
  and dequantize_blocks;
- every file of the reader's fuzz corpus opens, or fails with gguf-inspect's own message (with
  the tools at hand: GGUFTK_BIN);
- errors are GguftkError with the C API's code.
"""
import os
import subprocess
import threading
from pathlib import Path

import numpy as np
import pytest

import gguftk
from bits import bf16_rne, same_bits
from cli_common import gguf_py_read

gguf = pytest.importorskip("gguf")

FIXTURES = Path(os.environ["GGUFTK_FIXTURES"])
SOURCE = Path(os.environ["GGUFTK_SOURCE"])
BIN = Path(os.environ["GGUFTK_BIN"]) if os.environ.get("GGUFTK_BIN") else None
ALL_TYPES = FIXTURES / "all-types.gguf"

READER = gguf_py_read(ALL_TYPES)
THEIRS = {t.name: t for t in READER.tensors}


def gguf_py_dequantize(t):
    """gguf-py's float32 values of reader tensor t, or None when it has no dequantizer for the type."""
    try:
        return np.ascontiguousarray(gguf.quants.dequantize(t.data, t.tensor_type), dtype=np.float32)
    except NotImplementedError:
        return None


@pytest.fixture(scope="module")
def f():
    with gguftk.open(ALL_TYPES) as fh:
        yield fh


def test_tensor_table_is_gguf_py_s(f):
    assert [t.name for t in f.tensors] == [t.name for t in READER.tensors]
    for ours in f.tensors:
        theirs = THEIRS[ours.name]
        assert ours.type == int(theirs.tensor_type)
        assert ours.ne == tuple(int(d) for d in theirs.shape)
        assert ours.shape == tuple(reversed(ours.ne))
        assert ours.n_elements == int(theirs.n_elements)
        assert ours.offset == int(theirs.data_offset)
        if ours.type_name != "Q8_1":  # gguf-py's Q8_1 block is 40 bytes; ggml's (and ours) 36
            assert ours.size == int(theirs.n_bytes)
    assert not f.tensor("i32.weight").decodable and f.tensor("q4_K.weight").decodable


def test_metadata_is_gguf_py_s(f):
    fields = {k: v for k, v in READER.fields.items() if not k.startswith("GGUF.")}
    assert list(f.metadata) == list(fields)
    for key, field in fields.items():
        theirs = field.contents()
        ours = f.metadata[key]
        if isinstance(theirs, float) or (isinstance(theirs, list) and theirs and isinstance(theirs[0], float)):
            # gguf-py widens FLOAT32 through NumPy, as we do: exact
            assert np.array_equal(np.array(ours, dtype=np.float64), np.array(theirs, dtype=np.float64)), key
        else:
            assert ours == theirs, key
    assert f.metadata["fixture.u64"] == 18000000000000000000
    assert f.metadata["fixture.bool"] is True


def decodable_by_gguf_py():
    cases, skipped = [], set()
    for t in READER.tensors:
        name = getattr(t.tensor_type, "name", str(t.tensor_type))
        if name == "Q8_1":
            skipped.add(name)  # gguf-py reads 40-byte blocks: not the same data
            continue
        if gguf_py_dequantize(t) is None:
            skipped.add(name)
        else:
            cases.append(t.name)
    return cases, skipped


CASES, NOT_IN_GGUF_PY = decodable_by_gguf_py()


def test_the_comparison_covers_every_type_gguf_py_dequantizes():
    covered = {getattr(THEIRS[n].tensor_type, "name", "") for n in CASES}
    assert len(covered) >= 26, sorted(covered)
    # What gguf-py cannot dequantize, as tests/cli/test_gguf_py_crosscheck.py found it.
    assert NOT_IN_GGUF_PY <= {"Q8_1", "Q8_K", "F64", "Q1_0", "Q2_0", "I8", "I16", "I32", "I64"}, NOT_IN_GGUF_PY


@pytest.mark.parametrize("name", CASES)
def test_same_bits_as_gguf_py(f, name):
    theirs = gguf_py_dequantize(THEIRS[name])
    t = f.tensor(name)
    ours32 = f.dequantize(name, np.float32)
    assert ours32.shape == theirs.shape == t.shape
    assert same_bits(ours32, theirs) is None
    assert same_bits(f.dequantize(name, np.float16, n_threads=2), theirs.astype(np.float16)) is None
    assert same_bits(f.dequantize(name, "bfloat16"), bf16_rne(theirs)) is None
    buf = np.full(t.n_elements, np.nan, dtype=np.float32)
    assert f.dequantize(name, out=buf) is buf
    assert same_bits(buf, theirs.ravel()) is None
    # rows and raw blocks: the same values again
    rows = t.n_elements // t.ne[0]
    flat = theirs.reshape(rows, t.ne[0])
    assert same_bits(f.dequantize_rows(name, rows - 1, 1), flat[rows - 1:]) is None
    assert same_bits(f.dequantize_rows(name, 0, rows, "f16"), flat.astype(np.float16)) is None
    blocks = THEIRS[name].data
    assert same_bits(gguftk.dequantize_blocks(t.type, blocks), theirs.ravel()) is None
    assert same_bits(gguftk.dequantize_blocks(t.type, f.raw(name).tobytes(), np.float16),
                     theirs.ravel().astype(np.float16)) is None


def test_errors_carry_the_c_api_codes(tmp_path, f):
    with pytest.raises(gguftk.GguftkError) as e:
        gguftk.open(tmp_path / "missing.gguf")
    assert e.value.code == gguftk.ERR_IO and e.value.code_name == "GGUFTK_ERR_IO"
    assert "missing.gguf" in str(e.value)
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"GGUF\x07\x00\x00\x00")
    with pytest.raises(gguftk.GguftkError) as e:
        gguftk.open(bad)
    assert e.value.code == gguftk.ERR_BAD_FILE and "unsupported version 7" in str(e.value)
    with pytest.raises(gguftk.GguftkError) as e:
        f.dequantize("i32.weight")
    assert e.value.code == gguftk.ERR_UNSUPPORTED_TYPE
    with pytest.raises(gguftk.GguftkError) as e:
        f.dequantize_rows("q4_K.weight", 4, 1)
    assert e.value.code == gguftk.ERR_OUT_OF_RANGE
    with pytest.raises(gguftk.GguftkError) as e:
        gguftk.dequantize_blocks(100, b"\0" * 18)
    assert e.value.code == gguftk.ERR_UNSUPPORTED_TYPE
    with pytest.raises(KeyError):
        f.dequantize("no.such.tensor")
    with pytest.raises(ValueError):
        f.dequantize("q4_K.weight", np.int32)
    with pytest.raises(ValueError):
        f.dequantize("q4_K.weight", np.float16, out=np.empty(4096, np.float32))
    with pytest.raises(ValueError):
        f.dequantize("q4_K.weight", out=np.empty(4095, np.float32))
    closed = gguftk.open(ALL_TYPES)
    closed.close()
    with pytest.raises(ValueError):
        closed.dequantize("q4_K.weight")


CORPUS = sorted((SOURCE / "tests" / "corpus" / "reader").iterdir())


def inspect(path):
    """gguf-inspect --shard-only's exit code and stderr on path; None without the tools."""
    if BIN is None:
        return None
    p = subprocess.run([str(BIN / "gguf-inspect"), "--shard-only", "--no-tensors", str(path)], capture_output=True,
                       text=True, errors="replace")
    return p.returncode, p.stderr.strip()


def decode_everything(fh):
    """Every way to read every tensor: a hostile file may refuse, never crash."""
    for t in fh.tensors:
        for read in (lambda: t.to_numpy(np.float16), lambda: t.rows(0, min(t.n_rows, 2)),
                     lambda: t.blocks(0, min(t.n_blocks, 2)), lambda: t.data[:16].tobytes()):
            try:
                read()
            except gguftk.GguftkError as e:
                assert e.code in (gguftk.ERR_UNSUPPORTED_TYPE, gguftk.ERR_OUT_OF_RANGE), (t.name, str(e))


@pytest.mark.parametrize("path", CORPUS, ids=[p.name for p in CORPUS])
def test_hostile_files_as_the_tools_handle_them(path):
    # gguf-inspect --shard-only reads what the C API reads (one file's header, metadata, tensor
    # table): the same file must open in both or fail in both with the same words and offset.
    tool = inspect(path)
    try:
        with gguftk.open(path) as fh:
            fh.metadata
            decode_everything(fh)
            opened = True
    except gguftk.GguftkError as e:
        opened = False
        assert e.code == gguftk.ERR_BAD_FILE
        assert tool is None or tool == (1, f"error: {e}"), (tool, str(e))
    if opened:
        assert tool is None or tool[0] == 0, tool


def test_threads_share_one_file(f):
    want = {n: f.dequantize(n) for n in CASES}
    errors = []

    def work():
        try:
            for _ in range(3):
                for n in CASES:
                    if same_bits(f.dequantize(n, n_threads=2), want[n]) is not None:
                        errors.append(n)
        except Exception as e:  # noqa: BLE001 (reported below)
            errors.append(repr(e))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def test_version_and_cuda():
    assert gguftk.version().count(".") == 2
    assert gguftk.cuda_available() in (True, False)
