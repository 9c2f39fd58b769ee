"""--version in every tool: the CMake project version, the commit built from (when built from a
git checkout), and whether CUDA is compiled in. (tests/python/test_version.py holds
gguftk_version() of the C library to the same version.)"""
import os
import re
import subprocess
from pathlib import Path

import pytest

BIN = Path(os.environ["GGUFTK_BIN"])
SOURCE = Path(os.environ["GGUFTK_SOURCE"])
LINE = re.compile(r"^(gguf-\w+) (\d+\.\d+\.\d+) \((?:commit ([0-9a-f]{12})(\+dirty)?, )?(CUDA compiled in|no CUDA)\)$")


def project_version():
    return re.search(r"project\(gguftk VERSION (\d+\.\d+\.\d+)", (SOURCE / "CMakeLists.txt").read_text()).group(1)


@pytest.mark.parametrize("tool", ["gguf-inspect", "gguf-dequant", "gguf-hexdump", "gguf-compare"])
def test_version(tool):
    p = subprocess.run([str(BIN / tool), "--version"], capture_output=True, text=True)
    assert p.returncode == 0 and p.stderr == "", p.stderr
    m = LINE.match(p.stdout.strip())
    assert m, p.stdout
    assert m.group(1) == tool and m.group(2) == project_version()
    if (SOURCE / ".git").exists():
        head = subprocess.run(["git", "-C", str(SOURCE), "rev-parse", "--short=12", "HEAD"], capture_output=True, text=True)
        if head.returncode == 0:
            assert m.group(3) == head.stdout.strip()
