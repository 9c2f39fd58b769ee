"""gguf-hexdump end to end.

Expectations come from outside our code: the fixture's bytes and tensor table as gguf-py's
GGUFReader reads them (taught type 42, Q2_0, which its enum lacks), ggml's own dequantization
in all-types.ref-f32.gguf, gguf-py's dequantize where it has one, and files gguf-py's
GGUFWriter writes (special float values).
"""
import itertools
import json
import os
import re
import subprocess
from pathlib import Path

import numpy as np
import pytest

gguf = pytest.importorskip("gguf")
from gguf.constants import GGML_QUANT_SIZES, GGMLQuantizationType  # noqa: E402
from cli_common import GGML_SIZES, gguf_py_read, stdout_on_tty  # noqa: E402

BIN = Path(os.environ["GGUFTK_BIN"])
HEXDUMP = BIN / "gguf-hexdump"
FIXTURES = Path(os.environ["GGUFTK_FIXTURES"])
ALL = FIXTURES / "all-types.gguf"
REF32 = FIXTURES / "all-types.ref-f32.gguf"

BLOCK_KEYS = ["tensor", "type", "block", "offset", "size", "elements", "fields", "values"]
FIELD_KEYS = ["name", "offset", "size", "kind", "meaning", "hex", "decoded"]
INTEGER_TYPES = {"I8", "I16", "I32", "I64"}
# gguf-py's dequantize is missing or disagrees on these (see test_gguf_py_crosscheck.py);
# the reference file covers them.
NOT_IN_GGUF_PY = {"Q8_1", "Q8_K", "F64", "Q1_0", "Q2_0"}
READER = gguf_py_read(ALL)
TENSORS = {t.name: t for t in READER.tensors}
REF = {t.name: t for t in gguf.GGUFReader(str(REF32)).tensors}
FILE_BYTES = ALL.read_bytes()


def block_geometry(t):
    """(elements, bytes) of one block of gguf-py tensor t, by ggml's sizes."""
    tid = int(t.tensor_type)
    return GGML_SIZES.get(tid) or GGML_QUANT_SIZES[GGMLQuantizationType(tid)]


def n_blocks(t):
    elems, _ = block_geometry(t)
    return int(np.prod([int(x) for x in t.shape])) // elems


def run(*args, check_rc=None, env=None):
    e = dict(os.environ)
    e.update(env or {})
    p = subprocess.run([str(HEXDUMP), *map(str, args)], capture_output=True, env=e, timeout=60)
    if check_rc is not None:
        assert p.returncode == check_rc, (p.returncode, p.stderr.decode(errors="replace"))
    return p


def dump_json(*args):
    return json.loads(run(*args, "--json", check_rc=0).stdout)


def block_json(*args):
    """A view of one block: an array of one block object, as every block view gives."""
    d = dump_json(*args)
    assert isinstance(d, list) and len(d) == 1, d
    return d[0]


def as_f32(values):
    """JSON values back to float32: numbers are exact; NaN and infinities come as strings."""
    special = {"NaN": np.nan, "Infinity": np.inf, "-Infinity": -np.inf}
    return np.array([special[v] if isinstance(v, str) else v for v in values], dtype=np.float64).astype(np.float32)


def ref_block(name, index, elems):
    ref = np.asarray(REF[name].data, dtype=np.float32).ravel()
    return ref[index * elems:(index + 1) * elems]


def same_bits(a, b):
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


def block_place(t, index):
    """The elements block `index` of gguf-py tensor t holds, worked out from its shape (GGUF order):
    rows of ne0 elements, the higher dimensions flattened, i1 fastest."""
    elems, _ = block_geometry(t)
    ne = [int(x) for x in t.shape]
    first = index * elems
    row, col = divmod(first, ne[0])
    place = {"first": first, "last": first + elems - 1, "row": row, "first_col": col, "last_col": col + elems - 1}
    if len(ne) > 2:
        for k, n in enumerate(ne[1:], 1):
            row, place[f"i{k}"] = divmod(row, n)
    return place


CASES = [(t.name, index) for t in READER.tensors for index in sorted({0, n_blocks(t) - 1})]


@pytest.mark.parametrize("name,index", CASES, ids=[f"{n}-{i}" for n, i in CASES])
def test_block_json_against_the_file_and_ggml(name, index):
    t = TENSORS[name]
    elems, size = block_geometry(t)
    d = block_json(ALL, "--tensor", name, "--block", index)
    assert list(d) == BLOCK_KEYS
    assert d["tensor"] == name and d["block"] == index and d["size"] == size
    assert d["type"] == t.tensor_type.name
    assert d["offset"] == int(t.data_offset) + index * size

    # Fields tile the block: in order, every byte once, and their hex is the file's bytes.
    at = 0
    for f in d["fields"]:
        assert list(f) == FIELD_KEYS
        assert f["offset"] == at and f["size"] > 0
        assert bytes.fromhex(f["hex"]) == FILE_BYTES[d["offset"] + at:d["offset"] + at + f["size"]]
        assert isinstance(f["decoded"], dict) and f["decoded"]
        at += f["size"]
    assert at == size

    assert d["elements"] == block_place(t, index)
    if d["type"] in INTEGER_TYPES:  # never converted: the element itself, exactly
        want = np.frombuffer(FILE_BYTES, dtype=f"<i{size}", count=1, offset=d["offset"])[0]
        assert d["values"] == [int(want)]
        return
    got = as_f32(d["values"])
    assert got.size == elems
    assert same_bits(got, ref_block(name, index, elems)), f"{name} block {index} differs from ggml's reference"
    e = d["elements"]  # the place said is where ggml's values are
    assert same_bits(got, ref_rows(name)[e["row"]][e["first_col"]:e["last_col"] + 1])
    if d["type"] not in NOT_IN_GGUF_PY:
        raw = np.frombuffer(FILE_BYTES, dtype=np.uint8, count=size, offset=d["offset"])
        theirs = gguf.quants.dequantize(raw.reshape(1, size), GGMLQuantizationType[d["type"]])
        assert same_bits(got, np.ascontiguousarray(theirs, dtype=np.float32).ravel())


def test_count_gives_an_array_of_consecutive_blocks():
    d = dump_json(ALL, "--tensor", "q6_K.weight", "--block", 3, "--count", 4)
    assert isinstance(d, list) and [b["block"] for b in d] == [3, 4, 5, 6]
    assert [b["offset"] for b in d] == [int(TENSORS["q6_K.weight"].data_offset) + 210 * k for k in range(3, 7)]
    one = dump_json(ALL, "--tensor", "q6_K.weight", "--block", 3, "--count", 1)
    assert one == d[:1] == dump_json(ALL, "--tensor", "q6_K.weight", "--block", 3)  # one shape, whatever the count
    # Past the app's chunk of 64 blocks: still one array, every block once, each as dumped alone.
    whole = dump_json(ALL, "--tensor", "q4_0.weight", "--count", 128)
    assert [b["block"] for b in whole] == list(range(128))
    assert whole[100] == block_json(ALL, "--tensor", "q4_0.weight", "--block", 100)
    text = run(ALL, "--tensor", "q4_0.weight", "--block", 30, "--count", 70, check_rc=0).stdout.decode()
    assert re.findall(r"^q4_0\.weight block (\d+) of 128:", text, re.M) == [str(k) for k in range(30, 100)]


