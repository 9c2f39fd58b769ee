"""gguf-inspect end to end.

Expectations come from outside our code: gguf-py's GGUFReader for the ggml-written fixture
(taught type 42, Q2_0, which its enum lacks), gguf-py's GGUFWriter for the other valid files
(little- and big-endian, split shards). The refusals of malformed files are tested, in every view
of every tool, by test_crafted.py over the catalogue of tests/crafted/make_crafted.py.
"""
import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

gguf = pytest.importorskip("gguf")
from gguf.constants import GGML_QUANT_SIZES, GGUFValueType  # noqa: E402
from cli_common import GGML_SIZES, TYPES, gguf_py_read, stdout_on_tty  # noqa: E402

BIN = Path(os.environ["GGUFTK_BIN"])
INSPECT = BIN / "gguf-inspect"
FIXTURES = Path(os.environ["GGUFTK_FIXTURES"])
ALL = FIXTURES / "all-types.gguf"

def run(*args, env=None, check_rc=None):
    e = dict(os.environ)
    e.update(env or {})
    p = subprocess.run([str(INSPECT), *map(str, args)], capture_output=True, env=e, timeout=60)
    if check_rc is not None:
        assert p.returncode == check_rc, p.stderr.decode(errors="replace")
    return p


def inspect_json(*args):
    p = run(*args, "--json", check_rc=0)
    return json.loads(p.stdout)


def py_value(field):
    """gguf-py's value of a field, as JSON would hold it."""
    v = field.contents()
    if isinstance(v, bytes):
        return v.decode("utf-8", errors="replace")
    return v


# --- the fixture ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def fixture_json():
    return inspect_json(ALL)


@pytest.fixture(scope="module")
def reader():
    return gguf_py_read(ALL)


def test_json_keys_are_exactly_the_documented_ones(fixture_json):
    assert list(fixture_json) == ["file", "version", "endian", "alignment", "data_offset", "file_size",
                                  "metadata", "tensors", "summary"]
    for t in fixture_json["tensors"]:
        assert list(t) == ["name", "type", "shape", "shape_row_major", "elements", "offset", "size"]
        assert t["shape_row_major"] == list(reversed(t["shape"]))


def test_json_header_matches_gguf_py(fixture_json, reader):
    assert fixture_json["file"] == str(ALL)
    assert fixture_json["version"] == int(reader.fields["GGUF.version"].parts[-1][0])
    assert fixture_json["endian"] == "little"
    assert fixture_json["alignment"] == reader.alignment
    assert fixture_json["data_offset"] == reader.data_offset
    assert fixture_json["file_size"] == ALL.stat().st_size


def test_json_metadata_matches_gguf_py(fixture_json, reader):
    fields = {k: f for k, f in reader.fields.items() if not k.startswith("GGUF.")}
    md = fixture_json["metadata"]
    assert list(md) == list(fields)
    for key, field in fields.items():
        entry = md[key]
        assert entry["type"] == field.types[0].name, key
        if field.types[0] == GGUFValueType.ARRAY:
            # gguf-py records no element type for an empty array; its header says UINT8 here.
            if len(field.data):
                assert entry["element_type"] == field.types[1].name, key
            assert "element_type" in entry
            assert list(entry) == ["type", "element_type", "value"]
        else:
            assert list(entry) == ["type", "value"]
        assert entry["value"] == py_value(field), key
    # The extremes, spelled out: JSON integers must be exact at 64 bits.
    assert md["fixture.u64"]["value"] == 18000000000000000000
    assert md["fixture.i64"]["value"] == -9000000000000000000
    assert md["fixture.f64"]["value"] == 2.718281828459045
    assert md["fixture.string"]["value"] == 'h\u00e9llo "quoted"\ttab'
    assert md["fixture.arr_str"]["value"] == ["<s>", "</s>", "", "\u2581the"]


def test_json_tensors_match_gguf_py(fixture_json, reader):
    ours = fixture_json["tensors"]
    assert [t["name"] for t in ours] == [t.name for t in reader.tensors]
    for t, r in zip(ours, reader.tensors):
        type_id = int(r.tensor_type)
        assert t["type"] == r.tensor_type.name, t["name"]
        assert t["shape"] == [int(d) for d in r.shape], t["name"]
        assert t["elements"] == int(r.n_elements), t["name"]
        assert t["offset"] == int(r.data_offset), t["name"]
        block, size = GGML_SIZES.get(type_id, GGML_QUANT_SIZES.get(r.tensor_type, (None, None)))
        assert t["size"] == int(r.n_elements) // block * size, t["name"]


