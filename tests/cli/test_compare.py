"""gguf-compare: the use cases an engine team has (a quantized model against its conversion and
against its original weights, an engine's raw dump against gguf-dequant's output, two
conversions, a model against a split of it), every metric against NumPy, exit codes as cmp(1),
and hostile side files refused with one error line."""
import json
import os
import struct
import subprocess
from pathlib import Path

import numpy as np
import pytest

import gguf
from cli_common import NUMPY, Gguf, rewrite_gguf

BIN = Path(os.environ["GGUFTK_BIN"])
FIXTURES = Path(os.environ["GGUFTK_FIXTURES"])
ALL = FIXTURES / "all-types.gguf"
REF = {"f16": FIXTURES / "all-types.ref-f16.gguf", "f32": FIXTURES / "all-types.ref-f32.gguf"}
REL = 1e-12


def compare(*args, **kw):
    return subprocess.run([str(BIN / "gguf-compare"), *map(str, args)], capture_output=True, text=True, **kw)


def compare_json(*args):
    p = compare(*args, "--json")
    assert p.returncode in (0, 1), p.stderr
    return p.returncode, {t["name"]: t for t in json.loads(p.stdout)["tensors"]}, json.loads(p.stdout)


def dequant(*args):
    p = subprocess.run([str(BIN / "gguf-dequant"), *map(str, args)], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr


def write_gguf(path, tensors):
    """A GGUF of `tensors` ({name: array, or (raw bytes, quantized type)}) by gguf-py's writer."""
    w = gguf.GGUFWriter(str(path), "llama")
    for name, t in tensors.items():
        if isinstance(t, tuple):
            w.add_tensor(name, t[0], raw_dtype=t[1])
        else:
            w.add_tensor(name, t)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return path


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    d = tmp_path_factory.mktemp("compare")
    for to in ("f16", "f32"):
        dequant(ALL, "-o", d / f"{to}.gguf", "--to", to)
    dequant(ALL, "-o", d / "again-f16.gguf")
    dequant(ALL, "-o", d / "f16.safetensors", "--format", "safetensors")
    dequant(ALL, "-o", d / "npy", "--format", "npy")
    return d


def values(path, name):
    t = Gguf(path).tensors[name]
    return np.frombuffer(t["data"], dtype=NUMPY[t["type"]]).astype(np.float64)


def metrics(a, b):
    d = a - b
    return {"max_abs": np.abs(d).max(), "max_abs_at": int(np.abs(d).argmax()), "mean_abs": np.abs(d).mean(),
            "rmse": np.sqrt((d * d).mean()), "rel_rmse": np.sqrt((d * d).sum() / (a * a).sum()),
            "cosine": (a * b).sum() / np.sqrt((a * a).sum() * (b * b).sum()),
            "snr_db": 10 * np.log10((a * a).sum() / (d * d).sum())}


def assert_metrics(diff, a, b):
    want = metrics(a, b)
    assert diff["max_abs_at"]["index"] == want["max_abs_at"]
    assert diff["max_abs"] == want["max_abs"]
    for k in ("mean_abs", "rmse", "rel_rmse", "cosine", "snr_db"):
        assert abs(diff[k] - want[k]) <= REL * abs(want[k]), (k, diff[k], want[k])


def test_quantized_model_equals_its_f32_conversion(outputs):
    rc, tensors, doc = compare_json(ALL, outputs / "f32.gguf")
    assert rc == 0 and doc["within"] is True
    assert {t["result"] for t in tensors.values()} == {"identical"} and len(tensors) == 40
    assert doc["metadata"] == [{"key": "general.file_type", "change": "added", "a": None,
                                "b": {"value": "0", "type": "UINT32"}}]


def test_f16_conversion_differs_by_rounding_and_as_f16_makes_it_identical(outputs):
    rc, tensors, _ = compare_json(ALL, outputs / "f16.gguf")
    assert rc == 1
    q4k = tensors["q4_K.weight"]
    assert q4k["result"] == "BEYOND" and q4k["a"]["type"] == "Q4_K" and q4k["b"]["type"] == "F16"
    assert_metrics(q4k["diff"], values(REF["f32"], "q4_K.weight"), values(REF["f16"], "q4_K.weight"))
    ne0 = q4k["a"]["shape"][0]
    at = q4k["diff"]["max_abs_at"]
    assert (at["row"], at["col"]) == divmod(at["index"], ne0)
    rc, tensors, _ = compare_json(ALL, outputs / "f16.gguf", "--as", "f16")
    assert rc == 0 and {t["result"] for t in tensors.values()} == {"identical"}


def test_tolerance_is_numpy_allclose_with_a_as_reference(outputs):
    a, b = values(REF["f32"], "q5_K.weight"), values(REF["f16"], "q5_K.weight")
    for atol, rtol in ((0, 1e-4), (1e-6, 1e-3), (1e-5, 0)):
        beyond = int((np.abs(a - b) > atol + rtol * np.abs(a)).sum())
        rc, tensors, _ = compare_json(ALL, outputs / "f16.gguf", "--tensors", "q5_K.weight", "--atol", atol, "--rtol", rtol)
        assert tensors["q5_K.weight"]["diff"]["beyond"] == beyond
        assert rc == (1 if beyond else 0)
        assert tensors["q5_K.weight"]["result"] == ("BEYOND" if beyond else "within")


def test_quantization_error_against_the_original_weights(tmp_path):
    rng = np.random.default_rng(5)
    original = rng.normal(0, 0.02, (8, 256)).astype(np.float16)
    paths = {}
    for name, typ in (("orig", None), ("q8", gguf.GGMLQuantizationType.Q8_0), ("q4", gguf.GGMLQuantizationType.Q4_0)):
        t = original if typ is None else (gguf.quants.quantize(original.astype(np.float32), typ), typ)
        paths[name] = write_gguf(tmp_path / f"{name}.gguf", {"w": t})
    a = original.astype(np.float64).ravel()
    for name, typ in (("q8", gguf.GGMLQuantizationType.Q8_0), ("q4", gguf.GGMLQuantizationType.Q4_0)):
        rc, tensors, _ = compare_json(paths["orig"], paths[name])
        assert rc == 1
        b = gguf.quants.dequantize(gguf.quants.quantize(original.astype(np.float32), typ), typ).astype(np.float64).ravel()
        assert_metrics(tensors["w"]["diff"], a, b)
    _, q8, _ = compare_json(paths["orig"], paths["q8"])
    _, q4, _ = compare_json(paths["orig"], paths["q4"])
    assert q8["w"]["diff"]["snr_db"] > q4["w"]["diff"]["snr_db"] + 10  # 8 bits are much closer than 4


def test_engine_raw_dump_against_gguf_dequant_output(outputs, tmp_path):
    dump = tmp_path / "dump"
    dump.mkdir()
    names = ["q4_K.weight", "q6_K.weight", "iq3_s.weight"]
    for name in names:
        v = values(REF["f16"], name).astype(np.float16)
        if name == "q6_K.weight":
            v[1234] = np.float16(v[1234] + np.float16(0.5))  # the engine got one element wrong
        v.tofile(dump / f"{name}.bin")
    args = (outputs / "f16.gguf", dump, "--map", "{name}.bin", "--dtype", "f16", "--tensors", ",".join(names))
    rc, tensors, _ = compare_json(*args)
    assert rc == 1
    assert tensors["q4_K.weight"]["result"] == "identical" and tensors["iq3_s.weight"]["result"] == "identical"
    bad = tensors["q6_K.weight"]["diff"]
    assert tensors["q6_K.weight"]["result"] == "BEYOND"
    assert bad["beyond"] == 1 and bad["first_beyond"]["index"] == 1234 and bad["max_abs_at"]["index"] == 1234
    assert tensors["q6_K.weight"]["b"]["shape"] == tensors["q6_K.weight"]["a"]["shape"]  # shapes from A
    # Without --tensors the tensors not dumped are missing from B: not within.
    p = compare(outputs / "f16.gguf", dump, "--map", "{name}.bin", "--dtype", "f16")
    assert p.returncode == 1 and "only in A" in p.stdout


def test_two_conversions_and_other_formats_are_identical(outputs):
    for other in ("again-f16.gguf", "f16.safetensors"):
        p = compare(outputs / "f16.gguf", outputs / other)
        assert p.returncode == 0, (other, p.stdout, p.stderr)
        assert "WITHIN (40 tensors: 40 identical" in p.stdout.splitlines()[-1]
    # NumPy has no bfloat16: npy output holds BF16 tensors as F16, the one difference.
    rc, tensors, _ = compare_json(outputs / "f16.gguf", outputs / "npy")
    assert rc == 1
    assert {n for n, t in tensors.items() if t["result"] != "identical"} == {"bf16.weight"}
    assert tensors["bf16.weight"]["b"]["type"] == "f16"


def test_a_model_equals_a_split_of_it(tmp_path):
    whole = rewrite_gguf(ALL, tmp_path / "whole.gguf")[0]
    shards = rewrite_gguf(ALL, tmp_path / "split.gguf", split_max_tensors=7)
    assert len(shards) > 1
    rc, tensors, doc = compare_json(whole, shards[2])
    assert rc == 0 and len(tensors) == 40 and doc["metadata"] == []  # split.* keys are not differences


def test_missing_and_shape_differences(tmp_path):
    x = np.arange(8, dtype=np.float32)
    write_gguf(tmp_path / "a.gguf", {"same": x, "shape": x.reshape(2, 4), "gone": x})
    write_gguf(tmp_path / "b.gguf", {"same": x, "shape": x.reshape(4, 2), "new": x})
    rc, tensors, doc = compare_json(tmp_path / "a.gguf", tmp_path / "b.gguf")
    assert rc == 1
    assert {n: t["result"] for n, t in tensors.items()} == {"same": "identical", "shape": "SHAPE", "gone": "only in A",
                                                           "new": "only in B"}
    assert doc["summary"]["SHAPE"] == 1


def test_nan_and_inf_that_differ_are_counted_apart(tmp_path):
    a = np.array([1, np.nan, np.inf, 4, np.nan, 0], dtype=np.float32)
    b = np.array([1, np.nan, 3, 4, 5, -0.0], dtype=np.float32)
    for name, arr in (("a", a), ("b", b)):
        write_gguf(tmp_path / f"{name}.gguf", {"t": arr})
    _, tensors, _ = compare_json(tmp_path / "a.gguf", tmp_path / "b.gguf", "--atol", "0")
    d = tensors["t"]["diff"]
    assert d["nonfinite_mismatch"] == 2 and d["beyond"] == 2 and d["identical_values"] == 3  # 0 and -0 differ in bits
    assert d["max_abs"] == 0.0  # over the pairs where both are finite


def test_markdown_and_text_views(outputs):
    p = compare(ALL, outputs / "f16.gguf", "--markdown", "--tensors", "q4_K.weight")
    assert p.returncode == 1
    assert "| q4\\_K.weight | Q4_K/F16 | BEYOND |" in p.stdout
    p = compare(ALL, outputs / "f16.gguf")
    assert max(len(line) for line in p.stdout.splitlines()[:-2]) <= 100


@pytest.mark.parametrize("args,words", [
    (["--atol", "-1"], "not a finite decimal number"),
    (["--atol", ""], "--atol '': not a finite decimal number"),
    (["--rtol", "0x10"], "--rtol '0x10': not a finite decimal number"),
    (["--rtol", "1e400"], "not a finite decimal number"),
    (["--json", "--markdown"], "excludes"),
    (["--as", "q4_0"], "--as"),
])
def test_usage_errors_exit_2(args, words):
    p = compare(ALL, ALL, *args)
    assert p.returncode == 2 and words in p.stderr, p.stderr


def one_error_line(p):
    assert p.returncode == 2, (p.returncode, p.stdout, p.stderr)
    lines = p.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), p.stderr
    return lines[0]


