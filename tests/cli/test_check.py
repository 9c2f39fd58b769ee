"""gguf-dequant --check: statistics against NumPy, each rule firing (and only then) with the
right count and first element, exit codes, JSON, and nothing written.

The statistics are held to NumPy's float64 min/max/mean/std of the reference values ggml wrote
(all-types.ref-f32.gguf); crafted models (gguf-py's writer) hold NaN, infinities, values that
overflow F16, values out of a range and an all-zero tensor at known places.
"""
import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

import gguf
from cli_common import Gguf, rewrite_gguf

BIN = Path(os.environ["GGUFTK_BIN"]) / "gguf-dequant"
FIXTURES = Path(os.environ["GGUFTK_FIXTURES"])
ALL = FIXTURES / "all-types.gguf"
REF32 = FIXTURES / "all-types.ref-f32.gguf"
REL = 1e-12


def run(*args, **kw):
    return subprocess.run([str(BIN), *map(str, args)], capture_output=True, text=True, **kw)


def check_json(*args):
    p = run(*args, "--check", "--json")
    assert p.returncode in (0, 1), p.stderr
    return p, json.loads(p.stdout)


def by_name(doc):
    return {t["name"]: t for t in doc["tensors"]}


def close(a, b):
    return a == b or abs(a - b) <= REL * abs(b)


def q8_0_blocks(scale, rows):
    """Q8_0 blocks (fp16 scale, 32 int8) from rows of 32 codes each."""
    out = bytearray()
    for codes in rows:
        out += np.float16(scale).tobytes() + np.array(codes, dtype=np.int8).tobytes()
    return np.frombuffer(bytes(out), dtype=np.uint8)


@pytest.fixture(scope="module")
def crafted(tmp_path_factory):
    """A model with a broken rule at known elements, and one tensor that breaks none."""
    path = tmp_path_factory.mktemp("check") / "crafted.gguf"
    w = gguf.GGUFWriter(str(path), "llama")
    bad = np.linspace(-1, 1, 64, dtype=np.float32)
    bad[5], bad[21], bad[40] = np.nan, np.inf, -np.inf
    w.add_tensor("bad.f32", bad.reshape(4, 16))                 # ne0 = 16: element 21 is row 1, col 5
    w.add_tensor("zeros.f16", np.zeros((2, 32), dtype=np.float16))
    # 1000 * 65 = 65000 stays finite in F16; 1000 * 66 and 1000 * -127 round to infinity.
    rows = [[65] * 32, [65] * 32, [65] * 32, [65] * 32]
    rows[1][3], rows[3][31] = 66, -127                          # elements 35 and 127
    w.add_tensor("big.q8_0", q8_0_blocks(1000.0, rows).reshape(2, 2 * 34), raw_dtype=gguf.GGMLQuantizationType.Q8_0)
    embd = np.linspace(-1, 1, 24, dtype=np.float32)
    embd[13] = 1.5                                              # ne0 = 8: row 1, col 5
    w.add_tensor("token_embd.weight", embd.reshape(3, 8))
    w.add_tensor("ok.f32", np.linspace(-0.5, 0.5, 32, dtype=np.float32).reshape(2, 16))
    w.add_tensor("ids.i32", np.arange(4, dtype=np.int32))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return path


