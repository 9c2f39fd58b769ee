"""What several CLI test modules share: gguf-py taught ggml's Q2_0, a run on a terminal, the
one-error-line check, a small GGUF parser of our own, and gguf-py rewriting a file (split or not)."""
import os
import pty
import struct
import subprocess
from pathlib import Path

import numpy as np

import gguf
import gguf.gguf_reader as gguf_reader
from gguf.constants import GGML_QUANT_SIZES, GGMLQuantizationType

# Block sizes gguf-py does not know or knows differently, from ggml's ggml-common.h:
#   Q8_1: block_q8_1 holds two halves (d, s) and 32 int8: 36 bytes (gguf-py still says 40);
#   Q2_0: 64 elements in 18 bytes; gguf-py has no such type.
GGML_SIZES = {9: (32, 36), 42: (64, 18)}


class _Q2_0(int):
    name = "Q2_0"


class _TypeShim:
    """Stands in for GGMLQuantizationType inside gguf_reader: unknown id 42 becomes Q2_0."""

    def __call__(self, v):
        v = int(v)
        if v in GGMLQuantizationType._value2member_map_:
            return GGMLQuantizationType(v)
        if v == 42:
            return _Q2_0(v)
        raise ValueError(v)

    def __getattr__(self, name):
        return getattr(GGMLQuantizationType, name)


def gguf_py_read(path):
    """gguf-py's GGUFReader on `path`, with type 42 read as Q2_0."""
    saved_type, saved_q2 = gguf_reader.GGMLQuantizationType, GGML_QUANT_SIZES.get(42)
    gguf_reader.GGMLQuantizationType = _TypeShim()
    GGML_QUANT_SIZES[42] = GGML_SIZES[42]
    try:
        return gguf.GGUFReader(str(path))
    finally:
        gguf_reader.GGMLQuantizationType = saved_type
        if saved_q2 is None:
            del GGML_QUANT_SIZES[42]


def stdout_on_tty(cmd, env):
    """What `cmd` writes to a pseudo-terminal, with NO_COLOR unset unless `env` sets it."""
    leader, follower = pty.openpty()
    e = dict(os.environ)
    e.pop("NO_COLOR", None)
    e.update(env)
    p = subprocess.Popen([str(c) for c in cmd], stdout=follower, stderr=subprocess.PIPE, env=e)
    os.close(follower)
    out = read_terminal(leader)
    assert p.wait(timeout=60) == 0
    return out


def read_terminal(leader):
    """Everything written to a pseudo-terminal until its last writer closes it; closes `leader`."""
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # EIO once the child has closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    return b"".join(chunks)


def assert_one_error(p, *words, rc=1):
    """Exit `rc` (1: a bad file or a failed operation; 2: arguments that do not fit the file) and
    exactly one `error:` line on stderr, holding every one of `words`."""
    assert p.returncode == rc, p.stderr
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), p.stderr
    for w in words:
        assert w in lines[0], lines[0]


# ggml type id -> (name, block elements, block bytes): format constants, as in ggml.
TYPES = {
    0: ("F32", 1, 4), 1: ("F16", 1, 2), 2: ("Q4_0", 32, 18), 3: ("Q4_1", 32, 20), 6: ("Q5_0", 32, 22),
    7: ("Q5_1", 32, 24), 8: ("Q8_0", 32, 34), 9: ("Q8_1", 32, 36), 10: ("Q2_K", 256, 84),
    11: ("Q3_K", 256, 110), 12: ("Q4_K", 256, 144), 13: ("Q5_K", 256, 176), 14: ("Q6_K", 256, 210),
    15: ("Q8_K", 256, 292), 16: ("IQ2_XXS", 256, 66), 17: ("IQ2_XS", 256, 74), 18: ("IQ3_XXS", 256, 98),
    19: ("IQ1_S", 256, 50), 20: ("IQ4_NL", 32, 18), 21: ("IQ3_S", 256, 110), 22: ("IQ2_S", 256, 82),
    23: ("IQ4_XS", 256, 136), 24: ("I8", 1, 1), 25: ("I16", 1, 2), 26: ("I32", 1, 4), 27: ("I64", 1, 8),
    28: ("F64", 1, 8), 29: ("IQ1_M", 256, 56), 30: ("BF16", 1, 2), 34: ("TQ1_0", 256, 54),
    35: ("TQ2_0", 256, 66), 39: ("MXFP4", 32, 17), 40: ("NVFP4", 64, 36), 41: ("Q1_0", 128, 18),
    42: ("Q2_0", 64, 18),
}
FLOATS = {"F32", "F16", "BF16", "F64"}
INTEGERS = {"I8", "I16", "I32", "I64"}
NUMPY = {"F32": "<f4", "F16": "<f2", "F64": "<f8", "I8": "i1", "I16": "<i2", "I32": "<i4", "I64": "<i8"}


