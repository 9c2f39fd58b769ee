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


def on_pty(tool, *args, stream="stdout"):
    """Runs `tool` with `stream` (stdout or stderr) on an 80-column pseudo-terminal and the other
    one on a pipe; returns (the terminal's text, the pipe's bytes)."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, COLUMNS, 0, 0))
    env = dict(os.environ)
    env.pop("COLUMNS", None)
    ends = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, stream: follower}
    p = subprocess.Popen([str(BIN / tool), *map(str, args)], env=env, **ends)
    os.close(follower)
    text = read_terminal(leader).decode()
    other = (p.stderr if stream == "stdout" else p.stdout).read()
    assert p.wait(timeout=60) == 0, other
    return text, other


def screen_lines(text):
    """What the terminal shows line by line, and each state of a line redrawn after "\\r"."""
    text = re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", text)
    return [seg for seg in re.split(r"[\r\n]", text) if seg]


def assert_fits(text):
    lines = screen_lines(text)
    assert lines
    too_wide = [line for line in lines if len(line) > COLUMNS]  # len(): code points
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
    piped = subprocess.run([str(BIN / "gguf-hexdump"), model, *args], capture_output=True, check=True).stdout.decode()
    assert max(len(line) for line in piped.splitlines()) > COLUMNS  # eight values a line, in full


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