def test_tensor_sizes_fit_ggml_layout(fixture_json):
    # ggml writes tensors back to back, each padded to the alignment: every size (including
    # those gguf-py cannot give) must end within one alignment unit before the next tensor.
    ts = sorted(fixture_json["tensors"], key=lambda t: t["offset"])
    ends = [t["offset"] for t in ts[1:]] + [fixture_json["file_size"]]
    for t, nxt in zip(ts, ends):
        end = t["offset"] + t["size"]
        assert end <= nxt and nxt - end < fixture_json["alignment"], t["name"]


def test_summary_adds_up(fixture_json):
    s = fixture_json["summary"]
    ts = fixture_json["tensors"]
    assert s["tensors"] == len(ts) == 40
    assert s["parameters"] == sum(t["elements"] for t in ts)
    assert s["bytes"] == sum(t["size"] for t in ts)
    assert s["bits_per_weight"] == pytest.approx(8 * s["bytes"] / s["parameters"])
    assert sum(b["tensors"] for b in s["by_type"]) == 40
    assert sum(b["bytes"] for b in s["by_type"]) == s["bytes"]
    q4k = next(b for b in s["by_type"] if b["type"] == "Q4_K")
    assert q4k["tensors"] == 2 and q4k["elements"] == 1024 * 4 + 256 * 3 * 2


def test_text_output(reader):
    out = run(ALL, check_rc=0).stdout.decode()
    first = out.splitlines()[0]
    for part in ("GGUF v3", "little-endian", "alignment 32", "18 metadata entries", "40 tensors",
                 f"{ALL.stat().st_size} bytes"):
        assert part in first
    for t in reader.tensors:
        line = next(l for l in out.splitlines() if f" {t.name} " in l)
        assert f" {t.tensor_type.name} " in line
        assert line.rstrip().endswith(str(int(t.data_offset)))
    assert "18000000000000000000" in out
    assert "parameters" in out and "--to f16 --all" in out and "--to f32" in out
    assert "\x1b" not in out  # not a terminal: no colour


def test_text_shortens_long_values(tmp_path):
    path = tmp_path / "long.gguf"
    write_gguf(path, kvs=[("long.string", "x" * 500, GGUFValueType.STRING),
                          ("long.array", list(range(1000)), GGUFValueType.ARRAY)])
    out = run(path, check_rc=0).stdout.decode()
    line = next(l for l in out.splitlines() if "long.string" in l)
    assert "x" * 61 not in line and "(500 bytes)" in line
    line = next(l for l in out.splitlines() if "long.array" in l)
    assert "994 more" in line and " 1000 " in line
    # JSON keeps everything.
    md = inspect_json(path)["metadata"]
    assert md["long.string"]["value"] == "x" * 500
    assert md["long.array"]["value"] == list(range(1000))


def test_filters():
    names = lambda d: [t["name"] for t in d["tensors"]]  # noqa: E731
    assert names(inspect_json(ALL, "--tensors", "q4_K*")) == ["q4_K.weight", "q4_K.3d"]
    assert names(inspect_json(ALL, "--tensors", "f32.*,q5_0.large")) == ["f32.weight", "f32.1d", "q5_0.large"]
    assert names(inspect_json(ALL, "--type", "q6_k")) == ["q6_K.weight", "q6_K.zero_row"]
    assert names(inspect_json(ALL, "--type", "Q8_0", "--tensors", "*.4d")) == ["q8_0.4d"]
    d = inspect_json(ALL, "--type", "Q8_0")
    assert d["summary"]["tensors"] == 2 and d["summary"]["parameters"] == 4096 + 256
    assert inspect_json(ALL, "--no-tensors")["tensors"] == []
    assert inspect_json(ALL, "--no-metadata")["metadata"] == {}
    text = run(ALL, "--no-tensors", "--no-metadata", check_rc=0).stdout.decode()
    assert "f32.weight" not in text and "fixture.u64" not in text and "Totals" in text
    # Every glob must match a tensor; the selection may still be empty once --type applies.
    text = run(ALL, "--tensors", "q4_K*", "--type", "q8_0", check_rc=0).stdout.decode()
    assert "Tensors (0 of 40)" in text


