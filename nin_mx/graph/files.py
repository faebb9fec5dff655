"""Symbol files: a saved ``-symbol.json`` read as MXNet 1.9.1 would load it, with one clear line
for every way it can be wrong, and (MXNet installed) loaded into MXNet.

:func:`load_symbol_file` reads and checks a file without MXNet (the nodes through
:func:`nin_mx.graph.nodes.parse_nodes`, the operators against MXNet's registry, the notes MXNet
would log); :func:`mxnet_symbol` hands a checked JSON to MXNet's own loader.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
import sys
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, NamedTuple

from nin_mx._mxnet import mx
from nin_mx.core.errors import GraphError, one_line
from nin_mx.graph.nodes import Node, check_operators, collector_paused, parse_nodes

__all__ = [
    "MAX_SYMBOL_BYTES",
    "SymbolFile",
    "existing_file",
    "load_symbol_file",
    "mxnet_symbol",
    "read_regular_file",
]


@contextlib.contextmanager
def _captured_stderr() -> Iterator[list[str]]:
    """Collects what MXNet's C++ core writes to the process' stderr (file descriptor 2) while
    the block runs; the lines are in the yielded list afterwards. Process-wide while it lasts."""
    lines: list[str] = []
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile(mode="w+b") as sink:
        os.dup2(sink.fileno(), 2)
        try:
            yield lines
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            sink.seek(0)
            lines += sink.read().decode("utf-8", "replace").splitlines()


def existing_file(path: str | os.PathLike[str], kind: str) -> str:
    """``path`` as a string, if it names a file that exists and is not a folder.

    Raises:
        GraphError: ``'<path>: no such file'`` or ``'<path>: is a directory, not a <kind> file'``.
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise GraphError(f"{path}: no such file")
    if os.path.isdir(path):
        raise GraphError(f"{path}: is a directory, not a {kind} file")
    return path


MAX_SYMBOL_BYTES = 256 * 2**20  # far above any real graph (Inception-ResNet-v2: 0.3 MB)
_MXNET_VERSION = 10901  # MXNET_MAKE_VERSION(1, 9, 1): files of older versions are upgraded on load


class SymbolFile(NamedTuple):
    """A symbol file, read and checked: its nodes in MXNet's order, its text, and what MXNet
    would say while loading it (the notes)."""

    nodes: list[Node]
    text: str
    notes: tuple[str, ...]


def read_regular_file(path: str | os.PathLike[str], kind: str, limit: int | None = None) -> bytes:
    """The bytes of a regular file; devices, FIFOs and sockets are refused without being opened
    for reading (a FIFO would block), and a file larger than ``limit`` before it is read.

    Raises:
        GraphError: one line naming the file.
    """
    path = existing_file(path, kind)
    try:
        info = os.stat(path)
    except OSError as exc:
        raise GraphError(f"{path}: cannot read: {exc.strerror}") from None
    if not stat.S_ISREG(info.st_mode):
        what = (
            "a FIFO"
            if stat.S_ISFIFO(info.st_mode)
            else "a socket"
            if stat.S_ISSOCK(info.st_mode)
            else "a device"
        )
        raise GraphError(f"{path}: is {what}, not a {kind} file")
    if limit is not None and info.st_size > limit:
        raise GraphError(
            f"{path}: {info.st_size:,} bytes, more than any {kind} file ({limit // 2**20} MiB at most)"
        )
    try:
        with open(path, "rb") as handle:
            return handle.read(limit + 1 if limit is not None else -1)
    except OSError as exc:
        raise GraphError(f"{path}: cannot read: {exc.strerror}") from None


def _version_notes(graph: Mapping[str, Any]) -> tuple[str, ...]:
    """What MXNet 1.9.1 logs while it loads a file of another version, as one note
    (``LoadLegacyJSONPass`` in ``src/nnvm/legacy_json_util.cc``)."""
    attrs = graph.get("attrs")
    version = attrs["mxnet_version"][1] if isinstance(attrs, Mapping) and "mxnet_version" in attrs else 800
    if version < _MXNET_VERSION:
        return (
            f"saved by MXNet v{version // 10000}.{version // 100 % 100}.{version % 100}, upgraded on load",
        )
    if version > _MXNET_VERSION:
        return (
            f"MXNet: Warning: loading symbol saved by MXNet version {version} with lower version of "
            f"MXNet v{_MXNET_VERSION}. May cause undefined behavior. Please update MXNet if you "
            "encounter any issue",
        )
    return ()


