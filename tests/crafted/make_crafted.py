#!/usr/bin/env python3
"""The catalogue of hostile GGUF files: one or more per known attack class on GGUF parsers, the
reader's own base file cut and corrupted field by field, plus odd-but-valid files. It is the one
catalogue: tests/cli/test_crafted.py runs every binary over it, tests/test_reader_malformed.cpp
parses the files the build writes from it (build/tests/crafted/), and tests/corpus/make_seeds.py
makes the fuzzers' seeds of it.

Each case is a Case(name, data, what, offset):
  to refuse (what and offset set) - every gguftk binary must refuse it: exit 1, one
              `error: FILE: ... (at offset N)` line whose text holds `what`, N == offset; the
              reader, the same error without allocating more than the file's size;
  valid (what None) - a well-formed container with surprising content (invalid UTF-8, control
              characters, zero-sized tensors, a tokenizer array of an unexpected type...):
              the tools must accept it, and print it safely.

The classes follow the parser bugs fixed in ggml, gguf-py and other GGUF readers (2024-2026):
counts and lengths larger than the file, n_dims beyond 4, dimension products that overflow or
wrap to small values, unknown and removed type ids, alignment 0 / not a power of two / huge /
of the wrong type, tensor offsets misaligned, overlapping, past the end or wrapping around
2^64, duplicate keys and tensor names, unbounded array nesting.

This file writes GGUF bytes with its own few lines of struct packing, independent of the C++
code under test, and states every offset from how the file was laid out. Run it as a script to
write every case into a directory, NAME.gguf each and cases.json with the expectations:
    python3 tests/crafted/make_crafted.py OUTDIR
"""
import json
import struct
import sys
from pathlib import Path
from typing import NamedTuple, Optional

# GGUF value types (gguf.md)
U8, I8, U16, I16, U32, I32, F32, BOOL, STR, ARR, U64, I64, F64 = range(13)
# ggml type ids used here (ggml.h)
T_F32, T_F16, T_Q4_0, T_Q8_0, T_Q4_K, T_I8 = 0, 1, 2, 8, 12, 24
REMOVED_TYPE_IDS = [4, 5, 31, 32, 33, 36, 37, 38]

_SCALAR_FMT = {U8: "B", I8: "b", U16: "H", I16: "h", U32: "I", I32: "i", F32: "f", BOOL: "?",
               U64: "Q", I64: "q", F64: "d"}


class W:
    """A byte writer in one byte order. Every field is written exactly as told."""

    def __init__(self, be=False):
        self.e = ">" if be else "<"
        self.b = bytearray()

    def pack(self, fmt, *v):
        self.b += struct.pack(self.e + fmt, *v)
        return self

    def u32(self, v):
        return self.pack("I", v)

    def u64(self, v):
        return self.pack("Q", v)

    def raw(self, data):
        self.b += data
        return self

    def str(self, s, claimed=None):
        data = s.encode() if isinstance(s, str) else bytes(s)
        return self.u64(len(data) if claimed is None else claimed).raw(data)

    def value(self, vtype, v):
        if vtype == STR:
            return self.str(v)
        if vtype == ARR:
            elem, items = v
            self.u32(elem).u64(len(items))
            for it in items:
                self.value(elem, it)
            return self
        return self.pack(_SCALAR_FMT[vtype], v)

    def kv(self, key, vtype, v):
        return self.str(key).u32(vtype).value(vtype, v)

    def tensor_info(self, name, dims, ggml_type, offset, n_dims=None):
        self.str(name).u32(len(dims) if n_dims is None else n_dims)
        for d in dims:
            self.u64(d)
        return self.u32(ggml_type).u64(offset)

    def pad(self, alignment):
        self.b += bytes(-len(self.b) % alignment)
        return self


def gguf(kvs=(), tensors=(), data=b"", *, version=3, be=False, n_kv=None, n_tensors=None, alignment=32,
         magic=b"GGUF"):
    """A file from kv entries (key, vtype, value) or raw bytes, tensor infos (name, dims, type, offset)
    or raw bytes, and the data section. Counts default to the real ones."""
    w = W(be)
    w.raw(magic).u32(version)
    w.u64(len(tensors) if n_tensors is None else n_tensors)
    w.u64(len(kvs) if n_kv is None else n_kv)
    for kv in kvs:
        w.raw(kv) if isinstance(kv, (bytes, bytearray)) else w.kv(*kv)
    for t in tensors:
        w.raw(t) if isinstance(t, (bytes, bytearray)) else w.tensor_info(*t)
    if tensors or data:
        w.pad(alignment)
    return bytes(w.b + data)


def raw(be=False):
    return W(be)


# --- reading back: the tensor table of a file, for the tests and the seed corpus -------------

_SCALAR_SIZE = {U8: 1, I8: 1, U16: 2, I16: 2, U32: 4, I32: 4, F32: 4, BOOL: 1, U64: 8, I64: 8, F64: 8}


