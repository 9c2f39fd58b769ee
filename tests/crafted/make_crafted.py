#!/usr/bin/env python3
"""Crafted GGUF files: one per known attack class on GGUF parsers, plus odd-but-valid files.

Each case is (name, bytes, expectation):
  "invalid" - every gguftk binary must refuse it: exit 1, one `error:` line naming an offset;
  "valid"   - a well-formed container with surprising content (invalid UTF-8, control
              characters, zero-sized tensors, a tokenizer array of an unexpected type...):
              the tools must accept it, and print it safely.

The classes follow the parser bugs fixed in ggml, gguf-py and other GGUF readers (2024-2026):
counts and lengths larger than the file, n_dims beyond 4, dimension products that overflow or
wrap to small values, unknown and removed type ids, alignment 0 / not a power of two / huge /
of the wrong type, tensor offsets misaligned, overlapping, past the end or wrapping around
2^64, duplicate keys and tensor names, unbounded array nesting.

This file writes GGUF bytes with its own few lines of struct packing, independent of the C++
code under test. Run it as a script to write every case into a directory:
    python3 tests/crafted/make_crafted.py OUTDIR
"""
import struct
import sys
from pathlib import Path

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


def base(be=False, version=3):
    """Two tensors (F32 [8] and Q8_0 [32, 2]), data ending exactly at the end of the file."""
    f32 = struct.pack(("<" if not be else ">") + "8f", *[i * 0.25 for i in range(8)])
    tensors = [("a.weight", [8], T_F32, 0), ("b.weight", [32, 2], T_Q8_0, 32)]
    return gguf(BASE_KVS, tensors, f32 + q8_0_blocks(2), be=be, version=version)


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


# --- the cases ----------------------------------------------------------------------------------

