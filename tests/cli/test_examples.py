"""Every example command runs (issue 17): each line of README.md's shell code blocks and of each
tool's `--help` Examples section is run by bash, as a user would type it, in a directory that
holds files of the names the examples use (model.gguf, model-Q4_K_M.gguf, a split set
model-0000K-of-00003.gguf, model-f16.gguf, dump/, tests/fixtures/all-types.gguf ...), and must
exit as documented (0 unless listed in EXIT) with output. Only the commands listed in SKIPPED
are not run, each with its reason: a new remote, GPU or non-tool example fails here until it is
listed. The README's `$ command` blocks must print the lines they show.

The model is small and llama-shaped (gguf-py's writer): the tensor names the examples use, a
general.file_type, the metadata --ctx needs; its quantized blocks are the ggml-written fixture's.
"""
import fcntl
import json
import os
import pty
import re
import shlex
import shutil
import struct
import subprocess
import termios
from pathlib import Path

import numpy as np
import pytest

gguf = pytest.importorskip("gguf")
from gguf.constants import GGMLQuantizationType as T  # noqa: E402
from cli_common import gguf_py_read, read_terminal, rewrite_gguf  # noqa: E402

BIN = Path(os.environ["GGUFTK_BIN"])
FIXTURES = Path(os.environ["GGUFTK_FIXTURES"])
README = Path(os.environ["GGUFTK_SOURCE"]) / "README.md"
TOOLS = ("gguf-inspect", "gguf-dequant", "gguf-compare", "gguf-hexdump")

# Not run, and why. Anything else that looks remote, needs a GPU or is not one of the tools is
# an error (test_every_skip_is_listed), so a new example is never skipped by accident.
SKIPPED = {
    "gguf-inspect https://host/models/model.gguf": "remote",
    "gguf-inspect hf://Qwen/Qwen2.5-0.5B-Instruct-GGUF/qwen2.5-0.5b-instruct-q4_k_m.gguf": "remote",
    "gguf-inspect hf://OWNER/REPO/model.gguf": "remote",
    "gguf-hexdump https://host/model.gguf --tensor output.weight --block 3": "remote",
    "scripts/setup.sh": "installs packages and builds (tests/ is what it builds)",
    "ctest --test-dir build --output-on-failure": "runs this test",
    "export PKG_CONFIG_PATH=P/lib/pkgconfig": "the C library's packaging: ctest capi_installed",
    "cc engine.c $(pkg-config --cflags --libs gguftk) -Wl,-rpath,$(pkg-config --variable=libdir gguftk)":
        "the C library's packaging: ctest capi_installed",
}

# The examples whose output is empty on a model that passes every check.
SILENT = {
    "gguf-dequant model.gguf --check --json | jq '.tensors[] | select(.failures != [])'": "no tensor fails",
}

# The examples that show a difference, with the exit status their tool documents for it.
EXIT = {
    # the quantization error: the tensors differ (cmp(1)'s 1)
    "gguf-compare original-f16.gguf model-Q4_K_M.gguf": 1,
}


def strip_comment(line):
    """The command of an example line without its `  # comment`, as bash reads it (a `#` that
    starts a word, outside quotes)."""
    quote = None
    for i, c in enumerate(line):
        if quote:
            quote = None if c == quote else quote
        elif c in "'\"":
            quote = c
        elif c == "#" and (i == 0 or line[i - 1].isspace()):
            return line[:i].strip()
    return line.strip()


def readme_commands():
    """Each command line of README.md's ```sh blocks, in order."""
    out, in_sh = [], False
    for line in README.read_text().splitlines():
        fence = line.strip()
        if fence.startswith("```"):
            in_sh = not in_sh and fence[3:] in ("sh", "bash", "shell")
            continue
        if in_sh and fence:
            out.append(strip_comment(fence))
    return out


def help_commands(tool):
    """The lines of `tool --help`'s Examples section."""
    text = subprocess.run([str(BIN / tool), "--help"], capture_output=True, text=True, check=True).stdout
    lines = text.splitlines()
    start = lines.index("Examples:") + 1
    out = []
    for line in lines[start:]:
        if not line.strip():
            break
        out.append(strip_comment(line))
    assert out, f"{tool} --help has no examples"
    return out


def all_examples():
    ex = [("README", c) for c in readme_commands()]
    for tool in TOOLS:
        ex += [(tool + " --help", c) for c in help_commands(tool)]
    return ex


EXAMPLES = all_examples()


def needs_skip(cmd):
    """Why `cmd` cannot run here, or None."""
    if re.search(r"\b(https?|hf)://", cmd):
        return "remote"
    if re.search(r"--device\s+cuda|-L gpu|gpu-check|bench-gpu", cmd):
        return "gpu"
    if cmd.split()[0] not in TOOLS:
        return "not a tool"
    return None


