"""One rule for choosing tensors by name, in every tool (issue 17 item 4): each --tensors glob
(and each --range glob of --check) must match a tensor, else exit 2 (the arguments, not the file,
are wrong: a script tells a typo from a failed check) with one error line naming the glob and the
closest names; gguf-hexdump --tensor takes a glob that names exactly one."""
import os
import subprocess
from pathlib import Path

import pytest

from cli_common import assert_one_error as one_error, rewrite_gguf

BIN = Path(os.environ["GGUFTK_BIN"])
ALL = Path(os.environ["GGUFTK_FIXTURES"]) / "all-types.gguf"


def run(tool, *args):
    return subprocess.run([str(BIN / tool), *map(str, args)], capture_output=True, text=True)


def assert_one_error(p, *words):
    one_error(p, *words, rc=2)


# Each tool, given --tensors GLOB, in the form that reads the model and writes nothing.
SELECTING = {
    "inspect": lambda glob, tmp: run("gguf-inspect", ALL, "--tensors", glob),
    "dequant": lambda glob, tmp: run("gguf-dequant", ALL, "-o", tmp / "out.gguf", "--tensors", glob),
    "check": lambda glob, tmp: run("gguf-dequant", ALL, "--check", "--tensors", glob),
    "compare": lambda glob, tmp: run("gguf-compare", ALL, ALL, "--tensors", glob),
}


@pytest.mark.parametrize("tool", SELECTING)
def test_a_glob_that_matches_nothing_is_an_error_with_the_closest_names(tool, tmp_path):
    p = SELECTING[tool]("q4_k*", tmp_path)  # case: the tensors are q4_K.*
    assert_one_error(p, "no tensor matches 'q4_k*'", "did you mean 'q4_K.weight', 'q4_K.3d'")
    p = SELECTING[tool]("nomatch*", tmp_path)
    assert_one_error(p, "no tensor matches 'nomatch*' among ", "40 tensors")
    assert not (tmp_path / "out.gguf").exists() and list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("tool", SELECTING)
def test_every_glob_must_match_not_just_one(tool, tmp_path):
    # A typo beside a glob that matches would otherwise go unnoticed.
    assert SELECTING[tool]("q8_0.weight", tmp_path).returncode == 0
    p = SELECTING[tool]("q8_0.weight,q6_K.wieght", tmp_path)
    assert_one_error(p, "no tensor matches 'q6_K.wieght'", "did you mean 'q6_K.weight'")


def test_a_range_glob_must_match_a_checked_tensor():
    assert run("gguf-dequant", ALL, "--check", "--range", "q8_0.*=-100:100").returncode == 0
    p = run("gguf-dequant", ALL, "--check", "--range", "q8_0.*=-100:100", "--range", "token_embd.weight=-1:1")
    assert_one_error(p, "--range: no tensor matches 'token_embd.weight'")
    # Only the tensors --tensors selects are checked: a range outside them matches none of them.
    p = run("gguf-dequant", ALL, "--check", "--tensors", "q4_0.*", "--range", "q8_0.*=-1:1")
    assert_one_error(p, "--range: 'q8_0.*' matches only tensors that --tensors leaves out ('q8_0.weight', 'q8_0.4d')")
    assert "did you mean" not in p.stderr


def test_hexdump_tensor_takes_a_glob_that_names_one_tensor():
    want = run("gguf-hexdump", ALL, "--tensor", "q6_K.weight", "--json")
    assert want.returncode == 0, want.stderr
    got = run("gguf-hexdump", ALL, "--tensor", "q6_K.w*", "--json")
    assert got.returncode == 0 and got.stdout == want.stdout, got.stderr
    p = run("gguf-hexdump", ALL, "--tensor", "q4_*")
    assert_one_error(p, "'q4_*' matches 4 tensors ('q4_0.weight', 'q4_1.weight', 'q4_K.weight', 'q4_K.3d')", "name one")
    p = run("gguf-hexdump", ALL, "--tensor", "q4_k*")
    assert_one_error(p, "no tensor matches 'q4_k*'", "did you mean 'q4_K.weight'")
    p = run("gguf-hexdump", ALL, "--tensor", "q4_k.weight")
    assert_one_error(p, "no tensor named 'q4_k.weight'", "did you mean 'q4_K.weight'")


def test_a_glob_over_a_split_model_must_name_one_tensor_of_the_whole_model(tmp_path):
    shards = rewrite_gguf(ALL, tmp_path / "m.gguf", split_max_tensors=15)
    assert len(shards) == 3
    # q6_K.* has two tensors; from the first shard, the glob is judged over all three shards.
    names = {n: i for i, s in enumerate(shards) for n in
             run("gguf-inspect", s, "--json", "--no-metadata").stdout.split('"name": "')[1:] for n in [n.split('"')[0]]}
    last = max(names, key=lambda n: names[n])
    got = run("gguf-hexdump", shards[0], "--tensor", last[:-1] + "*", "--json")
    want = run("gguf-hexdump", shards[names[last]], "--tensor", last, "--json")
    assert got.returncode == 0 and got.stdout == want.stdout, got.stderr
    assert f"note: '{last}' is in " in got.stderr
    p = run("gguf-hexdump", shards[0], "--tensor", "*.weight")
    assert_one_error(p, "'*.weight' matches ", "name one")