class Gguf:
    """A little-endian GGUF v3 file: metadata entries (raw bytes kept) and tensors."""

    def __init__(self, path):
        self.bytes = Path(path).read_bytes()
        self.pos = 0
        magic, self.version, n_tensors, n_kv = self._take("<IIQQ")
        assert magic == 0x46554747
        self.kvs = []  # (key, value type, value, raw entry bytes)
        for _ in range(n_kv):
            start = self.pos
            key = self._str().decode()
            (vtype,) = self._take("<I")
            value = self._value(vtype)
            self.kvs.append((key, vtype, value, self.bytes[start:self.pos]))
        self.alignment = dict((k, v) for k, _, v, _ in self.kvs).get("general.alignment", 32)
        infos = []
        for _ in range(n_tensors):
            name = self._str().decode()
            (n_dims,) = self._take("<I")
            dims = list(self._take("<" + "Q" * n_dims))
            ttype, offset = self._take("<IQ")
            infos.append((name, dims, ttype, offset))
        self.data_offset = (self.pos + self.alignment - 1) // self.alignment * self.alignment
        self.tensors = {}
        self.order = []
        for name, dims, ttype, offset in infos:
            tname, be, bb = TYPES[ttype]
            n = int(np.prod(dims))
            start = self.data_offset + offset
            self.tensors[name] = dict(dims=dims, type=tname, offset=start,
                                      data=self.bytes[start:start + n // be * bb])
            self.order.append(name)

    def _take(self, fmt):
        vals = struct.unpack_from(fmt, self.bytes, self.pos)
        self.pos += struct.calcsize(fmt)
        return vals

    def _str(self):
        (n,) = self._take("<Q")
        s = self.bytes[self.pos:self.pos + n]
        self.pos += n
        return s

    def _value(self, vtype):
        scalar = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?", 10: "Q", 11: "q", 12: "d"}
        if vtype == 8:
            return self._str()
        if vtype == 9:
            etype, n = self._take("<IQ")
            return [self._value(etype) for _ in range(n)]
        return self._take("<" + scalar[vtype])[0]

    def meta(self, key):
        return next(v for k, _, v, _ in self.kvs if k == key)


def rewrite_gguf(src, dst, split_max_tensors=0, split_max_size=0):
    """`src`'s metadata and tensors written again by gguf-py's GGUFWriter: split into shards
    (its split_max_tensors / split_max_size, named as llama.cpp names them) when asked, else one
    file. Returns the paths written, in shard order. The tensors' bytes are copied as they are;
    gguf-py writes general.architecture first and cannot write an empty array, which is left
    out, so compare a split rewrite with an unsplit rewrite, not with `src`."""
    import gguf
    from gguf.constants import GGML_QUANT_SIZES, GGMLQuantizationType, GGUFValueType

    r = gguf_py_read(src)
    arch = r.fields["general.architecture"].contents()
    w = gguf.GGUFWriter(str(dst), arch, split_max_tensors=split_max_tensors, split_max_size=split_max_size)
    for key, f in r.fields.items():
        if key.startswith("GGUF.") or key == "general.architecture" or key.startswith("split."):
            continue
        vtype = f.types[0]
        if vtype == GGUFValueType.ARRAY:
            if len(f.data):
                w.add_key_value(key, f.contents(), vtype, sub_type=f.types[1])
        else:
            w.add_key_value(key, f.contents(), vtype)
    saved = {k: GGML_QUANT_SIZES.get(k) for k in GGML_SIZES}
    GGML_QUANT_SIZES.update(GGML_SIZES)  # Q8_1's true size, and Q2_0, while gguf-py lays out the tensors
    try:
        for t in r.tensors:
            tid = int(t.tensor_type)
            dtype = tid if tid == 42 else GGMLQuantizationType(tid)
            block, size = GGML_QUANT_SIZES[dtype]
            ne = [int(d) for d in t.shape]
            nbytes = int(np.prod(ne)) // block * size
            raw = np.array(r.data[t.data_offset:t.data_offset + nbytes], dtype=np.uint8)
            w.add_tensor(t.name, raw.reshape(list(reversed(ne[1:])) + [ne[0] // block * size]), raw_dtype=dtype)
        w.write_header_to_file()
        w.write_kv_data_to_file()
        w.write_tensors_to_file()
        w.close()
    finally:
        for k, v in saved.items():
            if v is None:
                GGML_QUANT_SIZES.pop(k, None)
            else:
                GGML_QUANT_SIZES[k] = v
    dst = Path(dst)
    n = len(w.tensors)
    return [dst] if n == 1 else [dst.with_name(f"{dst.stem}-{k:05}-of-{n:05}.gguf") for k in range(1, n + 1)]
