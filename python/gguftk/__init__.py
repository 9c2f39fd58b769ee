"""gguftk for Python: libgguftk's C API (gguftk/gguftk.h) through ctypes, results as NumPy arrays.

No compiled extension: this package and the shared library, which `pip install .` builds and
puts beside it.

    import numpy as np, gguftk
    with gguftk.open("model.gguf") as f:
        for t in f.tensors:
            print(t.name, t.type_name, t.shape)
        w = f["blk.0.attn_q.weight"].to_numpy(np.float16)   # exactly gguf-dequant's values
        arch = f.metadata["general.architecture"]

Shapes are NumPy's: the GGUF dims reversed (ne[0], the row, is the last axis), as gguf-py gives
them. dtype is np.float32, np.float16 or "bfloat16" (NumPy has no bfloat16: the result is a
np.uint16 array of bfloat16 bit patterns). Decoding reads the memory-mapped file in place (no
copy of the input) and runs without the GIL, on every core unless n_threads says otherwise.

The library is $GGUFTK_LIBRARY when set (and then only it: one that cannot be loaded is an
ImportError), else the libgguftk.so.0 installed with this package, else libgguftk.so.0 from the
dynamic loader's path (LD_LIBRARY_PATH, the ldconfig cache).
"""
import ctypes
import operator
import os
from typing import Dict, List, Optional, Tuple, Union

import numpy as np

__all__ = ["open", "File", "Tensor", "GguftkError", "dequantize_blocks", "version", "cuda_available",
           "library_path"]

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


_SONAME = "libgguftk.so.0"


def _library_path() -> str:
    explicit = os.environ.get("GGUFTK_LIBRARY")
    if explicit:
        return explicit
    bundled = os.path.join(os.path.dirname(os.path.abspath(__file__)), _SONAME)
    return bundled if os.path.isfile(bundled) else _SONAME


def _load(path: str):
    try:
        lib = ctypes.CDLL(path)
    except OSError as e:
        raise ImportError(f"gguftk: cannot load libgguftk ({e}); install the package with `pip install .` from "
                          "the gguftk repository, or set GGUFTK_LIBRARY to the library's path") from None
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


library_path = _library_path()  # what was loaded: a path, or the soname the loader resolved
_lib = _load(library_path)



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


def _destination(out: Optional[np.ndarray], shape: Tuple[int, ...], out_dtype: np.dtype) -> np.ndarray:
    """`out` once checked (a writeable C-contiguous array of out_dtype holding exactly the values,
    any shape), else a new array of `shape`."""
    if out is None:
        return np.empty(shape, dtype=out_dtype)
    n = int(np.prod(shape, dtype=np.uint64))
    if (not isinstance(out, np.ndarray) or out.dtype != out_dtype or out.size != n or not out.flags.c_contiguous
            or not out.flags.writeable):
        raise ValueError(f"out must be a writeable C-contiguous {out_dtype} array of {n} elements")
    return out


def _text(b: bytes) -> str:
    # Names, keys and strings are bytes in GGUF; undecodable bytes survive as surrogates.
    return b.decode("utf-8", "surrogateescape")


def _index(value, what: str) -> int:
    # ctypes would take -1 as 2^64 - 1: refuse what is not a count before it gets there.
    v = operator.index(value)
    if not 0 <= v < 2**64:
        raise ValueError(f"{what} must be in 0..2^64-1, not {v}")
    return v


class _Handle:
    """One gguftk_file*, closed when the last holder lets go: the File while open, each call in
    progress (so a close() from another thread cannot unmap the file under a decode), and each
    Tensor.data view (a view of the mapping keeps the mapping)."""
    __slots__ = ("ptr", "_close")

    def __init__(self, ptr: ctypes.c_void_p):
        self.ptr = ptr
        self._close = _lib.gguftk_close  # bound now: module globals may be gone at shutdown

    def __del__(self):
        self._close(self.ptr)


class _Shared:
    """What a File and its Tensors share: the handle, until close(). Tensors hold this, not the
    File, so that a File nobody refers to is freed (and unmapped) at once, without a cycle."""
    __slots__ = ("handle", "path")

    def __init__(self, handle: _Handle, path: str):
        self.handle, self.path = handle, path

    def get(self) -> _Handle:
        if self.handle is None:
            raise ValueError(f"{self.path} is closed")
        return self.handle


class _Mapped:
    """Exposes bytes of the mapping to NumPy, read-only (the mapping is), and keeps it mapped."""

    def __init__(self, handle: _Handle, address: int, size: int):
        self._handle = handle
        self.__array_interface__ = {"version": 3, "shape": (size,), "typestr": "|u1", "data": (address, True)}


