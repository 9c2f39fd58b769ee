"""gguftk for Python: libgguftk's C API (gguftk/gguftk.h) through ctypes, results as NumPy arrays.

No compiled extension: this one file and the shared library.

    import numpy as np, gguftk
    with gguftk.open("model.gguf") as f:
        for t in f.tensors:
            print(t.name, t.type_name, t.shape)
        w = f.dequantize("blk.0.attn_q.weight", np.float16)   # exactly gguf-dequant's values
        arch = f.metadata["general.architecture"]

Shapes are NumPy's: the GGUF dims reversed (ne[0], the row, is the last axis), as gguf-py gives
them. dtype is np.float32, np.float16 or "bfloat16" (NumPy has no bfloat16: the result is a
np.uint16 array of bfloat16 bit patterns). Decoding runs without the GIL, on every core unless
n_threads says otherwise.

The library is $GGUFTK_LIBRARY when set, else libgguftk.so.0 from the dynamic loader's path
(LD_LIBRARY_PATH, the ldconfig cache).
"""
import ctypes
import os
from typing import Dict, List, NamedTuple, Tuple, Union

import numpy as np

__all__ = ["open", "File", "Tensor", "GguftkError", "dequantize_blocks", "version", "cuda_available"]

OK = 0
ERR_INVALID_ARGUMENT = 1
ERR_IO = 2
ERR_BAD_FILE = 3
ERR_OUT_OF_RANGE = 4
ERR_UNSUPPORTED_TYPE = 5
ERR_DST_TOO_SMALL = 6
ERR_NO_CUDA = 7
ERR_CUDA = 8
ERR_OUT_OF_MEMORY = 9
ERR_WRONG_VALUE_TYPE = 10
ERR_INTERNAL = 11

_F32, _F16, _BF16 = 0, 1, 30
_VALUE_UINT8, _VALUE_INT8, _VALUE_UINT16, _VALUE_INT16 = 0, 1, 2, 3
_VALUE_UINT32, _VALUE_INT32, _VALUE_FLOAT32, _VALUE_BOOL = 4, 5, 6, 7
_VALUE_STRING, _VALUE_ARRAY, _VALUE_UINT64, _VALUE_INT64, _VALUE_FLOAT64 = 8, 9, 10, 11, 12
_UNSIGNED = {_VALUE_UINT8, _VALUE_UINT16, _VALUE_UINT32, _VALUE_UINT64}
_SIGNED = {_VALUE_INT8, _VALUE_INT16, _VALUE_INT32, _VALUE_INT64}
_FLOATS = {_VALUE_FLOAT32, _VALUE_FLOAT64}


class _TensorInfo(ctypes.Structure):
    _fields_ = [
        ("name", ctypes.c_char_p), ("type", ctypes.c_uint32), ("type_name", ctypes.c_char_p),
        ("n_dims", ctypes.c_uint32), ("ne", ctypes.c_uint64 * 4), ("n_elements", ctypes.c_uint64),
        ("offset", ctypes.c_uint64), ("size", ctypes.c_uint64), ("name_len", ctypes.c_uint64),
    ]


class _TypeInfo(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p), ("block_elems", ctypes.c_uint32), ("block_bytes", ctypes.c_uint32),
                ("has_decoder", ctypes.c_int)]


class _KvInfo(ctypes.Structure):
    _fields_ = [("key", ctypes.c_void_p), ("key_len", ctypes.c_size_t), ("type", ctypes.c_uint32),
                ("elem_type", ctypes.c_uint32), ("count", ctypes.c_uint64)]


def _load():
    path = os.environ.get("GGUFTK_LIBRARY") or "libgguftk.so.0"
    lib = ctypes.CDLL(path)
    p, i64, u64, u32, sz, c_int = ctypes.c_void_p, ctypes.c_int64, ctypes.c_uint64, ctypes.c_uint32, ctypes.c_size_t, ctypes.c_int
    sigs = {
        "gguftk_version": (ctypes.c_char_p, []),
        "gguftk_last_error": (ctypes.c_char_p, []),
        "gguftk_error_name": (ctypes.c_char_p, [c_int]),
        "gguftk_open": (c_int, [ctypes.c_char_p, ctypes.POINTER(p)]),
        "gguftk_close": (None, [p]),
        "gguftk_tensor_count": (i64, [p]),
        "gguftk_tensor_info_at": (c_int, [p, i64, ctypes.POINTER(_TensorInfo)]),
        "gguftk_tensor_data": (c_int, [p, i64, ctypes.POINTER(p), ctypes.POINTER(u64)]),
        "gguftk_type_info_of": (c_int, [u32, ctypes.POINTER(_TypeInfo)]),
        "gguftk_metadata_count": (i64, [p]),
        "gguftk_metadata_at": (c_int, [p, i64, ctypes.POINTER(_KvInfo)]),
        "gguftk_metadata_get_uint": (c_int, [p, i64, u64, ctypes.POINTER(u64)]),
        "gguftk_metadata_get_int": (c_int, [p, i64, u64, ctypes.POINTER(i64)]),
        "gguftk_metadata_get_float": (c_int, [p, i64, u64, ctypes.POINTER(ctypes.c_double)]),
        "gguftk_metadata_get_string": (c_int, [p, i64, u64, ctypes.POINTER(p), ctypes.POINTER(u64)]),
        "gguftk_dequantize": (c_int, [p, i64, c_int, p, sz, c_int]),
        "gguftk_dequantize_rows": (c_int, [p, i64, u64, u64, c_int, p, sz]),
        "gguftk_dequantize_blocks": (c_int, [u32, p, u64, c_int, p, sz]),
        "gguftk_cuda_available": (c_int, []),
    }
    for name, (res, args) in sigs.items():
        fn = getattr(lib, name)
        fn.restype, fn.argtypes = res, args
    return lib


