"""The command line's arguments -> a frozen :class:`Request`, checked without importing MXNet.

Every usage error of ``nin-shape-report`` is found here and raised as a one-line ValueError
(the CLI turns it into exit code 2); strings become enums (:class:`~nin_mx.border.ReportMode`,
:class:`~nin_mx.render.OutputFormat`) and shapes checked tuples, once.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from nin_mx.core.border import BorderMode, ReportMode, parse_border_mode
from nin_mx.core.enums import OutputFormat, View
from nin_mx.core.validate import Shape, check_dims
from nin_mx.models import get_model_entry, list_models

__all__ = ["InputNeeded", "Request", "channels_last_hint", "missing_files", "resolve"]


class InputNeeded(ValueError):
    """A symbol file without ``--input`` whose data input has no ``__shape__``: a usage error
    (exit 2) found once the file is read, whose one line says what is known of the input and
    proposes one (:mod:`nin_mx.cli.inputs`)."""


@dataclass(frozen=True)
class Request:
    """One run of the command, every argument checked and converted (no MXNet needed).

    Attributes:
        source: the model name or the symbol file's path.
        is_file: whether ``source`` is a symbol file.
        fmt: the output format.
        modes: the border modes to report, in order (a file: ``as built`` only).
        shapes: the input shape (batch included), or shapes by input name; ``None`` for a
            symbol file without ``--input`` or ``--shape``, whose size comes from the file
            (:mod:`nin_mx.cli.inputs`, once it is read).
        batch: ``--batch`` when it was given, else ``None`` (a file's own ``__shape__`` keeps
            its batch axis then).
        mode_note: a border mode was asked for a file, which is reported as built.
        compare_pooling, min_input, check: the optional sections.
        params: a checkpoint to check against the graph, or ``None``.
        diff: the second graph of ``--diff`` (its border mode is ``modes[-1]``), or ``None``;
            ``diff_is_file`` says whether it is a symbol file, ``all_rows`` whether every pair
            is listed.
        view: how rows are grouped (layers, blocks, stages).
        output: the file to write, or ``None`` for stdout.
        fix: the file ``--fix`` writes the repaired graph to, or ``None``; ``fix_rules`` the
            rules to fix (``None``: the default ones), as ``--fix-rules`` names them.
        model_args: factory arguments of a built-in model (``--model-arg``), typed.
        hint: a note for stderr about the input, e.g. that it looks channels-last.
        onnx: the file ``--onnx`` writes the ONNX model to, or ``None``; ``opset`` its opset
            (``None``: the exporter's default).
    """

    source: str
    is_file: bool
    fmt: OutputFormat
    modes: tuple[ReportMode, ...]
    shapes: Shape | Mapping[str, Shape] | None
    batch: int | None = None
    mode_note: bool = False
    compare_pooling: bool = False
    min_input: bool = False
    check: bool = False
    params: str | None = None
    diff: str | None = None
    diff_is_file: bool = False
    all_rows: bool = False
    view: View = View.LAYERS
    output: str | None = None
    fix: str | None = None
    fix_rules: str | None = None
    model_args: Mapping[str, Any] = field(default_factory=dict)
    hint: str | None = None
    onnx: str | None = None
    opset: int | None = None


def _positive_ints(text: str, what: str) -> Shape:
    parts = [p.strip() for p in text.lower().replace("x", ",").split(",")]
    try:
        values = tuple(int(p) for p in parts)
    except ValueError:
        raise ValueError(f"{what} must be comma-separated integers, got {text!r}") from None
    return check_dims(values, what, shown=repr(text))


def _parse_modes(text: str) -> tuple[ReportMode, ...]:
    modes: list[ReportMode] = []
    for part in (p.strip().lower() for p in text.split(",")):
        if part == "all":
            names = [ReportMode(mode.value) for mode in BorderMode]
        elif part == "reference":
            names = [ReportMode.REFERENCE]
        else:
            try:
                names = [ReportMode(parse_border_mode(part).value)]
            except ValueError:
                raise ValueError(
                    f"unknown border mode {part!r} (choose from valid, same, half, full, reference, all)"
                ) from None
        modes += [name for name in names if name not in modes]
    return tuple(modes)


def _is_file_argument(model: str) -> bool:
    return model not in list_models() and (
        model.endswith((".json", ".params")) or os.sep in model or os.path.exists(model)
    )


def _resolve_diff(
    args: argparse.Namespace, modes: tuple[ReportMode, ...]
) -> tuple[bool, tuple[ReportMode, ...]]:
    """``--diff``'s second graph and the border modes of both sides (a, b)."""
    if not args.diff.strip():
        raise ValueError("--diff is empty")
    diff_is_file = _is_file_argument(args.diff)
    if not diff_is_file:
        get_model_entry(args.diff)  # unknown model: ValueError with the closest name
    if args.compare_pooling or args.min_input or args.check or args.params is not None:
        raise ValueError(
            "--diff compares two graphs; --check, --params, --compare-pooling and --min-input apply to one"
        )
    if args.border_mode is None:  # not given: each model's published padding
        return diff_is_file, (ReportMode.REFERENCE,)
    if len(modes) > 2:
        raise ValueError(f"--diff takes one border mode, or two (a then b), got {args.border_mode!r}")
    return diff_is_file, modes


def _file_modes(
    modes: tuple[ReportMode, ...], is_file: bool, diff_is_file: bool | None
) -> tuple[ReportMode, ...]:
    """The report modes of the request: a file is reported as built; with ``--diff``, (a, b)."""
    if diff_is_file is None:
        return (ReportMode.AS_BUILT,) if is_file else modes
    a, b = modes[0], modes[-1]
    return (ReportMode.AS_BUILT if is_file else a, ReportMode.AS_BUILT if diff_is_file else b)


def resolve(args: argparse.Namespace) -> Request:
    """Checks every argument without importing MXNet; raises ValueError for usage errors."""
    if args.model is None:
        raise ValueError("a MODEL or FILE is required (see --list-models)")
    is_file = _is_file_argument(args.model)
    if not is_file:
        get_model_entry(args.model)  # unknown model: ValueError with the closest name
    try:
        fmt = OutputFormat.parse(args.format)
    except ValueError:
        raise ValueError(f"unknown format {args.format!r} (choose from {OutputFormat._choices()})") from None
    batch_text = args.batch if args.batch is not None else "1"
    if not batch_text.strip().isdecimal() or int(batch_text) < 1:
        raise ValueError(f"--batch must be one positive integer, got {batch_text!r}")
    batch = _positive_ints(batch_text, "--batch")
    modes = _parse_modes(args.border_mode if args.border_mode is not None else "valid,same,full")
    if args.fix is not None and args.border_mode is None:  # a model is repaired as published
        modes = (ReportMode.REFERENCE,)
    if getattr(args, "onnx", None) is not None and args.border_mode is None:  # exported as published
        modes = (ReportMode.REFERENCE,)
    try:
        view = View.parse(args.view)
    except ValueError:
        raise ValueError(f"unknown view {args.view!r} (choose from {View._choices()})") from None
    if args.diff is not None and view is not View.LAYERS:
        raise ValueError("--view groups one graph's report; --diff pairs layers")
    diff_is_file = False
    if args.diff is not None:
        diff_is_file, modes = _resolve_diff(args, modes)
    elif args.all:
        raise ValueError("--all lists the pairs of --diff")
    for option, value in (("--input", args.input), ("--output", args.output)):
        if value is not None and not value.strip():
            raise ValueError(f"{option} is empty")
    if args.shape and args.input is not None:
        raise ValueError("give either --input or --shape, not both")
    shapes: dict[str, Shape] | Shape | None
    if args.shape:
        shapes = {}
        for item in args.shape:
            name, sep, dims = item.partition("=")
            if not sep or not name.strip():
                raise ValueError(f"--shape must look like NAME=N,C,H,W, got {item!r}")
            if name.strip() in shapes:
                raise ValueError(f"--shape {name.strip()} is given twice")
            shapes[name.strip()] = _positive_ints(dims, f"--shape {name.strip()}")
    elif args.input is not None:
        shapes = (batch[0], *_positive_ints(args.input, "--input"))
    elif is_file:  # the file's own __shape__, or what it says of its size: once it is read
        shapes = None
    else:
        shapes = (batch[0], *get_model_entry(args.model).input_shape)
    models = [
        m for m, file in ((args.model, is_file), (args.diff, diff_is_file)) if m is not None and not file
    ]
    for model in dict.fromkeys(models):
        expected = len(get_model_entry(model).input_shape) + 1
        if shapes is None:  # a file without --input: the file's size, checked when it is read
            continue
        given = [shapes] if isinstance(shapes, tuple) else list(shapes.values())
        if isinstance(shapes, dict) and set(shapes) != {"data"}:
            raise ValueError(f"{model} has one input, 'data'")
        if any(len(s) != expected for s in given):
            raise ValueError(f"{model} takes a {expected - 2}-D image input: --input C,H,W")
        channels = get_model_entry(model).input_shape[0]
        for shape in given:
            hint = channels_last_hint(shape[1:], channels, f"{model} takes {channels} channels")
            if hint is not None:  # our models' channel count is known: this input is wrong
                raise ValueError(hint)
    if is_file and args.compare_pooling:
        raise ValueError("--compare-pooling needs one of nin_mx's models, not a symbol file")
    if fmt is OutputFormat.CSV and (args.compare_pooling or args.min_input):
        raise ValueError(
            "--compare-pooling and --min-input are shown in the table, markdown, json and html formats"
        )
    if fmt is OutputFormat.CSV and (args.check or args.params is not None):
        raise ValueError("--check and --params are shown in the table, markdown, json and html formats")
    if args.params is not None and not args.params.strip():
        raise ValueError("--params is empty")
    _check_fix(args, fmt, view, modes, is_file)
    opset = _check_onnx(args, view, modes, is_file)
    if args.output:
        _writable_target("--output", args.output, args, is_file, diff_is_file)
    return Request(
        source=args.model,
        is_file=is_file,
        fmt=fmt,
        modes=_file_modes(modes, is_file, diff_is_file if args.diff is not None else None),
        shapes=shapes,
        batch=batch[0] if args.batch is not None else None,
        mode_note=is_file and (args.diff is None or diff_is_file) and args.border_mode is not None,
        compare_pooling=args.compare_pooling,
        min_input=args.min_input,
        check=args.check,
        params=args.params,
        diff=args.diff,
        diff_is_file=diff_is_file,
        all_rows=args.all,
        view=view,
        output=args.output,
        fix=args.fix,
        fix_rules=args.fix_rules,
        model_args=_model_args(args, is_file),
        hint=_input_hint(shapes),
        onnx=getattr(args, "onnx", None),
        opset=opset,
    )


def channels_last_hint(image: Shape, channels: int | None = None, known: str | None = None) -> str | None:
    """Whether an input without its batch axis (``image``: C,H,W, ...) reads as channels-last,
    and if so the line that says so.

    With ``channels`` (a model's, or what a checkpoint's first convolution takes; ``known`` says
    which), an input whose last axis has that count and whose first does not; without it, one
    whose last axis looks like channels (1, 3 or 4) and whose first does not. nin_mx (as MXNet)
    takes C,H,W.
    """
    if len(image) < 3:
        return None
    if channels is not None:
        if image[-1] != channels or image[0] == channels:
            return None
    elif image[-1] not in (1, 3, 4) or image[0] in (1, 3, 4):
        return None
    moved = (image[-1], *image[:-1])
    because = f", and {known}" if known else ""
    return (
        f"the input {','.join(map(str, image))} looks channels-last; nin_mx takes C,H,W "
        f"(as MXNet does){because}: did you mean C,H,W = {','.join(map(str, moved))}?"
    )


def _input_hint(shapes: Shape | Mapping[str, Shape] | None) -> str | None:
    """An input that looks channels-last: a note, since a graph may take any channel count
    (:mod:`nin_mx.cli.inputs` names a checkpoint's count for a file, once it is read)."""
    given = [] if shapes is None else [shapes] if isinstance(shapes, tuple) else list(shapes.values())
    for shape in given:
        hint = channels_last_hint(shape[1:])
        if hint is not None:
            return hint
    return None


def _typed(name: str, raw: str, default: Any, annotation: str) -> Any:
    """A ``--model-arg`` value as the factory's parameter takes it (by its default's type and
    its annotation): an integer, a float, a string, or integers separated by commas."""
    text = raw.strip()
    if text.lower() == "none" and ("None" in annotation or default is None):
        return None
    if isinstance(default, bool) or annotation.startswith("bool"):
        if text.lower() in ("true", "1", "false", "0"):
            return text.lower() in ("true", "1")
        raise ValueError(f"--model-arg {name} takes true or false, got {raw!r}")
    if isinstance(default, int) or annotation.startswith("int"):
        if not text.lstrip("-").isdecimal():
            raise ValueError(f"--model-arg {name} takes an integer, got {raw!r}")
        return int(text)
    if isinstance(default, float) or annotation.startswith("float"):
        try:
            return float(text)
        except ValueError:
            raise ValueError(f"--model-arg {name} takes a number, got {raw!r}") from None
    if isinstance(default, (tuple, list)) or "Sequence" in annotation or "tuple" in annotation:
        return _positive_ints(text, f"--model-arg {name}")
    return text


def _model_args(args: argparse.Namespace, is_file: bool) -> dict[str, Any]:
    """``--model-arg NAME=VALUE ...`` checked against the model's factory, typed."""
    if not args.model_arg:
        return {}
    if is_file or (args.diff is not None and _is_file_argument(args.diff)):
        raise ValueError("--model-arg sets a factory argument of a built-in model, not of a symbol file")
    import inspect

    parameters = inspect.signature(get_model_entry(args.model).builder).parameters
    taken = sorted(p for p in parameters if p != "border_mode")
    values: dict[str, Any] = {}
    for item in args.model_arg:
        name, sep, raw = item.partition("=")
        name = name.strip()
        if not sep or not name:
            raise ValueError(f"--model-arg must look like NAME=VALUE, got {item!r}")
        if name == "border_mode":
            raise ValueError("give the border mode with --border-mode, not --model-arg")
        if name not in parameters:
            raise ValueError(f"{args.model} takes no argument {name!r} (it takes {', '.join(taken)})")
        if name in values:
            raise ValueError(f"--model-arg {name} is given twice")
        parameter = parameters[name]
        values[name] = _typed(name, raw, parameter.default, str(parameter.annotation))
    return values


class TargetIsInput(ValueError):
    """A file the run would write is one it reads. A usage error for ``--output`` and ``--fix``;
    for ``--onnx`` (``refusal``) a refusal of the run: one line, exit 1, nothing written."""

    def __init__(self, message: str, *, refusal: bool = False) -> None:
        super().__init__(message)
        self.refusal = refusal


def _writable_target(
    option: str, path: str, args: argparse.Namespace, is_file: bool, diff_is_file: bool, refusal: bool = False
) -> None:
    """A file the run will write: its folder exists, it is not a folder, and it is no input."""
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise ValueError(f"{option}: folder {folder} does not exist")
    if os.path.isdir(path):
        raise ValueError(f"{option}: {path} is a folder")
    _not_an_input(option, path, args, is_file, diff_is_file, refusal)


def _not_an_input(
    option: str, path: str, args: argparse.Namespace, is_file: bool, diff_is_file: bool, refusal: bool = False
) -> None:
    """A file the run writes is none of the files it reads (after resolving links)."""
    target = os.path.realpath(path)
    inputs = (
        (args.model, is_file, "the symbol file"),
        (args.diff, diff_is_file, "the symbol file"),
        (args.params, args.params is not None, "the checkpoint"),
    )
    for source, file, what in inputs:
        if file and target == os.path.realpath(source):
            raise TargetIsInput(f"{option} would overwrite {what} {source}", refusal=refusal)


def _check_fix(
    args: argparse.Namespace, fmt: OutputFormat, view: View, modes: tuple[ReportMode, ...], is_file: bool
) -> None:
    """``--fix OUT [--fix-rules ...]``: one graph, one border mode, a target that is no input."""
    if args.fix is None:
        if args.fix_rules is not None:
            raise ValueError("--fix-rules names the rules --fix repairs")
        return
    if not args.fix.strip():
        raise ValueError("--fix is empty")
    if args.diff is not None or args.compare_pooling or args.min_input or args.check:
        raise ValueError(
            "--fix repairs one graph; it does not combine with --diff, --check, --compare-pooling "
            "or --min-input"
        )
    if view is not View.LAYERS or fmt is OutputFormat.CSV:
        raise ValueError("--fix prints its edits and diff as a table, markdown, json or html")
    if not is_file and len(modes) != 1:
        raise ValueError("--fix repairs a model under one border mode: give --border-mode with one mode")
    _writable_target("--fix", args.fix, args, is_file, False)
    if args.output and os.path.realpath(args.output) == os.path.realpath(args.fix):
        raise ValueError("--fix and --output name the same file")
    if args.fix_rules is not None:
        from nin_mx.checks.fix import parse_fix_rules

        parse_fix_rules(args.fix_rules)  # unknown rules: ValueError naming the fixable ones


def missing_files(request: Request) -> list[str]:
    """The files the run reads that do not exist, each named (a symbol file, --diff's, --params)."""
    read = (
        (request.source, request.is_file),
        (request.diff, request.diff_is_file),
        (request.params, request.params is not None),
    )
    return [path for path, is_file in read if is_file and path is not None and not os.path.exists(path)]


def _check_onnx(
    args: argparse.Namespace, view: View, modes: tuple[ReportMode, ...], is_file: bool
) -> int | None:
    """``--onnx OUT [--opset N]``: one graph, one border mode, a target that is no input; the opset."""
    target, opset = getattr(args, "onnx", None), getattr(args, "opset", None)
    if target is None:
        if opset is not None:
            raise ValueError("--opset is the ONNX opset of --onnx")
        return None
    if not target.strip():
        raise ValueError("--onnx is empty")
    if args.diff is not None or args.fix is not None or args.compare_pooling or args.min_input or args.check:
        raise ValueError(
            "--onnx exports one graph; it does not combine with --diff, --fix, --check, "
            "--compare-pooling or --min-input"
        )
    if args.output or view is not View.LAYERS:
        raise ValueError("--onnx writes the model and prints one line: no --output or --view")
    if not is_file and len(modes) != 1:
        raise ValueError("--onnx exports a model under one border mode: give --border-mode with one mode")
    _writable_target("--onnx", target, args, is_file, False, refusal=True)
    if opset is None:
        return None
    if not opset.strip().isdecimal():
        raise ValueError(f"--opset must be one integer, got {opset!r}")
    return int(opset)
