"""``nin-shape-report``: per-layer output shapes of a model under every border mode.

Exit codes: 0 when the report was produced; 1 when the model or file cannot be built or no
requested border mode can be inferred; 2 for usage errors; 3 when ``--check`` or ``--params``
finds a warning or an error, or ``--diff`` finds differences (as ``diff(1)``). Errors are one
line on stderr (``--debug`` shows the traceback). Only the report goes to stdout (or to
``--output``, written atomically).

Argument parsing and usage errors do not import MXNet: :mod:`nin_mx.cli.request` turns the
arguments into a frozen Request first.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import tempfile
from collections.abc import Sequence
from typing import Any

from nin_mx.cli.request import InputNeeded, Request, TargetIsInput, missing_files, resolve
from nin_mx.core.text import terminal_safe
from nin_mx.models import get_model_entry, list_models

__all__ = ["main", "run"]


USAGE = """\
nin-shape-report MODEL [--input C,H,W] [options]
       nin-shape-report FILE-symbol.json --input C,H,W [options]
       (a symbol file needs --input, or --shape for each input, unless its data input has a __shape__)
       nin-shape-report --list-models"""

# Each example is a command the README shows with its output (tests/test_readme.py runs both).
EPILOG = """\
examples (bash scripts/examples.sh [DIR] writes the symbol files and the checkpoint into DIR):
  nin-shape-report nin_cifar10
  nin-shape-report inception_resnet_v2 --view stages
  nin-shape-report nin_cifar10 --compare-pooling --min-input
  nin-shape-report densenet121-symbol.json --input 3,224,224 --check
  nin-shape-report densenet121-symbol.json --input 3,224,224 --params densenet121-0000.params
  nin-shape-report inception_resnet_v2 --diff irv2-manual-symbol.json
  nin-shape-report irv2-manual-symbol.json --input 3,299,299 --fix irv2-fixed-symbol.json

border modes: valid, same (half) and full pad each layer a model's border mode applies to by
  0, ke//2 and ke-1 (ke: the effective kernel; README, "Border arithmetic"); reference builds the
  model with its published padding, layer by layer (the Caffe model zoo's NIN, TF-slim's
  Inception-ResNet-v2). A symbol file is reported as built.

exit codes: 0 report produced, 1 model/file/shape error, 2 usage error,
            3 --check/--params found a warning or an error, or --diff found differences
"""


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors (no usage dump), still exiting with status 2."""

    def error(self, message: str) -> Any:
        self.exit(2, f"{self.prog}: error: {message}\n")


