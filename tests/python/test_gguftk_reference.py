"""The gguftk package against ggml's own reference vectors (tests/fixtures/all-types.ref-*.gguf),
so every type it decodes is held to ggml, those gguf-py cannot dequantize included (Q8_1, Q8_K,
F64, Q1_0, Q2_0); through each way of reading: Tensor.to_numpy (new arrays and out=), rows,
blocks, and dequantize_blocks over Tensor.data. Also: Tensor.data is the mapped file itself,
read-only, and outlives close()."""
import os
from pathlib import Path

import numpy as np
import pytest

import gguftk
from bits import bf16_rne, same_bits
from cli_common import gguf_py_read

FIXTURES = Path(os.environ["GGUFTK_FIXTURES"])
ALL_TYPES = FIXTURES / "all-types.gguf"
REF32 = {t.name: np.asarray(t.data) for t in gguf_py_read(FIXTURES / "all-types.ref-f32.gguf").tensors}
REF16 = {t.name: np.asarray(t.data) for t in gguf_py_read(FIXTURES / "all-types.ref-f16.gguf").tensors}


@pytest.fixture(scope="module")
def f():
    with gguftk.open(ALL_TYPES) as fh:
        yield fh


def decodable_names():
    with gguftk.open(ALL_TYPES) as fh:
        return [t.name for t in fh.tensors if t.decodable]


NAMES = decodable_names()


def test_every_decodable_tensor_has_a_reference(f):
    assert sorted(NAMES) == sorted(REF32) == sorted(REF16)
    types = {f[n].type_name for n in NAMES}
    assert len(types) >= 30 and {"Q8_1", "Q8_K", "F64", "Q1_0", "Q2_0", "IQ1_M", "TQ2_0", "MXFP4"} <= types, types


@pytest.mark.parametrize("name", NAMES)
def test_to_numpy_is_ggml_s(f, name):
    t = f[name]
    ref32, ref16 = REF32[name].reshape(t.shape), REF16[name].reshape(t.shape)
    assert same_bits(t.to_numpy(np.float32), ref32) is None
    assert same_bits(t.to_numpy(np.float16, n_threads=3), ref16) is None
    assert same_bits(t.to_numpy("bfloat16"), bf16_rne(ref32)) is None
    out = np.full(t.n_elements, np.nan, np.float16)
    assert t.to_numpy(np.float16, out=out) is out and same_bits(out, ref16.ravel()) is None


@pytest.mark.parametrize("name", NAMES)
def test_rows_and_blocks_are_ggml_s(f, name):
    t = f[name]
    rows32 = REF32[name].reshape(t.n_rows, t.ne[0])
    last = t.n_rows - 1
    assert same_bits(t.rows(last, 1), rows32[last:]) is None
    out = np.empty((t.n_rows, t.ne[0]), np.uint16)
    assert t.rows(0, t.n_rows, "bfloat16", out=out) is out and same_bits(out, bf16_rne(rows32)) is None
    flat32, flat16 = REF32[name].ravel(), REF16[name].ravel()
    k = t.block_elems
    first, count = t.n_blocks // 2, max(1, t.n_blocks // 3)
    assert same_bits(t.blocks(first, count), flat32[first * k:(first + count) * k]) is None
    assert same_bits(t.blocks(t.n_blocks - 1, 1, np.float16), flat16[-k:]) is None
    assert t.blocks(t.n_blocks, 0).size == 0
    # the raw bytes, decoded by the function for an engine's own loader: the same again
    assert same_bits(gguftk.dequantize_blocks(t.type, t.data, np.float16), flat16) is None


def test_data_is_the_mapping_read_only_and_outlives_close():
    fh = gguftk.open(ALL_TYPES)
    t = fh["q4_K.weight"]
    data = t.data
    assert data.dtype == np.uint8 and data.size == t.size and not data.flags.writeable
    with pytest.raises(ValueError):
        data[0] = 1
    assert np.shares_memory(data, t.data)  # two views of the one mapping: nothing copied
    raw = fh.raw("q4_K.weight")
    assert not np.shares_memory(raw, data) and np.array_equal(raw, data)
    with open(ALL_TYPES, "rb") as disk:
        disk.seek(t.offset)
        assert data.tobytes() == disk.read(t.size)
    fh.close()
    with pytest.raises(ValueError):
        t.to_numpy()
    with pytest.raises(ValueError):
        t.data
    # still mapped: the view holds the file
    assert same_bits(gguftk.dequantize_blocks(t.type, data), REF32["q4_K.weight"].ravel()) is None


def test_block_and_row_ranges_are_checked(f):
    t = f["q4_K.weight"]
    for first, count in ((t.n_blocks, 1), (0, t.n_blocks + 1), (2**63, 2**63)):
        with pytest.raises(gguftk.GguftkError) as e:
            t.blocks(first, count)
        assert e.value.code == gguftk.ERR_OUT_OF_RANGE and "q4_K.weight" in str(e.value)
    for row0, n_rows in ((t.n_rows, 1), (0, 10**12), (2**63, 2**63)):
        # refused before any destination is allocated (petabytes here)
        with pytest.raises(gguftk.GguftkError) as e:
            t.rows(row0, n_rows)
        assert e.value.code == gguftk.ERR_OUT_OF_RANGE and "q4_K.weight" in str(e.value)
    for bad in ((-1, 1), (0, -1), (2**64, 1)):
        with pytest.raises(ValueError):
            t.blocks(*bad)
        with pytest.raises(ValueError):
            t.rows(*bad)
    with pytest.raises(gguftk.GguftkError) as e:
        f["i32.weight"].blocks(0, 1)
    assert e.value.code == gguftk.ERR_UNSUPPORTED_TYPE
    with pytest.raises(ValueError):
        t.blocks(0, 2, out=np.empty(2 * 256 - 1, np.float32))
    with pytest.raises(TypeError):
        t.blocks(0.5, 1)