def test_fixture_passes_and_writes_nothing(tmp_path):
    p = run(ALL, "--check", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith(f"{ALL}: OK (36 of 36 tensors passed; 4 integer tensors not checked)"), p.stdout
    assert os.listdir(tmp_path) == []


def test_statistics_match_numpy_on_every_type():
    _, doc = check_json(ALL)
    ref = Gguf(REF32)
    tensors = by_name(doc)
    assert len(tensors) == 36
    for name, t in tensors.items():
        v = np.frombuffer(ref.tensors[name]["data"], dtype="<f4").astype(np.float64)
        s = t["stats"]
        assert s["values"] == s["finite"] == v.size, name
        assert (s["min"], s["max"], s["absmax"]) == (v.min(), v.max(), np.abs(v).max()), name
        assert close(s["mean"], v.mean()) and close(s["std"], v.std()), (name, s["mean"], v.mean(), s["std"], v.std())
        assert s["zeros"] == int((v == 0).sum()), name
        rows = v.reshape(-1, ref.tensors[name]["dims"][0])
        assert s["zero_rows"] == int((rows == 0).all(axis=1).sum()), name
        assert t["failures"] == [] and s["nan"] == {"count": 0, "first": None}
    assert tensors["q6_K.zero_row"]["stats"]["zero_rows"] == 1  # the fixture's all-zero row is seen


def test_shapes_both_orders():
    _, doc = check_json(ALL, "--tensors", "q4_K.3d")
    t = doc["tensors"][0]
    assert t["shape"] == list(reversed(t["shape_row_major"])) and len(t["shape"]) == 3


def test_every_rule_fires_where_it_should(crafted):
    p = run(crafted, "--check", "--to", "f16", "--range", "token_embd.weight=-1:1", "--no-zero-tensors")
    assert p.returncode == 1, p.stderr
    fails = [line for line in p.stdout.splitlines() if line.startswith("FAIL")]
    assert fails == [
        "FAIL bad.f32: finite: 1 NaN, 2 Inf; first at element 5 (row 0, col 5)",
        "FAIL zeros.f16: zero-tensor: all 64 values are zero",
        "FAIL big.q8_0: overflow: 2 finite values round to infinity in f16; first at element 35 (row 0, col 35)",
        "FAIL token_embd.weight: range: 1 value outside [-1, 1] (min -1, max 1.5); first at element 13 (row 1, col 5)",
    ], p.stdout
    last = p.stdout.splitlines()[-1]
    assert last.startswith(f"{crafted}: FAILED (4 of 5 tensors failed: 1 finite, 1 range, 1 overflow, 1 zero-tensor; "
                           "1 integer tensor not checked)"), last


def test_json_names_each_failure(crafted):
    p, doc = check_json(crafted, "--to", "f16", "--range", "token_embd.weight=-1:1", "--range", "*=-0.1:0.1")
    assert p.returncode == 1 and doc["ok"] is False
    t = by_name(doc)
    assert t["bad.f32"]["stats"]["nan"] == {"count": 1, "first": {"index": 5, "row": 0, "col": 5}}
    assert t["bad.f32"]["stats"]["inf"] == {"count": 2, "first": {"index": 21, "row": 1, "col": 5}}
    assert t["bad.f32"]["failures"][0] == {"rule": "finite", "count": 3, "first": {"index": 5, "row": 0, "col": 5}}
    assert t["big.q8_0"]["stats"]["overflow"]["count"] == 2
    assert t["big.q8_0"]["stats"]["max"] == 66000.0 and t["big.q8_0"]["stats"]["min"] == -127000.0
    assert t["token_embd.weight"]["range"] == [-1.0, 1.0]  # the first --range that matches applies
    assert t["ok.f32"]["range"] == [-0.1, 0.1]
    assert t["ok.f32"]["failures"][0]["count"] == int((np.abs(np.linspace(-0.5, 0.5, 32, dtype=np.float32)) > 0.1).sum())
    # The infinities and the NaN of bad.f32 are within no range (NumPy's ~((x >= lo) & (x <= hi))).
    bad = np.linspace(-1, 1, 64, dtype=np.float32)
    bad[5], bad[21], bad[40] = np.nan, np.inf, -np.inf
    assert t["bad.f32"]["stats"]["out_of_range"]["count"] == int((~((bad >= -0.1) & (bad <= 0.1))).sum())
    # token_embd.weight, and under '*': bad.f32, big.q8_0, ok.f32 (zeros.f16 is within)
    assert doc["summary"]["failed_by_rule"] == {"finite": 1, "range": 4, "overflow": 1, "zero-tensor": 0}
    assert doc["summary"]["skipped_integer_tensors"] == ["ids.i32"]


def test_rules_fire_only_when_asked(crafted):
    p, doc = check_json(crafted, "--tensors", "big.q8_0,zeros.f16")
    assert p.returncode == 0 and doc["ok"] is True      # no --to: overflow is not checked
    assert by_name(doc)["zeros.f16"]["stats"]["zeros"] == 64
    p, _ = check_json(crafted, "--tensors", "big.q8_0", "--to", "bf16")
    assert p.returncode == 0                            # 127000 is finite in BF16
    p, _ = check_json(crafted, "--tensors", "big.q8_0", "--to", "f16")
    assert p.returncode == 1


def test_overflow_edge_is_the_rounding_of_f16(tmp_path):
    # 65519.996 rounds to 65504; 65520 is the first float that rounds to infinity.
    path = tmp_path / "edge.gguf"
    w = gguf.GGUFWriter(str(path), "llama")
    w.add_tensor("edge", np.array([np.nextafter(np.float32(65520), np.float32(0)), 65520, -65520, 1], dtype=np.float32))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    _, doc = check_json(path, "--to", "f16")
    assert doc["tensors"][0]["stats"]["overflow"] == {"count": 2, "first": {"index": 1, "row": 0, "col": 1}}


def test_thread_count_and_split_do_not_change_the_result(tmp_path):
    _, one = check_json(ALL, "--threads", "1")
    _, three = check_json(ALL, "--threads", "3")
    shards = rewrite_gguf(ALL, tmp_path / "split.gguf", split_max_tensors=10)
    assert len(shards) > 1
    _, split = check_json(shards[1])
    for other in (three, split):
        for name, t in by_name(one).items():
            a, b = t["stats"], by_name(other)[name]["stats"]
            assert close(b["std"], a["std"]) and close(b["mean"], a["mean"]), name
            assert {k: v for k, v in a.items() if k not in ("mean", "std")} == \
                   {k: v for k, v in b.items() if k not in ("mean", "std")}, name


@pytest.mark.parametrize("args,words", [
    (["--check", "-o", "x.gguf"], "excludes"),
    (["--check", "--format", "npy"], "excludes"),
    (["--range", "a=0:1"], "requires --check"),
    (["--json"], "requires --check"),
    (["--check", "--range", "a=1:0"], "LO is above HI"),
    (["--check", "--range", "a=x:1"], "not a number"),
    (["--check", "--range", "nothing"], "GLOB=LO:HI"),
    (["--check", "--range", "token_embd.weight=1e400:2"], "'1e400' is not a finite number"),
    (["--check", "--range", "a=-inf:1"], "'-inf' is not a finite number"),
    (["--check", "--range", "a=0:1e-400"], "'1e-400' is too small for a double"),
    ([], "-o/--output is required"),
])
def test_usage_errors_exit_2(tmp_path, args, words):
    p = run(ALL, *args, cwd=tmp_path)
    assert p.returncode == 2 and words in p.stderr, p.stderr
    assert os.listdir(tmp_path) == []


def test_file_errors_keep_their_message(tmp_path):
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"GGUF" + b"\0" * 8)
    p = run(bad, "--check")
    assert p.returncode == 1 and p.stderr.startswith("error:") and p.stdout == ""
    p = run(ALL, "--check", "--tensors", "nomatch*")
    assert p.returncode == 2 and "nomatch" in p.stderr  # the arguments, not the file