def _build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="nin-shape-report",
        usage=USAGE,
        description="Per-layer output shapes, parameters, MACs and receptive fields of an MXNet "
        "graph under each border mode, side by side.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "model",
        nargs="?",
        metavar="MODEL|FILE",
        help="a model name (see --list-models) or a saved MXNet -symbol.json",
    )
    parser.add_argument(
        "--input",
        metavar="C,H,W",
        help="input shape without the batch axis (default: the model's own, e.g. 3,299,299). A symbol "
        "file needs it (any rank), unless its data input has a __shape__; without either, the run "
        "says what the file fixes of its input and proposes a size",
    )
    parser.add_argument("--batch", metavar="N", help="batch size (default 1)")
    parser.add_argument(
        "--shape",
        metavar="NAME=N,C,H,W",
        action="append",
        default=[],
        help="full shape of a named input, batch included; repeat for several inputs",
    )
    parser.add_argument(
        "--model-arg",
        metavar="NAME=VALUE",
        action="append",
        default=[],
        help="a factory argument of a built-in model, e.g. num_classes=100 (repeat for several; "
        "typed by the factory's signature)",
    )
    parser.add_argument(
        "--border-mode",
        metavar="MODES",
        default=None,
        help="comma-separated: valid, same (or half), full, reference; or all, which is valid,same,full "
        "(the default)",
    )
    parser.add_argument(
        "--format",
        metavar="FORMAT",
        default="table",
        help="table, markdown, csv, json or html (a self-contained page)",
    )
    parser.add_argument(
        "--view",
        metavar="VIEW",
        default="layers",
        help="layers (a row per layer, the default), blocks (a row per block; identical consecutive "
        "blocks collapse to one) or stages (consecutive layers of one output size)",
    )
    parser.add_argument(
        "--output", metavar="FILE", help="write the report here (atomically) instead of stdout"
    )
    parser.add_argument(
        "--compare-pooling",
        action="store_true",
        help="also compare manual (infer_shape) and global final pooling, by shapes and numbers "
        "(under the one border mode given, else under the model's published padding)",
    )
    parser.add_argument(
        "--min-input",
        action="store_true",
        help="also find the smallest square input each border mode accepts",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="also diagnose the graph: fixed-kernel 'global' pools, paddings that match no border "
        "mode and the other pitfalls (README, 'Checks'); exit 3 on a warning or an error",
    )
    parser.add_argument(
        "--params",
        metavar="FILE",
        help="also check this .params checkpoint's array names and shapes against the graph",
    )
    parser.add_argument(
        "--diff",
        metavar="MODEL|FILE",
        help="compare with a second graph layer by layer (exit 3 when they differ); --border-mode "
        "then takes one mode, or two (a then b)",
    )
    parser.add_argument(
        "--all", action="store_true", help="with --diff: list every pair, not only the differences"
    )
    parser.add_argument(
        "--fix",
        metavar="OUT",
        help="write the graph repaired to OUT (a -symbol.json, atomically): hand-computed global pools "
        "become global_pool=True, ignored pool attributes go; then print the edits, the re-check and "
        "the diff of original vs fixed (README, 'Fix')",
    )
    parser.add_argument(
        "--fix-rules",
        metavar="RULES",
        help="with --fix: the rules to fix, comma-separated (default: fixed-global-pool, "
        "padded-global-pool, ignored-pool-attrs; custom-padding=MODE only when asked)",
    )
    parser.add_argument(
        "--onnx",
        metavar="OUT",
        help="export the graph to an ONNX model at OUT (atomically; no MXNet needed), with the weights "
        "of --params, else seeded random ones; size-free graphs get symbolic N, H, W (README, "
        "'Export to ONNX')",
    )
    parser.add_argument("--opset", metavar="N", help="with --onnx: the ONNX opset (13 to 21, default 17)")
    parser.add_argument("--list-models", action="store_true", help="list the models and exit")
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    return parser


def _build_document(request: Request) -> tuple[Any, list[str]]:
    """Runs the reports; returns the document and the notes for stderr (the input's note last)."""
    from nin_mx.cli.inputs import request_input
    from nin_mx.document import build_document
    from nin_mx.graph.source import Graph

    stored = None
    if request.params is not None:  # first: a bad checkpoint fails before any report is made
        from nin_mx.checks.params import load_params

        stored = load_params(request.params)
    notes = []
    if request.is_file:
        graphs = [Graph.from_file(request.source)]
        if request.mode_note:
            notes.append(
                "note: border modes apply to nin_mx's own models; a symbol file is reported as built"
            )
    else:
        graphs = [
            Graph.from_model(request.source, border_mode=mode, **request.model_args) for mode in request.modes
        ]
    shapes, hint = request_input(request, graphs[0], stored)
    doc = build_document(
        graphs,
        shapes,
        compare_pooling=request.compare_pooling,
        min_input=request.min_input,
        check=request.check,
        params=stored,
        model_args=request.model_args,
    )
    if hint is not None:
        notes.append(f"note: {hint}")
    return doc, notes


