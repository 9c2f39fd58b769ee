"""The package as installed: the library it finds, and versions that agree.

- the library: $GGUFTK_LIBRARY when set (and then no other), else the libgguftk.so.0 beside the
  module, else the loader's;
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


@pytest.fixture
def package_copy(tmp_path):
    """A copy of the package with the loaded library beside it, and another copy of the library
    in a folder of its own: (package, other library)."""
    package = tmp_path / "site" / "gguftk"
    shutil.copytree(Path(gguftk.__file__).parent, package, ignore=shutil.ignore_patterns("*.so*", "__pycache__"))
    (library,) = loaded_libraries()
    shutil.copyfile(library, package / "libgguftk.so.0")
    other = tmp_path / "elsewhere" / "libgguftk.so.0"
    other.parent.mkdir()
    shutil.copyfile(library, other)
    return package, other


def import_copy(package, **env):
    """Imports the copy in a fresh interpreter, with only the given GGUFTK_LIBRARY and
    LD_LIBRARY_PATH: (exit status, [library_path, the libgguftk mapped], stderr)."""
    base = {k: v for k, v in os.environ.items() if k not in ("GGUFTK_LIBRARY", "LD_LIBRARY_PATH", "PYTHONPATH")}
    code = ("import os, gguftk\n"
            "print(gguftk.library_path)\n"
            "print(*{os.path.realpath(l.split()[-1]) for l in open('/proc/self/maps') if 'libgguftk' in l})\n")
    p = subprocess.run([sys.executable, "-c", code], cwd=package.parent, env=dict(base, **env), capture_output=True,
                       text=True)
    return p.returncode, p.stdout.split(), p.stderr


def test_the_library_beside_the_module_comes_first(package_copy):
    package, other = package_copy
    bundled = str(package / "libgguftk.so.0")
    # Before the loader's path, and an empty GGUFTK_LIBRARY is no setting.
    for env in ({}, {"LD_LIBRARY_PATH": str(other.parent)}, {"GGUFTK_LIBRARY": ""}):
        rc, out, err = import_copy(package, **env)
        assert rc == 0, err
        assert out == [bundled, bundled], env


def test_an_explicit_library_wins_over_the_bundled_one(package_copy):
    package, other = package_copy
    rc, out, err = import_copy(package, GGUFTK_LIBRARY=str(other))
    assert rc == 0, err
    assert out == [str(other), str(other)]


def test_a_missing_explicit_library_is_an_import_error_not_a_fallback(package_copy, tmp_path):
    package, _ = package_copy
    rc, out, err = import_copy(package, GGUFTK_LIBRARY=str(tmp_path / "missing.so"))
    assert rc == 1
    assert "ImportError: gguftk: cannot load libgguftk" in err and "missing.so" in err


def test_without_a_bundled_library_the_loader_finds_one(package_copy):
    package, other = package_copy
    (package / "libgguftk.so.0").unlink()
    rc, out, err = import_copy(package, LD_LIBRARY_PATH=str(other.parent))
    assert rc == 0, err
    assert out == ["libgguftk.so.0", str(other)]


@pytest.mark.skipif(not INSTALLED, reason="for the installed package (scripts/test-wheel)")
def test_the_installed_package_carries_its_library():
    module = Path(gguftk.__file__).resolve()
    assert SOURCE not in module.parents, module
    assert "GGUFTK_LIBRARY" not in os.environ and "LD_LIBRARY_PATH" not in os.environ
    assert loaded_libraries() == {module.parent / "libgguftk.so.0"}
    assert importlib.metadata.version("gguftk") == gguftk.version()