def test_hostile_side_files_are_refused(tmp_path):
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(struct.pack("<Q", 1 << 40) + b"{}")
    assert "header length" in one_error_line(compare(ALL, bad))
    header = json.dumps({"q4_0.weight": {"dtype": "F32", "shape": [4, 1024], "data_offsets": [0, 16384]}}).encode()
    bad.write_bytes(struct.pack("<Q", len(header)) + header + b"\0" * 100)
    assert "past the end of the file" in one_error_line(compare(ALL, bad))
    header = json.dumps({"x": {"dtype": "F32", "shape": [2**40, 2**40], "data_offsets": [0, 0]}}).encode()
    bad.write_bytes(struct.pack("<Q", len(header)) + header)
    assert "shape" in one_error_line(compare(ALL, bad))
    d = tmp_path / "npy"
    d.mkdir()
    (d / "manifest.json").write_text(json.dumps({"format": "npy", "tensors": [{"name": "x", "file": "../../etc/passwd"}]}))
    assert "outside the directory" in one_error_line(compare(ALL, d))
    (d / "manifest.json").write_text(json.dumps({"format": "npy", "tensors": [{"name": "x", "file": "x.npy"}]}))
    (d / "x.npy").write_bytes(b"\x93NUMPY\x01\x00\xff\xff" + b" " * 20)
    assert "npy header" in one_error_line(compare(ALL, d))
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "q4_0.weight.bin").write_bytes(b"\0" * 10)
    assert "needs its element type" in one_error_line(compare(ALL, raw, "--map", "{name}.bin"))
    assert "not the 4096" in one_error_line(compare(ALL, raw, "--map", "{name}.bin", "--dtype", "f16"))