def _build_diff(request: Request) -> tuple[Any, list[str]]:
    """``--diff``: both graphs' reports, aligned; returns the diff and the lines for stderr."""
    from nin_mx.analysis.diff import diff_reports, graph_attrs
    from nin_mx.cli.inputs import request_input
    from nin_mx.graph.source import Graph
    from nin_mx.report.rows import report_graph

    sides = (
        (request.source, request.is_file, request.modes[0]),
        (request.diff, request.diff_is_file, request.modes[-1]),
    )
    graphs = [
        Graph.from_file(src) if file else Graph.from_model(src, border_mode=mode, **request.model_args)
        for src, file, mode in sides
    ]
    shapes, _ = request_input(request, graphs[0], None)
    a, b = (report_graph(graph, shapes) for graph in graphs)
    errors = [f"{side} ({r.border_mode}): {r.error}" for side, r in (("a", a), ("b", b)) if not r.ok]
    notes = (
        ["note: border modes apply to nin_mx's own models; a symbol file is reported as built"]
        if request.mode_note
        else []
    )
    return diff_reports(a, b, attrs_a=graph_attrs(graphs[0]), attrs_b=graph_attrs(graphs[1])), notes + errors


def _write_atomically(path: str, text: str, option: str = "--output") -> None:
    """Writes ``text`` to ``path`` through a temporary file and a rename, so a failed run
    leaves an existing file as it was. A symbolic link is followed (the link stays), and a
    target that is not a regular file (``/dev/stdout``, a pipe) is written to directly.
    """
    try:
        if os.path.exists(path) and not os.path.isfile(path):  # /dev/stdout, a pipe: write into it
            with open(path, "w", encoding="utf-8") as handle:
                handle.write(text)
            return
        _write(os.path.realpath(path), text)
    except OSError as exc:  # name the user's file, not the temporary one
        raise OSError(f"{option}: cannot write {path}: {exc.strerror or exc}") from exc


