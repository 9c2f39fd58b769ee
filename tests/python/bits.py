"""Bit-level comparisons the Python module's tests share."""
import numpy as np


def bf16_rne(x):
    """float32 -> bfloat16 bits, round to nearest even; NaN keeps its top bits, quiet."""
    u = x.view(np.uint32).astype(np.uint64)
    rounded = ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype(np.uint16)
    nan = (u & 0x7FFFFFFF) > 0x7F800000
    return np.where(nan, ((u >> 16) | 0x40).astype(np.uint16), rounded)


def same_bits(a, b):
    """None when a and b hold the same bits in the same shape, else where they differ."""
    a, b = np.ascontiguousarray(a), np.ascontiguousarray(b)
    assert a.shape == b.shape and a.dtype.itemsize == b.dtype.itemsize, (a.shape, b.shape, a.dtype, b.dtype)
    width = {4: np.uint32, 2: np.uint16}[a.dtype.itemsize]
    bad = np.flatnonzero(a.view(width).ravel() != b.view(width).ravel())
    return None if bad.size == 0 else f"{bad.size} of {a.size} differ, first at {bad[0]}"
