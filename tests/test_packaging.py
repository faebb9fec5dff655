"""Supported Pythons and the numpy pins, read from the installed distribution, and the numpy.bool shim."""

from __future__ import annotations

import re
import subprocess
import sys
import types
import warnings
from importlib import metadata

import numpy
import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from nin_mx import _mxnet

# The numpy each Python gets: the last with numpy.bool below 3.12, numpy 1.26 (the only numpy<2
# with wheels for 3.12) from 3.12.
EXPECTED_NUMPY = {
    "3.9": SpecifierSet("<1.24"),
    "3.10": SpecifierSet("<1.24"),
    "3.11": SpecifierSet("<1.24"),
    "3.12": SpecifierSet(">=1.26,<2"),
}


def _requirements(python_version: str) -> dict[str, SpecifierSet]:
    """The installed nin_mx's requirements (extras excluded) that apply on ``python_version``."""
    env = {"python_version": python_version, "python_full_version": f"{python_version}.0", "extra": ""}
    found: dict[str, SpecifierSet] = {}
    for line in metadata.requires("nin_mx") or []:
        req = Requirement(line)
        if req.marker is None or req.marker.evaluate(env):
            assert req.name not in found, f"two requirements for {req.name} on Python {python_version}"
            found[req.name] = req.specifier
    return found


@pytest.mark.parametrize("python_version", sorted(EXPECTED_NUMPY))
def test_numpy_pin_per_python(python_version):
    found = _requirements(python_version)
    assert found["numpy"] == EXPECTED_NUMPY[python_version]
    assert found["mxnet"] == SpecifierSet("==1.9.1")
    # MXNet imports distutils.version, which Python 3.12 removed and setuptools provides.
    assert ("setuptools" in found) == (Version(python_version) >= Version("3.12"))


def test_installed_numpy_satisfies_its_pin():
    here = "{}.{}".format(*sys.version_info[:2])
    assert numpy.__version__ in _requirements(here)["numpy"]


@pytest.mark.parametrize(
    ("version", "accepted"),
    [("3.8.18", False), ("3.9.0", True), ("3.11.7", True), ("3.12.1", True), ("3.13.0", False)],
)
def test_requires_python(version, accepted):
    requires_python = SpecifierSet(metadata.metadata("nin_mx")["Requires-Python"])
    assert (version in requires_python) is accepted


@pytest.mark.parametrize("python_version", sorted(EXPECTED_NUMPY))
def test_install_hint_names_the_numpy_pin(monkeypatch, python_version):
    major, minor = map(int, python_version.split("."))
    monkeypatch.setattr(sys, "version_info", (major, minor, 0, "final", 0))
    hint = _mxnet._install_hint()
    pins = re.findall(r"'numpy([^']+)'", hint)
    assert [SpecifierSet(pin) for pin in pins] == [_requirements(python_version)["numpy"]]
    assert ("setuptools" in hint) == (minor >= 12)


def test_install_hint_on_python_3_13_names_the_supported_versions(monkeypatch):
    monkeypatch.setattr(sys, "version_info", (3, 13, 0, "final", 0))
    hint = _mxnet._install_hint()
    assert "pip install" not in hint
    assert "3.9-3.12" in hint


# --- the numpy.bool shim ---


def _fake_numpy(getattr_hook=None, **attrs) -> types.ModuleType:
    module = types.ModuleType("numpy")
    module.__dict__.update(attrs)
    if getattr_hook is not None:
        module.__getattr__ = getattr_hook
    return module


def _removed_alias(name):  # numpy 1.25-1.26
    if name == "bool":
        warnings.warn("In the future `np.bool` will be defined as the NumPy scalar.", FutureWarning, 2)
    raise AttributeError(name)


def _deprecated_alias(name):  # numpy 1.20-1.23
    if name == "bool":
        warnings.warn("`np.bool` is a deprecated alias for the builtin `bool`.", DeprecationWarning, 2)
        return bool
    raise AttributeError(name)


@pytest.mark.parametrize(
    ("fake", "expected"),
    [
        (_fake_numpy(), bool),  # numpy 1.24: no alias, no warning
        (_fake_numpy(_removed_alias), bool),
        (_fake_numpy(_deprecated_alias), None),  # left alone: numpy still has it
        (_fake_numpy(bool=numpy.bool_), numpy.bool_),  # numpy 2's own numpy.bool
    ],
    ids=["removed", "removed-with-warning", "deprecated", "numpy-2"],
)
def test_alias_is_set_only_where_numpy_lacks_it(monkeypatch, fake, expected):
    monkeypatch.setitem(sys.modules, "numpy", fake)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _mxnet._restore_numpy_bool()
    assert fake.__dict__.get("bool") is expected


def test_mxnet_loads_with_this_numpy_without_warnings_of_ours():
    """A fresh interpreter: the shim runs when MXNet is first used, and only where it is needed."""
    code = (
        "import warnings\n"
        "warnings.simplefilter('error')\n"
        # MXNet's own deprecated numpy calls, filtered as in pyproject.toml.
        "warnings.filterwarnings('ignore', category=DeprecationWarning, module=r'mxnet\\.')\n"
        "import numpy\n"
        "before = numpy.__dict__.get('bool')\n"
        "from nin_mx._mxnet import mx\n"
        "assert numpy.__dict__.get('bool') is before, 'the shim ran before MXNet was used'\n"
        "assert mx.nd.ones((2,)).asnumpy().sum() == 2\n"
        "print(before is None, numpy.__dict__.get('bool') is bool)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    missing_before, alias_after = done.stdout.split()
    assert missing_before == "True"  # numpy<2 keeps numpy.bool out of its namespace either way
    removed = Version(numpy.__version__) >= Version("1.24")
    assert alias_after == str(removed)


def test_help_imports_neither_numpy_nor_mxnet():
    code = (
        "import contextlib, io, sys\n"
        "import nin_mx\n"
        "from nin_mx.cli.main import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    try:\n"
        "        main(['--help'])\n"
        "    except SystemExit:\n"
        "        pass\n"
        "print(sorted(m for m in ('numpy', 'mxnet.base') if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
