"""Lets `pytest tests/python` run straight after a build: CTest sets these variables for its build
directory; by hand they default to this checkout's build/. Puts python/ (the module under test)
and tests/cli/ (gguf-py's shim) on the import path."""
import os
import sys
from pathlib import Path

_SOURCE = Path(__file__).resolve().parents[2]
os.environ.setdefault("GGUFTK_LIBRARY", str(_SOURCE / "build" / "lib" / "src" / "capi" / "libgguftk.so"))
os.environ.setdefault("GGUFTK_BIN", str(_SOURCE / "build" / "bin"))
os.environ.setdefault("GGUFTK_FIXTURES", str(_SOURCE / "tests" / "fixtures"))
os.environ.setdefault("GGUFTK_SOURCE", str(_SOURCE))
sys.path[:0] = [str(_SOURCE / "python"), str(_SOURCE / "tests" / "cli")]