def test_q4_k_scales_and_per_element_codes():
    """Scales6 unpacked per sub-block, checked against the bytes by the layout in words; the
    per-element nibbles against the values through the formula."""
    d = block_json(ALL, "--tensor", "q4_K.weight", "--block", 5)
    f = {x["name"]: x for x in d["fields"]}
    s = bytes.fromhex(f["scales"]["hex"])
    sc = [s[i] & 63 for i in range(4)] + [(s[i + 8] & 15) | (s[i] >> 6) << 4 for i in range(4)]
    mn = [s[i + 4] & 63 for i in range(4)] + [(s[i + 8] >> 4) | (s[i + 4] >> 6) << 4 for i in range(4)]
    assert f["scales"]["decoded"] == {"scales": sc, "mins": mn}
    dd, dmin = (np.frombuffer(bytes.fromhex(f[k]["hex"]), dtype="<f2")[0].astype(np.float32) for k in ("d", "dmin"))
    q = dict(zip(f["qs"]["decoded"]["nibbles_element"], f["qs"]["decoded"]["nibbles"]))
    assert sorted(q) == list(range(256))
    ys = as_f32(d["values"])
    for e in range(256):
        want = np.float32(dd * np.float32(sc[e // 32])) * np.float32(q[e]) - np.float32(dmin * np.float32(mn[e // 32]))
        assert ys[e] == want, e


def test_special_floats_are_exact_in_json(tmp_path):
    path = tmp_path / "special.gguf"
    w = gguf.GGUFWriter(str(path), "test")
    vals = np.array([np.nan, np.inf, -np.inf, -0.0, 1e-45, 3.4028235e38, 0.1, -2.5], dtype=np.float32)
    w.add_tensor("f", vals)
    q8 = np.zeros(34, dtype=np.uint8)
    q8[0:2] = np.frombuffer(np.float16(np.nan).tobytes(), dtype=np.uint8)  # d = NaN poisons the block
    q8[2] = 1
    w.add_tensor("q", q8, raw_shape=(34,), raw_dtype=GGMLQuantizationType.Q8_0)  # bytes per row
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    got = [block_json(path, "--tensor", "f", "--block", k)["values"][0] for k in range(len(vals))]
    assert got[:3] == ["NaN", "Infinity", "-Infinity"]
    assert same_bits(as_f32(got), vals)  # -0.0 keeps its sign, the subnormal and 0.1f are exact
    assert block_json(path, "--tensor", "q")["values"] == ["NaN"] * 32


def test_markdown_section():
    md = run(ALL, "--tensor", "q8_0.weight", "--block", 2, "--markdown", check_rc=0).stdout.decode()
    d = block_json(ALL, "--tensor", "q8_0.weight", "--block", 2)
    assert md.startswith("### q8\\_0.weight block 2 (Q8_0)\n")
    assert "| bytes | field | kind | meaning | hex | decoded |" in md
    for f in d["fields"]:  # the meaning as --describe gives it, and every byte
        hexes = " ".join(f["hex"][k:k + 2] for k in range(0, len(f["hex"]), 2))
        assert f"| `{f['name']}` | {f['kind']} | {f['meaning']} | `{hexes}` |" in md
    assert "`y = d * q`" in md
    fence = re.search(r"```text\n(.*?)```", md, re.S).group(1).splitlines()
    assert fence[0].startswith(f"{d['offset']:08x}")
    hexes = "".join(line[9:59].replace(" ", "") for line in fence)  # offset, then 16 bytes in two groups
    assert hexes == "".join(f["hex"] for f in d["fields"])
    # The values: a second fence, part by part, the y rows holding every value in element order.
    grid = re.findall(r"```text\n(.*?)```", md, re.S)[1].splitlines()
    assert [line.strip().split(":")[0] for line in grid if "part" in line] == \
        ["part 0, elements 0-15", "part 1, elements 16-31"]
    shown_d = float(grid[0].split(": d ")[1])  # the part's shared scale, shortest float text
    assert np.float32(shown_d) == np.float32(d["fields"][0]["decoded"]["fp16"][0])
    ys = [float(v) for line in grid if line.strip().startswith("y ") for v in line.split()[1:]]
    assert same_bits(np.array(ys, dtype=np.float32), as_f32(d["values"]))
    codes = [int(v) for line in grid if line.strip().startswith("qs ") for v in line.split()[1:]]
    assert len(codes) == 32 and all(-128 <= c <= 127 for c in codes)
    assert codes == [int(v) for v in dict(sorted(zip(d["fields"][1]["decoded"]["int8_element"],
                                                     d["fields"][1]["decoded"]["int8"]))).values()]


def test_text_view():
    out = run(ALL, "--tensor", "q5_0.weight", env={"NO_COLOR": "1"}, check_rc=0).stdout.decode()
    d = block_json(ALL, "--tensor", "q5_0.weight")
    assert "\x1b" not in out
    assert out.startswith(f"q5_0.weight block 0 of {n_blocks(TENSORS['q5_0.weight'])}: Q5_0, offset {d['offset']}")
    for f in d["fields"]:
        assert re.search(rf"^\s+{f['offset']}-{f['offset'] + f['size'] - 1}\s+{f['name']}\s", out, re.M), f["name"]
    assert out.splitlines()[1] == "elements 0-31: row 0, columns 0-31"
    assert "values: y = d * (q - 16)" in out
    # The y rows hold every value, in element order.
    ys = [float(v) for line in out.splitlines() if line.strip().startswith("y ") for v in line.split()[1:]]
    assert np.array_equal(np.array(ys, dtype=np.float32), as_f32(d["values"]))


@pytest.mark.parametrize("name", ["q4_K.weight", "iq2_xxs.weight", "q3_K.weight", "i64.weight"])
def test_block_fields_say_what_they_mean_and_give_every_byte(name):
    """A block view is fit for a spec: each field's kind and meaning as --describe gives them, in
    JSON, Markdown and text, and in a pipe all of its bytes and values."""
    d = block_json(ALL, "--tensor", name)
    described = json.loads(run("--describe", d["type"], "--json", check_rc=0).stdout)["fields"]
    assert [(f["name"], f["kind"], f["meaning"]) for f in d["fields"]] == \
        [(f["name"], f["kind"], f["meaning"]) for f in described]
    text = run(ALL, "--tensor", name, env={"NO_COLOR": "1"}, check_rc=0).stdout.decode()
    lines = text.split("\n\n")[0].splitlines()
    head, *table = lines[[line.split()[:2] for line in lines].index(["bytes", "field"]):]  # the heads, the fields
    at = head.index(" hex ") + 1
    for f in d["fields"]:
        first = next(i for i, line in enumerate(table) if re.match(rf"\s+\d+(-\d+)?\s+{f['name']}\s", line))
        rows = [table[first]] + list(itertools.takewhile(lambda line: line[:at].isspace() and line[at] != " ",
                                                        table[first + 1:]))
        shown = "".join(re.match(r"(?:[0-9a-f]{2}(?: |$))+", row[at:]).group(0).replace(" ", "") for row in rows)
        assert shown == f["hex"], f["name"]  # every byte, 16 a line
        assert table[first + len(rows)].strip() == f["meaning"]  # under the field's line(s)
        assert "…" not in table[first]
    md = run(ALL, "--tensor", name, "--markdown", check_rc=0).stdout.decode()
    assert "…" not in md.split("```")[0]


@pytest.mark.parametrize("name,index,line", [
    ("q4_K.weight", 14, "elements 3584-3839: row 3, columns 512-767"),
    ("q4_K.3d", 5, "elements 1280-1535: row 5 (i1=2, i2=1), columns 0-255"),
    ("q8_0.4d", 5, "elements 160-191: row 5 (i1=1, i2=0, i3=1), columns 0-31"),
    ("i32.weight", 1030, "element 1030: row 1, column 6"),
])
def test_a_block_says_which_elements_it_holds(name, index, line):
    d = block_json(ALL, "--tensor", name, "--block", index)
    assert d["elements"] == block_place(TENSORS[name], index)
    text = run(ALL, "--tensor", name, "--block", index, env={"NO_COLOR": "1"}, check_rc=0).stdout.decode()
    assert text.splitlines()[1] == line
    md = run(ALL, "--tensor", name, "--block", index, "--markdown", check_rc=0).stdout.decode()
    assert f" E{line[1:]}.\n" in md


def test_describe():
    d = json.loads(run("--describe", "q4_k", "--json", check_rc=0).stdout)
    block = block_json(ALL, "--tensor", "q4_K.weight")
    assert d["type"] == "Q4_K" and d["block_elements"] == 256 and d["block_bytes"] == 144
    assert d["bits_per_weight"] == 4.5
    assert [(f["name"], f["offset"], f["size"]) for f in d["fields"]] == \
        [(f["name"], f["offset"], f["size"]) for f in block["fields"]]
    every = json.loads(run("--describe", "all", "--json", check_rc=0).stdout)
    assert [f["type"] for f in every if f["class"] == "quantized"] == \
        [t.name for t in GGMLQuantizationType if t.name in {r.tensor_type.name for r in READER.tensors}
         and t.name not in INTEGER_TYPES | {"F32", "F16", "BF16", "F64"}] + ["Q2_0"]
    assert every[[f["type"] for f in every].index("Q4_K")] == d
    md = run("--describe", "Q4_K", "--markdown", check_rc=0).stdout.decode()
    assert md.startswith("## Q4_K\n\n256 elements in 144 bytes")  # headed as each type of --describe all is
    every_md = run("--describe", "all", "--markdown", check_rc=0).stdout.decode()
    assert "\n" + md in every_md
    text = run("--describe", "Q4_K", check_rc=0).stdout.decode()
    assert "| d | dmin | scales[12] | qs[128]" in text
    assert "y = (d * sc) * q - (dmin * m)" in text


def test_describe_in_any_case():
    for canonical, other in (("Q4_K", "q4_k"), ("IQ2_XXS", "iq2_Xxs"), ("all", "ALL"), ("all", "All")):
        for view in ([], ["--json"], ["--markdown"]):
            want = run("--describe", canonical, *view, check_rc=0).stdout
            assert run("--describe", other, *view, check_rc=0).stdout == want, (other, view)


def test_header_offsets_match_gguf_py():
    h = dump_json(ALL)
    assert h["data_offset"] == READER.data_offset
    hdr = {f["name"]: f for f in h["header"]}
    for key, name in (("GGUF.version", "version"), ("GGUF.tensor_count", "tensor count"),
                      ("GGUF.kv_count", "metadata count")):
        field = READER.fields[key]
        assert hdr[name]["offset"] == field.offset
        assert hdr[name]["value"] == int(field.parts[0][0])
    kvs = [f for k, f in READER.fields.items() if not k.startswith("GGUF.")]
    assert [m["name"] for m in h["metadata"]] == [f.name for f in kvs]
    for ours, theirs in zip(h["metadata"], kvs):
        sizes = [p.nbytes for p in theirs.parts]
        assert ours["offset"] == theirs.offset
        assert ours["size"] == sum(sizes)
        fields = ours["fields"]
        # key length, key, value type, then (strings) length, value / (arrays) element type, count, items
        head = len(fields) - 1
        assert [f["size"] for f in fields[:head]] == sizes[:head]
        assert fields[-1]["size"] == sum(sizes[head:])
        offsets = np.cumsum([theirs.offset] + sizes)
        assert [f["offset"] for f in fields] == [int(o) for o in offsets[:len(fields)]]
        assert fields[2]["value"] == int(theirs.types[0])
        if len(theirs.types) == 1 and theirs.types[0] != gguf.GGUFValueType.STRING:
            assert fields[-1]["value"] == pytest.approx(theirs.contents())
    for ours, t in zip(h["tensor_infos"], READER.tensors):
        sizes = [p.nbytes for p in t.field.parts]  # name length, name, n_dims, dims, type, offset
        assert ours["name"] == t.name and ours["offset"] == t.field.offset and ours["size"] == sum(sizes)
        names = [f["name"] for f in ours["fields"]]
        assert names[:3] == ["name length", "name", "n_dims"] and names[-2:] == ["type", "offset"]
        assert sum(f["size"] for f in ours["fields"] if f["name"].startswith("ne[")) == sizes[3]
        assert ours["fields"][-1]["value"] + READER.data_offset == t.data_offset
    end = h["tensor_infos"][-1]["offset"] + h["tensor_infos"][-1]["size"]
    assert h["padding"]["offset"] == end and end + h["padding"]["size"] == READER.data_offset
    assert h["data"] == {"name": "tensor data", "offset": READER.data_offset, "size": ALL.stat().st_size - READER.data_offset}


def test_header_text_and_markdown():
    text = run(ALL, "--header", env={"NO_COLOR": "1"}, check_rc=0).stdout.decode()
    assert text == run(ALL, env={"NO_COLOR": "1"}, check_rc=0).stdout.decode()  # --header is the default
    assert re.search(r"^\s+0\s+4\s+magic\s+47 47 55 46\s+\"GGUF\"$", text, re.M)
    assert re.search(r"^\s+\d+\s+8\s+value\s+.*\s18000000000000000000$", text, re.M)
    assert '"héllo \\"quoted\\"\\ttab"' in text
    assert re.search(r"^\s+\d+\s+8\s+offset\s.*\(data at 192608\)$", text, re.M)
    md = run(ALL, "--markdown", check_rc=0).stdout.decode()
    assert "### Metadata entry 10: fixture.string" in md and "| offset | size | field | hex | value |" in md


def test_unknown_tensor_suggests_close_names():
    p = run(ALL, "--tensor", "q4_K.weigth", check_rc=2)
    err = p.stderr.decode()
    assert err.count("\n") == 1 and err.startswith(f"error: {ALL}: no tensor named 'q4_K.weigth'")
    assert "did you mean 'q4_K.weight'" in err
    assert p.stdout == b""
    err = run(ALL, "--tensor", "blk.0.attn_q.weight", check_rc=2).stderr.decode()
    assert "among the file's 40 tensors" in err and err.count("\n") == 1
    err = run(ALL, "--tensor", "", check_rc=2).stderr.decode()  # not every name, as containing ""
    assert "among the file's 40 tensors" in err and err.count("\n") == 1


def test_block_out_of_range_says_the_valid_range():
    err = run(ALL, "--tensor", "q4_K.weight", "--block", 16, check_rc=2).stderr.decode()
    assert err == f"error: {ALL}: block 16 out of range: tensor 'q4_K.weight' has 16 blocks (0..15)\n"
    err = run(ALL, "--tensor", "q4_K.weight", "--block", 15, "--count", 2, check_rc=2).stderr.decode()
    assert "blocks 15..16 out of range" in err and "(0..15)" in err


def test_crafted_file_is_one_error_line(tmp_path):
    bad = tmp_path / "truncated.gguf"
    bad.write_bytes(FILE_BYTES[:1000])
    for args in ([bad], [bad, "--tensor", "q4_K.weight"], [bad, "--json"]):
        p = run(*args, check_rc=1)
        assert re.fullmatch(rf"error: {re.escape(str(bad))}: .+ \(at offset \d+\)\n", p.stderr.decode())
        assert p.stdout == b""


def test_big_endian_blocks_are_refused_with_nothing_on_stdout(tmp_path):
    path = tmp_path / "be.gguf"
    w = gguf.GGUFWriter(str(path), "test", endianess=gguf.GGUFEndian.BIG)
    w.add_tensor("f", np.arange(8, dtype=np.float32).byteswap())
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    assert dump_json(path)["endian"] == "big"  # the header view reads it
    for args in (["--json"], ["--json", "--count", "2"], ["--count", "2"], ["--markdown"], ["--row", "0"],
                 ["--row", "0", "--json"], ["--row", "0", "--markdown"], ["--element", "3"], ["--at", "0,3", "--json"]):
        p = run(path, "--tensor", "f", *args, check_rc=1)
        assert p.stdout == b"", args
        err = p.stderr.decode()
        assert err.count("\n") == 1 and err.startswith(f"error: {path}: big-endian"), args


@pytest.mark.parametrize("args", [
    [],                                              # no file
    [ALL, "--block", "2"],                           # --block needs --tensor
    [ALL, "--tensor", "q4_K.weight", "--count", "0"],
    [ALL, "--tensor", "q4_K.weight", "--json", "--markdown"],
    [ALL, "--tensor", "q4_K.weight", "--header"],
    [ALL, "--tensor", "q4_K.weight", "--block", "-1"],
    [ALL, "--tensor", "q4_K.weight", "--block", str(2**64)],   # CLI11 alone took it as 2^64-1
    [ALL, "--tensor", "q4_K.weight", "--count", str(2**64 + 5)],
    [ALL, "--tensor", "q4_K.weight", "--block", "0x3"],
    [ALL, "--tensor", "q4_K.weight", "--row", "1", "--block", "2"],   # one view of a tensor at a time
    [ALL, "--tensor", "q4_K.weight", "--row", "1", "--count", "2"],
    [ALL, "--tensor", "q4_K.weight", "--row", "1", "--element", "2"],
    [ALL, "--tensor", "q4_K.weight", "--row", "1", "--at", "1,2"],
    [ALL, "--tensor", "q4_K.weight", "--element", "3", "--at", "1,2"],
    [ALL, "--tensor", "q4_K.weight", "--element", "3", "--block", "0"],
    [ALL, "--tensor", "q4_K.weight", "--at", "0,3", "--count", "2"],
    [ALL, "--tensor", "q4_K.weight", "--cols", "1:2"],                  # --cols needs --row
    [ALL, "--row", "1"],                                                # --row needs --tensor
    [ALL, "--element", "1"],
    [ALL, "--at", "1,1"],
    [ALL, "--tensor", "q4_K.weight", "--row", "-1"],
    [ALL, "--tensor", "q4_K.weight", "--row", "1", "--cols", "1"],
    [ALL, "--tensor", "q4_K.weight", "--row", "1", "--cols", "a:b"],
    [ALL, "--tensor", "q4_K.weight", "--row", "1", "--cols", "1:2:3"],
    [ALL, "--tensor", "q4_K.weight", "--row", "1", "--cols", "+-1:"],
    [ALL, "--tensor", "q4_K.weight", "--row", "1", "--cols", f"{2**63}:"],     # clamped to the row's end: empty
    [ALL, "--tensor", "q4_K.weight", "--element", str(2**64)],
    [ALL, "--tensor", "q4_K.weight", "--at", "1"],
    [ALL, "--tensor", "q4_K.weight", "--at", "1,-2"],
    [ALL, "--tensor", "q4_K.weight", "--at", "1,2,3"],              # a 2-D tensor: ROW,COL only
    [ALL, "--tensor", "q4_K.3d", "--at", "1,2,3,4,5"],                # five numbers: no tensor has them
    [ALL, "--tensor", "q4_K.3d", "--at", "1,,3"],
    [ALL, "--tensor", "q4_K.3d", "--at", "1,2,"],
    [ALL, "--tensor", "q4_K.weight", "--at", f"{2**64},0"],
    ["--describe", "Q4_Z"],
    [ALL, "--describe", "Q4_K"],
    [ALL, "--no-such-flag"],
])
def test_usage_errors_exit_2(args):
    p = run(*args, check_rc=2)
    assert p.stderr.startswith(b"error: ") and p.stdout == b""


@pytest.mark.parametrize("option,value,what", [
    ("--connect-timeout", "0", "0 is not a positive number of seconds"),
    ("--idle-timeout", "-1", "-1 is not a positive number of seconds"),
    ("--request-timeout", "nan", "nan is not a positive number of seconds"),  # was let through
    ("--connect-timeout", "inf", "inf is not a positive number of seconds"),
    ("--connect-timeout", "1e400", "1e400 is not a positive number of seconds"),
    ("--connect-timeout", "abc", "abc is not a positive number of seconds"),
    ("--min-speed", "-1", "-1 is not a number of bytes per second, 0 or more"),
    ("--max-header-total", "0", "0 is not a whole number from 1 to 18446744073709551615"),
])
def test_remote_limits_say_what_they_take(option, value, what):
    p = run(ALL, option, value, check_rc=2)
    assert p.stderr.decode() == f"error: {option}: {what}\nRun with --help for usage.\n" and p.stdout == b""
    env = {"GGUFTK_" + option[2:].upper().replace("-", "_"): value}
    assert run(ALL, env=env, check_rc=2).stderr == p.stderr  # the same check from the environment


def test_remote_limits_take_fractions_and_zero_speed():
    assert run(ALL, "--connect-timeout", "0.5", "--min-speed", "0", "--idle-timeout", "1e3", check_rc=0).stdout


@pytest.mark.parametrize("name,what", [("", "--describe: the type name is empty; the types are: F32 F16 Q4_0 "),
                                       ("Q4_Z", "unknown type 'Q4_Z'; did you mean 'Q4_0', 'Q4_1', 'Q4_K'?;")])
def test_describe_an_unknown_type_lists_the_types(name, what):
    p = run("--describe", name, check_rc=2)
    err = p.stderr.decode()
    assert err.startswith(f"error: {what}") and p.stdout == b""
    assert " Q4_K " in err and "(or all); the file types: " in err and "Q4_K_M" in err


def test_help_has_examples():
    out = " ".join(run("--help", check_rc=0).stdout.decode().split())  # the prose is refilled
    assert "Examples:" in out and "--tensor" in out and "--describe" in out and '"NaN"' in out
    assert "--row 3 --cols 800:816" in out and "--at 3,810" in out and "ne0 (the row length) fastest" in out


def test_colour_only_on_a_terminal_and_never_with_no_color():
    def on_tty(env):
        return stdout_on_tty([HEXDUMP, ALL, "--tensor", "q4_K.weight"], env)

    assert b"\x1b[1m" in on_tty({})
    assert b"\x1b[" not in on_tty({"NO_COLOR": "1"})
    assert b"\x1b[" not in run(ALL, "--tensor", "q4_K.weight", check_rc=0).stdout  # a pipe


def test_untrusted_names_are_escaped(tmp_path):
    path = tmp_path / "evil.gguf"
    w = gguf.GGUFWriter(str(path), "test")
    w.add_string("evil\x1b[31m", "x\x07y")
    w.add_tensor("t\x1b]0;title\x07|x", np.ones(4, dtype=np.float32))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    for args in ([path], [path, "--markdown"], [path, "--tensor", "t\x1b]0;title\x07|x"],
                 [path, "--tensor", "t\x1b]0;title\x07|x", "--markdown"]):
        out = run(*args, check_rc=0).stdout
        assert not re.search(rb"[\x00-\x08\x0b-\x1f\x7f]", out), args
    d = block_json(path, "--tensor", "t\x1b]0;title\x07|x")
    assert d["tensor"] == "t\x1b]0;title\x07|x" and d["values"] == [1.0]


# --- values by element: --row, --cols, --element, --at --------------------------------------

def ne0(t):
    return int(t.shape[0])  # gguf-py's shape is GGUF's ne, ne0 first


def ref_rows(name):
    """ggml's dequantization of tensor `name`, one row (ne0 values) a line of the array."""
    return np.asarray(REF[name].data, dtype=np.float32).reshape(-1, ne0(TENSORS[name]))


def file_rows(name):
    """An integer tensor's elements as the file holds them, one row a line."""
    t = TENSORS[name]
    _, size = block_geometry(t)
    n = int(np.prod([int(x) for x in t.shape]))
    flat = np.frombuffer(FILE_BYTES, dtype=f"<i{size}", count=n, offset=int(t.data_offset))
    return flat.reshape(-1, ne0(t))


def gguf_py_rows(name):
    """gguf-py's dequantization of tensor `name`, when it has a trustworthy one."""
    t = TENSORS[name]
    if t.tensor_type.name in NOT_IN_GGUF_PY | INTEGER_TYPES:
        return None
    return np.ascontiguousarray(gguf.quants.dequantize(t.data, t.tensor_type), dtype=np.float32).reshape(-1, ne0(t))


ROW_CASES = [(t.name, r) for t in READER.tensors
             for r in sorted({0, int(np.prod([int(x) for x in t.shape])) // ne0(t) - 1})]


@pytest.mark.parametrize("name,row", ROW_CASES, ids=[f"{n}-{r}" for n, r in ROW_CASES])
def test_row_json_against_ggml_and_gguf_py(name, row):
    t = TENSORS[name]
    elems, _ = block_geometry(t)
    d = dump_json(ALL, "--tensor", name, "--row", row)
    width = ne0(t)
    higher = [f"i{k}" for k in range(1, len(t.shape))] if len(t.shape) > 2 else []
    assert list(d) == ["tensor", "type", "shape", "shape_row_major", "row", *higher, "rows", "start", "stop",
                       "first_block", "last_block", "values"]
    assert d["shape"] == [int(x) for x in t.shape] and d["type"] == t.tensor_type.name
    numpy_shape = (REF[name] if name in REF else t).data.shape  # NumPy's, as gguf-py gives it
    assert d["shape_row_major"] == d["shape"][::-1] == list(numpy_shape)
    if higher:  # the row's place: NumPy's w[..., i2, i1, :] is this row
        at = tuple(d[k] for k in reversed(higher))
        assert same_bits(np.asarray(REF[name].data[at], dtype=np.float32), ref_rows(name)[row])
    assert d["rows"] == n_blocks(t) * elems // width and (d["row"], d["start"], d["stop"]) == (row, 0, width)
    assert (d["first_block"], d["last_block"]) == (row * width // elems, ((row + 1) * width - 1) // elems)
    if d["type"] in INTEGER_TYPES:  # exact integers, past 2^53 too
        assert d["values"] == [int(v) for v in file_rows(name)[row]]
        return
    got = as_f32(d["values"])
    assert same_bits(got, ref_rows(name)[row]), f"{name} row {row} differs from ggml's reference"
    theirs = gguf_py_rows(name)
    if theirs is not None:
        assert same_bits(got, theirs[row])


@pytest.mark.parametrize("cols", [":8", "-8:", "100:108", "1000:", "-24:-16", ":", "5:6", "+3:+5",
                                  "1020:2000", "0:1025", "-1025:", "-5000:3", f"{-2**63}:", "0:99999999999999999999999",
                                  "-99999999999999999999999:-1000"])
def test_cols_are_a_python_slice(cols):
    """Python's slice, clamping an end past the row (of any size) to it."""
    name = "q6_K.weight"
    a, b = (int(x) if x else None for x in cols.split(":"))
    want = ref_rows(name)[2][slice(a, b)]
    d = dump_json(ALL, "--tensor", name, "--row", 2, "--cols", cols)
    start, stop, _ = slice(a, b).indices(1024)
    assert (d["start"], d["stop"]) == (start, stop)
    assert (d["first_block"], d["last_block"]) == ((2048 + start) // 256, (2048 + stop - 1) // 256)
    assert same_bits(as_f32(d["values"]), want)


def text_grid(out):
    """{column: value text} from a text row view, checking each line's leading column."""
    cells = {}
    for line in out.splitlines()[2:]:
        first, *values = line.split()
        for k, v in enumerate(values):
            cells[int(first) + k] = v
    return cells


@pytest.mark.parametrize("name,cols", [("q4_K.weight", "790:830"), ("f16.weight", ":"), ("i64.weight", "3:40"),
                                       ("f64.weight", "-13:"), ("q4_K.3d", "250:")])
def test_row_text_view(name, cols):
    out = run(ALL, "--tensor", name, "--row", 1, "--cols", cols, env={"NO_COLOR": "1"}, check_rc=0).stdout.decode()
    d = dump_json(ALL, "--tensor", name, "--row", 1, "--cols", cols)
    lines = out.splitlines()
    t = TENSORS[name]
    shape = " x ".join(str(int(x)) for x in t.shape)
    higher = " (i1=1, i2=0)" if len(t.shape) == 3 else ""
    assert lines[0] == f"{name} row 1 of {d['rows']}{higher}: {d['type']}, shape {shape} (GGUF order, ne0 first)"
    blocks = f"block {d['first_block']}" if d["first_block"] == d["last_block"] else \
        f"blocks {d['first_block']}-{d['last_block']}"
    assert lines[1] == f"columns {d['start']}-{d['stop'] - 1} of {ne0(t)}, {blocks}"
    assert all(len(line) <= 80 for line in lines), max(lines, key=len)
    cells = text_grid(out)
    assert sorted(cells) == list(range(d["start"], d["stop"]))
    shown = [cells[c] for c in sorted(cells)]
    if d["type"] in INTEGER_TYPES:
        assert [int(v) for v in shown] == d["values"]
    else:
        assert same_bits(np.array([float(v) for v in shown], dtype=np.float32), as_f32(d["values"]))


def test_row_markdown():
    md = run(ALL, "--tensor", "q8_0.weight", "--row", 3, "--cols", "16:48", "--markdown", check_rc=0).stdout.decode()
    d = dump_json(ALL, "--tensor", "q8_0.weight", "--row", 3, "--cols", "16:48")
    assert md.startswith("### q8\\_0.weight row 3 (Q8_0)\n\nRow 3 of 4 of a 1024 x 4 tensor (GGUF order, ne0 first): columns "
                         "16-47 of 1024, blocks 96-97.\n\n```text\n") and md.endswith("```\n")
    grid = re.search(r"```text\n(.*?)```", md, re.S).group(1)
    cells = text_grid("\n\n" + grid)
    assert same_bits(np.array([float(cells[c]) for c in range(16, 48)], dtype=np.float32), as_f32(d["values"]))


def write_one(path, name, data, raw_shape=None, raw_dtype=None):
    w = gguf.GGUFWriter(str(path), "test")
    w.add_tensor(name, data, raw_shape=raw_shape, raw_dtype=raw_dtype)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def test_a_long_row_is_read_in_pieces_and_shown_whole(tmp_path):
    """A row longer than the piece the views read at a time (53760 columns): every value once, in
    order, in every view, the text lines continuing across the pieces' edge."""
    rng = np.random.default_rng(7)
    w = rng.standard_normal((2, 60032)).astype(np.float32)
    q = gguf.quants.quantize(w, GGMLQuantizationType.Q8_0)
    path = tmp_path / "long.gguf"
    write_one(path, "w", q, raw_dtype=GGMLQuantizationType.Q8_0)
    want = np.asarray(gguf.quants.dequantize(q, GGMLQuantizationType.Q8_0), dtype=np.float32)[1]
    d = dump_json(path, "--tensor", "w", "--row", 1)
    assert same_bits(as_f32(d["values"]), want)
    out = run(path, "--tensor", "w", "--row", 1, "--cols", "3:", env={"NO_COLOR": "1"}, check_rc=0).stdout.decode()
    cells = text_grid(out)
    assert sorted(cells) == list(range(3, 60032))
    assert same_bits(np.array([float(cells[c]) for c in range(3, 60032)], dtype=np.float32), want[3:])
    assert all(len(line) <= 80 for line in out.splitlines())


ELEMENT_CASES = [("q4_K.weight", 3, 800), ("q6_K.weight", 0, 0), ("q6_K.weight", 3, 1023), ("iq2_xxs.weight", 2, 517),
                 ("tq1_0.weight", 1, 77), ("mxfp4.weight", 3, 31), ("f16.weight", 2, 9), ("i32.weight", 1, 1000),
                 ("q4_K.3d", 5, 220), ("q8_0.4d", 6, 31)]


@pytest.mark.parametrize("name,row,col", ELEMENT_CASES, ids=[f"{n}-{r}-{c}" for n, r, c in ELEMENT_CASES])
def test_element_and_at_name_the_block_holding_it(name, row, col):
    t = TENSORS[name]
    elems, _ = block_geometry(t)
    index = row * ne0(t) + col
    d = block_json(ALL, "--tensor", name, "--element", index)
    assert block_json(ALL, "--tensor", name, "--at", f"{row},{col}") == d
    block = index // elems
    ne = [int(x) for x in t.shape]
    higher = {}
    if len(ne) > 2:  # i1 fastest, then i2, i3
        rest = row
        for k, n in enumerate(ne[1:], 1):
            rest, higher[f"i{k}"] = divmod(rest, n)
        numpy_index = [higher[f"i{k}"] for k in range(len(ne) - 1, 0, -1)] + [col]  # I2,I1,COL: NumPy's order
        assert block_json(ALL, "--tensor", name, "--at", ",".join(map(str, numpy_index))) == d
        want = np.float32(np.asarray(REF[name].data, dtype=np.float32)[tuple(numpy_index)])
        assert same_bits(as_f32([d["element"]["value"]]), np.array([want], dtype=np.float32))
    # The keys gguf-dequant --check and gguf-compare give an element, i1.. beyond two dimensions.
    want = {"index": index, "row": row, **higher, "col": col, "block": block, "in_block": index % elems}
    element = d.pop("element")
    assert list(element) == [*want, "value"] and element == {**want, "value": d["values"][index % elems]}
    assert d == block_json(ALL, "--tensor", name, "--block", block)  # the block, exactly as --block shows it
    if d["type"] in INTEGER_TYPES:
        assert d["values"] == [int(file_rows(name)[row][col])]
    else:
        assert same_bits(as_f32(d["values"][index % elems:][:1]), ref_rows(name)[row][col:col + 1])


def test_element_text_names_it_and_marks_its_value():
    out = run(ALL, "--tensor", "q4_K.weight", "--at", "3,800", env={"NO_COLOR": "1"}, check_rc=0).stdout.decode()
    block = run(ALL, "--tensor", "q4_K.weight", "--block", 15, env={"NO_COLOR": "1"}, check_rc=0).stdout.decode()
    head, rest = out.split("\n", 1)
    assert head == "element 3872 is row 3, column 800: element 32 of block 15"
    lines = rest.splitlines()
    carets = [i for i, line in enumerate(lines) if line.strip() and set(line.strip()) == {"^"}]
    assert len(carets) == 1
    marker = lines.pop(carets[0])
    assert "\n".join(lines) + "\n" == block  # the block view, unchanged but for the marker line
    ys, index_line = lines[carets[0] - 1], lines[carets[0] - 3]  # y, qs, # rows above the carets
    assert ys.split()[0] == "y" and index_line.split()[0] == "#"
    at = marker.index("^")
    assert ys[at:len(marker)].strip() == ys.split()[1] and index_line[at:len(marker)].strip() == "32"
    want = ref_rows("q4_K.weight")[3][800]
    assert np.float32(float(ys.split()[1])) == want
    md = run(ALL, "--tensor", "q4_K.weight", "--element", 3872, "--markdown", check_rc=0).stdout.decode()
    assert "\n\nElement 3872 is row 3, column 800: element 32 of block 15.\n\nBlock 15 of 16:" in md
    three_d = run(ALL, "--tensor", "q4_K.3d", "--element", 1500, check_rc=0).stdout.decode()
    assert three_d.startswith("element 1500 is row 5 (i1=2, i2=1), column 220: element 220 of block 5\n")


def test_special_floats_by_row_and_element(tmp_path):
    path = tmp_path / "special.gguf"
    vals = np.array([[1.0, np.nan, np.inf, -np.inf], [-0.0, 1e-45, 0.1, -2.5]], dtype=np.float32)
    write_one(path, "f", vals)
    d = dump_json(path, "--tensor", "f", "--row", 0)
    assert d["values"] == [1.0, "NaN", "Infinity", "-Infinity"]
    assert same_bits(as_f32(dump_json(path, "--tensor", "f", "--row", 1)["values"]), vals[1])
    assert block_json(path, "--tensor", "f", "--at", "0,1")["element"]["value"] == "NaN"


def one_error(p):
    err = p.stderr.decode()
    assert p.stdout == b"" and err.count("\n") == 1, err
    return err


@pytest.mark.parametrize("args,what", [
    (["--row", 4], "row 4 out of range: tensor 'q4_K.weight' of shape 1024 x 4 has 4 rows (0..3)"),
    (["--row", 2**64 - 1], f"row {2**64 - 1} out of range"),
    (["--element", 4096],
     "element 4096 out of range: tensor 'q4_K.weight' of shape 1024 x 4 has 4096 elements (0..4095)"),
    (["--element", 2**64 - 1], f"element {2**64 - 1} out of range"),
    (["--at", "4,0"], "row 4 out of range: tensor 'q4_K.weight' of shape 1024 x 4 has 4 rows (0..3)"),
    (["--at", "0,1024"], "column 1024 out of range: tensor 'q4_K.weight' of shape 1024 x 4 has 1024 columns (0..1023)"),
    (["--at", f"{2**64 - 1},{2**64 - 1}"], "row 18446744073709551615 out of range"),
    (["--row", 0, "--cols", "1024:"],
     "columns 1024: select no column: tensor 'q4_K.weight' of shape 1024 x 4 has 1024 columns (0..1023)"),
    (["--row", 0, "--cols", f"{2**63 - 1}:"], f"columns {2**63 - 1}: select no column"),
    (["--row", 0, "--cols", "99999999999999999999999:"], "columns 99999999999999999999999: select no column"),
    (["--row", 0, "--cols", ":-1025"], "columns :-1025 select no column"),
    (["--row", 0, "--cols", "5:5"], "columns 5:5 select no column: tensor 'q4_K.weight' of shape 1024 x 4"),
    (["--row", 0, "--cols", "10:-1020"], "columns 10:-1020 select no column"),
])
def test_out_of_range_names_the_tensor_and_its_shape(args, what):
    for view in ([], ["--json"], ["--markdown"]):
        err = one_error(run(ALL, "--tensor", "q4_K.weight", *args, *view, check_rc=2))
        assert err.startswith(f"error: {ALL}: {what}"), err


@pytest.mark.parametrize("name,at,what", [
    ("q4_K.3d", "1,2,5,3", "--at takes 2 or 3 numbers for tensor 'q4_K.3d' of shape 256 x 3 x 2 (GGUF order): ROW,COL "
                           "(the rows flattened: row = i1 + ne1*(i2 + ne2*i3)) or its 3 indices I2,I1,COL in NumPy's order "
                           "(the shape reversed); got 4"),
    ("q8_0.4d", "1,1,5", "or its 4 indices I3,I2,I1,COL in NumPy's order (the shape reversed); got 3"),
    ("q4_K.weight", "1,2,5", "--at takes 2 numbers for tensor 'q4_K.weight' of shape 1024 x 4 (GGUF order): ROW,COL; got 3"),
    ("q4_K.weight", "1", "--at takes 2 numbers"),
    ("q4_K.3d", "2,0,5", "i2 2 out of range: tensor 'q4_K.3d' of shape 256 x 3 x 2 (GGUF order) has ne2 = 2"),
    ("q4_K.3d", "1,3,5", "i1 3 out of range: tensor 'q4_K.3d' of shape 256 x 3 x 2 (GGUF order) has ne1 = 3"),
    ("q4_K.3d", "1,2,256", "column 256 out of range: tensor 'q4_K.3d' of shape 256 x 3 x 2 has 256 columns (0..255)"),
    ("q8_0.4d", f"{2**64 - 1},0,0,0", f"i3 {2**64 - 1} out of range"),
])
def test_at_takes_row_col_or_a_numpy_index_and_says_so(name, at, what):
    err = one_error(run(ALL, "--tensor", name, "--at", at, check_rc=2))
    assert err.startswith(f"error: {ALL}: ") and what in err, err


def test_at_of_a_one_dimensional_tensor(tmp_path):
    path = tmp_path / "flat.gguf"
    write_one(path, "v", np.arange(64, dtype=np.float32))
    d = block_json(path, "--tensor", "v", "--at", "37")
    assert d["element"] == {"index": 37, "row": 0, "col": 37, "block": 37, "in_block": 0, "value": 37.0}
    assert block_json(path, "--tensor", "v", "--at", "0,37") == d
    err = one_error(run(path, "--tensor", "v", "--at", "0,0,37", check_rc=2))
    assert "ROW,COL (row 0, its only one) or COL; got 3" in err


def test_a_tensor_of_more_dimensions_names_its_shape():
    err = one_error(run(ALL, "--tensor", "q8_0.4d", "--row", 8, check_rc=2))
    assert err == f"error: {ALL}: row 8 out of range: tensor 'q8_0.4d' of shape 32 x 2 x 2 x 2 has 8 rows (0..7)\n"
    d = dump_json(ALL, "--tensor", "q8_0.4d", "--row", 7)
    assert d["rows"] == 8 and same_bits(as_f32(d["values"]), ref_rows("q8_0.4d")[7])


# --- the formula shown reads the values shown -----------------------------------------------

F32 = np.float32
E2M1 = [0, 0.5, 1, 1.5, 2, 3, 4, 6, -0.0, -0.5, -1, -1.5, -2, -3, -4, -6]  # OCP MX's FP4 code book


def grid(name):
    """An i-quant's lattice as gguf-py spells it: one row of lanes per index."""
    cls = getattr(gguf.quants, name)
    cls.init_grid()
    return cls.grid.reshape(cls.grid_shape)


def per_element(block, elems):
    """{field: {series: one value per element}} from a block's JSON, as the views pair them: a
    per-element series by its NAME_element, a grouped one repeated over the elements it covers."""
    out = {}
    for f in block["fields"]:
        dec = f["decoded"]
        series = {}
        for name, values in dec.items():
            if name.endswith("_element"):
                continue
            if name + "_element" in dec:
                a = np.zeros(elems, dtype=np.float64)
                a[np.array(dec[name + "_element"])] = values
            else:
                a = np.repeat(np.array(values, dtype=np.float64), elems // len(values))
            series[name] = a
        out[f["name"]] = series
    return out


def signs(index, e):
    """+1 or -1 per element: bit e % 8 of ksigns_iq2xs[index]."""
    ks = np.frombuffer(gguf.quants.IQ2_XXS.ksigns, dtype=np.uint8)
    return np.where((ks[index.astype(int)] >> (e % 8)) & 1, F32(-1), F32(1))


def lattice(name, q, e, lanes):
    return grid(name)[q.astype(int), e % lanes].astype(F32)


def iq_scaled(v, q, s, factor, name, lanes, sign):
    e = np.arange(q.size)
    db = F32(v["d"]["fp16"]) * (F32(0.5) + s.astype(F32)) * F32(factor)
    return db * lattice(name, q, e, lanes) * sign


def iq1(v, d, q, s, delta_sign):
    e = np.arange(q.size)
    dl = F32(d) * (2 * s + 1).astype(F32)
    return dl * (lattice("IQ1_S", q, e, 8) + np.where(delta_sign == 1, F32(-0.125), F32(0.125)))


def d16(v):
    return F32(v["d"]["fp16"])


# Each quantized type's formula as gguf-hexdump shows it, and that formula computed (in ggml's
# float32 steps) from the decoded values the block view shows, never from the bytes: so a scale
# shown with its offset already taken off, or a code the formula does not name, fails here.
FORMULAS = {
    "Q4_0": ("y = d * (q - 8)", lambda v: d16(v) * (v["qs"]["nibbles"] - 8).astype(F32)),
    "Q4_1": ("y = d * q + m", lambda v: d16(v) * v["qs"]["nibbles"].astype(F32) + F32(v["m"]["fp16"])),
    "Q5_0": ("y = d * (q - 16), q = qs | qh << 4",
             lambda v: d16(v) * (v["qs"]["nibbles"] + 16 * v["qh"]["bits"] - 16).astype(F32)),
    "Q5_1": ("y = d * q + m, q = qs | qh << 4",
             lambda v: d16(v) * (v["qs"]["nibbles"] + 16 * v["qh"]["bits"]).astype(F32) + F32(v["m"]["fp16"])),
    "Q8_0": ("y = d * q", lambda v: d16(v) * v["qs"]["int8"].astype(F32)),
    "Q8_1": ("y = d * q", lambda v: d16(v) * v["qs"]["int8"].astype(F32)),
    "Q2_K": ("y = (d * sc) * q - (dmin * m)",
             lambda v: (d16(v) * v["scales"]["scales"].astype(F32)) * v["qs"]["crumbs"].astype(F32)
             - F32(v["dmin"]["fp16"]) * v["scales"]["mins"].astype(F32)),
    "Q3_K": ("y = (d * (sc - 32)) * (q - 4), q = qs | hmask << 2",
             lambda v: (d16(v) * (v["scales"]["scales"] - 32).astype(F32))
             * (v["qs"]["crumbs"] + 4 * v["hmask"]["bits"] - 4).astype(F32)),
    "Q4_K": ("y = (d * sc) * q - (dmin * m)",
             lambda v: (d16(v) * v["scales"]["scales"].astype(F32)) * v["qs"]["nibbles"].astype(F32)
             - F32(v["dmin"]["fp16"]) * v["scales"]["mins"].astype(F32)),
    "Q5_K": ("y = (d * sc) * q - (dmin * m), q = qs | qh << 4",
             lambda v: (d16(v) * v["scales"]["scales"].astype(F32))
             * (v["qs"]["nibbles"] + 16 * v["qh"]["bits"]).astype(F32)
             - F32(v["dmin"]["fp16"]) * v["scales"]["mins"].astype(F32)),
    "Q6_K": ("y = (d * sc) * (q - 32), q = ql | qh << 4",
             lambda v: (d16(v) * v["scales"]["int8"].astype(F32))
             * (v["ql"]["nibbles"] + 16 * v["qh"]["crumbs"] - 32).astype(F32)),
    "Q8_K": ("y = d * q", lambda v: F32(v["d"]["fp32"]) * v["qs"]["int8"].astype(F32)),
    "IQ2_XXS": ("y = d * (0.5 + s) * 0.25 * grid[q] * sign",
                lambda v: iq_scaled(v, v["qs"]["grid"], v["qs"]["scale"], 0.25, "IQ2_XXS", 8,
                                    signs(v["qs"]["sign_index"], np.arange(256)))),
    "IQ2_XS": ("y = d * (0.5 + s) * 0.25 * grid[q] * sign",
               lambda v: iq_scaled(v, v["qs"]["grid"], v["scales"]["scales"], 0.25, "IQ2_XS", 8,
                                   signs(v["qs"]["sign_index"], np.arange(256)))),
    "IQ2_S": ("y = d * (0.5 + s) * 0.25 * grid[q] * sign, q = qs | qh << 8",
              lambda v: iq_scaled(v, v["qs"]["grid_low8"] + 256 * v["qh"]["grid_high2"], v["scales"]["scales"],
                                  0.25, "IQ2_S", 8, np.where(v["signs"]["signs"] == 1, F32(-1), F32(1)))),
    "IQ3_XXS": ("y = d * (0.5 + s) * 0.5 * grid[q] * sign",
                lambda v: iq_scaled(v, v["qs"]["grid"], v["scales_and_signs"]["scale"], 0.5, "IQ3_XXS", 4,
                                    signs(v["scales_and_signs"]["sign_index"], np.arange(256)))),
    "IQ3_S": ("y = d * (1 + 2 * s) * grid[q] * sign, q = qs | qh << 8",
              lambda v: d16(v) * (1 + 2 * v["scales"]["scales"]).astype(F32)
              * lattice("IQ3_S", v["qs"]["grid_low8"] + 256 * v["qh"]["grid_bit8"], np.arange(256), 4)
              * np.where(v["signs"]["signs"] == 1, F32(-1), F32(1))),
    "IQ1_S": ("y = d * (2 * s + 1) * (grid[q] +/- 0.125), q = qs | grid_high3 << 8",
              lambda v: iq1(v, v["d"]["fp16"], v["qs"]["grid_low8"] + 256 * v["qh"]["grid_high3"], v["qh"]["scale"],
                            v["qh"]["delta_sign"])),
    "IQ1_M": ("y = d * (2 * s + 1) * (grid[q] +/- 0.125), q = qs | grid_high3 << 8",
              lambda v: iq1(v, v["scales"]["d"], v["qs"]["grid_low8"] + 256 * v["qh"]["grid_high3"],
                            v["scales"]["scales"], v["qh"]["delta_sign"])),
    "IQ4_NL": ("y = d * kvalues_iq4nl[q]",
               lambda v: d16(v) * np.array(gguf.quants.IQ4_NL.kvalues, dtype=F32)[v["qs"]["nibbles"].astype(int)]),
    "IQ4_XS": ("y = d * (ls - 32) * kvalues_iq4nl[q], ls = scales_l | scales_h << 4",
               lambda v: d16(v) * (v["scales_l"]["scales"] + 16 * v["scales_h"]["scales_high2"] - 32).astype(F32)
               * np.array(gguf.quants.IQ4_NL.kvalues, dtype=F32)[v["qs"]["nibbles"].astype(int)]),
    "TQ1_0": ("y = d * t, t in {-1, 0, 1}",
              lambda v: d16(v) * np.concatenate([v["qs"]["trits"][:240], v["qh"]["trits"][240:]]).astype(F32)),
    "TQ2_0": ("y = d * (q - 1)", lambda v: d16(v) * (v["qs"]["crumbs"] - 1).astype(F32)),
    "MXFP4": ("y = e2m1(q) * 2^(e - 127)",
              lambda v: (np.array(E2M1)[v["qs"]["nibbles"].astype(int)] * 2.0 ** (v["e"]["exponent"] - 127)).astype(F32)),
    "NVFP4": ("y = e2m1(q) * ue4m3(d[s])",
              lambda v: (np.array(E2M1)[v["qs"]["nibbles"].astype(int)] * v["d"]["scale"]).astype(F32)),
    "Q1_0": ("y = bit ? d : -d", lambda v: np.where(v["qs"]["bits"] == 1, d16(v), -d16(v))),
    "Q2_0": ("y = d * (q - 1)", lambda v: d16(v) * (v["qs"]["crumbs"] - 1).astype(F32)),
}


@pytest.mark.parametrize("type_name", sorted(FORMULAS))
def test_the_formula_shown_reads_the_values_shown(type_name):
    described = json.loads(run("--describe", type_name, "--json", check_rc=0).stdout)
    formula, compute = FORMULAS[type_name]
    assert described["formula"] == formula
    name = next(t.name for t in READER.tensors if t.tensor_type.name == type_name)
    elems, _ = block_geometry(TENSORS[name])
    for index in sorted({0, 1, n_blocks(TENSORS[name]) - 1}):
        d = block_json(ALL, "--tensor", name, "--block", index)
        with np.errstate(all="ignore"):
            y = np.asarray(compute(per_element(d, elems)), dtype=F32)
        assert same_bits(y, as_f32(d["values"])), (type_name, index)
    text = run(ALL, "--tensor", name, env={"NO_COLOR": "1"}, check_rc=0).stdout.decode()
    assert f"values: {formula}" in text


def test_every_quantized_type_has_its_formula_checked():
    every = json.loads(run("--describe", "all", "--json", check_rc=0).stdout)
    assert sorted(f["type"] for f in every if f["class"] == "quantized") == sorted(FORMULAS)
