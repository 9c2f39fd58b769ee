"""Inputs that are not regular files, and names that would act on the terminal (issue 18):
every tool refuses them with one `error:` line, promptly."""
import os
import socket
import subprocess
from pathlib import Path

import pytest

from cli_common import assert_one_error

BIN = Path(os.environ["GGUFTK_BIN"])
TOOLS = {
    "gguf-inspect": [],
    "gguf-hexdump": [],
    "gguf-dequant": ["--device", "cpu"],
}


def run(tool, path, tmp_path, timeout=20):
    # A FIFO once blocked open(2) for ever: the timeout turns a hang into a failure.
    extra = ["-o", str(tmp_path / "out.gguf")] if tool == "gguf-dequant" else []
    return subprocess.run([str(BIN / tool), str(path), *extra, *TOOLS[tool]],
                          capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)


@pytest.fixture
def specials(tmp_path):
    fifo = tmp_path / "fifo.gguf"
    os.mkfifo(fifo)
    sock_path = tmp_path / "sock.gguf"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(str(sock_path))
    yield {"fifo": fifo, "directory": tmp_path, "socket": sock_path, "dev-zero": Path("/dev/zero")}
    sock.close()


@pytest.mark.parametrize("tool", TOOLS)
@pytest.mark.parametrize("kind", ["fifo", "directory", "socket", "dev-zero"])
def test_not_a_regular_file_is_refused_at_once(tool, kind, specials, tmp_path):
    path = specials[kind]
    p = run(tool, path, tmp_path)
    assert_one_error(p, str(path))
    if kind != "socket":  # open(2) itself refuses a socket (ENXIO)
        assert "not a regular file" in p.stderr


HOSTILE_NAME = "red\x1b[31m\nerror: forged.gguf"


def assert_one_safe_line(p, *words):
    # One line, nothing the terminal would act on: the name's ESC and newline come out escaped.
    assert_one_error(p, *words)
    assert "\x1b" not in p.stderr and p.stderr.count("\n") == 1, repr(p.stderr)
    assert "red\\x1b[31m\\nerror: forged.gguf" in p.stderr, repr(p.stderr)


@pytest.mark.parametrize("tool", TOOLS)
@pytest.mark.parametrize("exists", [False, True])
def test_local_name_is_escaped_in_the_error(tool, exists, tmp_path):
    path = tmp_path / HOSTILE_NAME
    if exists:
        path.write_bytes(b"not a GGUF file at all")
    assert_one_safe_line(run(tool, path, tmp_path))


@pytest.mark.parametrize("where", [
    "http://127.0.0.1:9/" + HOSTILE_NAME,  # the discard port: nothing listens, or curl refuses the URL
    "hf://owner/repo/" + HOSTILE_NAME,
    "hf://owner/" + HOSTILE_NAME,  # malformed
])
def test_remote_name_is_escaped_in_the_error(where):
    env = dict(os.environ, HF_ENDPOINT="http://127.0.0.1:9", GGUFTK_CONNECT_TIMEOUT="5")
    p = subprocess.run([str(BIN / "gguf-inspect"), where], capture_output=True, text=True, timeout=20,
                       stdin=subprocess.DEVNULL, env=env)
    assert_one_safe_line(p)