def test_stats_table_with_check():
    p = run(ALL, "--check", "--stats", "--tensors", "q6_K.zero_row")
    head, row = p.stdout.splitlines()[:2]
    assert head.split() == ["tensor", "type", "min", "max", "mean", "std", "absmax", "nan", "inf", "zeros", "0-rows"]
    assert row.split()[0:2] == ["q6_K.zero_row", "Q6_K"] and row.split()[-1] == "1"
    # The overflow rule on: its count too.
    p = run(ALL, "--check", "--stats", "--to", "f16", "--tensors", "q6_K.zero_row")
    head, row = p.stdout.splitlines()[:2]
    assert head.split() == ["tensor", "type", "min", "max", "mean", "std", "absmax", "nan", "inf", "overflow", "zeros",
                            "0-rows"]
    assert row.split()[-3] == "0"


def write_model(path, tensors):
    w = gguf.GGUFWriter(str(path), "llama")
    for name, values in tensors:
        w.add_tensor(name, values)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return path


@pytest.fixture(scope="module")
def odd(tmp_path_factory):
    """Tensors with no finite value, none at all, a NaN before any finite one, float32 0.1, one zero."""
    nan_first = np.full(8, 0.5, dtype=np.float32)
    nan_first[2], nan_first[6] = np.nan, np.inf
    return write_model(tmp_path_factory.mktemp("odd") / "odd.gguf", [
        ("inf.weight", np.full((2, 4), np.inf, dtype=np.float32)),
        ("empty.weight", np.zeros((0, 4), dtype=np.float32)),
        ("nan_first.weight", nan_first),
        ("tenth.weight", np.full(4, 0.1, dtype=np.float32)),
        ("ids.i8", np.arange(4, dtype=np.int8)),
        ("zero.weight", np.zeros(1, dtype=np.float32)),
    ])


