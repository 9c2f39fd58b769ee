"""Split models end to end: gguf-dequant, gguf-inspect and gguf-hexdump given one shard.

The split models are written by gguf-py's GGUFWriter (split_max_tensors / split_max_size) from
the ggml-written fixture, together with the same content unsplit by the same writer: the
unsplit file's conversion is the expectation for every tensor of the split one, byte for byte.
The broken sets (a shard missing, a tensor in two shards, counts that disagree) are written
shard by shard with GGUFWriter.
"""
import json
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

gguf = pytest.importorskip("gguf")
from gguf.constants import GGUFValueType  # noqa: E402
from cli_common import Gguf, assert_one_error, rewrite_gguf  # noqa: E402

BIN = Path(os.environ["GGUFTK_BIN"])
FIXTURES = Path(os.environ["GGUFTK_FIXTURES"])
ALL = FIXTURES / "all-types.gguf"
SPLIT_KEYS = ("split.no", "split.count", "split.tensors.count")


def tool(name, *args):
    return subprocess.run([str(BIN / name), *map(str, args)], capture_output=True, text=True, timeout=120)


def dequant(*args, check=True):
    p = tool("gguf-dequant", *args, "--device", "cpu")
    if check:
        assert p.returncode == 0, p.stderr
    return p


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    """The fixture unsplit and in 3 shards of at most 15 tensors (15, 15, 10), both by gguf-py."""
    d = tmp_path_factory.mktemp("split")
    (unsplit,) = rewrite_gguf(ALL, d / "whole.gguf")
    shards = rewrite_gguf(ALL, d / "model.gguf", split_max_tensors=15)
    assert [p.name for p in shards] == [f"model-0000{k}-of-00003.gguf" for k in (1, 2, 3)]
    return unsplit, shards


def tensors(paths):
    """name -> (type, dims, bytes) over the files, and the names per file."""
    out, per_file = {}, []
    for p in paths:
        g = Gguf(p)
        per_file.append(g.order)
        for n in g.order:
            assert n not in out, n
            t = g.tensors[n]
            out[n] = (t["type"], t["dims"], t["data"])
    return out, per_file


def meta(g):
    return {k: v for k, _, v, _ in g.kvs}


@pytest.mark.parametrize("to, all_", [("f16", False), ("bf16", False), ("f32", True), ("f16", True)])
@pytest.mark.parametrize("given", [0, 1, 2])
def test_any_shard_converts_the_whole_model_and_keeps_the_split(tmp_path, model, to, all_, given):
    unsplit, shards = model
    flags = ["--to", to] + (["--all"] if all_ else [])
    dequant(unsplit, "-o", tmp_path / "ref.gguf", *flags)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    p = dequant(shards[given], "-o", out_dir / "model-x.gguf", *flags)
    outs = [out_dir / f"model-x-0000{k}-of-00003.gguf" for k in (1, 2, 3)]
    assert sorted(out_dir.iterdir()) == outs, "the shards and nothing else"
    assert "3 shards" in p.stderr and "note:" not in p.stderr

    want, _ = tensors([tmp_path / "ref.gguf"])
    got, per_file = tensors(outs)
    assert got == want  # every tensor: type, shape, bytes
    _, src_per_file = tensors(shards)
    assert per_file == src_per_file  # the same tensors per shard, in order
    for k, path in enumerate(outs):
        m = meta(Gguf(path))
        assert (m["split.no"], m["split.count"], m["split.tensors.count"]) == (k, 3, 40)
        src = meta(Gguf(shards[k]))
        expect = {kk: v for kk, v in src.items() if kk != "general.file_type"}
        assert {kk: v for kk, v in m.items() if kk != "general.file_type"} == expect
    ftype = {"f16": 1, "bf16": 32, "f32": 0}[to]
    assert meta(Gguf(outs[0]))["general.file_type"] == ftype
    assert "general.file_type" not in meta(Gguf(outs[1]))  # only the shard with the model's metadata