_lib = _load()


class GguftkError(Exception):
    """A failed call: `code` is the C API's error code, `code_name` its name, str() the message."""

    def __init__(self, code: int, message: str):
        super().__init__(message)
        self.code = code
        self.code_name = _lib.gguftk_error_name(code).decode()


def _check(rc: int) -> None:
    if rc != OK:
        raise GguftkError(rc, _lib.gguftk_last_error().decode("utf-8", "replace"))


def version() -> str:
    return _lib.gguftk_version().decode()


def cuda_available() -> bool:
    return bool(_lib.gguftk_cuda_available())


def _out_type(dtype) -> Tuple[int, np.dtype]:
    if isinstance(dtype, str) and dtype.lower() in ("bf16", "bfloat16"):
        return _BF16, np.dtype(np.uint16)
    if isinstance(dtype, str) and dtype.lower() in ("f32", "f16"):
        dtype = np.float32 if dtype.lower() == "f32" else np.float16
    d = np.dtype(dtype)
    if d == np.float32:
        return _F32, d
    if d == np.float16:
        return _F16, d
    raise ValueError(f"dtype must be np.float32, np.float16 or 'bfloat16', not {dtype!r}")


def _text(b: bytes) -> str:
    # Names, keys and strings are bytes in GGUF; undecodable bytes survive as surrogates.
    return b.decode("utf-8", "surrogateescape")


class Tensor(NamedTuple):
    index: int
    name: str
    type: int           # ggml type id
    type_name: str      # "Q4_K"
    shape: Tuple[int, ...]  # NumPy order: GGUF dims reversed
    ne: Tuple[int, ...]     # GGUF order: ne[0] is the row length
    n_elements: int
    offset: int         # absolute offset of the data in the file
    size: int           # bytes of data
    decodable: bool     # False for the integer types


def dequantize_blocks(type_id: int, blocks, dtype=np.float32) -> np.ndarray:
    """Whole blocks of ggml type `type_id` (bytes, or a NumPy array of them) -> a 1-D array."""
    info = _TypeInfo()
    _check(_lib.gguftk_type_info_of(type_id, ctypes.byref(info)))
    src = np.ascontiguousarray(np.frombuffer(blocks, dtype=np.uint8) if isinstance(blocks, (bytes, bytearray, memoryview))
                               else np.asarray(blocks).view(np.uint8).reshape(-1))
    if src.size % info.block_bytes:
        raise ValueError(f"{src.size} bytes are not whole blocks of {info.block_bytes} bytes")
    n_blocks = src.size // info.block_bytes
    code, out_dtype = _out_type(dtype)
    out = np.empty(n_blocks * info.block_elems, dtype=out_dtype)
    _check(_lib.gguftk_dequantize_blocks(type_id, src.ctypes.data, n_blocks, code, out.ctypes.data, out.nbytes))
    return out