def _write(target: str, text: str) -> None:
    if os.path.exists(target) and not os.path.isfile(target):
        with open(target, "w", encoding="utf-8") as handle:
            handle.write(text)
        return
    fd, tmp = tempfile.mkstemp(prefix=".nin-shape-report-", dir=os.path.dirname(target))
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        if os.path.exists(target):
            mode = os.stat(target).st_mode & 0o7777
        else:
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def main(argv: Sequence[str] | None = None) -> int:
    """Runs ``nin-shape-report``; returns the exit code."""
    parser = _build_parser()
    args = parser.parse_args(argv)
    if args.list_models:
        for name in list_models():
            entry = get_model_entry(name)
            print(f"{name:22} {','.join(map(str, entry.input_shape)):10} {entry.summary}")
        return 0
    try:
        request = resolve(args)
    except TargetIsInput as exc:
        if not exc.refusal:
            parser.error(str(exc))
        print(f"{parser.prog}: {terminal_safe(str(exc))}", file=sys.stderr)  # --onnx: nothing written
        return 1
    except ValueError as exc:
        parser.error(str(exc))
    missing = missing_files(request)
    if missing:  # before any other file is read, and before what depends on a file's content
        print(
            f"{parser.prog}: {'; '.join(f'{terminal_safe(path)}: no such file' for path in missing)}",
            file=sys.stderr,
        )
        return 1
    try:
        if request.diff is not None:
            return _run_diff(parser.prog, request)
        if request.fix is not None:
            return _run_fix(parser.prog, request)
        if request.onnx is not None:
            return _run_onnx(request)
        from nin_mx.render import render_view

        doc, notes = _build_document(request)
        text = render_view(doc, request.fmt, request.view)
        for note in notes:
            print(terminal_safe(note), file=sys.stderr)
        for report in doc.reports:
            if not report.ok:
                print(
                    f"{parser.prog}: {report.border_mode}: {terminal_safe(report.error or '')}",
                    file=sys.stderr,
                )
        if not any(report.ok for report in doc.reports):
            return 1
        _emit(request, text)
        if doc.findings is not None:
            from nin_mx.checks.check import has_problems

            if any(has_problems(findings) for findings in doc.findings):
                return 3
    except InputNeeded as exc:  # a usage error found once the symbol file is read
        parser.error(str(exc))
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    except KeyboardInterrupt:
        print(f"{parser.prog}: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        if args.debug:
            raise
        from nin_mx._mxnet import MXNetUnavailable
        from nin_mx.core.errors import one_line

        known = (ValueError, OSError, MXNetUnavailable)
        kind = "" if isinstance(exc, known) else f"internal error ({type(exc).__name__}): "
        print(f"{parser.prog}: {kind}{terminal_safe(one_line(exc))}", file=sys.stderr)
        return 1
    return 0


def _run_diff(prog: str, request: Request) -> int:
    """``--diff``: prints the diff; 0 when the graphs agree, 3 when they differ, 1 when neither
    side's shapes can be inferred."""
    from nin_mx.render import render_diff

    diff, lines = _build_diff(request)
    text = render_diff(diff, request.fmt, all_rows=request.all_rows)
    for line in lines:
        print(terminal_safe(line if line.startswith("note:") else f"{prog}: {line}"), file=sys.stderr)
    if diff.error_a is not None and diff.error_b is not None:
        return 1
    _emit(request, text)
    return 3 if diff.has_differences else 0


def _run_fix(prog: str, request: Request) -> int:
    """``--fix OUT``: repairs the graph, writes it, prints what changed; 0 fixed or nothing to fix."""
    from nin_mx.checks.fix import fix
    from nin_mx.cli.inputs import request_input
    from nin_mx.graph.source import Graph
    from nin_mx.render import render_fix

    graph = (
        Graph.from_file(request.source)
        if request.is_file
        else Graph.from_model(request.source, border_mode=request.modes[0], **request.model_args)
    )
    shapes, _ = request_input(request, graph, None)
    result = fix(graph, shapes, request.fix_rules)
    fit = result.checkpoint_fit(request.params) if request.params is not None and result.changed else None
    if result.changed:
        _write_atomically(request.fix, result.text, option="--fix")
    _emit(request, render_fix(result, request.fmt, output=request.fix, checkpoint=fit))
    return 0


def _run_onnx(request: Request) -> int:
    """``--onnx OUT``: exports the graph, writes it atomically, prints one line; notes on stderr."""
    from nin_mx.graph.source import Graph

    from nin_mx.export import DEFAULT_OPSET, export_onnx, save_onnx  # needs neither onnx nor numpy
    graph = (
        Graph.from_file(request.source)
        if request.is_file
        else Graph.from_model(request.source, border_mode=request.modes[0], **request.model_args)
    )
    opset = DEFAULT_OPSET if request.opset is None else request.opset
    exported = export_onnx(
        graph, params=request.params, input_shapes=request.shapes, opset=opset, defer_weights=True
    )
    save_onnx(exported, request.onnx)  # the checkpoint's weights copied from it into the file
    for note in exported.notes:
        print(terminal_safe(f"note: {note}"), file=sys.stderr)
    inputs = ", ".join(f"{v.name} ({','.join(map(str, v.dims))})" for v in exported.proto.inputs)
    weights = "the checkpoint's weights" if request.params is not None else "seeded random weights"
    sys.stdout.write(
        terminal_safe(f"wrote {request.onnx}: ONNX opset {opset}, input {inputs}, {weights}") + "\n"
    )
    return 0


def _emit(request: Request, text: str) -> None:
    """The output, to ``--output`` (atomically) or stdout."""
    # A file name that is not UTF-8 (a surrogate escape) is shown escaped, not a codec error.
    text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    if request.output:
        _write_atomically(request.output, text)
    else:
        sys.stdout.write(text)
        sys.stdout.flush()


def run() -> None:
    """The console script: :func:`main` with the cyclic garbage collector off.

    A report makes few cycles; the collections it would trigger, and the interpreter's last
    ones at exit over every object MXNet created, are measurable in the command's wall time
    (BENCHMARKS.md). This is the only place nin_mx touches the collector: it is process-wide
    state, so library calls and :func:`main` (which tests call) leave it alone.
    """
    gc.disable()
    code = main()
    gc.freeze()  # objects alive now are left out of the collections made at interpreter exit
    sys.exit(code)


if __name__ == "__main__":
    run()
