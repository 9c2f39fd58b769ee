"""Lets `pytest tests/cli/...` run straight after a build, with no environment to set: CTest
passes these three variables for its build directory; run by hand, they default to the
checkout this file is in and its build/ (scripts/setup.sh's build directory)."""
import os
from pathlib import Path

_SOURCE = Path(__file__).resolve().parents[2]
os.environ.setdefault("GGUFTK_SOURCE", str(_SOURCE))
os.environ.setdefault("GGUFTK_BIN", str(_SOURCE / "build" / "bin"))
os.environ.setdefault("GGUFTK_FIXTURES", str(_SOURCE / "tests" / "fixtures"))