def test_examples_are_found():
    """Every tool's help has examples and the README has each tool's: the extraction works."""
    sources = {s for s, _ in EXAMPLES}
    assert sources == {"README"} | {t + " --help" for t in TOOLS}
    readme_tools = {c.split()[0] for s, c in EXAMPLES if s == "README"}
    assert set(TOOLS) <= readme_tools


def test_every_skip_is_listed():
    unlisted = [c for _, c in EXAMPLES if needs_skip(c) and c not in SKIPPED]
    assert not unlisted, "examples that cannot run here must be listed in SKIPPED: " + repr(unlisted)
    stale = set(SKIPPED) - {c for _, c in EXAMPLES}
    assert not stale, "SKIPPED names commands no example has any more: " + repr(stale)
    for listed in (EXIT, SILENT):
        stale = set(listed) - {c for _, c in EXAMPLES}
        assert not stale, "no example has these commands any more: " + repr(stale)


def write_model(path):
    """A two-layer llama model of Q4_K_M's kinds of tensors (Q4_K, Q6_K, Q8_0, F32)."""
    fixture = {t.name: t for t in gguf_py_read(FIXTURES / "all-types.gguf").tensors}

    def blocks(name):  # the fixture's raw blocks, shaped as gguf-py's writer takes them (1024 x 4)
        return np.array(fixture[name].data, dtype=np.uint8).reshape(4, -1)

    rng = np.random.default_rng(17)
    w = gguf.GGUFWriter(str(path), "llama")
    w.add_block_count(2)
    w.add_context_length(4096)
    w.add_embedding_length(1024)
    w.add_head_count(8)
    w.add_head_count_kv(2)
    w.add_file_type(15)  # MOSTLY_Q4_K_M
    w.add_tensor("token_embd.weight",
                 gguf.quants.quantize(rng.uniform(-0.5, 0.5, (64, 1024)).astype(np.float32), T.Q8_0),
                 raw_dtype=T.Q8_0)
    for i in range(2):
        b = f"blk.{i}."
        w.add_tensor(b + "attn_norm.weight", rng.uniform(0.5, 1.5, 1024).astype(np.float32))
        w.add_tensor(b + "attn_q.weight", blocks("q4_K.weight"), raw_dtype=T.Q4_K)
        w.add_tensor(b + "attn_v.weight", blocks("q6_K.weight"), raw_dtype=T.Q6_K)
        w.add_tensor(b + "ffn_down.weight", blocks("q6_K.weight" if i == 0 else "q4_K.weight"),
                     raw_dtype=T.Q6_K if i == 0 else T.Q4_K)
    w.add_tensor("output_norm.weight", rng.uniform(0.5, 1.5, 1024).astype(np.float32))
    # 2048 wide and 8 rows, so --row 3 --cols 800:816, --at 3,810 and --element 9000 exist (Qwen2.5-0.5B's 896-wide
    # output.weight holds them too)
    w.add_tensor("output.weight",
                 gguf.quants.quantize(rng.uniform(-1, 1, (8, 2048)).astype(np.float32), T.Q8_0),
                 raw_dtype=T.Q8_0)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def dequant(*args):
    subprocess.run([str(BIN / "gguf-dequant"), *map(str, args), "--device", "cpu"],
                   check=True, capture_output=True)


def raw_dumps(model, tmp, dump):
    """An engine's dumps of every tensor of `model` in F16: dump/NAME.bin."""
    dequant(model, "-o", tmp, "--format", "raw", "--to", "f16", "--all")
    manifest = json.loads((tmp / "manifest.json").read_text())
    dump.mkdir()
    for t in manifest["tensors"]:
        shutil.copyfile(tmp / t["file"], dump / (t["name"] + ".bin"))


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    """A directory of the files the examples name."""
    d = tmp_path_factory.mktemp("inputs")
    work = tmp_path_factory.mktemp("work")
    write_model(d / "model.gguf")
    shutil.copyfile(d / "model.gguf", d / "model-Q4_K_M.gguf")
    shards = rewrite_gguf(d / "model.gguf", work / "model.gguf", split_max_tensors=4)
    assert [s.name for s in shards] == [f"model-0000{k}-of-00003.gguf" for k in (1, 2, 3)]
    for s in shards:
        s.rename(d / s.name)
    dequant(d / "model.gguf", "-o", d / "model-f16.gguf", "--all")  # as an engine's F16 buffers
    dequant(d / "model.gguf", "-o", d / "model-f32.gguf", "--to", "f32")
    dequant(d / "model.gguf", "-o", d / "model.safetensors", "--to", "f32", "--all")
    for name in ("again-f16.gguf", "original-f16.gguf"):
        shutil.copyfile(d / "model-f16.gguf", d / name)
    raw_dumps(d / "model-f16.gguf", work / "raw", d / "dump")
    (d / "tests" / "fixtures").mkdir(parents=True)
    shutil.copyfile(FIXTURES / "all-types.gguf", d / "tests" / "fixtures" / "all-types.gguf")
    dequant(FIXTURES / "all-types.gguf", "-o", d / "all-f16.gguf")
    return d