def test_rules_not_applied_are_null_not_zero(crafted):
    _, doc = check_json(crafted, "--range", "ok.f32=-1:1")
    t = by_name(doc)
    assert doc["rules"]["overflow"] is None
    assert all(s["stats"]["overflow"] is None for s in doc["tensors"])   # no --to: not computed
    assert t["bad.f32"]["stats"]["out_of_range"] is None                  # no --range for it
    assert t["ok.f32"]["stats"]["out_of_range"] == {"count": 0, "first": None}
    _, doc = check_json(crafted, "--to", "f16")
    assert by_name(doc)["ok.f32"]["stats"]["overflow"] == {"count": 0, "first": None}


def test_range_failure_shows_the_digits_that_matter(odd):
    p = run(odd, "--check", "--tensors", "tenth.weight", "--range", "*=0:0.1")
    assert p.returncode == 1
    assert ("FAIL tenth.weight: range: 4 values outside [0, 0.1] (min 0.10000000149011612, max 0.10000000149011612); "
            "first at element 0 (row 0, col 0)") in p.stdout.splitlines(), p.stdout


def test_no_finite_value_gives_null_statistics(odd):
    _, doc = check_json(odd, "--tensors", "inf.weight,empty.weight")
    t = by_name(doc)
    keys = ("min", "max", "mean", "std", "absmax")
    assert [t["inf.weight"]["stats"][k] for k in keys] == [None] * 5
    assert t["inf.weight"]["stats"]["inf"]["count"] == 8
    empty = t["empty.weight"]["stats"]
    assert [empty[k] for k in keys] == [None] * 5
    assert (empty["values"], empty["nan"]["count"], empty["inf"]["count"]) == (0, 0, 0)


def test_help_says_the_statistics_are_of_finite_values():
    text = " ".join(run("--help").stdout.split())
    assert "of the finite values" in text, text


def test_range_failure_tells_what_is_outside(odd):
    p = run(odd, "--check", "--range", "*=0:1")
    fails = [line for line in p.stdout.splitlines() if line.startswith("FAIL") and ": range:" in line]
    assert fails == [
        "FAIL inf.weight: range: 8 values outside [0, 1] (8 Inf; no finite value); first at element 0 (row 0, col 0)",
        "FAIL nan_first.weight: range: 2 values outside [0, 1] (1 NaN, 1 Inf; finite min 0.5, max 0.5); "
        "first at element 2 (row 0, col 2)",
    ], p.stdout


def test_a_range_glob_on_unchecked_tensors_says_why(odd):
    p = run(odd, "--check", "--tensors", "tenth.weight", "--range", "inf.weight=0:1")
    assert p.returncode == 2 and p.stdout == ""
    assert p.stderr == f"error: {odd}: --range: 'inf.weight' matches only tensors that --tensors leaves out ('inf.weight')\n"
    p = run(ALL, "--check", "--range", "i8.weight=-1:1")
    assert p.returncode == 2
    assert p.stderr == f"error: {ALL}: --range: 'i8.weight' matches only integer tensors ('i8.weight'), which are not checked\n"
    p = run(odd, "--check", "--tensors", "tenth.weight,ids.i8", "--range", "i*=0:1")
    assert p.returncode == 2
    assert p.stderr == (f"error: {odd}: --range: 'i*' matches only tensors that are not checked: integer tensors ('ids.i8') "
                        "and tensors that --tensors leaves out ('inf.weight')\n")


def test_counts_agree_in_number(odd):
    p = run(ALL, "--check", "--tensors", "i8.weight")
    assert p.returncode == 0
    assert p.stdout.startswith(f"{ALL}: OK (0 of 0 tensors passed; 1 integer tensor not checked), 0 values in "), p.stdout
    p = run(ALL, "--check", "--tensors", "f32.weight")
    assert p.stdout.startswith(f"{ALL}: OK (1 of 1 tensor passed), "), p.stdout
    p = run(odd, "--check", "--tensors", "zero.weight", "--no-zero-tensors")
    assert p.stdout.splitlines()[0] == "FAIL zero.weight: zero-tensor: its one value is zero", p.stdout
    assert p.stdout.splitlines()[1].startswith(f"{odd}: FAILED (1 of 1 tensor failed: 1 zero-tensor), 1 value in ")


def test_to_f32_checks_no_overflow(crafted):
    p, doc = check_json(crafted, "--to", "f32", "--tensors", "big.q8_0")
    assert p.returncode == 0 and doc["rules"]["overflow"] is None
    assert doc["tensors"][0]["stats"]["overflow"] is None