def test_type_names_in_any_case():
    # --type and --kv-type: any case, the same output as the canonical spelling.
    for args, spellings in ((["--type"], ["Q6_K", "q6_k", "q6_K"]),
                            (["--no-tensors", "--ctx", "16", "--kv-type"], ["q8_0", "Q8_0", "BF16", "bf16"])):
        for canonical, other in zip(spellings[::2], spellings[1::2]):
            for view in ([], ["--json"], ["--markdown"]):
                want = run(ALL, *view, *args, canonical, check_rc=0).stdout
                assert run(ALL, *view, *args, other, check_rc=0).stdout == want, (args, other, view)


def section(md, title):
    """The table rows (header and separator excluded) of a Markdown section."""
    part = md.split(f"\n## {title}\n", 1)[1].split("\n## ", 1)[0]
    rows = [l for l in part.splitlines() if l.startswith("|")]
    return [[c.strip() for c in r.strip("|").split(" | ")] for r in rows[2:]]


def test_markdown(reader):
    out = run(ALL, "--markdown", check_rc=0).stdout.decode()
    assert out.splitlines()[0] == f"# {ALL}"
    tensors = section(out, "Tensors")
    assert len(tensors) == 40
    for row, t in zip(tensors, reader.tensors):
        assert row[1] == t.name.replace("_", "\\_")
        assert row[2] == t.tensor_type.name
        assert row[-1] == str(int(t.data_offset))
    meta = {r[0]: r for r in section(out, "Metadata")}
    assert meta["fixture.u64"][1:] == ["UINT64", "", "18000000000000000000"]
    assert meta["fixture.arr\\_str"][1:] == ["\\[STRING\\]", "4", '\\["\\<s\\>", "\\</s\\>", "", "\u2581the"\\]']
    assert len(section(out, "Types")) == len(TYPES)  # the fixture holds every type
    assert run(ALL, "--markdown", "--json").returncode == 2


def test_usage_errors_exit_2():
    assert run().returncode == 2
    assert run(ALL, "--type", "Q9_X").returncode == 2
    assert run(ALL, "--no-such-flag").returncode == 2
    p = run("--help", check_rc=0)
    assert b"Examples:" in p.stdout and b"--json" in p.stdout


def test_missing_file_exits_1():
    p = run("/nonexistent/model.gguf")
    assert p.returncode == 1
    assert p.stderr.decode().splitlines() == ["error: /nonexistent/model.gguf: cannot open: No such file or directory"]


# --- files written by gguf-py -----------------------------------------------------------------

def write_gguf(path, kvs=(), tensors=(), big=False, arch="test"):
    w = gguf.GGUFWriter(str(path), arch, endianess=gguf.GGUFEndian.BIG if big else gguf.GGUFEndian.LITTLE)
    for key, val, vtype, *sub in kvs:
        w.add_key_value(key, val, vtype, sub_type=sub[0] if sub else None)
    for name, arr in tensors:
        w.add_tensor(name, arr)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def test_big_endian_file(tmp_path):
    kvs = [("be.u32", 0xDEADBEEF, GGUFValueType.UINT32), ("be.i64", -(2**62), GGUFValueType.INT64),
           ("be.f64", 1.5, GGUFValueType.FLOAT64), ("be.str", "big", GGUFValueType.STRING),
           ("be.arr", [1, 2, 3], GGUFValueType.ARRAY, GGUFValueType.INT16)]
    tensors = [("w", np.arange(64, dtype=np.float32).reshape(2, 32)), ("v", np.ones(16, dtype=np.float16))]
    le, be = tmp_path / "le.gguf", tmp_path / "be.gguf"
    write_gguf(le, kvs, tensors)
    write_gguf(be, kvs, tensors, big=True)
    a, b = inspect_json(le), inspect_json(be)
    assert a["endian"] == "little" and b["endian"] == "big"
    assert b["metadata"]["be.u32"]["value"] == 0xDEADBEEF
    assert b["metadata"]["be.i64"]["value"] == -(2**62)
    assert b["metadata"]["be.arr"] == {"type": "ARRAY", "element_type": "INT16", "value": [1, 2, 3]}
    for k in ("metadata", "tensors", "data_offset", "alignment", "file_size"):
        assert a[k] == b[k], k
    assert [t["shape"] for t in b["tensors"]] == [[32, 2], [16]]
    r = gguf.GGUFReader(str(be))
    assert [int(t.data_offset) for t in r.tensors] == [t["offset"] for t in b["tensors"]]
    assert "big-endian" in run(be, check_rc=0).stdout.decode().splitlines()[0]


