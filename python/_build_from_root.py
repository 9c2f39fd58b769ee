"""The PEP 517 backend of python/pyproject.toml: scikit-build-core's hooks, run at the repository
root, so that `pip install ./python` and `pip install .` build the same wheel from one
configuration (the root's pyproject.toml)."""
import os
from pathlib import Path

import scikit_build_core.build as _backend

_ROOT = Path(__file__).resolve().parent.parent


def _abs(path):
    # pip's paths may be relative to where it runs; they must survive the change of directory.
    return os.path.abspath(path) if path else path


def _at_root(hook, *args):
    if not (_ROOT / "pyproject.toml").is_file() or not (_ROOT / "lib").is_dir():
        raise RuntimeError(f"gguftk: {_ROOT / 'python'} is not inside a gguftk repository; the package is built "
                           "from the whole repository: run `pip install .` at its root")
    here = os.getcwd()
    os.chdir(_ROOT)
    try:
        return hook(*args)
    finally:
        os.chdir(here)


def get_requires_for_build_wheel(config_settings=None):
    return _at_root(_backend.get_requires_for_build_wheel, config_settings)


def get_requires_for_build_sdist(config_settings=None):
    return _at_root(_backend.get_requires_for_build_sdist, config_settings)


def get_requires_for_build_editable(config_settings=None):
    return _at_root(_backend.get_requires_for_build_editable, config_settings)


def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    return _at_root(_backend.prepare_metadata_for_build_wheel, _abs(metadata_directory), config_settings)


def prepare_metadata_for_build_editable(metadata_directory, config_settings=None):
    return _at_root(_backend.prepare_metadata_for_build_editable, _abs(metadata_directory), config_settings)


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    return _at_root(_backend.build_wheel, _abs(wheel_directory), config_settings, _abs(metadata_directory))


def build_sdist(sdist_directory, config_settings=None):
    return _at_root(_backend.build_sdist, _abs(sdist_directory), config_settings)


def build_editable(wheel_directory, config_settings=None, metadata_directory=None):
    return _at_root(_backend.build_editable, _abs(wheel_directory), config_settings, _abs(metadata_directory))
