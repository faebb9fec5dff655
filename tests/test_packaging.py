"""Supported Pythons, MXNet and the numpy pins, read from the installed distribution; the numpy.bool
shim; and nin_mx without MXNet (Python 3.13, or MXNet hidden): one-line errors, a working --help."""

from __future__ import annotations

import json
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
# with wheels for 3.12) on 3.12, and from 3.13, where MXNet 1.9.1 cannot run, any numpy (numpy 2).
EXPECTED_NUMPY = {
    "3.9": SpecifierSet("<1.24"),
    "3.10": SpecifierSet("<1.24"),
    "3.11": SpecifierSet("<1.24"),
    "3.12": SpecifierSet(">=1.26,<2"),
    "3.13": SpecifierSet(""),
    "3.14": SpecifierSet(""),
}
WITH_MXNET = sorted(v for v in EXPECTED_NUMPY if Version(v) < Version("3.13"))


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
    if python_version in WITH_MXNET:
        assert found["mxnet"] == SpecifierSet("==1.9.1")
    else:  # MXNet 1.9.1 needs numpy<2, which has no wheels for Python 3.13
        assert "mxnet" not in found
    # MXNet imports distutils.version, which Python 3.12 removed and setuptools provides.
    assert ("setuptools" in found) == (python_version == "3.12")
    assert found["tabulate"] == SpecifierSet(">=0.9")


def test_installed_numpy_satisfies_its_pin():
    here = "{}.{}".format(*sys.version_info[:2])
    assert numpy.__version__ in _requirements(here)["numpy"]
    # Where MXNet cannot run, nothing holds numpy back.
    assert (Version(numpy.__version__).major >= 2) == (here not in WITH_MXNET)


def test_installed_mxnet_is_there_exactly_where_it_runs():
    here = "{}.{}".format(*sys.version_info[:2])
    try:
        installed = metadata.version("mxnet")
    except metadata.PackageNotFoundError:
        installed = None
    assert installed == ("1.9.1" if here in WITH_MXNET else None)


@pytest.mark.parametrize(
    ("version", "accepted"),
    [
        ("3.8.18", False),
        ("3.9.0", True),
        ("3.11.7", True),
        ("3.12.1", True),
        ("3.13.0", True),
        ("3.14.1", True),
    ],
)
def test_requires_python(version, accepted):  # from 3.13 without MXNet
    requires_python = SpecifierSet(metadata.metadata("nin_mx")["Requires-Python"])
    assert (version in requires_python) is accepted


@pytest.mark.parametrize("python_version", WITH_MXNET)
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


@pytest.mark.mxnet
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


# --- without MXNet: Python 3.13, or (below it) MXNet hidden from the import system ---

# From here `import mxnet` fails, as where it is not installed.
HIDE_MXNET = "import sys\nsys.modules['mxnet'] = None\n"


def _python(code: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", HIDE_MXNET + code, *args], capture_output=True, text=True, timeout=60
    )


def _expected_reason(version_info) -> str:
    if tuple(version_info[:2]) >= (3, 13):
        return "which runs on Python 3.9-3.12 (this is Python {}.{})".format(*version_info[:2])
    return "which is not installed; " + _mxnet._install_hint()


@pytest.mark.parametrize("minor", [11, 12, 13, 14])
def test_require_mxnet_is_one_line_naming_what_and_why(monkeypatch, minor):
    monkeypatch.setattr(sys, "version_info", (3, minor, 0, "final", 0))
    monkeypatch.setitem(sys.modules, "mxnet", None)
    assert not _mxnet.mxnet_available()
    with pytest.raises(_mxnet.MXNetUnavailable) as info:
        _mxnet.require_mxnet("building inception_resnet_v2")
    assert isinstance(info.value, ImportError)
    assert info.value.name == "mxnet"
    message = str(info.value)
    assert message == f"building inception_resnet_v2 needs MXNet 1.9.1, {_expected_reason(sys.version_info)}"
    assert "\n" not in message
    if minor >= 13:
        assert message.endswith(f"runs on Python 3.9-3.12 (this is Python 3.{minor})")
    else:
        assert "run: pip install 'mxnet==1.9.1'" in message


def test_mxnet_is_unavailable_from_python_3_13_even_if_installed(monkeypatch):
    monkeypatch.setattr(sys, "version_info", (3, 13, 0, "final", 0))
    assert not _mxnet.mxnet_available()


def test_mxnet_available_imports_neither_mxnet_nor_numpy():
    code = (
        "import sys\n"
        "from nin_mx._mxnet import mxnet_available\n"
        "print(mxnet_available(), sorted(m for m in ('numpy', 'mxnet.base') if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    here = "{}.{}".format(*sys.version_info[:2])
    assert done.stdout.split(maxsplit=1) == [str(here in WITH_MXNET), "[]\n"]


def test_without_mxnet_a_factory_raises_one_line_naming_the_model():
    code = (
        "import nin_mx\n"
        "from nin_mx._mxnet import MXNetUnavailable, mxnet_available, mxnet_error_types\n"
        "assert not mxnet_available() and mxnet_error_types() == ()\n"
        "try:\n"
        "    nin_mx.get_symbol('nin_cifar10')\n"
        "except MXNetUnavailable as exc:\n"
        "    assert isinstance(exc, ImportError) and exc.name == 'mxnet', exc\n"
        "    print(exc)\n"
        "else:\n"
        "    raise SystemExit('no error')\n"
    )
    done = _python(code)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 1, done.stdout
    assert "nin_cifar10" in lines[0]
    assert "needs MXNet 1.9.1, " + _expected_reason(sys.version_info) in lines[0]


def test_without_mxnet_the_stand_in_looks_like_an_object_to_introspection():
    code = (
        "import copy\n"
        "from nin_mx._mxnet import MXNetUnavailable, mx\n"
        "assert not hasattr(mx, '__file__') and copy.copy(mx) is not None\n"
        "try:\n"
        "    mx.nd\n"
        "except MXNetUnavailable as exc:\n"
        "    print(exc)\n"
        "print(repr(mx))\n"
    )
    done = _python(code)
    assert done.returncode == 0, done.stderr
    error, shown = done.stdout.splitlines()
    assert error.startswith("mx.nd needs MXNet 1.9.1, ")  # someone else's code: the attribute read
    assert shown.startswith("<MXNet 1.9.1: not available, ")


_RUN_CLI = "import runpy\nsys.argv[0] = 'nin-shape-report'\nrunpy.run_module('nin_mx', run_name='__main__')\n"


@pytest.mark.parametrize("args", [["--help"], ["--list-models"]])
def test_without_mxnet_help_and_list_models_work(args):
    done = _python(_RUN_CLI, *args)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    if args == ["--list-models"]:
        names = [line.split()[0] for line in done.stdout.splitlines()]
        assert names == ["inception_resnet_v2", "nin_cifar10", "nin_imagenet"]
    else:
        assert "usage: nin-shape-report" in done.stdout


def test_without_mxnet_a_model_and_its_pooling_comparison_are_reported():
    done = _python(_RUN_CLI, "nin_cifar10", "--format", "json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["model"] == "nin_cifar10"  # built and inferred by nin_mx alone
    done = _python(_RUN_CLI, "nin_cifar10", "--compare-pooling")
    assert done.returncode == 0, done.stderr
    (line,) = [line for line in done.stdout.splitlines() if line.startswith("pooling (reference)")]
    assert "shapes equal: True, max |diff| 0 (onnxruntime " in line  # the numbers of onnxruntime