def test_untrusted_strings_are_escaped(tmp_path):
    path = tmp_path / "evil.gguf"
    evil = "\x1b[2J\x1b[31mred\x07\r\u202eevil\u202c\x9b"
    kvs = [("evil." + evil, evil, GGUFValueType.STRING),
           ("evil.bytes", b"ok \xff\xfe bad", GGUFValueType.STRING),
           ("evil.list", ["a|b", "<script>"], GGUFValueType.ARRAY, GGUFValueType.STRING)]
    write_gguf(path, kvs, [("t\x1b]0;title\x07|x", np.zeros(8, dtype=np.float32))])
    for flag in ([], ["--markdown"]):
        out = run(path, *flag, check_rc=0).stdout
        for bad in (b"\x1b", b"\x07", b"\r", b"\xe2\x80\xae", b"\xc2\x9b", b"\xff"):
            assert bad not in out, (flag, bad)
        text = out.decode()
        # Markdown escapes the text form's backslashes and [ as well: rendered, it reads the same.
        b = "\\\\" if flag else "\\"
        seq = b + "x1b\\[2J" if flag else "\\x1b[2J"
        assert seq in text and b + "u{202e}evil" in text and b + "xff" + b + "xfe" in text and b + "u{009b}" in text
    md = run(path, "--markdown", check_rc=0).stdout.decode()
    assert "a\\|b" in md and "\\<script\\>" in md and "title\\\\x07\\|x" in md
    d = inspect_json(path)
    assert d["metadata"]["evil." + evil]["value"] == evil  # valid UTF-8: kept exactly
    assert d["metadata"]["evil.bytes"]["value"] == "ok \ufffd\ufffd bad"  # documented replacement
    assert d["tensors"][0]["name"] == "t\x1b]0;title\x07|x"


def test_colour_only_on_a_terminal_and_never_with_no_color():
    def on_tty(env):
        return stdout_on_tty([INSPECT, ALL, "--no-tensors"], env)

    assert b"\x1b[1m" in on_tty({})
    assert b"\x1b[" not in on_tty({"NO_COLOR": "1"})


def test_split_model(tmp_path):
    shards = []
    for k in range(3):
        path = tmp_path / f"model-{k + 1:05}-of-00003.gguf"
        kvs = [("split.no", k, GGUFValueType.UINT16), ("split.count", 3, GGUFValueType.UINT16),
               ("split.tensors.count", 6, GGUFValueType.INT32)]
        write_gguf(path, kvs, [(f"blk.{k}.a", np.zeros(32, dtype=np.float32)),
                               (f"blk.{k}.b", np.zeros((2, 32), dtype=np.float16))])
        shards.append(path)
    out = run(shards[1], check_rc=0).stdout.decode()
    assert "shard 2 of 3" in out and "blk.1.a" in out and "blk.0.a" not in out
    out = run(shards[1], "--shards", check_rc=0).stdout.decode()
    for k in range(3):
        assert f"blk.{k}.a" in out and f"blk.{k}.b" in out
    d = inspect_json(shards[0], "--shards")
    assert d["summary"]["split"] == {"shard": 1, "count": 3, "whole_model": True}
    assert [s["file"] for s in d["summary"]["shards"]] == [str(p) for p in shards]
    assert [t["name"] for t in d["summary"]["shards"][2]["tensors"]] == ["blk.2.a", "blk.2.b"]
    assert d["summary"]["tensors"] == 6 and d["summary"]["parameters"] == 3 * (32 + 64)
    assert [t["name"] for t in d["tensors"]] == ["blk.0.a", "blk.0.b"]
    shards[2].unlink()
    p = run(shards[0], "--shards")
    assert p.returncode == 1
    assert p.stderr.decode().count("error:") == 1 and "model-00003-of-00003.gguf" in p.stderr.decode()
    p = run(ALL, "--shards")
    assert p.returncode == 1 and "not part of a split model" in p.stderr.decode()


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full")
@pytest.mark.parametrize("view", [[], ["--markdown"], ["--json"]])
def test_a_full_stdout_is_one_error_line(view):
    with open("/dev/full", "wb") as full:
        p = subprocess.run([str(INSPECT), *view, str(ALL)], stdout=full, stderr=subprocess.PIPE, timeout=60)
    assert p.returncode == 1
    assert p.stderr.decode() == "error: <stdout>: cannot write: No space left on device\n"