@pytest.mark.parametrize("at", [1, 5, 6])  # in the first group of four, in the second, in the tail
def test_largest_difference_found_wherever_it_is(tmp_path, at):
    a = np.arange(7, dtype=np.float32)
    b = a.copy()
    b[at] += 0.5
    b[(at + 3) % 7] += 0.25
    for name, arr in (("a", a), ("b", b)):
        write_gguf(tmp_path / f"{name}.gguf", {"t": arr})
    _, tensors, _ = compare_json(tmp_path / "a.gguf", tmp_path / "b.gguf")
    d = tensors["t"]["diff"]
    assert d["max_abs_at"]["index"] == at and d["max_abs"] == 0.5
    assert d["first_beyond"]["index"] == min(at, (at + 3) % 7) and d["beyond"] == 2
    assert_metrics(d, a.astype(np.float64), b.astype(np.float64))


def test_first_beyond_is_named_for_a_nan_in_the_last_values(tmp_path):
    a, b = np.ones(5, dtype=np.float32), np.ones(5, dtype=np.float32)
    b[4] = np.nan  # past the groups of four: the one-by-one tail
    write_gguf(tmp_path / "a.gguf", {"t": a})
    write_gguf(tmp_path / "b.gguf", {"t": b})
    _, tensors, _ = compare_json(tmp_path / "a.gguf", tmp_path / "b.gguf", "--atol", "0.1")
    d = tensors["t"]["diff"]
    assert d["beyond"] == 1 and d["first_beyond"]["index"] == 4 and d["nonfinite_mismatch"] == 1