def test_merge_is_byte_for_byte_the_unsplit_conversion(tmp_path, model):
    unsplit, shards = model
    for flags in ([], ["--to", "bf16", "--all"]):
        dequant(unsplit, "-o", tmp_path / "ref.gguf", "--force", *flags)
        p = dequant(shards[2], "-o", tmp_path / "merged.gguf", "--merge", "--force", *flags)
        assert "all 3 shards" in p.stderr
        assert (tmp_path / "merged.gguf").read_bytes() == (tmp_path / "ref.gguf").read_bytes()
        assert not any(k in meta(Gguf(tmp_path / "merged.gguf")) for k in SPLIT_KEYS)


@pytest.mark.parametrize("fmt", ["safetensors", "npy", "raw"])
def test_other_formats_write_one_output_for_the_whole_model(tmp_path, model, fmt):
    unsplit, shards = model
    ref, out = tmp_path / f"ref.{fmt}", tmp_path / f"out.{fmt}"
    dequant(unsplit, "-o", ref, "--format", fmt)
    dequant(shards[1], "-o", out, "--format", fmt)
    if fmt == "safetensors":
        assert out.read_bytes() == ref.read_bytes()  # __metadata__ without split.* included
        return
    files = sorted(p.name for p in out.iterdir())
    assert files == sorted(p.name for p in ref.iterdir()) and len(files) == 41
    for name in files:
        a, b = (out / name).read_bytes(), (ref / name).read_bytes()
        if name == "manifest.json":
            ma, mb = json.loads(a), json.loads(b)
            assert ma.pop("source") == str(shards[0]) and mb.pop("source") == str(unsplit)
            assert ma == mb and not any(k in ma["metadata"] for k in SPLIT_KEYS)
        else:
            assert a == b, name


def test_split_by_size_too(tmp_path, model):
    unsplit, _ = model
    shards = rewrite_gguf(ALL, tmp_path / "by-size.gguf", split_max_size=40_000)
    assert len(shards) > 3
    dequant(unsplit, "-o", tmp_path / "ref.gguf", "--to", "f32")
    dequant(shards[-1], "-o", tmp_path / "out.gguf", "--to", "f32")
    n = len(shards)
    outs = [tmp_path / f"out-{k:05}-of-{n:05}.gguf" for k in range(1, n + 1)]
    assert tensors(outs)[0] == tensors([tmp_path / "ref.gguf"])[0]


def test_output_named_as_a_shard_is_not_doubled(tmp_path, model):
    _, shards = model
    dequant(shards[0], "-o", tmp_path / "m-f16-00002-of-00003.gguf")
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"m-f16-0000{k}-of-00003.gguf" for k in (1, 2, 3)]


def test_shard_only_converts_that_file_with_a_notice(tmp_path, model):
    _, shards = model
    p = dequant(shards[1], "-o", tmp_path / "one.gguf", "--shard-only")
    assert p.stderr.splitlines()[0] == \
        "note: converting shard 2 of 3 alone (--shard-only): the result is not a loadable model by itself"
    assert sorted(tmp_path.iterdir()) == [tmp_path / "one.gguf"]
    got, _ = tensors([tmp_path / "one.gguf"])
    assert list(got) == Gguf(shards[1]).order
    assert meta(Gguf(tmp_path / "one.gguf"))["split.no"] == 1
    assert dequant(shards[1], "-o", tmp_path / "x.gguf", "--shard-only", "--merge", check=False).returncode == 2


def test_existing_shard_outputs_need_force_and_inputs_are_refused(tmp_path, model):
    _, shards = model
    out = tmp_path / "o.gguf"
    dequant(shards[0], "-o", out)
    for k in (1, 2):
        (tmp_path / f"o-0000{k}-of-00003.gguf").unlink()
    before = {p: p.read_bytes() for p in tmp_path.iterdir()}
    p = dequant(shards[0], "-o", out, "--to", "f32", check=False)
    assert_one_error(p, "o-00003-of-00003.gguf: exists", "--force")  # any shard in the way, named
    assert {p: p.read_bytes() for p in tmp_path.iterdir()} == before
    dequant(shards[0], "-o", out, "--to", "f32", "--force")
    assert len(list(tmp_path.iterdir())) == 3
    # An output shard that is one of the input shards.
    d = shards[0].parent
    p = dequant(shards[0], "-o", d / "model.gguf", "--force", check=False)
    assert_one_error(p, "is one of the input files")