def cases():
    """[(name, bytes, expectation)] in a stable order."""
    inv, ok = "invalid", "valid"
    c = []
    add = lambda name, data, exp=inv: c.append((name, data, exp))  # noqa: E731
    B = base()
    hdr_end = 24  # magic, version, n_tensors, n_kv

    # header
    add("empty", b"")
    add("magic_short", b"GG")
    add("magic_bad", b"GGML" + B[4:])
    add("magic_lowercase", b"gguf" + B[4:])
    add("version_0", gguf(version=0))
    add("version_1", gguf(version=1))
    add("version_4", gguf(version=4))
    add("version_99", gguf(version=99))
    add("version_2e32m1", gguf(version=0xFFFFFFFF))
    add("header_only_magic_version", B[:8])

    # counts beyond the file
    add("n_tensors_2e63", gguf(BASE_KVS, n_tensors=1 << 63))
    add("n_tensors_2e64m1", gguf(BASE_KVS, n_tensors=(1 << 64) - 1))
    add("n_kv_2e63", gguf(BASE_KVS, n_kv=1 << 63))
    add("n_kv_2e64m1", gguf(BASE_KVS, n_kv=(1 << 64) - 1))
    add("n_kv_one_more", gguf(BASE_KVS, n_kv=len(BASE_KVS) + 1))
    add("n_tensors_one_more", gguf(BASE_KVS, [("t", [8], T_F32, 0)], bytes(32), n_tensors=2))
    add("n_tensors_2e63_be", gguf(BASE_KVS, be=True, n_tensors=1 << 63))

    # key, string and array lengths beyond the file
    for n, tag in [(1 << 62, "2e62"), (1 << 63, "2e63"), ((1 << 64) - 1, "2e64m1"), (1 << 32, "2e32")]:
        add(f"key_len_{tag}", gguf([raw().str("k", claimed=n).u32(U8).raw(b"\0").b]))
        add(f"string_len_{tag}", gguf([raw().str("k").u32(STR).str("v", claimed=n).b]))
        add(f"array_len_{tag}", gguf([raw().str("k").u32(ARR).u32(U8).u64(n).raw(b"\0" * 8).b]))
    # 6 bytes follow the key's length field ("k", the type, one value byte): 7 claimed. (A shorter
    # entry would be refused by the metadata count check first, never reaching the key's.)
    add("key_len_past_eof_by_1", gguf([raw().str("k", claimed=7).u32(U8).raw(b"\0").b]))
    add("string_len_past_eof_by_1", gguf([raw().str("k").u32(STR).str("v", claimed=2).b]))
    # a count below the bytes left that still cannot fit: 100 FLOAT64 in 100 bytes
    add("array_f64_count_vs_bytes", gguf([raw().str("k").u32(ARR).u32(F64).u64(100).raw(bytes(100)).b]))
    add("array_of_strings_len_2e62", gguf([raw().str("k").u32(ARR).u32(STR).u64(1 << 62).b]))
    add("array_string_item_len_2e63",
        gguf([raw().str("k").u32(ARR).u32(STR).u64(2).str("x").str("y", claimed=1 << 63).b]))
    add("nested_array_len_2e62", gguf([raw().str("k").u32(ARR).u32(ARR).u64(1).u32(U32).u64(1 << 62).b]))
    add("nested_arrays_depth_1000", nested_arrays(1000))
    add("nested_arrays_depth_100000", nested_arrays(100000))
    add("array_elem_type_13", gguf([raw().str("k").u32(ARR).u32(13).u64(1).raw(b"\0" * 8).b]))
    add("array_elem_type_2e32m1", gguf([raw().str("k").u32(ARR).u32(0xFFFFFFFF).u64(1).raw(b"\0" * 8).b]))
    add("value_type_13", gguf([raw().str("k").u32(13).raw(b"\0" * 8).b]))
    add("value_type_2e31", gguf([raw().str("k").u32(1 << 31).raw(b"\0" * 8).b]))
    add("value_truncated_u64", gguf([raw().str("k").u32(U64).raw(b"\0" * 4).b]))

    # tensor infos: n_dims, dims, types
    add("n_dims_0", one_tensor([], n_dims=0, data=bytes(32)))
    add("n_dims_5", one_tensor([2, 2, 2, 2, 2], data=bytes(128)))
    add("n_dims_2e32m1", one_tensor([1, 1], n_dims=0xFFFFFFFF, data=bytes(32)))
    add("dims_product_overflow_2e42p1", one_tensor([(1 << 42) + 1] * 3))
    add("dims_product_wraps_to_4", one_tensor([4194305, 4194305, 211106198978564]))  # product = 4 mod 2^64
    add("dim_2e63", one_tensor([1 << 63]))
    add("dim_2e64m1", one_tensor([(1 << 64) - 1]))
    add("dims_int64max_x2_i8", one_tensor([(1 << 63) - 1, 2], T_I8))
    add("size_overflow_f32_2e62", one_tensor([1 << 62], T_F32))  # elements fit, bytes do not
    add("size_huge_past_eof", one_tensor([1 << 40], T_F32, data=bytes(64)))
    for tid in [43, 100, 1 << 31, 0xFFFFFFFF]:
        add(f"type_unknown_{tid}", one_tensor([32], tid, data=bytes(128)))
    for tid in REMOVED_TYPE_IDS:
        add(f"type_removed_{tid}", one_tensor([32], tid, data=bytes(128)))
    add("row_not_multiple_of_block", one_tensor([33], T_Q8_0, data=bytes(64)))
    add("q4_k_row_128", one_tensor([128], T_Q4_K, data=bytes(144)))
    add("tensor_name_len_2e63", gguf([], [raw().str("t", claimed=1 << 63).b]))

    # alignment
    add("alignment_0", with_alignment(U32, 0))
    add("alignment_3", with_alignment(U32, 3))
    add("alignment_48", with_alignment(U32, 48))
    add("alignment_2e31", with_alignment(U32, 1 << 31))
    add("alignment_2e30", with_alignment(U32, 1 << 30))
    add("alignment_2e32m1", with_alignment(U32, 0xFFFFFFFF))
    add("alignment_as_u64", with_alignment(U64, 32))
    add("alignment_as_i32", with_alignment(I32, 32))
    add("alignment_as_u8", with_alignment(U8, 32))
    add("alignment_as_string", with_alignment(STR, "32"))
    add("alignment_as_array", with_alignment(ARR, (U32, [32])))

    # tensor offsets
    data = bytes(96)
    add("offset_misaligned", one_tensor([8], T_F32, offset=4, data=data))
    add("offset_past_eof", one_tensor([8], T_F32, offset=1 << 20, data=data))
    add("offset_data_past_eof_by_1", one_tensor([8], T_F32, offset=64, data=data[:95]))
    add("offset_wraps_2e64", one_tensor([8], T_F32, offset=(1 << 64) - 64, data=data))
    add("offset_2e63", one_tensor([8], T_F32, offset=1 << 63, data=data))
    add("offset_overlap_same", gguf([], [("a", [8], T_F32, 0), ("b", [8], T_F32, 0)], data))
    add("offset_overlap_partial", gguf([], [("a", [16], T_F32, 0), ("b", [8], T_F32, 32)], data))
    add("offset_overlap_contained", gguf([], [("a", [24], T_F32, 0), ("b", [8], T_F32, 32)], data))
    add("offset_overlap_reversed_order", gguf([], [("b", [8], T_F32, 32), ("a", [16], T_F32, 0)], data))
    add("data_truncated_last_byte", B[:-1])

    # duplicates
    add("duplicate_key", gguf([("k", U32, 1), ("k", U32, 2)]))
    add("duplicate_key_different_type", gguf([("general.name", STR, "a"), ("general.name", U8, 1)]))
    add("duplicate_tensor_name", gguf([], [("t", [8], T_F32, 0), ("t", [8], T_F32, 32)], bytes(64)))

    # --- valid but surprising: accepted, printed safely ---
    add("valid_base", B, ok)
    add("valid_base_be", base(be=True), ok)
    add("valid_v2", base(version=2), ok)
    add("valid_minimal", gguf(), ok)
    add("valid_no_tensors_with_kvs", gguf(BASE_KVS), ok)
    add("valid_scores_as_uint8", gguf([("tokenizer.ggml.model", STR, "llama"),
                                       ("tokenizer.ggml.tokens", ARR, (U8, [1, 2, 3])),
                                       ("tokenizer.ggml.scores", ARR, (U8, [0, 1, 2])),
                                       ("tokenizer.ggml.token_type", STR, "normal"),
                                       ("general.architecture", U32, 7)],
                                      [("t", [8], T_F32, 0)], bytes(32)), ok)
    add("valid_invalid_utf8_raw", gguf([raw().str(b"k\xc0\xaf\xed\xa0\x80").u32(STR).str(b"\xff\x80v\xf8").b],
                                       [raw().tensor_info(b"t\xff\xfe", [8], T_F32, 0).b], bytes(32)), ok)
    add("valid_control_chars", gguf([("evil\x1b[2J\x1b[31m", STR, "red\x1b[0m\r\x07\x08\x00end"),
                                     ("general.name", STR, "\x1b]0;title\x07\x9b31m")],
                                    [("t\x1b[1A\r", [8], T_F32, 0)], bytes(32)), ok)
    # bidi overrides and isolates, zero-width and line-separator characters: text that displays
    # in another order than it is stored ("Trojan Source")
    add("valid_bidi_controls", gguf([("k\u202eevil\u2066", STR, "v\u200b\u2028x\ufeff\u200f"),
                                     ("general.name", STR, "\u202dabc\u2069\u2060")],
                                    [("t\u202e\u200e", [8], T_F32, 0)], bytes(32)), ok)
    add("valid_empty_key_and_name", gguf([("", U8, 1)], [("", [8], T_F32, 0)], bytes(32)), ok)
    add("valid_zero_dims", gguf([], [("z0", [0], T_F32, 0), ("z1", [32, 0], T_Q8_0, 0), ("z2", [0, 5], T_F32, 0),
                                     ("a", [8], T_F32, 0)], bytes(32)), ok)
    add("valid_nested_arrays", nested_arrays(3, 4), ok)
    add("valid_alignment_1", gguf([("general.alignment", U32, 1)], [("t", [2], T_F32, 0)], bytes(8),
                                  alignment=1), ok)
    add("valid_split_keys_odd", gguf([("split.count", U16, 0xFFFF), ("split.no", U16, 0xFFFE),
                                      ("split.tensors.count", I32, -1)], [("t", [8], T_F32, 0)], bytes(32)), ok)
    add("valid_path_names", gguf([], [("../../escape", [32], T_Q8_0, 0), ("/abs/path", [32], T_Q8_0, 64),
                                      ("a/b\\c:d", [32], T_Q8_0, 128), (".", [32], T_Q8_0, 192)],
                                 q8_0_blocks(1) + bytes(30) + q8_0_blocks(1) + bytes(30) + q8_0_blocks(1)
                                 + bytes(30) + q8_0_blocks(1)), ok)
    add("valid_names_same_when_sanitized", gguf([], [("a/b", [8], T_F32, 0), ("a_b", [8], T_F32, 32),
                                                     ("a:b", [8], T_F32, 64), ("a\\b", [8], T_F32, 96)],
                                                bytes(128)), ok)
    add("valid_long_name", gguf([], [("n" * 5000, [32], T_Q8_0, 0)], q8_0_blocks(1)), ok)
    add("valid_long_values", gguf([("s", STR, "x" * 100000), ("a", ARR, (U32, list(range(20000))))]), ok)
    return c


def write_all(outdir):
    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    for name, data, _ in cases():
        (out / f"{name}.gguf").write_bytes(data)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: make_crafted.py OUTDIR")
    write_all(sys.argv[1])