def test_a_tensor_named_like_the_map_pattern_does_not_hang(tmp_path):
    write_gguf(tmp_path / "a.gguf", {"{name}": np.ones(4, dtype=np.float32), "x{name}": np.ones(4, dtype=np.float32)})
    dump = tmp_path / "dump"
    dump.mkdir()
    np.ones(4, dtype=np.float32).tofile(dump / "{name}.bin")
    p = compare(tmp_path / "a.gguf", dump, "--map", "{name}.bin", "--dtype", "f32", timeout=20)
    assert p.returncode == 1 and "identical" in p.stdout and "only in A" in p.stdout, p.stdout


def test_safetensors_offsets_that_wrap_are_refused(tmp_path):
    bad = tmp_path / "wrap.safetensors"
    header = json.dumps({"t": {"dtype": "F32", "shape": [1], "data_offsets": [2**64 - 20, 2**64 - 16]}}).encode()
    bad.write_bytes(struct.pack("<Q", len(header)) + header + b"\0" * 16)
    assert "past the end of the file" in one_error_line(compare(ALL, bad))


def test_quantized_against_f16_hints_at_as(outputs):
    hint = "hint: 25 BEYOND rows compare a quantized tensor with an F16 one; --as f16 rounds"
    p = compare(ALL, outputs / "f16.gguf")
    assert p.returncode == 1 and hint in p.stdout, p.stdout
    p = compare(ALL, outputs / "f16.gguf", "--as", "f16")
    assert p.returncode == 0 and "hint:" not in p.stdout
    p = compare(REF["f32"], outputs / "f16.gguf")  # F32 against F16: no quantized side, no hint
    assert p.returncode == 1 and "hint:" not in p.stdout