# --- broken sets ------------------------------------------------------------------------------

def write_shard(path, no, count, total, names, extra=()):
    w = gguf.GGUFWriter(str(path), "test")
    w.add_key_value("split.no", no, GGUFValueType.UINT16)
    w.add_key_value("split.count", count, GGUFValueType.UINT16)
    w.add_key_value("split.tensors.count", total, GGUFValueType.INT32)
    for key, val, vtype in extra:
        w.add_key_value(key, val, vtype)
    for n in names:
        w.add_tensor(n, np.arange(32, dtype=np.float32))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def broken_set(d, case):
    paths = [d / f"b-0000{k}-of-00003.gguf" for k in (1, 2, 3)]
    names = [["a", "b"], ["c", "d"], ["e"]]
    total = [5, 5, 5]
    count = [3, 3, 3]
    no = [0, 1, 2]
    if case == "duplicate":
        names[2] = ["b"]
    elif case == "count":
        total = [6, 6, 6]
    elif case == "split_count":
        count[1] = 4
    elif case == "split_no":
        no[2] = 1
    for k, p in enumerate(paths):
        write_shard(p, no[k], count[k], total[k], names[k])
    if case == "missing":
        paths[2].unlink()
    return paths


BROKEN = {
    # case: (the file the error names, words in it)
    "missing": (2, ["shard 3 of 3", "No such file"]),
    "duplicate": (2, ["tensor 'b' is also in", "b-00001-of-00003.gguf"]),
    "count": (0, ["split.tensors.count is 6", "hold 5 tensors"]),
    "split_count": (1, ["split.count", "4", "3 shards"]),
    "split_no": (2, ["split.no is 1", "shard 3 of 3"]),
}


@pytest.mark.parametrize("case", list(BROKEN))
def test_a_broken_set_is_one_error_naming_the_file(tmp_path, case):
    src = tmp_path / "src"
    src.mkdir()
    paths = broken_set(src, case)
    bad, words = BROKEN[case]
    out = tmp_path / "out"
    out.mkdir()
    for given in (0, 1):
        for fmt in ("gguf", "safetensors", "npy"):
            p = dequant(paths[given], "-o", out / f"x.{fmt}", "--format", fmt, check=False)
            assert_one_error(p, f"error: {paths[bad]}: ", *words)
            assert os.listdir(out) == [], "nothing written"
        p = tool("gguf-inspect", paths[given])
        assert_one_error(p, f"error: {paths[bad]}: ", *words)
        assert p.stdout == ""
        for flag in (["--json"], ["--markdown"], ["--shards"]):
            assert tool("gguf-inspect", paths[given], *flag).returncode == 1
    # --shard-only reads the named file alone, whatever the others say.
    dequant(paths[0], "-o", out / "alone.gguf", "--shard-only")
    assert tool("gguf-inspect", paths[0], "--shard-only").returncode == 0


def test_a_shard_whose_name_hides_the_others(tmp_path):
    path = tmp_path / "renamed.gguf"
    write_shard(path, 0, 3, 5, ["a"])
    p = dequant(path, "-o", tmp_path / "x.gguf", check=False)
    assert_one_error(p, "NAME-0000K-of-0000N.gguf", "--shard-only")
    assert sorted(tmp_path.iterdir()) == [path]
    assert tool("gguf-inspect", path, "--shard-only").returncode == 0


# --- gguf-inspect -----------------------------------------------------------------------------

def inspect_json(*args):
    p = tool("gguf-inspect", *args, "--json")
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


