"""The tools on a terminal (issue 17 items 7 and 8): every line fits its width, long tensor
names are shortened in the middle with "…", gguf-dequant draws a progress line; in a pipe the
output keeps full names. The terminal is a pseudo-terminal 80 columns wide (TIOCSWINSZ).
Widths are counted in code points, colour codes left out."""
import fcntl
import os
import pty
import re
import struct
import subprocess
import termios
from pathlib import Path

import numpy as np
import pytest

gguf = pytest.importorskip("gguf")
from cli_common import read_terminal  # noqa: E402

BIN = Path(os.environ["GGUFTK_BIN"])
ALL = Path(os.environ["GGUFTK_FIXTURES"]) / "all-types.gguf"
TOOLS = ("gguf-inspect", "gguf-dequant", "gguf-hexdump", "gguf-compare")
COLUMNS = 80
HEAD, TAIL = "blk.12.", "ffn_down.weight"
LONG = HEAD + "a_tensor_name_long_enough_to_widen_every_row_of_a_table_" * 2 + TAIL


@pytest.fixture(scope="module")
def long_named(tmp_path_factory):
    """A model whose tensors include one with a 130-character name, quantized (Q8_0)."""
    path = tmp_path_factory.mktemp("terminal") / "long.gguf"
    w = gguf.GGUFWriter(str(path), "llama")
    w.add_string("general.name", "a model with a name long enough to need more than one line " * 2)
    w.add_tensor("token_embd.weight", np.linspace(-1, 1, 64, dtype=np.float32).reshape(2, 32))
    blocks = b"".join(np.float16(0.01).tobytes() + np.arange(-16, 16, dtype=np.int8).tobytes() for _ in range(4))
    w.add_tensor(LONG, np.frombuffer(blocks, dtype=np.uint8).reshape(2, 2 * 34),
                 raw_dtype=gguf.GGMLQuantizationType.Q8_0)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return path