def _tensor_bytes(h: _Handle, index: int) -> Tuple[int, int]:
    p, n = ctypes.c_void_p(), ctypes.c_uint64()
    _check(_lib.gguftk_tensor_data(h.ptr, index, ctypes.byref(p), ctypes.byref(n)))
    return p.value or 0, n.value


class Tensor:
    """One tensor of an open File: its entry in the tensor table, and its values on demand."""
    __slots__ = ("index", "name", "type", "type_name", "shape", "ne", "n_elements", "offset", "size", "decodable",
                 "block_elems", "block_bytes", "_shared")

    def __init__(self, shared: _Shared, index: int, info: _TensorInfo, type_info: _TypeInfo):
        self._shared = shared
        self.index = index
        self.name = _text(ctypes.string_at(info.name, info.name_len))
        self.type = info.type                      # ggml type id
        self.type_name = info.type_name.decode()   # "Q4_K"
        self.ne = tuple(info.ne[: info.n_dims])    # GGUF order: ne[0] is the row length
        self.shape = tuple(reversed(self.ne))      # NumPy order
        self.n_elements = info.n_elements
        self.offset = info.offset                  # absolute offset of the data in the file
        self.size = info.size                      # bytes of data
        self.decodable = bool(type_info.has_decoder)  # False for the integer types
        self.block_elems, self.block_bytes = type_info.block_elems, type_info.block_bytes

    def __repr__(self):
        return f"<gguftk.Tensor {self.name!r} {self.type_name} shape={self.shape}>"

    @property
    def n_rows(self) -> int:
        """Rows of ne[0] values, all higher dims counted one after another."""
        return self.n_elements // self.ne[0] if self.ne and self.ne[0] else 0

    @property
    def n_blocks(self) -> int:
        return self.n_elements // self.block_elems

    @property
    def data(self) -> np.ndarray:
        """The stored bytes, uint8, read-only: a view of the mapped file, no copy. The view keeps
        the file mapped after close() until the view itself goes."""
        h = self._shared.get()
        address, size = _tensor_bytes(h, self.index)
        if size == 0:
            empty = np.empty(0, dtype=np.uint8)
            empty.flags.writeable = False
            return empty
        return np.asarray(_Mapped(h, address, size))

    def to_numpy(self, dtype=np.float32, out: Optional[np.ndarray] = None, n_threads: int = 0) -> np.ndarray:
        """Every value, shaped as `shape`. With `out` (a writeable C-contiguous array of the dtype
        and of n_elements values, any shape) the values go there and `out` is returned: reusing
        buffers spares the page faults of fresh memory."""
        code, out_dtype = _out_type(dtype)
        dst = _destination(out, self.shape, out_dtype)
        h = self._shared.get()
        _check(_lib.gguftk_dequantize(h.ptr, self.index, code, dst.ctypes.data, dst.nbytes, n_threads))
        return dst

    def rows(self, row0: int, n_rows: int, dtype=np.float32, out: Optional[np.ndarray] = None) -> np.ndarray:
        """Rows [row0, row0 + n_rows) -> (n_rows, ne[0]). One thread."""
        row0, n_rows = _index(row0, "row0"), _index(n_rows, "n_rows")
        code, out_dtype = _out_type(dtype)
        h = self._shared.get()
        self._check_rows(h, row0, n_rows, code)
        dst = _destination(out, (n_rows, self.ne[0] if self.ne else 1), out_dtype)
        _check(_lib.gguftk_dequantize_rows(h.ptr, self.index, row0, n_rows, code, dst.ctypes.data, dst.nbytes))
        return dst

    def blocks(self, first: int, count: int, dtype=np.float32, out: Optional[np.ndarray] = None) -> np.ndarray:
        """Blocks [first, first + count) -> count * block_elems values, 1-D: the unit a format
        decodes in (gguf-hexdump --block shows one). Read in place from the mapping. One thread."""
        first, count = _index(first, "first"), _index(count, "count")
        code, out_dtype = _out_type(dtype)
        h = self._shared.get()
        # No rows: the checks of a tensor decode (a decoder for the type, a little-endian file),
        # which the decode of raw blocks below cannot make.
        self._check_rows(h, 0, 0, code)
        if first + count > self.n_blocks:
            raise GguftkError(ERR_OUT_OF_RANGE, f"blocks {first}..{first}+{count} are past the {self.n_blocks} "
                                                f"blocks of tensor {self.name!r}")
        dst = _destination(out, (count * self.block_elems,), out_dtype)
        address, _ = _tensor_bytes(h, self.index)
        _check(_lib.gguftk_dequantize_blocks(self.type, address + first * self.block_bytes if count else None, count,
                                             code, dst.ctypes.data, dst.nbytes))
        return dst

    def _check_rows(self, h: _Handle, row0: int, n_rows: int, code: int) -> None:
        # The C API's own checks of a row range, run with no destination before one is allocated
        # (a range far past the tensor must not first ask for terabytes): what remains to fail is
        # only the destination's size.
        rc = _lib.gguftk_dequantize_rows(h.ptr, self.index, row0, n_rows, code, None, 0)
        if rc != ERR_DST_TOO_SMALL:
            _check(rc)