def test_the_table_shows_what_made_a_row_beyond(tmp_path):
    a = np.zeros(8, dtype=np.float32)
    b = a.copy()
    b[5] = np.nan
    z = np.zeros(4, dtype=np.float32)
    write_gguf(tmp_path / "a.gguf", {"nan": a, "zeros": z, "shape": np.ones((2, 4), np.float32), "negzero": z})
    write_gguf(tmp_path / "b.gguf", {"nan": b, "zeros": z + 1, "shape": np.ones((4, 2), np.float32), "negzero": -z})
    p = compare(tmp_path / "a.gguf", tmp_path / "b.gguf")
    rows = {line.split()[0]: line.split() for line in p.stdout.splitlines()[1:5]}
    assert rows["nan"][2:4] == ["BEYOND", "1"] and rows["negzero"][2:4] == ["BEYOND", "4"], p.stdout
    # A all zeros: the noise is all there is (SNR -inf) and the angle is undefined (0/0).
    assert rows["zeros"][-2:] == ["nan", "-inf"], p.stdout
    assert "shape shape: 4 x 2 in A, 2 x 4 in B (GGUF order, ne0 first)" in p.stdout
    # The summary points at the NaN, not at the largest finite difference (0, at element 0).
    assert "worst nan: 1 beyond (1 NaN or infinite where the other is not), first at element 5 (row 0, col 5)" in p.stdout
    rc, tensors, _ = compare_json(tmp_path / "a.gguf", tmp_path / "b.gguf")
    assert tensors["zeros"]["diff"]["cosine"] == "NaN" and tensors["zeros"]["diff"]["snr_db"] == "-Infinity"
    md = compare(tmp_path / "a.gguf", tmp_path / "b.gguf", "--markdown").stdout
    assert "| nan | F32/F32 | BEYOND | 1 | 5 (0, 5) | 1 |" in md
    rows = [line for line in md.splitlines() if line.startswith("| ") and "\\|" not in line and "metadata" not in line]
    assert len(rows) == 5 and all(line.count("|") == 14 for line in rows), md  # the rule row and 4


def test_names_that_would_read_the_same_shortened_are_cut_at_the_start(tmp_path):
    x = np.ones(4, dtype=np.float32)
    names = [f"model.layers.{i}.self_attn.q_proj.weight" for i in (1, 2)]
    write_gguf(tmp_path / "a.gguf", {n: x for n in names})
    write_gguf(tmp_path / "b.gguf", {n: x + 1 for n in names})
    shown = [line.split()[0] for line in compare(tmp_path / "a.gguf", tmp_path / "b.gguf").stdout.splitlines()[1:3]]
    assert shown == ["…1.self_attn.q_proj.weight", "…2.self_attn.q_proj.weight"]
    assert "(1 tensor:" in compare(tmp_path / "a.gguf", tmp_path / "b.gguf", "--tensors", names[0]).stdout


def test_a_dump_directory_on_either_side(outputs, tmp_path):
    dump = tmp_path / "dump"
    dump.mkdir()
    for name in ("q4_K.weight", "q6_K.weight"):
        dims = Gguf(REF["f32"]).tensors[name]["dims"]
        np.save(dump / f"{name}.npy", values(REF["f32"], name).astype(np.float32).reshape(dims[::-1]))
    # A dump as A is read by B's names; two dumps by the .npy files of A.
    for a, b in ((dump, outputs / "f32.gguf"), (outputs / "f32.gguf", dump), (dump, dump)):
        p = compare(a, b, "--tensors", "q4_K.weight,q6_K.weight")
        assert p.returncode == 0 and "(2 tensors: 2 identical" in p.stdout, (a, b, p.stdout, p.stderr)
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "x.bin").write_bytes(b"\0" * 16)
    assert "holds no .npy file" in one_error_line(compare(raw, dump))


@pytest.mark.parametrize("args,words", [
    (["--map", "{name}.bin"], "--map applies to a dump directory"),
    (["--dtype", "f32"], "--dtype applies to a dump directory"),
])
def test_dump_options_without_a_dump_directory_are_usage_errors(args, words):
    p = compare(ALL, ALL, *args)
    assert p.returncode == 2 and words in p.stderr, p.stderr


def test_a_dump_directory_that_names_nothing_is_an_error(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    assert "holds no file for any of the other side's 40 tensors" in one_error_line(compare(ALL, empty))
    (empty / "q4_0.weight.bin").write_bytes(b"\0" * 8192)
    for args in (["--map", "{nam}.bin"], ["--map", "dump.f32"], ["--map", "{NAME}"], ["--dtype", "float12"]):
        p = compare(ALL, empty, *args)
        assert p.returncode == 2 and ("has no {name}" in p.stderr or "not one of f16" in p.stderr), p.stderr
    assert "holds no file" in one_error_line(compare(ALL, empty, "--map", "{name}.f32", "--dtype", "f16"))


def test_a_glob_matching_nothing_is_blamed_on_the_option(tmp_path):
    line = one_error_line(compare(ALL, ALL, "--tensors", "nomatch*"))
    assert line.startswith("error: --tensors: no tensor matches 'nomatch*'"), line