def on_pty(tool, *args, stream="stdout", rc=0, columns=COLUMNS):
    """Runs `tool` with `stream` (stdout or stderr) on a pseudo-terminal `columns` wide and the
    other one on a pipe; checks its exit status is `rc`; returns (the terminal's text, the pipe's
    bytes)."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    env = dict(os.environ)
    env.pop("COLUMNS", None)
    ends = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, stream: follower}
    p = subprocess.Popen([str(BIN / tool), *map(str, args)], env=env, **ends)
    os.close(follower)
    text = read_terminal(leader).decode()
    other = (p.stderr if stream == "stdout" else p.stdout).read()
    assert p.wait(timeout=60) == rc, other
    return text, other


def screen_lines(text):
    """What the terminal shows line by line, and each state of a line redrawn after "\\r"."""
    text = re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", text)
    return [seg for seg in re.split(r"[\r\n]", text) if seg]


def assert_fits(text, columns=COLUMNS):
    lines = screen_lines(text)
    assert lines
    too_wide = [line for line in lines if len(line) > columns]  # len(): code points
    assert not too_wide, too_wide


def shortened(text):
    """The long name as shown shortened: its start and its end around "…"."""
    return re.search(r"blk\.12\.\S*…\S*weight", text)


def test_inspect_fits_a_terminal_and_a_pipe_keeps_full_names(long_named):
    text, _ = on_pty("gguf-inspect", long_named)
    assert_fits(text)
    assert shortened(text) and LONG not in text
    piped = subprocess.run([str(BIN / "gguf-inspect"), long_named], capture_output=True, check=True).stdout.decode()
    assert LONG in piped and "…" + TAIL not in piped
    assert max(len(line) for line in piped.splitlines()) > COLUMNS


@pytest.mark.parametrize("args", [["--tensor", LONG], ["--tensor", "q4_K.weight"], ["--tensor", "iq2_xxs.weight"],
                                  ["--tensor", "q8_0.weight", "--element", "40"]])
def test_hexdump_block_views_fit_a_terminal(long_named, args):
    model = long_named if args[1] == LONG else ALL
    text, _ = on_pty("gguf-hexdump", model, *args)
    assert_fits(text)
    # Every block here has a field longer than the table's 8 bytes of hex: cut, and said so.
    assert "(hex: a field's first 8 bytes; every byte is in the dump below)" in text
    piped = subprocess.run([str(BIN / "gguf-hexdump"), model, *args], capture_output=True, check=True).stdout.decode()
    assert max(len(line) for line in piped.splitlines()) > COLUMNS  # eight values a line, in full
    assert "every byte is in the dump below" not in piped  # in a pipe the table has them all


def test_dequant_stats_fit_a_terminal(long_named, tmp_path):
    text, _ = on_pty("gguf-dequant", long_named, "-o", tmp_path / "a.gguf", "--all", "--stats")
    assert_fits(text)
    assert shortened(text)
    piped = subprocess.run([str(BIN / "gguf-dequant"), long_named, "-o", tmp_path / "b.gguf", "--all", "--stats"],
                           capture_output=True, check=True)
    assert LONG in piped.stdout.decode()


def test_dequant_progress_on_a_terminal(long_named, tmp_path):
    out = tmp_path / ("an-output-file-whose-name-alone-is-long-enough-to-push-the-summary-" * 2 + ".gguf")
    for args in (["-o", out, "--all"], ["--check"]):
        text, _ = on_pty("gguf-dequant", long_named, *args, stream="stderr")
        assert_fits(text)
        lines = screen_lines(text)
        progress = [line for line in lines if " elapsed" in line]
        assert progress, lines
        # The last report: every byte done, the last tensor started named (shortened).
        line = progress[-1]
        assert re.search(r"\b100%", line) and re.search(r"\d+ B of \d+ B", line), line
        assert re.search(r"\d+:\d\d elapsed", line) and re.search(r"ETA \d+:\d\d", line), line
        assert shortened(line), line
    assert out.exists()


def test_progress_only_on_a_terminal(long_named, tmp_path):
    p = subprocess.run([str(BIN / "gguf-dequant"), long_named, "-o", tmp_path / "x.gguf"], capture_output=True, check=True)
    assert b"elapsed" not in p.stderr and b"\r" not in p.stderr


@pytest.mark.parametrize("tool", TOOLS)
def test_help_fits_80_columns_and_constraints_read_on_their_own_lines(tool):
    text = subprocess.run([str(BIN / tool), "--help"], capture_output=True, check=True).stdout.decode()
    assert_fits(text)
    for line in text.splitlines():
        for label in ("Needs:", "Excludes:", "Env:"):
            if label in line and not line.lstrip().startswith("--"):
                assert line.lstrip().startswith(label), line  # not run into the option or its text


def piped(tool, *args, rc=0):
    p = subprocess.run([str(BIN / tool), *map(str, args)], capture_output=True)
    assert p.returncode == rc, p.stderr
    return p.stdout.decode()


def tokens(text):
    return re.split(r"[\s,;:()\[\]]+", re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", text))


def assert_numbers_whole(text, full, rounded=False):
    """Every number standing alone in the piped output `full` stands alone in the terminal's
    `text` too: fitting it cut none. `rounded`: a statistic may be shown to 4 significant digits
    (gguf-dequant's tables on a terminal), within 1e-3 of its value."""
    number = r"-?\d+(\.\d+)?(e[-+]\d+)?"
    shown = set(tokens(text))
    missing = sorted({t for t in tokens(full) if re.fullmatch(number, t)} - shown)
    if rounded:
        values = [float(t) for t in shown if re.fullmatch(number, t)]
        missing = [m for m in missing if not any(abs(v - float(m)) <= 1e-3 * abs(float(m)) for v in values)]
    assert not missing, missing


@pytest.fixture(scope="module")
def long_path(long_named, tmp_path_factory):
    """The long-named model again under a file name long enough to push any summary line past 80."""
    path = tmp_path_factory.mktemp("terminal") / ("a-model-file-whose-name-alone-is-long-enough-to-push-lines-" * 2 + ".gguf")
    path.write_bytes(long_named.read_bytes())
    return path


@pytest.fixture(scope="module")
def converted(long_named, tmp_path_factory):
    """The long-named model with its Q8_0 tensor converted to F16: gguf-compare's B."""
    path = tmp_path_factory.mktemp("terminal") / "long-f16.gguf"
    subprocess.run([str(BIN / "gguf-dequant"), long_named, "-o", path], capture_output=True, check=True)
    return path


def test_hexdump_header_fits_a_terminal(long_named):
    text, _ = on_pty("gguf-hexdump", long_named)
    assert_fits(text)
    assert shortened(text)  # the tensor info record's title
    full = piped("gguf-hexdump", long_named)
    assert max(len(line) for line in full.splitlines()) > COLUMNS
    assert_numbers_whole(text, full)
    fixture, _ = on_pty("gguf-hexdump", ALL)
    assert_fits(fixture)


def test_hexdump_row_fits_a_terminal(long_named):
    text, _ = on_pty("gguf-hexdump", long_named, "--tensor", LONG, "--row", "1")
    assert_fits(text)
    assert shortened(text) and LONG not in text
    full = piped("gguf-hexdump", long_named, "--tensor", LONG, "--row", "1")
    assert LONG in full
    assert_numbers_whole(text, full)


@pytest.mark.parametrize("args", [[], ["--stats"], ["--stats", "--range", "*=-0.1:0.1"], ["--range", "*=-0.1:0.1"]])
def test_dequant_check_fits_a_terminal(long_path, args):
    rc = 1 if "--range" in args else 0  # the range fails every tensor: FAIL lines
    text, _ = on_pty("gguf-dequant", long_path, "--check", *args, rc=rc)
    full = piped("gguf-dequant", long_path, "--check", *args, rc=rc)
    # A FAIL line is one line, whole, on a terminal too (one failure, one line to grep or copy):
    # the terminal may fold it, the tool neither cuts nor wraps it. Everything else fits.
    fails = [line for line in screen_lines(text) if line.startswith("FAIL")]
    assert fails == [line for line in full.splitlines() if line.startswith("FAIL")]
    assert len(fails) == (2 if rc else 0) and (not rc or any(LONG in line for line in fails))
    rest = "\n".join(line for line in screen_lines(text) if not line.startswith("FAIL"))
    assert_fits(rest)
    assert "…" in rest.splitlines()[-2] + rest.splitlines()[-1]  # the summary's path
    if "--stats" in args:
        assert shortened(rest) and LONG not in rest
    assert long_path.name in full and (not args or LONG in full)
    assert max(len(line) for line in full.splitlines()) > COLUMNS
    # The values (timing aside: a second run takes its own time).
    assert_numbers_whole(text, re.sub(r"in \d+\.\d+ s", "", full), rounded="--stats" in args)


def test_compare_fits_a_terminal(long_named, converted):
    text, _ = on_pty("gguf-compare", long_named, converted, rc=1)  # the F16 values differ: rc 1
    assert_fits(text)
    assert shortened(text) and LONG not in text
    full = piped("gguf-compare", long_named, converted, rc=1)
    assert max(len(line) for line in full.splitlines()) > COLUMNS
    assert_numbers_whole(text, full)


def test_a_wide_terminal_shows_full_names(long_named, converted, tmp_path):
    wide = 240
    for tool, args, rc in [("gguf-dequant", [long_named, "--check", "--stats"], 0),
                           ("gguf-compare", [long_named, converted], 1),
                           ("gguf-dequant", [long_named, "-o", tmp_path / "w.gguf", "--all", "--stats"], 0)]:
        text, _ = on_pty(tool, *args, rc=rc, columns=wide)
        assert_fits(text, wide)
        assert LONG in text, tool