# --- exact numbers in every view ----------------------------------------------------------------

def test_one_json_spelling_of_nan_and_infinities_in_every_json(tmp_path):
    """gguf-inspect --json, gguf-hexdump --json, npy's manifest.json and safetensors' __metadata__
    all write NaN, +Inf and -Inf as "NaN", "Infinity", "-Infinity", and tell them apart."""
    path = tmp_path / "special.gguf"
    nan, inf = float("nan"), float("inf")
    kvs = [("f.nan", nan, GGUFValueType.FLOAT32), ("f.inf", inf, GGUFValueType.FLOAT32),
           ("f.ninf", -inf, GGUFValueType.FLOAT64), ("f.one", 1.5, GGUFValueType.FLOAT64),
           ("f.arr", [nan, inf, -inf, 0.25], GGUFValueType.ARRAY, GGUFValueType.FLOAT32)]
    write_gguf(path, kvs, [("t", np.zeros(8, dtype=np.float32))])
    want = {"f.nan": "NaN", "f.inf": "Infinity", "f.ninf": "-Infinity", "f.one": 1.5,
            "f.arr": ["NaN", "Infinity", "-Infinity", 0.25]}

    md = inspect_json(path)["metadata"]
    assert {k: md[k]["value"] for k in want} == want
    p = subprocess.run([str(BIN / "gguf-hexdump"), str(path), "--json"], capture_output=True, check=True)
    records = {r["name"]: r for r in json.loads(p.stdout)["metadata"]}
    for k, v in want.items():
        assert next(f for f in records[k]["fields"] if f["name"] in ("value", "items"))["value"] == v, k
    dq = BIN / "gguf-dequant"
    subprocess.run([str(dq), str(path), "-o", str(tmp_path / "npy"), "--format", "npy"], check=True, capture_output=True)
    manifest = json.loads((tmp_path / "npy" / "manifest.json").read_text())
    assert {k: manifest["metadata"][k] for k in want} == want
    subprocess.run([str(dq), str(path), "-o", str(tmp_path / "o.st"), "--format", "safetensors"], check=True,
                   capture_output=True)
    from safetensors import safe_open
    with safe_open(str(tmp_path / "o.st"), "np") as f:
        meta = f.metadata()
    # __metadata__ holds strings: a scalar's JSON text (a string's own text), an array's JSON.
    assert {k: meta[k] for k in want} == {"f.nan": "NaN", "f.inf": "Infinity", "f.ninf": "-Infinity",
                                          "f.one": "1.5", "f.arr": '["NaN","Infinity","-Infinity",0.25]'}


def test_nested_arrays_give_their_inner_element_type_in_json(tmp_path):
    path = tmp_path / "nested.gguf"
    write_gguf(path, [("n.two", [[1, 2], [3]], GGUFValueType.ARRAY),
                      ("n.three", [[["a"]], [["b", "c"]]], GGUFValueType.ARRAY),
                      ("n.flat", [1, 2], GGUFValueType.ARRAY, GGUFValueType.UINT16)])
    md = inspect_json(path)["metadata"]
    assert md["n.two"] == {"type": "ARRAY", "element_type": "ARRAY", "inner_element_type": "INT32",
                           "value": [[1, 2], [3]]}
    assert md["n.three"]["inner_element_type"] == "STRING"
    assert "inner_element_type" not in md["n.flat"]
    text = run(path, check_rc=0).stdout.decode()
    assert "[[INT32]]" in text and "[[[STRING]]]" in text  # the same type the text view shows


