"""Lets `pytest tests/python` run straight after a build: CTest sets these variables for its build
directory; by hand they default to this checkout's build/. Puts python/ (the module under test)
and tests/cli/ (gguf-py's shim) on the import path.

With GGUFTK_TEST_INSTALLED=1 (scripts/test-wheel) the module under test is the installed package
with the library it carries: neither python/ nor a GGUFTK_LIBRARY default is added, and the
tools (GGUFTK_BIN) are used only when given."""
import os
import sys
from pathlib import Path

_SOURCE = Path(__file__).resolve().parents[2]
if os.environ.get("GGUFTK_TEST_INSTALLED") != "1":
    os.environ.setdefault("GGUFTK_LIBRARY", str(_SOURCE / "build" / "lib" / "src" / "capi" / "libgguftk.so"))
    os.environ.setdefault("GGUFTK_BIN", str(_SOURCE / "build" / "bin"))
    sys.path.insert(0, str(_SOURCE / "python"))
os.environ.setdefault("GGUFTK_FIXTURES", str(_SOURCE / "tests" / "fixtures"))
os.environ.setdefault("GGUFTK_SOURCE", str(_SOURCE))
sys.path.insert(0, str(_SOURCE / "tests" / "cli"))