def test_inspect_on_one_shard_gives_the_whole_model(model):
    unsplit, shards = model
    whole = inspect_json(unsplit)["summary"]
    for k, shard in enumerate(shards):
        d = inspect_json(shard)
        s = d["summary"]
        assert s["split"] == {"shard": k + 1, "count": 3, "whole_model": True}
        for key in ("tensors", "parameters", "bytes", "bits_per_weight", "by_type"):
            if key == "by_type":  # the shares are of all files, whose headers differ
                assert [{**b, "share": 0} for b in s[key]] == [{**b, "share": 0} for b in whole[key]]
            else:
                assert s[key] == whole[key], key
        assert [t["name"] for t in d["tensors"]] == Gguf(shard).order  # this shard's table
        alone = inspect_json(shard, "--shard-only")["summary"]
        assert alone["split"]["whole_model"] is False and alone["tensors"] == len(Gguf(shard).order)
    text = tool("gguf-inspect", shards[1]).stdout
    assert "shard 2 of 3 of a split model" in text and "Totals (all 3 shards)" in text
    assert "Tensors (15)" in text
    text = tool("gguf-inspect", shards[1], "--shard-only").stdout
    assert "--shard-only: the totals are this file's alone" in text and "Totals (all" not in text
    md = tool("gguf-inspect", shards[1], "--markdown").stdout
    assert "Shard 2 of 3 of a split model; the totals are of all 3 shards." in md


def test_inspect_shards_lists_every_shard(model):
    _, shards = model
    d = inspect_json(shards[2], "--shards")
    assert [s["file"] for s in d["summary"]["shards"]] == [str(p) for p in shards]
    assert [[t["name"] for t in s["tensors"]] for s in d["summary"]["shards"]] == [Gguf(p).order for p in shards]
    assert tool("gguf-inspect", shards[2], "--shards", "--shard-only").returncode == 2


@pytest.mark.parametrize("split", [False, True])
def test_inspect_gives_the_exact_sizes_gguf_dequant_writes(tmp_path, model, split):
    unsplit, shards = model
    src = shards[1] if split else unsplit
    dq = inspect_json(src)["summary"]["dequantized"]
    assert list(dq) == ["f16", "bf16", "f32"]
    for to in dq:
        for variant, flags in (("default", []), ("all", ["--all"])):
            out = tmp_path / f"{to}-{variant}"
            out.mkdir()
            dequant(src, "-o", out / "o.gguf", "--to", to, *flags)
            files = list(out.iterdir())
            assert dq[to][variant]["files"] == len(files) == (3 if split else 1)
            assert dq[to][variant]["file_bytes"] == sum(f.stat().st_size for f in files)
            got, _ = tensors(sorted(files))
            assert dq[to][variant]["tensor_bytes"] == sum(len(t[2]) for t in got.values())


# --- gguf-hexdump -----------------------------------------------------------------------------

def test_hexdump_finds_a_tensor_in_any_shard(model):
    unsplit, shards = model
    name = Gguf(shards[2]).order[-1]
    want = tool("gguf-hexdump", unsplit, "--tensor", name, "--json", "--count", "2")
    assert want.returncode == 0, want.stderr
    p = tool("gguf-hexdump", shards[0], "--tensor", name, "--json", "--count", "2")
    assert p.returncode == 0, p.stderr
    assert p.stderr == f"note: '{name}' is in {shards[2]}\n"
    got, ref = json.loads(p.stdout), json.loads(want.stdout)
    for g, r in zip(got, ref):
        assert g.pop("offset") - r.pop("offset") == Gguf(shards[2]).tensors[name]["offset"] - Gguf(unsplit).tensors[name]["offset"]
        assert g == r
    # A tensor in the named shard needs no other shard; an unknown name is looked for in all.
    assert tool("gguf-hexdump", shards[0], "--tensor", Gguf(shards[0]).order[0]).stderr == ""
    p = tool("gguf-hexdump", shards[0], "--tensor", name[:-1])
    assert_one_error(p, "did you mean", name, rc=2)