def read_tensor_table(data):
    """([(name bytes, dims, ggml type id, absolute data offset)], data section start) of a GGUF
    file in either byte order. A malformed file raises struct.error, KeyError, IndexError or
    RecursionError; counts are bounded by the file's size, so a huge one cannot make it loop."""
    order = "<" if data[4:6] != b"\0\0" else ">"  # a big-endian version field starts with zeros
    pos = 8

    def take(fmt):
        nonlocal pos
        v = struct.unpack_from(order + fmt, data, pos)[0]
        pos += struct.calcsize(fmt)
        return v

    def string():
        nonlocal pos
        n = take("Q")
        if n > len(data) - pos:
            raise IndexError("string past the end of the file")
        pos += n
        return data[pos - n:pos]

    def skip(t):
        nonlocal pos
        if t == STR:
            string()
        elif t == ARR:
            et, n = take("I"), take("Q")
            for _ in range(min(n, len(data))):
                skip(et)
        else:
            pos += _SCALAR_SIZE[t]

    n_tensors, n_kv = take("Q"), take("Q")
    alignment = 32
    for _ in range(min(n_kv, len(data))):
        key = string()
        t = take("I")
        if key == b"general.alignment" and t == U32:
            alignment = struct.unpack_from(order + "I", data, pos)[0]
        skip(t)
    infos = []
    for _ in range(min(n_tensors, len(data))):
        name = string()
        dims = [take("Q") for _ in range(min(take("I"), len(data)))]
        infos.append((name, dims, take("I"), take("Q")))
    data_start = -(-pos // alignment) * alignment
    return [(n, d, t, data_start + off) for n, d, t, off in infos], data_start


# --- the small valid file every truncation is cut from ---------------------------------------

def q8_0_blocks(n):
    """n Q8_0 blocks: scale 0.5 (fp16 0x3800), quants -16..15."""
    return b"".join(struct.pack("<H", 0x3800) + bytes((q & 0xFF) for q in range(-16, 16)) for _ in range(n))


BASE_KVS = [
    ("general.architecture", STR, "llama"),
    ("general.alignment", U32, 32),
    ("tokenizer.ggml.tokens", ARR, (STR, ["<s>", "a", "b"])),
    ("tokenizer.ggml.scores", ARR, (F32, [0.0, -1.0, -2.0])),
    ("llama.context_length", U64, 2048),
]


BASE_TENSORS = [("a.weight", [8], T_F32, 0), ("b.weight", [32, 2], T_Q8_0, 32)]


def base(be=False, version=3):
    """Two tensors (F32 [8] and Q8_0 [32, 2]), data ending exactly at the end of the file."""
    f32 = struct.pack(("<" if not be else ">") + "8f", *[i * 0.25 for i in range(8)])
    return gguf(BASE_KVS, BASE_TENSORS, f32 + q8_0_blocks(2), be=be, version=version)


def one_tensor(dims, ggml_type=T_F32, offset=0, data=b"", n_dims=None, kvs=(), be=False):
    return gguf(kvs, [raw(be).tensor_info("t", dims, ggml_type, offset, n_dims).b], data, be=be)


def with_alignment(vtype, value, data_bytes=64):
    return gguf([("general.alignment", vtype, value)], [("t", [16], T_F32, 0)], bytes(data_bytes))


def nested_arrays(depth, count_at_bottom=1):
    """key 'n' = [[[...]]] nested `depth` levels, one item per level, bytes at the bottom."""
    w = raw().str("n").u32(ARR)
    for _ in range(depth - 1):
        w.u32(ARR).u64(1)
    w.u32(U8).u64(count_at_bottom).raw(bytes(count_at_bottom))
    return gguf([bytes(w.b)])


# --- the reader's base file: every field's position known, to cut or corrupt one at a time ----

def reader_base(be=False):
    """(bytes, positions) of a valid file with 3 entries (a long string, general.alignment, a
    UINT32 array) and 2 tensors (Q4_K [256, 2] and F32 [64]) whose data ends at the end of the
    file. Its first key and string are long so that a cut inside them still leaves more bytes than
    the tensor and metadata counts need at minimum: the cut, not a count, is what is found."""
    w = W(be)
    at = {}
    w.raw(b"GGUF").u32(3).u64(2).u64(3)
    at["kv0"] = len(w.b)  # the key's length field
    w.str("long.key." + "k" * 141).u32(STR)  # a 150-byte key
    at["kv0_value"] = len(w.b)  # the string value's length field
    w.str("v" * 200).str("general.alignment").u32(U32)
    at["kv1_value"] = len(w.b)
    w.u32(32).str("arr").u32(ARR).u32(U32).u64(4)
    at["kv2_items"] = len(w.b)
    w.pack("4I", 1, 2, 3, 4)
    at["t0_n_dims"] = len(w.b) + 9
    w.tensor_info("a", [256, 2], T_Q4_K, 0)  # 2 blocks of 144 bytes
    at["t0_offset"] = len(w.b) - 8
    w.tensor_info("b", [64], T_F32, 288)
    at["t1_offset"] = len(w.b) - 8
    w.pad(32)
    at["data"] = len(w.b)
    return bytes(w.b + bytes(288 + 256)), at


def patched(data, at, fmt, value, be=False):
    """`data` with the field at `at` overwritten."""
    field = struct.pack((">" if be else "<") + fmt, value)
    return data[:at] + field + data[at + len(field):]


# --- the cases ----------------------------------------------------------------------------------

class Case(NamedTuple):
    name: str
    data: bytes
    what: Optional[str]    # None: a valid file, which every tool must accept; else text the error must hold
    offset: Optional[int]  # the offset the error must name

    @property
    def valid(self):
        return self.what is None


def head_len(kvs=(), tensors=(), be=False):
    """Where the data section's padding starts: the length of the header, entries and tensor infos."""
    return len(gguf(kvs, tensors, be=be, alignment=1))


def aligned(n, alignment=32):
    return -(-n // alignment) * alignment


# The positions in a file made by one_tensor() (name "t"): its tensor info starts after the header.
T_INFO = 24
T_N_DIMS = T_INFO + 9  # after the name's length and its one byte
T_DIMS = T_N_DIMS + 4


def t_type_at(n_dims):
    return T_DIMS + 8 * n_dims


def t_offset_at(n_dims):
    return T_DIMS + 8 * n_dims + 4


def t_data_start(n_dims):
    return aligned(t_offset_at(n_dims) + 8)


# A first entry "k": its key's length field, its type and its value (an array's element type).
K_AT, K_TYPE, K_VALUE = 24, 24 + 9, 24 + 13
K_COUNT, K_ITEMS = K_VALUE + 4, K_VALUE + 12  # an array's count and first item
# A first entry "general.alignment" (17 bytes): its type and its value.
A_TYPE, A_VALUE = 24 + 8 + 17, 24 + 8 + 17 + 4


def cases():
    """[Case] in a stable order: the files to refuse, each with the error it was made to reach
    (a file refused for another reason, a construction slip, would leave its class untested), then
    the valid ones."""
    c = []

    def add(name, data, what, offset):
        c.append(Case(name, bytes(data), what, offset))

    def ok(name, data):
        c.append(Case(name, bytes(data), None, None))

    B = base()
    P62, P63, M64 = 1 << 62, 1 << 63, (1 << 64) - 1

    def left(data, at):  # the bytes after the 8-byte field at `at`
        return len(data) - at - 8

    def after_counts(data):  # both counts are read before either is weighed against the bytes left
        return len(data) - 24

    # header
    add("empty", b"", "truncated magic: needs 4 bytes, 0 left in the file", 0)
    add("magic_short", b"GG", "truncated magic: needs 4 bytes, 2 left in the file", 0)
    add("magic_bad", b"GGML" + B[4:], "bad magic 47 47 4d 4c: not a GGUF file", 0)
    add("magic_lowercase", b"gguf" + B[4:], "bad magic 67 67 75 66: not a GGUF file", 0)
    add("magic_ggml_header", gguf(magic=b"GGML") + bytes(64), "bad magic 47 47 4d 4c: not a GGUF file", 0)
    for v, tag in [(0, "0"), (1, "1"), (4, "4"), (99, "99"), (0xFFFFFFFF, "2e32m1")]:
        add(f"version_{tag}", gguf(version=v), f"unsupported version {v} (", 4)
    add("header_only_magic_version", B[:8], "truncated tensor count: needs 8 bytes, 0 left in the file", 8)

    # counts beyond the file
    for n, tag in [(P63, "2e63"), (M64, "2e64m1")]:
        f = gguf(BASE_KVS, n_tensors=n)
        add(f"n_tensors_{tag}", f, f"tensor count {n} cannot fit in the {after_counts(f)} bytes left", 8)
        f = gguf(BASE_KVS, n_kv=n)
        add(f"n_kv_{tag}", f, f"metadata count {n} cannot fit in the {after_counts(f)} bytes left", 16)
    f = gguf(BASE_KVS, n_kv=len(BASE_KVS) + 1)
    add("n_kv_one_more", f, "truncated metadata key: needs 8 bytes, 0 left in the file", len(f))
    # the data section's zeros are read as the missing tensor info: a name of length 0, then n_dims 0
    add("n_tensors_one_more", gguf(BASE_KVS, [("t", [8], T_F32, 0)], bytes(32), n_tensors=2),
        "tensor '': n_dims 0 is not in 1..4", head_len(BASE_KVS, [("t", [8], T_F32, 0)]) + 8)
    f = gguf(BASE_KVS, be=True, n_tensors=P63)
    add("n_tensors_2e63_be", f, f"tensor count {P63} cannot fit in the {after_counts(f)} bytes left", 8)

    # key, string and array lengths beyond the file ("k", its type and what follows)
    for n, tag in [(P62, "2e62"), (P63, "2e63"), (M64, "2e64m1"), (1 << 32, "2e32")]:
        add(f"key_len_{tag}", gguf([raw().str("k", claimed=n).u32(U8).raw(b"\0").b]),
            f"metadata key length {n} exceeds the 6 bytes left in the file", K_AT)
        add(f"string_len_{tag}", gguf([raw().str("k").u32(STR).str("v", claimed=n).b]),
            f"string value of 'k' length {n} exceeds the 1 bytes left in the file", K_VALUE)
        add(f"array_len_{tag}", gguf([raw().str("k").u32(ARR).u32(U8).u64(n).raw(b"\0" * 8).b]),
            f"array 'k' claims {n} UINT8 items but only 8 bytes are left in the file", K_COUNT)
    # 6 bytes follow the key's length field ("k", the type, one value byte): 7 claimed. (A shorter
    # entry would be refused by the metadata count check first, never reaching the key's.)
    add("key_len_past_eof_by_1", gguf([raw().str("k", claimed=7).u32(U8).raw(b"\0").b]),
        "metadata key length 7 exceeds the 6 bytes left in the file", K_AT)
    add("string_len_past_eof_by_1", gguf([raw().str("k").u32(STR).str("v", claimed=2).b]),
        "string value of 'k' length 2 exceeds the 1 bytes left in the file", K_VALUE)
    # a count below the bytes left that still cannot fit: 100 FLOAT64 in 100 bytes
    add("array_f64_count_vs_bytes", gguf([raw().str("k").u32(ARR).u32(F64).u64(100).raw(bytes(100)).b]),
        "array 'k' claims 100 FLOAT64 items but only 100 bytes are left in the file", K_COUNT)
    add("array_of_strings_len_2e62", gguf([raw().str("k").u32(ARR).u32(STR).u64(P62).b]),
        f"array 'k' claims {P62} STRING items but only 0 bytes are left in the file", K_COUNT)
    add("array_of_strings_len_2e62_one_item", gguf([raw().str("strs").u32(ARR).u32(STR).u64(P62).str("x").b]),
        f"array 'strs' claims {P62} STRING items but only 9 bytes are left in the file", 24 + 12 + 4 + 4)
    add("array_string_item_len_2e63",
        gguf([raw().str("k").u32(ARR).u32(STR).u64(2).str("x").str("y", claimed=P63).b]),
        f"string value of 'k' length {P63} exceeds the 1 bytes left in the file", K_ITEMS + 9)
    add("nested_array_len_2e62", gguf([raw().str("k").u32(ARR).u32(ARR).u64(1).u32(U32).u64(P62).b]),
        f"array 'k' claims {P62} UINT32 items but only 0 bytes are left in the file", K_ITEMS + 4)
    # the first level too deep: the element type of the ninth array (12 bytes a level)
    add("nested_arrays_depth_1000", nested_arrays(1000), "'n' nests arrays deeper than 8 levels", K_VALUE + 8 * 12)
    add("nested_arrays_depth_100000", nested_arrays(100000), "'n' nests arrays deeper than 8 levels",
        K_VALUE + 8 * 12)
    w = raw().str("deep").u32(ARR)
    for _ in range(9):
        w.u32(ARR).u64(1)
    add("nested_arrays_depth_10", gguf([w.u32(U8).u64(0).b]), "'deep' nests arrays deeper than 8 levels",
        24 + 12 + 4 + 8 * 12)
    for t, tag in [(13, "13"), (0xFFFFFFFF, "2e32m1")]:
        add(f"array_elem_type_{tag}", gguf([raw().str("k").u32(ARR).u32(t).u64(1).raw(b"\0" * 8).b]),
            f"array element type of 'k' {t} is not a GGUF value type (0..12)", K_VALUE)
    for t, tag in [(13, "13"), (1 << 31, "2e31")]:
        add(f"value_type_{tag}", gguf([raw().str("k").u32(t).raw(b"\0" * 8).b]),
            f"value type of 'k' {t} is not a GGUF value type (0..12)", K_TYPE)
    add("value_truncated_u64", gguf([raw().str("k").u32(U64).raw(b"\0" * 4).b]),
        "truncated value of 'k': needs 8 bytes, 4 left in the file", K_VALUE)

    # tensor infos: n_dims, dims, types
    add("n_dims_0", one_tensor([], n_dims=0, data=bytes(32)), "tensor 't': n_dims 0 is not in 1..4", T_N_DIMS)
    add("n_dims_5", one_tensor([2, 2, 2, 2, 2], data=bytes(128)), "tensor 't': n_dims 5 is not in 1..4", T_N_DIMS)
    add("n_dims_2e32m1", one_tensor([1, 1], n_dims=0xFFFFFFFF, data=bytes(32)),
        "tensor 't': n_dims 4294967295 is not in 1..4", T_N_DIMS)
    # the same three before 4 KiB of data
    add("n_dims_0_4k", one_tensor([], data=bytes(4096)), "tensor 't': n_dims 0 is not in 1..4", T_N_DIMS)
    add("n_dims_5_4k", one_tensor([32, 1, 1, 1, 1], data=bytes(4096)), "tensor 't': n_dims 5 is not in 1..4",
        T_N_DIMS)
    add("n_dims_2e32m1_4k", one_tensor([32], n_dims=0xFFFFFFFF, data=bytes(4096)),
        "tensor 't': n_dims 4294967295 is not in 1..4", T_N_DIMS)
    n = (1 << 42) + 1
    add("dims_product_overflow_2e42p1", one_tensor([n] * 3),
        f"tensor 't': shape {n} x {n} x {n} has more than 2^63-1 elements", T_DIMS)
    add("dims_product_overflow_2e42p1_x2", one_tensor([n] * 2, data=bytes(4096)),
        f"tensor 't': shape {n} x {n} has more than 2^63-1 elements", T_DIMS)
    add("dims_product_2e64", one_tensor([1 << 32, 1 << 16, 1 << 16], T_Q8_0, data=bytes(4096)),
        "tensor 't': shape 4294967296 x 65536 x 65536 has more than 2^63-1 elements", T_DIMS)
    add("dims_product_wraps_to_4", one_tensor([4194305, 4194305, 211106198978564]),  # product = 4 mod 2^64
        "tensor 't': shape 4194305 x 4194305 x 211106198978564 has more than 2^63-1 elements", T_DIMS)
    add("dim_2e63", one_tensor([P63]), f"tensor 't': dimension 0 is {P63}, above 2^63-1", T_DIMS)
    add("dim_2e64m1", one_tensor([M64]), f"tensor 't': dimension 0 is {M64}, above 2^63-1", T_DIMS)
    add("dim1_2e63", one_tensor([32, P63], data=bytes(4096)), f"tensor 't': dimension 1 is {P63}, above 2^63-1",
        T_DIMS + 8)
    add("dims_int64max_x2_i8", one_tensor([P63 - 1, 2], T_I8),
        f"tensor 't': shape {P63 - 1} x 2 has more than 2^63-1 elements", T_DIMS)
    add("size_overflow_f32_2e62", one_tensor([P62], T_F32),  # elements fit, bytes do not
        f"tensor 't': size of shape {P62} overflows", T_DIMS)
    f = one_tensor([1 << 40], T_F32, data=bytes(64))
    add("size_huge_past_eof", f, f"tensor 't': data [64, {64 + (4 << 40)}) extends past the end of the file "
        f"({len(f)} bytes)", t_offset_at(1))
    f = one_tensor([1024, 1024], T_F32, data=bytes(4096))
    add("size_past_eof_4m", f, f"tensor 't': data [{t_data_start(2)}, {t_data_start(2) + (4 << 20)}) extends "
        f"past the end of the file ({len(f)} bytes)", t_offset_at(2))
    for tid in [43, 100, 1 << 31, 0xFFFFFFFF]:
        add(f"type_unknown_{tid}", one_tensor([32], tid, data=bytes(128)), f"tensor 't': unknown type {tid}",
            t_type_at(1))
    for tid in [43, 0xFFFFFFFF]:
        add(f"type_unknown_{tid}_4k", one_tensor([32], tid, data=bytes(4096)), f"tensor 't': unknown type {tid}",
            t_type_at(1))
    removed = {4: "Q4_2", 5: "Q4_3", 31: "Q4_0_4_4", 32: "Q4_0_4_8", 33: "Q4_0_8_8", 36: "IQ4_NL_4_4",
               37: "IQ4_NL_4_8", 38: "IQ4_NL_8_8"}
    for tid in REMOVED_TYPE_IDS:
        add(f"type_removed_{tid}", one_tensor([32], tid, data=bytes(128)),
            f"tensor 't': type {tid} ({removed[tid]}) was removed from ggml", t_type_at(1))
    for tid in [4, 31]:
        add(f"type_removed_{tid}_4k", one_tensor([32], tid, data=bytes(4096)),
            f"tensor 't': type {tid} ({removed[tid]}) was removed from ggml", t_type_at(1))
    add("row_not_multiple_of_block", one_tensor([33], T_Q8_0, data=bytes(64)),
        "tensor 't': row length 33 is not a multiple of Q8_0's block of 32 elements", T_DIMS)
    add("q4_k_row_128", one_tensor([128], T_Q4_K, data=bytes(144)),
        "tensor 't': row length 128 is not a multiple of Q4_K's block of 256 elements", T_DIMS)
    add("q4_k_row_100", one_tensor([100, 2], T_Q4_K, data=bytes(4096)),
        "tensor 't': row length 100 is not a multiple of Q4_K's block of 256 elements", T_DIMS)
    add("tensor_name_len_2e63", gguf([], [raw().str("t", claimed=P63).b]),
        f"tensor name length {P63} exceeds the 32 bytes left in the file", T_INFO)

    # alignment: its value, or its type
    for v, tag in [(0, "0"), (3, "3"), (48, "48"), (0xFFFFFFFF, "2e32m1")]:
        add(f"alignment_{tag}", with_alignment(U32, v), f"general.alignment {v} is not a power of two", A_VALUE)
    for v, tag in [(1 << 31, "2e31"), (1 << 30, "2e30")]:
        add(f"alignment_{tag}", with_alignment(U32, v), f"general.alignment {v} is larger than 1 MiB", A_VALUE)
    for vtype, value, tname, tag in [(U64, 32, "UINT64", "u64"), (I32, 32, "INT32", "i32"), (U8, 32, "UINT8", "u8"),
                                     (STR, "32", "STRING", "string"), (ARR, (U32, [32]), "ARRAY", "array")]:
        add(f"alignment_as_{tag}", with_alignment(vtype, value), f"general.alignment must be UINT32, not {tname}",
            A_TYPE)
    # the entry alone, no tensor
    add("alignment_as_u64_alone", gguf([("general.alignment", U64, 32)]),
        "general.alignment must be UINT32, not UINT64", A_TYPE)
    add("alignment_as_i32_alone", gguf([("general.alignment", I32, 32)]),
        "general.alignment must be UINT32, not INT32", A_TYPE)

    # tensor offsets
    data = bytes(96)
    d0 = t_data_start(1)
    f = one_tensor([8], T_F32, offset=4, data=data)
    add("offset_misaligned", f, "tensor 't': data offset 4 is not a multiple of the alignment 32", t_offset_at(1))
    add("offset_misaligned_16", one_tensor([32], T_F32, offset=16, data=bytes(4096)),
        "tensor 't': data offset 16 is not a multiple of the alignment 32", t_offset_at(1))
    for name, off, dat in [("offset_past_eof", 1 << 20, data), ("offset_data_past_eof_by_1", 64, data[:95]),
                           ("offset_2e63", P63, data)]:
        f = one_tensor([8], T_F32, offset=off, data=dat)
        add(name, f, f"tensor 't': data [{d0 + off}, {d0 + off + 32}) extends past the end of the file "
            f"({len(f)} bytes)", t_offset_at(1))
    f = one_tensor([32], T_F32, offset=1 << 40, data=bytes(4096))
    add("offset_2e40_past_eof", f, f"tensor 't': data [{d0 + (1 << 40)}, {d0 + (1 << 40) + 128}) extends past "
        f"the end of the file ({len(f)} bytes)", t_offset_at(1))
    add("offset_wraps_2e64", one_tensor([8], T_F32, offset=M64 + 1 - 64, data=data),
        f"tensor 't': data offset {M64 + 1 - 64} wraps around past 2^64", t_offset_at(1))
    add("offset_wraps_2e64_by_32", one_tensor([32], T_F32, offset=M64 - 31, data=bytes(4096)),
        f"tensor 't': data offset {M64 - 31} wraps around past 2^64", t_offset_at(1))
    # two tensors "a" and "b" (a tensor info of one dimension is 33 bytes): the second's offset field
    second_offset = 24 + 33 + 25
    for name, infos, dat, b_at, a_at, at in [
            ("offset_overlap_same", [("a", [8], T_F32, 0), ("b", [8], T_F32, 0)], data, 0, (0, 32), second_offset),
            ("offset_overlap_partial", [("a", [16], T_F32, 0), ("b", [8], T_F32, 32)], data, 32, (0, 64),
             second_offset),
            ("offset_overlap_contained", [("a", [24], T_F32, 0), ("b", [8], T_F32, 32)], data, 32, (0, 96),
             second_offset),
            ("offset_overlap_reversed_order", [("b", [8], T_F32, 32), ("a", [16], T_F32, 0)], data, 32, (0, 64),
             24 + 25),
            ("offset_overlap_inside", [("a", [64], T_F32, 0), ("b", [32], T_F32, 128)], bytes(512), 128, (0, 256),
             second_offset)]:
        d = aligned(head_len((), infos))
        b_len = infos[0 if infos[0][0] == "b" else 1][1][0] * 4
        add(name, gguf([], infos, dat), f"tensor 'b': data [{d + b_at}, {d + b_at + b_len}) overlaps tensor 'a' "
            f"at [{d + a_at[0]}, {d + a_at[1]})", at)
    f = B[:-1]
    add("data_truncated_last_byte", f, f"tensor 'b.weight': data [{len(B) - 68}, {len(B)}) extends past the end "
        f"of the file ({len(f)} bytes)", head_len(BASE_KVS, BASE_TENSORS) - 8)

    # duplicates
    add("duplicate_key", gguf([("k", U32, 1), ("k", U32, 2)]), "duplicate key 'k' (first at offset 24)", 24 + 17)
    add("duplicate_key_different_type", gguf([("general.name", STR, "a"), ("general.name", U8, 1)]),
        "duplicate key 'general.name' (first at offset 24)", 24 + 33)
    add("duplicate_tensor_name", gguf([], [("t", [8], T_F32, 0), ("t", [8], T_F32, 32)], bytes(64)),
        "duplicate tensor name 't' (first at offset 24)", 24 + 33)
    add("duplicate_tensor_name_apart", gguf([], [("a", [32], T_F32, 0), ("a", [32], T_F32, 128)], bytes(512)),
        "duplicate tensor name 'a' (first at offset 24)", 24 + 33)
    # names in errors are escaped: a file cannot recolour the terminal through an error line
    add("duplicate_tensor_name_with_escapes",
        gguf([], [("\x1b[31mred\n", [32], T_F32, 0), ("\x1b[31mred\n", [32], T_F32, 128)], bytes(512)),
        "duplicate tensor name '\\x1b[31mred\\n' (first at offset 24)", 24 + 41)

    # the reader's base file cut inside each of its fields
    R, at = reader_base()
    add("truncated_in_version", R[:6], "truncated version: needs 4 bytes, 2 left in the file", 4)
    add("truncated_in_counts", R[:20], "truncated metadata count: needs 8 bytes, 4 left in the file", 16)
    add("truncated_in_key", R[:at["kv0"] + 8 + 100], "metadata key length 150 exceeds the 100 bytes left", at["kv0"])
    add("truncated_in_value_type", R[:at["kv0_value"] - 2], "truncated value type", at["kv0_value"] - 4)
    add("truncated_in_string_value", R[:at["kv0_value"] + 8 + 150], "length 200 exceeds the 150 bytes left",
        at["kv0_value"])
    add("truncated_in_scalar_value", R[:at["kv1_value"] + 2],
        "truncated value of 'general.alignment': needs 4 bytes, 2 left", at["kv1_value"])
    # an array cut short is caught by its count: 4 UINT32 items cannot fit in the 6 bytes left
    add("truncated_in_array", R[:at["kv2_items"] + 6], "array 'arr' claims 4 UINT32 items but only 6 bytes",
        at["kv2_items"] - 8)
    add("truncated_in_tensor_info", R[:at["t0_n_dims"] + 4 + 8 + 3], "truncated tensor dimension",
        at["t0_n_dims"] + 12)
    add("truncated_before_data", R[:at["data"]], f"tensor 'a': data [{at['data']}, {at['data'] + 288}) extends past",
        at["t0_offset"])
    add("truncated_in_tensor_data", R[:-10], f"tensor 'b': data [{at['data'] + 288}, {len(R)}) extends past",
        at["t1_offset"])
    # ... and with one field of it changed
    add("patched_version_1", patched(R, 4, "I", 1), "unsupported version 1 (", 4)
    add("patched_version_99", patched(R, 4, "I", 99), "unsupported version 99 (", 4)
    add("patched_magic_ggug", b"GGUG" + R[4:], "bad magic 47 47 55 47: not a GGUF file", 0)
    add("patched_n_tensors_2e63", patched(R, 8, "Q", P63),
        f"tensor count {P63} cannot fit in the {after_counts(R)} bytes left", 8)
    add("patched_n_kv_2e63", patched(R, 16, "Q", P63),
        f"metadata count {P63} cannot fit in the {after_counts(R)} bytes left", 16)
    add("patched_key_len_2e62", patched(R, at["kv0"], "Q", P62),
        f"metadata key length {P62} exceeds the {left(R, at['kv0'])} bytes left", at["kv0"])
    n = left(R, at["kv0"]) + 1  # one byte more than the file has
    add("patched_key_len_past_eof", patched(R, at["kv0"], "Q", n),
        f"metadata key length {n} exceeds the {n - 1} bytes left", at["kv0"])
    add("patched_string_len_2e62", patched(R, at["kv0_value"], "Q", P62),
        f"length {P62} exceeds the {left(R, at['kv0_value'])} bytes left", at["kv0_value"])
    add("patched_array_len_2e62", patched(R, at["kv2_items"] - 8, "Q", P62), f"array 'arr' claims {P62} UINT32 items",
        at["kv2_items"] - 8)
    add("patched_array_elem_type_13", patched(R, at["kv2_items"] - 12, "I", 13),
        "array element type of 'arr' 13 is not a GGUF value type", at["kv2_items"] - 12)
    for t, tag in [(13, "13"), (0xFFFFFFFF, "2e32m1")]:
        add(f"patched_value_type_{tag}", patched(R, at["kv0_value"] - 4, "I", t), f"{t} is not a GGUF value type",
            at["kv0_value"] - 4)
    for v, tag, why in [(0, "0", "is not a power of two"), (3, "3", "is not a power of two"),
                        (1 << 31, "2e31", "is larger than 1 MiB")]:
        add(f"patched_alignment_{tag}", patched(R, at["kv1_value"], "I", v), f"general.alignment {v} {why}",
            at["kv1_value"])
    # big-endian files get the same checks, with their fields swapped
    RB, at_be = reader_base(be=True)
    add("patched_n_kv_2e63_be", patched(RB, 16, "Q", P63, be=True),
        f"metadata count {P63} cannot fit in the {after_counts(RB)} bytes left", 16)
    add("truncated_in_tensor_data_be", RB[:-1], f"tensor 'b': data [{at_be['data'] + 288}, {len(RB)}) extends past",
        at_be["t1_offset"])

    # --- valid but surprising: accepted, printed safely ---
    ok("valid_reader_base", R)
    ok("valid_reader_base_be", RB)
    ok("valid_base", B)
    ok("valid_base_be", base(be=True))
    ok("valid_v2", base(version=2))
    ok("valid_minimal", gguf())
    ok("valid_no_tensors_with_kvs", gguf(BASE_KVS))
    ok("valid_scores_as_uint8", gguf([("tokenizer.ggml.model", STR, "llama"),
                                      ("tokenizer.ggml.tokens", ARR, (U8, [1, 2, 3])),
                                      ("tokenizer.ggml.scores", ARR, (U8, [0, 1, 2])),
                                      ("tokenizer.ggml.token_type", STR, "normal"),
                                      ("general.architecture", U32, 7)],
                                     [("t", [8], T_F32, 0)], bytes(32)))
    ok("valid_invalid_utf8_raw", gguf([raw().str(b"k\xc0\xaf\xed\xa0\x80").u32(STR).str(b"\xff\x80v\xf8").b],
                                      [raw().tensor_info(b"t\xff\xfe", [8], T_F32, 0).b], bytes(32)))
    ok("valid_control_chars", gguf([("evil\x1b[2J\x1b[31m", STR, "red\x1b[0m\r\x07\x08\x00end"),
                                    ("general.name", STR, "\x1b]0;title\x07\x9b31m")],
                                   [("t\x1b[1A\r", [8], T_F32, 0)], bytes(32)))
    # bidi overrides and isolates, zero-width and line-separator characters: text that displays
    # in another order than it is stored ("Trojan Source")
    ok("valid_bidi_controls", gguf([("k\u202eevil\u2066", STR, "v\u200b\u2028x\ufeff\u200f"),
                                    ("general.name", STR, "\u202dabc\u2069\u2060")],
                                   [("t\u202e\u200e", [8], T_F32, 0)], bytes(32)))
    ok("valid_empty_key_and_name", gguf([("", U8, 1)], [("", [8], T_F32, 0)], bytes(32)))
    ok("valid_zero_dims", gguf([], [("z0", [0], T_F32, 0), ("z1", [32, 0], T_Q8_0, 0), ("z2", [0, 5], T_F32, 0),
                                    ("a", [8], T_F32, 0)], bytes(32)))
    ok("valid_nested_arrays", nested_arrays(3, 4))
    ok("valid_alignment_1", gguf([("general.alignment", U32, 1)], [("t", [2], T_F32, 0)], bytes(8),
                                 alignment=1))
    ok("valid_split_keys_odd", gguf([("split.count", U16, 0xFFFF), ("split.no", U16, 0xFFFE),
                                     ("split.tensors.count", I32, -1)], [("t", [8], T_F32, 0)], bytes(32)))
    ok("valid_path_names", gguf([], [("../../escape", [32], T_Q8_0, 0), ("/abs/path", [32], T_Q8_0, 64),
                                     ("a/b\\c:d", [32], T_Q8_0, 128), (".", [32], T_Q8_0, 192)],
                                q8_0_blocks(1) + bytes(30) + q8_0_blocks(1) + bytes(30) + q8_0_blocks(1)
                                + bytes(30) + q8_0_blocks(1)))
    ok("valid_names_same_when_sanitized", gguf([], [("a/b", [8], T_F32, 0), ("a_b", [8], T_F32, 32),
                                                    ("a:b", [8], T_F32, 64), ("a\\b", [8], T_F32, 96)],
                                               bytes(128)))
    ok("valid_long_name", gguf([], [("n" * 5000, [32], T_Q8_0, 0)], q8_0_blocks(1)))
    ok("valid_long_values", gguf([("s", STR, "x" * 100000), ("a", ARR, (U32, list(range(20000))))]))
    return c


def write_all(outdir):
    """NAME.gguf for every case and cases.json, the expectations: [{name, file, valid, what, offset}]
    (what and offset null for a valid file). Files of cases no longer in the catalogue are removed."""
    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    catalogue = cases()
    names = {f"{c.name}.gguf" for c in catalogue}
    for old in out.glob("*.gguf"):
        if old.name not in names:
            old.unlink()
    for c in catalogue:
        (out / f"{c.name}.gguf").write_bytes(c.data)
    index = [{"name": c.name, "file": f"{c.name}.gguf", "valid": c.valid, "what": c.what, "offset": c.offset}
             for c in catalogue]
    (out / "cases.json").write_text(json.dumps(index, indent=1) + "\n")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: make_crafted.py OUTDIR")
    write_all(sys.argv[1])
