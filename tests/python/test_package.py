"""The package as installed: the library it finds, and versions that agree.

- without GGUFTK_LIBRARY the module loads the libgguftk.so.0 beside it, not the loader's;
- gguftk_version() is the tools' --version, and (installed) the package's version;
- installed (GGUFTK_TEST_INSTALLED=1, scripts/test-wheel): the module and its library come from
  site-packages, not from this source tree.
"""
import importlib.metadata
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import gguftk

SOURCE = Path(os.environ["GGUFTK_SOURCE"]).resolve()
INSTALLED = os.environ.get("GGUFTK_TEST_INSTALLED") == "1"


def test_library_version_is_the_tools_version():
    if not os.environ.get("GGUFTK_BIN"):
        pytest.skip("no tools to compare with (GGUFTK_BIN)")
    gguf_inspect = Path(os.environ["GGUFTK_BIN"]) / "gguf-inspect"
    line = subprocess.run([str(gguf_inspect), "--version"], capture_output=True, text=True, check=True).stdout
    assert line.split()[1] == gguftk.version()


def loaded_libraries():
    with open("/proc/self/maps") as maps:
        return {Path(line.split()[-1]).resolve() for line in maps if "libgguftk" in line}


def test_the_library_beside_the_module_comes_first(tmp_path):
    # A copy of the package with the loaded library put beside it, imported by a fresh interpreter
    # with neither GGUFTK_LIBRARY nor a loader path that could find another one.
    package = tmp_path / "gguftk"
    shutil.copytree(Path(gguftk.__file__).parent, package, ignore=shutil.ignore_patterns("*.so*", "__pycache__"))
    (library,) = loaded_libraries()
    shutil.copyfile(library, package / "libgguftk.so.0")
    env = {k: v for k, v in os.environ.items() if k not in ("GGUFTK_LIBRARY", "LD_LIBRARY_PATH", "PYTHONPATH")}
    code = "import gguftk; print(gguftk.library_path); print(gguftk.version())"
    p = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert p.stdout.split() == [str(package / "libgguftk.so.0"), gguftk.version()]


def test_an_explicit_library_wins_and_a_missing_one_is_an_import_error(tmp_path):
    env = dict(os.environ, GGUFTK_LIBRARY=str(tmp_path / "missing.so"),
               PYTHONPATH=str(Path(gguftk.__file__).parent.parent))
    p = subprocess.run([sys.executable, "-c", "import gguftk"], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert p.returncode == 1
    assert "ImportError: gguftk: cannot load libgguftk" in p.stderr and "missing.so" in p.stderr


@pytest.mark.skipif(not INSTALLED, reason="for the installed package (scripts/test-wheel)")
def test_the_installed_package_carries_its_library():
    module = Path(gguftk.__file__).resolve()
    assert SOURCE not in module.parents, module
    assert "GGUFTK_LIBRARY" not in os.environ and "LD_LIBRARY_PATH" not in os.environ
    assert loaded_libraries() == {module.parent / "libgguftk.so.0"}
    assert importlib.metadata.version("gguftk") == gguftk.version()
