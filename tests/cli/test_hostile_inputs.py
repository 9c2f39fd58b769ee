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