def load_symbol_file(path: str | os.PathLike[str]) -> SymbolFile:
    """Reads a saved ``-symbol.json`` and checks it; no MXNet.

    Returns:
        A :class:`SymbolFile`: nodes in MXNet's order (as ``mx.sym.load`` would keep them),
        the text, and notes such as ``saved by MXNet v0.8.0, upgraded on load``.

    Raises:
        GraphError: one line, for a missing path, a directory, a FIFO or device, a file beyond
            256 MiB, a binary or non-JSON file, a JSON that is not a symbol graph, an operator
            MXNet does not have, or a malformed attribute.
    """
    path = os.fspath(path)
    raw = read_regular_file(path, "-symbol.json", MAX_SYMBOL_BYTES)
    if not raw.strip():
        raise GraphError(f"{path}: the file is empty")
    try:
        text = raw.decode("utf-8-sig")  # a byte-order mark from an editor is harmless
    except UnicodeDecodeError:
        hint = (
            " (a .params file holds weights; pass the -symbol.json beside it)"
            if path.endswith(".params")
            else ""
        )
        raise GraphError(f"{path}: not a symbol JSON: binary data{hint}") from None
    try:
        with collector_paused():
            graph = json.loads(text)
    except json.JSONDecodeError as exc:
        raise GraphError(f"{path}: not a symbol JSON: {exc.msg} at line {exc.lineno}") from None
    except RecursionError:
        raise GraphError(f"{path}: not a symbol JSON: nested too deeply to read") from None
    except ValueError as exc:  # e.g. an integer of more than 4300 digits
        raise GraphError(f"{path}: not a symbol JSON: {one_line(exc)}") from None
    try:
        with collector_paused():
            nodes = parse_nodes(graph)
        check_operators(nodes)
    except GraphError as exc:
        raise GraphError(f"{path}: {exc}") from None
    from nin_mx.graph.mxnet_json import mxnet_load_refusal

    refusal = mxnet_load_refusal(text, graph)
    notes = _version_notes(graph) + (
        () if refusal is None else (f"MXNet 1.9.1 cannot load this file: {refusal}",)
    )
    return SymbolFile(nodes, text, notes)


def mxnet_symbol(text: str) -> Any:
    """An ``mx.sym.Symbol`` of a checked symbol JSON (imports MXNet); MXNet's log lines while it
    loads (an upgrade of an older file) are not printed.

    Raises:
        GraphError: if MXNet cannot load it, naming the node when MXNet does not.
    """
    load_json = mx.sym.load_json  # MXNet imported first: only the load itself is captured
    try:
        with _captured_stderr():
            return load_json(text)
    except mx.base.MXNetError as exc:
        detail = one_line(exc)
        culprit = _unloadable_node(json.loads(text), parse_nodes(text))
        if culprit is not None and f"'{culprit.name}'" not in detail:
            detail = f"node '{culprit.name}' ({culprit.op}): {detail}"
        raise GraphError(f"MXNet cannot load it: {detail}") from None


_ALONE = {"nodes": [{"op": "null", "name": "data", "inputs": []}], "arg_nodes": [0], "heads": [[0, 0, 0]]}


def _unloadable_node(graph: Mapping[str, Any], nodes: Sequence[Node]) -> Node | None:
    """The first operator MXNet cannot load on its own (MXNet's message does not always say)."""
    version = graph.get("attrs")
    if not isinstance(version, Mapping) or "mxnet_version" not in version:
        return None  # a legacy graph: MXNet upgrades it, and logs each load
    try:
        mx.sym.load_json(json.dumps({**_ALONE, "attrs": version}))
    except mx.base.MXNetError:
        return None  # the graph's own attributes are at fault
    for node in nodes:
        if node.is_variable:
            continue
        raw = dict(graph["nodes"][node.index])
        raw["inputs"] = [[i, 0, 0] for i in range(len(node.inputs))]
        variables = [{"op": "null", "name": f"input{i}", "inputs": []} for i in range(len(node.inputs))]
        alone = {
            "nodes": [*variables, raw],
            "arg_nodes": list(range(len(variables))),
            "heads": [[len(variables), 0, 0]],
            "attrs": version,
        }
        try:
            mx.sym.load_json(json.dumps(alone))
        except mx.base.MXNetError:
            return node
    return None
