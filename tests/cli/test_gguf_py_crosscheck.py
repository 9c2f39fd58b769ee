"""Our decoders against gguf-py's independent NumPy dequantization, byte for byte.

For every tensor of the all-types fixture whose type gguf-py can dequantize, the raw blocks go
through gguf.quants.dequantize and through our library (tests/tools/decode-raw.cpp, built as
bin/test-decode-raw); the float32 bytes must be equal. gguf-py's result is also compared with
ggml's own reference file, so the three implementations agree pairwise.

gguf-py's GGUFReader rejects the fixture (it has no Q2_0), so the few header fields needed are
read here directly.
"""
import os
import struct
import subprocess
from pathlib import Path

import numpy as np
import pytest

gguf = pytest.importorskip("gguf")
from gguf import GGMLQuantizationType as QT  # noqa: E402

FIXTURES = Path(os.environ["GGUFTK_FIXTURES"])
DECODE_RAW = Path(os.environ["GGUFTK_BIN"]) / "test-decode-raw"

# Types gguf-py has no dequantizer for, or a different idea of: checked only against the
# reference file by the C++ test (tests/test_reference.cpp).
#   Q8_1: gguf-py's size table still has the old 40-byte block (float32 d and s); ggml's is 36.
#   Q8_K, F64, Q1_0: no dequantizer in gguf-py.  Q2_0: not in gguf-py's type enum at all.
NOT_IN_GGUF_PY = {"Q8_1", "Q8_K", "F64", "Q1_0", "Q2_0"}
INTEGER_TYPES = {"I8", "I16", "I32", "I64"}


def read_tensors(path):
    """(name, dims, type id, absolute data offset) of every tensor of a little-endian GGUF v3 file."""
    data = path.read_bytes()
    pos = 0

    def take(fmt):
        nonlocal pos
        vals = struct.unpack_from("<" + fmt, data, pos)
        pos += struct.calcsize("<" + fmt)
        return vals[0] if len(vals) == 1 else vals

    def take_str():
        nonlocal pos
        n = take("Q")
        s = data[pos:pos + n]
        pos += n
        return s

    scalar = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?", 10: "Q", 11: "q", 12: "d"}

    def take_value(vtype):
        if vtype == 8:
            return take_str()
        if vtype == 9:
            etype, n = take("I"), take("Q")
            return [take_value(etype) for _ in range(n)]
        return take(scalar[vtype])

    assert data[:4] == b"GGUF"
    pos = 4
    version, n_tensors, n_kv = take("I"), take("Q"), take("Q")
    assert version == 3
    alignment = 32
    for _ in range(n_kv):
        key = take_str()
        value = take_value(take("I"))
        if key == b"general.alignment":
            alignment = value
    infos = []
    for _ in range(n_tensors):
        name = take_str().decode()
        dims = [take("Q") for _ in range(take("I"))]
        infos.append((name, dims, take("I"), take("Q")))
    base = (pos + alignment - 1) // alignment * alignment
    return data, [(name, dims, t, base + off) for name, dims, t, off in infos]


SOURCE, TENSORS = read_tensors(FIXTURES / "all-types.gguf")
REF_DATA, REF_TENSORS = read_tensors(FIXTURES / "all-types.ref-f32.gguf")
REF = {name: off for name, _, _, off in REF_TENSORS}


def gguf_py_type(type_id):
    try:
        qt = QT(type_id)
    except ValueError:
        return None
    return None if qt.name in NOT_IN_GGUF_PY or qt.name in INTEGER_TYPES else qt


CASES = [t for t in TENSORS if gguf_py_type(t[2]) is not None]


def type_name(type_id):
    return QT(type_id).name if type_id in QT._value2member_map_ else {42: "Q2_0"}.get(type_id, f"type {type_id}")


def test_the_crosscheck_covers_every_type_gguf_py_decodes():
    # Every type of the fixture is either cross-checked or named above with its reason.
    skipped = {type_name(t) for _, _, t, _ in TENSORS if gguf_py_type(t) is None}
    assert skipped <= NOT_IN_GGUF_PY | INTEGER_TYPES, sorted(skipped - NOT_IN_GGUF_PY - INTEGER_TYPES)
    covered = {type_name(t) for _, _, t, _ in CASES}
    assert len(covered) >= 25, sorted(covered)


@pytest.mark.parametrize("name,dims,type_id,offset", CASES, ids=[c[0] for c in CASES])
def test_same_float32_bytes_as_gguf_py(name, dims, type_id, offset):
    qt = QT(type_id)
    block_elems, block_bytes = gguf.GGML_QUANT_SIZES[qt]
    n_elems = int(np.prod(dims))
    raw = np.frombuffer(SOURCE, dtype=np.uint8, count=n_elems // block_elems * block_bytes, offset=offset)

    theirs = gguf.quants.dequantize(raw.reshape(-1, dims[0] // block_elems * block_bytes), qt)
    theirs = np.ascontiguousarray(theirs, dtype=np.float32).ravel()
    assert theirs.size == n_elems

    run = subprocess.run([str(DECODE_RAW), qt.name, "f32"], input=raw.tobytes(), capture_output=True)
    assert run.returncode == 0, run.stderr.decode()
    ours = np.frombuffer(run.stdout, dtype=np.float32)
    assert ours.size == n_elems

    def first_difference(a, b):
        bad = np.flatnonzero(a.view(np.uint32) != b.view(np.uint32))
        if bad.size == 0:
            return None
        i = bad[0]
        return f"{bad.size} elements differ, first at {i}: {a[i]!r} (0x{a.view(np.uint32)[i]:08x}) vs {b[i]!r} (0x{b.view(np.uint32)[i]:08x})"

    assert first_difference(ours, theirs) is None, f"ours vs gguf-py: {first_difference(ours, theirs)}"

    ref = np.frombuffer(REF_DATA, dtype=np.float32, count=n_elems, offset=REF[name])
    assert first_difference(theirs, ref) is None, f"gguf-py vs ggml's reference: {first_difference(theirs, ref)}"


def test_decode_raw_refuses_partial_blocks_and_integer_types():
    short = subprocess.run([str(DECODE_RAW), "Q4_K", "f32"], input=b"\0" * 143, capture_output=True)
    assert short.returncode == 1
    integer = subprocess.run([str(DECODE_RAW), "I8", "f32"], input=b"\0" * 4, capture_output=True)
    assert integer.returncode == 1
    assert b"no decoder" in integer.stderr
