#!/usr/bin/env python3
"""Writes the fuzzers' seed corpus (tests/corpus/<target>/seed-*), from two sources:
  - the crafted files of tests/crafted/make_crafted.py (small valid files and every attack class);
  - the fixture made by ggml: its header region, and two real blocks of every type in it.

    python3 tests/corpus/make_seeds.py FIXTURES_DIR

Seeds are committed; rerun after changing make_crafted.py or the fixture. Files named
crash-* / regress-* in the corpus are fuzzer findings kept as regressions: never removed here.
"""
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "crafted"))
import make_crafted as mc  # noqa: E402

MAX_SEED = 16 * 1024  # libFuzzer mutates small inputs best; larger crafted files stay in the CLI suite


def tensor_table(data):
    """[(name, type_id, abs_offset)] and the header's end, for a well-formed little-endian GGUF."""
    assert data[:4] == b"GGUF"
    table, data_start = mc.read_tensor_table(data)
    return [(n.decode(), t, off) for n, _, t, off in table], data_start


# (elements, bytes) per block for each ggml type id the fixture holds (ggml-common.h).
BLOCK = {0: (1, 4), 1: (1, 2), 2: (32, 18), 3: (32, 20), 6: (32, 22), 7: (32, 24), 8: (32, 34), 9: (32, 36),
         10: (256, 84), 11: (256, 110), 12: (256, 144), 13: (256, 176), 14: (256, 210), 15: (256, 292),
         16: (256, 66), 17: (256, 74), 18: (256, 98), 19: (256, 50), 20: (32, 18), 21: (256, 110),
         22: (256, 82), 23: (256, 136), 24: (1, 1), 25: (1, 2), 26: (1, 4), 27: (1, 8), 28: (1, 8),
         29: (256, 56), 30: (1, 2), 34: (256, 54), 35: (256, 66), 39: (32, 17), 40: (64, 36), 41: (128, 18),
         42: (64, 18)}


def main(fixtures):
    reader = HERE / "reader"
    decode = HERE / "decode"
    hexdump = HERE / "hexdump"
    capi = HERE / "capi"
    for d in (reader, decode, hexdump, capi):
        d.mkdir(exist_ok=True)
        for old in d.glob("seed-*"):
            old.unlink()

    for c in mc.cases():
        if len(c.data) <= MAX_SEED:
            (reader / f"seed-{c.name}").write_bytes(c.data)
            if c.valid:  # fuzz-hexdump's file mode dumps what the reader accepts; fuzz-capi opens it
                (hexdump / f"seed-file-{c.name}").write_bytes(c.data)
                (capi / f"seed-{c.name}").write_bytes(c.data)
    (hexdump / "seed-file-base").write_bytes(mc.base())

    fixture = (Path(fixtures) / "all-types.gguf").read_bytes()
    table, data_start = tensor_table(fixture)
    (reader / "seed-fixture-header").write_bytes(fixture[:data_start])
    first = min(off for _, _, off in table)
    (reader / "seed-fixture-header-and-first-tensor").write_bytes(fixture[:first + 4096])

    seen = set()
    every_type, every_type_data = [], b""
    for name, type_id, off in table:
        if type_id not in BLOCK or type_id in seen:
            continue
        seen.add(type_id)
        elems, bb = BLOCK[type_id]
        n = max(2, 64 // bb)  # at least two blocks, a few more for the small ones
        # fuzz-decode's and fuzz-hexdump's block mode: [type id][blocks]
        for d in (decode, hexdump):
            (d / f"seed-{name}").write_bytes(bytes([type_id]) + fixture[off:off + n * bb])
            # NaN/Inf scales and every bit set: the edge of every lookup table
            (d / f"seed-{name}-ff").write_bytes(bytes([type_id]) + b"\xff" * (2 * bb))
        every_type.append((name, [2 * elems], type_id, len(every_type_data)))
        every_type_data += fixture[off:off + 2 * bb]
        every_type_data += bytes(-len(every_type_data) % 32)
    # A real header to dump (and every decoder behind the C API): two blocks of every type of
    # the fixture, one tensor each.
    every_type_file = mc.gguf((), every_type, every_type_data)
    (hexdump / "seed-file-every-type").write_bytes(every_type_file)
    (capi / "seed-every-type").write_bytes(every_type_file)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: make_seeds.py FIXTURES_DIR")
    main(sys.argv[1])
