"""An MXNet that is installed but fails to import is an absent MXNet, never an internal error.

Each test runs nin_mx in a child process with a fake ``mxnet`` package first on ``PYTHONPATH``
whose import fails as a real broken installation does (numpy 2 beside MXNet 1.9.1 raises
``ImportError: numpy.core.multiarray failed to import`` on the last line of a longer message;
a broken libmxnet an ``OSError`` from ``ctypes``). These run on every leg: the fake needs no
MXNet.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

BROKEN = {
    "numpy2": (
        "raise ImportError('\\nA module that was compiled using NumPy 1.x cannot be run in\\n"
        "NumPy 2.0.0 as it may crash.\\nnumpy.core.multiarray failed to import')",
        "ImportError: numpy.core.multiarray failed to import",
    ),
    "libmxnet": (
        "raise OSError('libmxnet.so: cannot open shared object file: No such file or directory')",
        "OSError: libmxnet.so: cannot open shared object file: No such file or directory",
    ),
}
# One operator the engine has no rule for (MXNet's space_to_depth family), so MXNet is asked.
GRAPH = {
    "nodes": [
        {"op": "null", "name": "data", "inputs": []},
        {"op": "depth_to_space", "name": "d2s", "attrs": {"block_size": "2"}, "inputs": [[0, 0, 0]]},
    ],
    "arg_nodes": [0],
    "heads": [[1, 0, 0]],
    "attrs": {"mxnet_version": ["int", 10901]},
}


def _fake(tmp_path: Path, body: str) -> dict[str, str]:
    package = tmp_path / "fake" / "mxnet"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(body + "\n", encoding="utf-8")
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path / "fake"), str(ROOT)])}


def _python(env: dict[str, str], code: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False, timeout=120
    )


@pytest.mark.skipif(
    sys.version_info >= (3, 13), reason="MXNet is absent on Python 3.13 whatever is installed"
)
@pytest.mark.parametrize("kind", sorted(BROKEN))
def test_a_broken_mxnet_is_absent_once_with_its_reason(tmp_path, kind):
    body, reason = BROKEN[kind]
    env = _fake(tmp_path, body)
    code = (
        "import nin_mx._mxnet as m\n"
        "assert m.mxnet_available()\n"  # installed: found without importing it
        "assert not m.mxnet_usable() and not m.mxnet_available()\n"
        "print(m.import_failure())\n"
        "try:\n"
        "    m.mx.sym\n"
        "except m.MXNetUnavailable as exc:\n"
        "    print(exc)\n"
        "try:\n"
        "    import mxnet\n"
        "except ImportError:\n"
        "    print('import refused')\n"
    )
    done = _python(env, code)
    assert done.returncode == 0, done.stderr
    failure, message, refused = done.stdout.splitlines()
    assert failure == reason
    assert message.startswith("mx.sym needs MXNet 1.9.1, which is installed but cannot be imported")
    assert reason in message and refused == "import refused"


@pytest.mark.skipif(
    sys.version_info >= (3, 13), reason="MXNet is absent on Python 3.13 whatever is installed"
)
@pytest.mark.parametrize("kind", sorted(BROKEN))
def test_the_cli_answers_as_without_mxnet(tmp_path, kind):
    """A graph with an operator the engine has no rule for: the one line a missing MXNet gets,
    with the import error's last line, exit 1; a graph the engine infers needs no MXNet at all."""
    body, reason = BROKEN[kind]
    env = _fake(tmp_path, body)
    path = tmp_path / "d2s-symbol.json"
    path.write_text(json.dumps(GRAPH), encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "nin_mx", str(path), "--input", "4,8,8"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=120,
    )
    assert done.returncode == 1, done.stderr
    assert "internal error" not in done.stderr and "Traceback" not in done.stderr, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "nin_mx has no shape rule for depth_to_space and MXNet cannot be imported" in lines[0]
    assert reason in lines[0]
    plain = dict(GRAPH, nodes=[GRAPH["nodes"][0], {**GRAPH["nodes"][1], "op": "relu", "attrs": {}}])
    path.write_text(json.dumps(plain), encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "nin_mx", str(path), "--input", "4,8,8"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0 and not done.stderr, done.stderr