def test_no_tensors_no_table_header_and_no_parameters_no_bits_per_weight(tmp_path):
    path = tmp_path / "empty.gguf"
    write_gguf(path, [])
    text = run(path, check_rc=0).stdout.decode()
    assert "Tensors (0)" in text and "#" not in text.split("Tensors (0)")[1].split("Totals")[0]
    assert "bits per weight" not in text and "name" not in text
    md = run(path, "--markdown", check_rc=0).stdout.decode()
    assert "## Tensors\n\nNone.\n" in md and "| # |" not in md and "bits per weight" not in md
    s = inspect_json(path)["summary"]
    assert s["tensors"] == 0 and s["bits_per_weight"] is None
    # A filter that selects nothing is an empty table too.
    text = run(ALL, "--tensors", "q4_K*", "--type", "q8_0", check_rc=0).stdout.decode()
    assert "Tensors (0 of 40)" in text and " offset" not in text
    assert "bits per weight" not in text  # the selection has no parameters


# What CommonMark makes special, the text form's own escapes, and spaces a cell would lose.
MD_STRINGS = ["a\\b C:\\path \\*x\\*", "&amp; &#65; &copy", "*em* _u_ **b** __b__", "`code` ``x``",
              "[l](http://x) ![i](u) <http://a> <b>x</b>", "| pipe |", "# h #", "~~s~~ ~x~",
              " lead and trail ", "x\ny\tz\x1bq", "\"quotes\" 'single'", "!#$%&'()*+,-./:;<=>?@[]^_`{|}~",
              "a  b", "ends with \\"]


def text_form(s):
    """The text view's escaping of printable ASCII and a few controls (text/escape.h)."""
    out = ""
    for c in s:
        out += {"\\": "\\\\", "\n": "\\n", "\t": "\\t", "\r": "\\r"}.get(c, c if ord(c) >= 0x20 else f"\\x{ord(c):02x}")
    return out


def rendered_tables(md):
    """Every table of `md` rendered by a CommonMark implementation (markdown-it-py, with GitHub's
    tables), as lists of rows of cell texts, and the h1 headings' texts."""
    from html.parser import HTMLParser

    from markdown_it import MarkdownIt

    class Cells(HTMLParser):
        def __init__(self):
            super().__init__(convert_charrefs=True)
            self.tables, self.h1, self.cell, self.where = [], [], None, None

        def handle_starttag(self, tag, attrs):
            if tag == "table":
                self.tables.append([])
            elif tag == "tr":
                self.tables[-1].append([])
            elif tag in ("td", "th", "h1"):
                self.cell, self.where = "", tag

        def handle_endtag(self, tag):
            if tag in ("td", "th"):
                self.tables[-1][-1].append(self.cell)
                self.cell = None
            elif tag == "h1":
                self.h1.append(self.cell)
                self.cell = None

        def handle_data(self, data):
            if self.cell is not None:
                self.cell += data

    c = Cells()
    c.feed(MarkdownIt("commonmark").enable("table").render(md))
    return c.tables, c.h1


def test_markdown_renders_exactly_as_the_text_view_reads(tmp_path):
    pytest.importorskip("markdown_it", reason="markdown-it-py not installed (scripts/setup.sh installs it)")
    path = tmp_path / "we*rd_[1]&x #.gguf"
    kvs = [(f"k{i}.{s}", s, GGUFValueType.STRING) for i, s in enumerate(MD_STRINGS)]
    kvs.append(("arr", ["<s>", "a|b", "\\"], GGUFValueType.ARRAY, GGUFValueType.STRING))
    write_gguf(path, kvs, [(f"t{i}.{s}", np.zeros(4, dtype=np.float32)) for i, s in enumerate(MD_STRINGS)])
    md = run(path, "--markdown", check_rc=0).stdout.decode()
    text = run(path, check_rc=0).stdout.decode()
    tables, h1 = rendered_tables(md)
    assert h1 == [str(path)]
    meta = {row[0]: row for row in tables[0][1:]}
    for i, s in enumerate(MD_STRINGS):
        key = text_form(f"k{i}.{s}")
        value = '"' + text_form(s).replace('"', '\\"') + '"'
        assert key in text and value in text  # what the text view shows ...
        assert meta[key] == [key, "STRING", "", value], s  # ... is what the Markdown reads as
    assert meta["arr"][1:] == ["[STRING]", "3", '["<s>", "a|b", "\\\\"]']
    assert '["<s>", "a|b", "\\\\"]' in text
    names = [row[1] for row in tables[1][1:]]
    assert names == [text_form(f"t{i}.{s}") for i, s in enumerate(MD_STRINGS)]