def outputs(cmd):
    """What `cmd` writes besides its stdout: the target of `-o` or of a shell redirection."""
    words = shlex.split(cmd)
    out = [words[i + 1] for i, w in enumerate(words[:-1]) if w in ("-o", ">", ">>")]
    return out


def workdir(inputs, tmp_path, cmd):
    """A copy of `inputs` (hard links) without what `cmd` writes, so no example needs --force."""
    d = tmp_path / "run"
    shutil.copytree(inputs, d, copy_function=os.link)
    for o in outputs(cmd):
        p = d / o
        if p.is_dir():
            shutil.rmtree(p)
        elif p.exists():
            p.unlink()
    return d


def example_env():
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ['PATH']}", NO_COLOR="1")
    env.pop("COLUMNS", None)
    return env


def run_example(cmd, cwd):
    return subprocess.run(["bash", "-o", "pipefail", "-c", cmd], cwd=cwd, env=example_env(),
                          capture_output=True, text=True, timeout=120)


def run_on_terminal(cmd, cwd):
    """`cmd`'s stdout on an 80-column pseudo-terminal, as a reader of the README sees it."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    p = subprocess.Popen(["bash", "-c", cmd], cwd=cwd, env=example_env(), stdout=follower,
                         stderr=subprocess.PIPE)
    os.close(follower)
    out = read_terminal(leader).decode().replace("\r\n", "\n")
    err = p.stderr.read().decode()
    assert p.wait(timeout=120) == 0, err
    return out


def wrote(path):
    """`path`, or the shards of it, exists with content."""
    if path.is_dir():
        return any(path.iterdir())
    if path.is_file():
        return path.stat().st_size > 0
    return any(path.parent.glob(path.stem + "-0000?-of-0000?" + path.suffix))


@pytest.mark.parametrize("source, cmd", [e for e in EXAMPLES if e[1] not in SKIPPED],
                         ids=[f"{s}: {c}" for s, c in EXAMPLES if c not in SKIPPED])
def test_example_runs(inputs, tmp_path, source, cmd):
    d = workdir(inputs, tmp_path, cmd)
    p = run_example(cmd, d)
    want = EXIT.get(cmd, 0)
    assert p.returncode == want, f"{source}: `{cmd}` exited {p.returncode}, not {want}:\n{p.stderr}"
    written = outputs(cmd)
    for o in written:
        assert wrote(d / o), f"{source}: `{cmd}` wrote nothing to {o}"
    if not written and cmd not in SILENT:
        assert p.stdout.strip(), f"{source}: `{cmd}` printed nothing"


def transcripts():
    """The README's ```text blocks of `$ command` lines: (command, the lines shown under it, as
    far left as the command's `$`)."""
    out, block = [], None
    for line in README.read_text().splitlines():
        s = line.strip()
        if s == "```text":
            block = []
        elif s == "```" and block is not None:
            out += [(cmd, lines) for cmd, lines in block]
            block = None
        elif block is not None:
            if s.startswith("$ "):
                indent = len(line) - len(line.lstrip())
                block.append((s[2:], []))
            elif block:
                block[-1][1].append(line[indent:])
    return out


TRANSCRIPTS = transcripts()


def test_readme_has_transcripts():
    assert TRANSCRIPTS


@pytest.mark.parametrize("cmd, shown", TRANSCRIPTS, ids=[c for c, _ in TRANSCRIPTS])
def test_readme_transcript_prints_what_it_shows(inputs, tmp_path, cmd, shown):
    """Each shown line is printed on an 80-column terminal, in order; `...` stands for lines
    left out."""
    out = run_on_terminal(cmd, workdir(inputs, tmp_path, cmd))
    printed = out.splitlines()
    pos = 0
    for want in shown:
        if want.strip() == "...":
            continue
        while pos < len(printed) and printed[pos] != want:
            pos += 1
        assert pos < len(printed), f"`{cmd}` does not print, in this order:\n{want}\n---\n{out}"
        pos += 1


# Commands the README names in its prose, with their output in the code block after them.
SHOWN = {"gguf-compare tests/fixtures/all-types.gguf all-f16.gguf --tensors 'q4_K*,f32*'": 1}


def shown_after(cmd):
    """The lines of the first code block after `cmd` (in backticks) in README.md."""
    text = README.read_text()
    at = text.index(f"`{cmd}`")
    start = text.index("```\n", at) + 4
    return text[start:text.index("```", start)].splitlines()


@pytest.mark.parametrize("cmd", SHOWN)
def test_readme_output_block_is_what_the_command_prints(inputs, tmp_path, cmd):
    p = run_example(cmd, workdir(inputs, tmp_path, cmd))
    assert p.returncode == SHOWN[cmd], p.stderr
    assert p.stdout.splitlines() == shown_after(cmd)