class File:
    """An open GGUF file (mapped and validated). Close it, or use it as a context manager."""

    def __init__(self, path: Union[str, os.PathLike]):
        self._f = None
        handle = ctypes.c_void_p()
        _check(_lib.gguftk_open(os.fsencode(path), ctypes.byref(handle)))
        self._f = handle
        self.path = os.fspath(path)
        self._tensors = None
        self._by_name = None
        self._metadata = None

    def close(self) -> None:
        if self._f:
            _lib.gguftk_close(self._f)
            self._f = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        self.close()

    def _handle(self):
        if not self._f:
            raise ValueError("the file is closed")
        return self._f

    # ---- tensors ----
    @property
    def tensors(self) -> List[Tensor]:
        if self._tensors is None:
            f = self._handle()
            out = []
            for i in range(_lib.gguftk_tensor_count(f)):
                t = _TensorInfo()
                _check(_lib.gguftk_tensor_info_at(f, i, ctypes.byref(t)))
                ti = _TypeInfo()
                _check(_lib.gguftk_type_info_of(t.type, ctypes.byref(ti)))
                ne = tuple(t.ne[: t.n_dims])
                name = ctypes.string_at(t.name, t.name_len)
                out.append(Tensor(i, _text(name), t.type, t.type_name.decode(), tuple(reversed(ne)), ne,
                                  t.n_elements, t.offset, t.size, bool(ti.has_decoder)))
            self._tensors = out
            self._by_name = {t.name: t for t in out}
        return self._tensors

    def tensor(self, name_or_index: Union[str, int]) -> Tensor:
        ts = self.tensors
        if isinstance(name_or_index, int):
            return ts[name_or_index]
        try:
            return self._by_name[name_or_index]
        except KeyError:
            raise KeyError(f"no tensor named {name_or_index!r} in {self.path}") from None

    def __contains__(self, name: str) -> bool:
        self.tensors
        return name in self._by_name

    def raw(self, name_or_index: Union[str, int]) -> np.ndarray:
        """The tensor's bytes as stored (a copy: the mapping goes away with close())."""
        t = self.tensor(name_or_index)
        p, n = ctypes.c_void_p(), ctypes.c_uint64()
        _check(_lib.gguftk_tensor_data(self._handle(), t.index, ctypes.byref(p), ctypes.byref(n)))
        return np.frombuffer(ctypes.string_at(p.value, n.value) if n.value else b"", dtype=np.uint8)

    def dequantize(self, name_or_index: Union[str, int], dtype=np.float32, n_threads: int = 0,
                   out: np.ndarray = None) -> np.ndarray:
        """The whole tensor, shaped as NumPy shapes GGUF tensors (dims reversed). With `out` (a
        writeable C-contiguous array of the dtype and of the tensor's size, any shape), the values
        go there and `out` is returned: reusing buffers spares the page faults of fresh memory."""
        t = self.tensor(name_or_index)
        code, out_dtype = _out_type(dtype)
        if out is None:
            out = np.empty(t.shape, dtype=out_dtype)
        elif (out.dtype != out_dtype or out.size != t.n_elements or not out.flags.c_contiguous
              or not out.flags.writeable):
            raise ValueError(f"out must be a writeable C-contiguous {out_dtype} array of {t.n_elements} elements")
        _check(_lib.gguftk_dequantize(self._handle(), t.index, code, out.ctypes.data, out.nbytes, n_threads))
        return out

    def dequantize_rows(self, name_or_index: Union[str, int], row0: int, n_rows: int, dtype=np.float32) -> np.ndarray:
        """Rows [row0, row0 + n_rows) (a row: ne[0] values; higher dims counted as more rows) -> (n_rows, ne[0])."""
        t = self.tensor(name_or_index)
        code, out_dtype = _out_type(dtype)
        out = np.empty((n_rows, t.ne[0]), dtype=out_dtype)
        _check(_lib.gguftk_dequantize_rows(self._handle(), t.index, row0, n_rows, code, out.ctypes.data, out.nbytes))
        return out

    # ---- metadata ----
    def _value(self, i: int, vtype: int, item: int):
        f = self._handle()
        if vtype in _UNSIGNED or vtype == _VALUE_BOOL:
            v = ctypes.c_uint64()
            _check(_lib.gguftk_metadata_get_uint(f, i, item, ctypes.byref(v)))
            return bool(v.value) if vtype == _VALUE_BOOL else v.value
        if vtype in _SIGNED:
            v = ctypes.c_int64()
            _check(_lib.gguftk_metadata_get_int(f, i, item, ctypes.byref(v)))
            return v.value
        if vtype in _FLOATS:
            v = ctypes.c_double()
            _check(_lib.gguftk_metadata_get_float(f, i, item, ctypes.byref(v)))
            return v.value
        if vtype == _VALUE_STRING:
            p, n = ctypes.c_void_p(), ctypes.c_uint64()
            _check(_lib.gguftk_metadata_get_string(f, i, item, ctypes.byref(p), ctypes.byref(n)))
            return _text(ctypes.string_at(p.value, n.value) if n.value else b"")
        raise GguftkError(ERR_WRONG_VALUE_TYPE, "arrays of arrays are not readable through the C API")

    @property
    def metadata(self) -> Dict[str, object]:
        """Every entry: key -> int, float, bool, str, or a list of those (arrays); None for an array of arrays."""
        if self._metadata is None:
            f = self._handle()
            md = {}
            for i in range(_lib.gguftk_metadata_count(f)):
                kv = _KvInfo()
                _check(_lib.gguftk_metadata_at(f, i, ctypes.byref(kv)))
                key = _text(ctypes.string_at(kv.key, kv.key_len))
                if kv.type == _VALUE_ARRAY and kv.elem_type == _VALUE_ARRAY:
                    md[key] = None  # arrays of arrays (which ggml refuses) are not readable through the C API
                elif kv.type == _VALUE_ARRAY:
                    md[key] = [self._value(i, kv.elem_type, k) for k in range(kv.count)]
                else:
                    md[key] = self._value(i, kv.type, 0)
            self._metadata = md
        return self._metadata


def open(path: Union[str, os.PathLike]) -> File:  # noqa: A001 (the module's entry point, as in io.open)
    return File(path)
