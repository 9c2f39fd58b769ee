"""File types, the general.file_type mixes (issue 17 item 9): `gguf-hexdump --describe Q4_K_M`
says what the mix is and which types its tensors get; gguf-inspect names the mix of a file."""
import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

gguf = pytest.importorskip("gguf")

BIN = Path(os.environ["GGUFTK_BIN"])


def tool(name, *args):
    return subprocess.run([str(BIN / name), *map(str, args)], capture_output=True, text=True, timeout=60)


def describe(name, *args):
    p = tool("gguf-hexdump", "--describe", name, *args)
    assert p.returncode == 0, p.stderr
    return p.stdout


def rows(text):
    """The table's rows: tensors -> type, continuation lines joined."""
    out, last = {}, None
    for line in text.splitlines():
        if line.startswith("  ") and line[2] != " ":
            last = line[2:24].strip()
            out[last] = line[24:]
        elif line.startswith(" " * 24) and last:
            out[last] += " " + line.strip()
    return out


# gguf-py's LlamaFileType (llama.cpp's llama_ftype), the list this is checked against.
FILE_TYPES = [(m.name, m.value) for m in gguf.LlamaFileType if m.name != "GUESSED"]


@pytest.mark.parametrize("name, number", FILE_TYPES, ids=[n for n, _ in FILE_TYPES])
def test_every_llama_file_type_is_described_with_its_number(name, number):
    doc = json.loads(describe(name, "--json"))  # MOSTLY_Q4_K_M, as gguf-py spells it
    assert doc["general.file_type"] == number
    assert doc["llama_ftype"] == "LLAMA_FTYPE_" + name
    assert name.endswith(doc["file_type"])


def test_q4_k_m_says_which_types_its_tensors_get():
    text = describe("Q4_K_M")
    assert " ".join(text.split()).startswith(
        "Q4_K_M: a file type, general.file_type 15 (llama.cpp's LLAMA_FTYPE_MOSTLY_Q4_K_M)")
    r = rows(text)
    assert r["output.weight"] == "Q6_K"
    assert r["token_embd.weight"] == "Q4_K"
    assert r["attn_v.weight"].startswith("Q6_K in about half the layers")
    assert r["ffn_down"] == r["attn_v.weight"]
    assert r["every other weight"] == "Q4_K"
    assert r["1-D (norms, biases)"].startswith("F32")
    assert "gguf-hexdump --describe TYPE, docs/formats/TYPE.md" in text
    assert all(len(line) <= 80 for line in text.splitlines()), text


def test_names_in_any_case_and_with_llama_cpp_prefix():
    want = describe("Q4_K_M")
    for name in ("q4_k_m", "MOSTLY_Q4_K_M", "LLAMA_FTYPE_MOSTLY_Q4_K_M"):
        assert describe(name) == want


@pytest.mark.parametrize("name, base, others, rule", [
    ("Q5_K_S", "Q5_K", "Q5_K", None),
    ("Q3_K_M", "Q3_K", "Q3_K", ("attn_output.weight", "Q4_K")),
    ("MOSTLY_Q2_K", "Q2_K", "Q2_K", ("ffn_down", "Q3_K")),
    ("MOSTLY_IQ2_XXS", "IQ2_XXS", "IQ2_XXS", ("token_embd.weight", "Q2_K")),
    ("IQ2_M", "IQ2_S", "IQ2_S", ("output.weight", "Q5_K")),
    ("MXFP4_MOE", "MXFP4", "Q8_0", ("expert tensors (3-D)", "MXFP4")),
])
def test_other_mixes(name, base, others, rule):
    text = describe(name)
    r = rows(text)
    assert f"around the base type {base}." in " ".join(text.split())
    assert r["every other weight"] == others
    if rule:
        assert r[rule[0]] == rule[1]


def test_a_float_file_type_is_not_a_mix():
    text = describe("MOSTLY_F16")
    assert "Not a mix" in text and "output.weight" not in text


def test_a_tensor_type_name_is_still_the_tensor_type():
    """Q8_0 is a tensor type and a file type: the bare name is the type's layout, as before."""
    assert "file type" not in describe("Q8_0")
    assert "general.file_type 7" in describe("MOSTLY_Q8_0")


@pytest.mark.parametrize("wrong, near", [("Q4_K_MM", "'Q4_K_M'"), ("Q4_KM", "'Q4_K_M'"), ("iq3_xxxs", "'IQ3_XXS'")])
def test_an_unknown_name_is_a_usage_error_naming_the_closest(wrong, near):
    p = tool("gguf-hexdump", "--describe", wrong)
    assert p.returncode == 2, p.stderr
    lines = [ln for ln in p.stderr.strip().splitlines() if ln != "Run with --help for usage."]
    assert len(lines) == 1 and lines[0].startswith("error: "), p.stderr
    assert f"unknown type '{wrong}'; did you mean " in lines[0] and near in lines[0], lines[0]
    assert "the file types: F32 F16" in lines[0]


def small_model(path, file_type):
    w = gguf.GGUFWriter(str(path), "llama")
    if file_type is not None:
        w.add_file_type(file_type)
    w.add_tensor("token_embd.weight", np.ones((2, 32), dtype=np.float32))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return path


def file_type_line(text):
    return next(ln for ln in text.splitlines() if "general.file_type" in ln.replace("\\", ""))


@pytest.mark.parametrize("view", ["text", "--markdown"])
def test_inspect_names_the_mix(tmp_path, view):
    args = [] if view == "text" else [view]
    p = tool("gguf-inspect", small_model(tmp_path / "m.gguf", 15), *args)
    assert p.returncode == 0, p.stderr
    assert file_type_line(p.stdout).rstrip(" |").endswith("15 (Q4_K_M)"), file_type_line(p.stdout)


def test_inspect_names_no_mix_it_does_not_know(tmp_path):
    p = tool("gguf-inspect", small_model(tmp_path / "m.gguf", 1234))
    assert p.returncode == 0, p.stderr
    assert file_type_line(p.stdout).rstrip().endswith(" 1234")
