"""gguftk_version() of the C library agrees with the tools' --version."""
import ctypes
import os
import subprocess
from pathlib import Path

BIN = Path(os.environ["GGUFTK_BIN"])


def test_library_version_is_the_tools_version():
    lib = ctypes.CDLL(os.environ["GGUFTK_LIBRARY"])
    lib.gguftk_version.restype = ctypes.c_char_p
    version = lib.gguftk_version().decode()
    line = subprocess.run([str(BIN / "gguf-inspect"), "--version"], capture_output=True, text=True, check=True).stdout
    assert line.split()[1] == version