def dequantize_blocks(type_id: int, blocks, dtype=np.float32, out: Optional[np.ndarray] = None) -> np.ndarray:
    """Whole blocks of ggml type `type_id` (anything with the buffer protocol: bytes, a NumPy array,
    a Tensor's data) -> a 1-D array. Contiguous input is read in place."""
    info = _TypeInfo()
    _check(_lib.gguftk_type_info_of(type_id, ctypes.byref(info)))
    src = np.ascontiguousarray(np.frombuffer(blocks, dtype=np.uint8) if isinstance(blocks, (bytes, bytearray, memoryview))
                               else np.asarray(blocks).view(np.uint8).reshape(-1))
    if src.size % info.block_bytes:
        raise ValueError(f"{src.size} bytes are not whole blocks of {info.block_bytes} bytes")
    n_blocks = src.size // info.block_bytes
    code, out_dtype = _out_type(dtype)
    dst = _destination(out, (n_blocks * info.block_elems,), out_dtype)
    _check(_lib.gguftk_dequantize_blocks(type_id, src.ctypes.data, n_blocks, code, dst.ctypes.data, dst.nbytes))
    return dst


class File:
    """An open GGUF file (mapped and validated). Close it, or use it as a context manager."""

    def __init__(self, path: Union[str, os.PathLike]):
        self._shared = None
        handle = ctypes.c_void_p()
        _check(_lib.gguftk_open(os.fsencode(path), ctypes.byref(handle)))
        self.path = os.fspath(path)
        self._shared = _Shared(_Handle(handle), self.path)
        self._tensors = None
        self._by_name = None
        self._metadata = None

    def close(self) -> None:
        """Unmaps the file, unless Tensor.data views are still alive (then it goes with the last)."""
        if self._shared is not None:
            self._shared.handle = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        self.close()

    def _handle(self) -> _Handle:
        if self._shared is None:
            raise ValueError("the file is closed")
        return self._shared.get()

    # ---- tensors ----
    @property
    def tensors(self) -> List[Tensor]:
        if self._tensors is None:
            h = self._handle()
            out = []
            for i in range(_lib.gguftk_tensor_count(h.ptr)):
                t = _TensorInfo()
                _check(_lib.gguftk_tensor_info_at(h.ptr, i, ctypes.byref(t)))
                ti = _TypeInfo()
                _check(_lib.gguftk_type_info_of(t.type, ctypes.byref(ti)))
                out.append(Tensor(self._shared, i, t, ti))
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

    __getitem__ = tensor

    def __contains__(self, name: str) -> bool:
        self.tensors
        return name in self._by_name

    def raw(self, name_or_index: Union[str, int]) -> np.ndarray:
        """The tensor's bytes as stored, a copy (Tensor.data is the same bytes without one)."""
        return self.tensor(name_or_index).data.copy()

    def dequantize(self, name_or_index: Union[str, int], dtype=np.float32, n_threads: int = 0,
                   out: np.ndarray = None) -> np.ndarray:
        """tensor(name_or_index).to_numpy(dtype, out, n_threads)."""
        return self.tensor(name_or_index).to_numpy(dtype, out, n_threads)

    def dequantize_rows(self, name_or_index: Union[str, int], row0: int, n_rows: int, dtype=np.float32) -> np.ndarray:
        """tensor(name_or_index).rows(row0, n_rows, dtype)."""
        return self.tensor(name_or_index).rows(row0, n_rows, dtype)

    # ---- metadata ----
    def _value(self, h: _Handle, i: int, vtype: int, item: int):
        f = h.ptr
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
            h = self._handle()
            md = {}
            for i in range(_lib.gguftk_metadata_count(h.ptr)):
                kv = _KvInfo()
                _check(_lib.gguftk_metadata_at(h.ptr, i, ctypes.byref(kv)))
                key = _text(ctypes.string_at(kv.key, kv.key_len))
                if kv.type == _VALUE_ARRAY and kv.elem_type == _VALUE_ARRAY:
                    md[key] = None  # arrays of arrays (which ggml refuses) are not readable through the C API
                elif kv.type == _VALUE_ARRAY:
                    md[key] = [self._value(h, i, kv.elem_type, k) for k in range(kv.count)]
                else:
                    md[key] = self._value(h, i, kv.type, 0)
            self._metadata = md
        return self._metadata


def open(path: Union[str, os.PathLike]) -> File:  # noqa: A001 (the module's entry point, as in io.open)
    return File(path)
