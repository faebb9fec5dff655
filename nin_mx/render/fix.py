"""A FixResult (``--fix``) -> text, markdown, JSON or HTML: the edits, the re-check, what a
checkpoint needs, then the diff of original vs fixed in the same format. Pure functions.

JSON: ``{"schema_version": ..., "fix": {...}, "diff": {...}}``: ``fix`` holds ``output`` (the
file written, or ``null``), ``input_shapes``, ``rules``, ``edits`` (``rule``, ``layer``,
``removed``, ``added``, ``effect``, ``message``), ``param_changes`` (``array``, ``old_shape``,
``new_shape``), ``recheck`` and ``checkpoint`` (findings, ``null`` without ``--params``);
``diff`` is the diff's JSON body (README, "Diff"), ``null`` when nothing was fixed.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

from nin_mx.checks.findings import Finding
from nin_mx.checks.fix import FixResult
from nin_mx.core.enums import OutputFormat
from nin_mx.core.text import terminal_safe
from nin_mx.render.cells import SCHEMA_VERSION, encode, finding_lines, finding_to_dict
from nin_mx.render.diff import diff_to_dict, render_diff_markdown, render_diff_table
from nin_mx.render.html import diff_to_html

__all__ = ["fix_lines", "fix_to_dict", "render_fix"]


def fix_lines(result: FixResult, output: str | None, checkpoint: Sequence[Finding] | None) -> list[str]:
    """The summary of a fix: what was written, each edit, the re-check and the checkpoint."""
    shapes = ", ".join(f"{name}={tuple(shape)}" for name, shape in result.input_shapes.items())
    rules = ", ".join(result.rules)
    if not result.changed:
        return [f"nothing to fix: no finding of {rules} at input {shapes}; nothing written"]
    lines = [f"fixed: {len(result.edits)} edit{'s' if len(result.edits) != 1 else ''} at input {shapes}"]
    if output is not None:
        lines[0] += f", written to {output}"
    lines += [f"  {line}" for line in result.messages]
    lines.append(
        f"recheck: {len(result.recheck)} finding{'s' if len(result.recheck) != 1 else ''} of {rules} "
        "on the fixed graph"
    )
    lines += [f"  {line.strip()}" for line in finding_lines(None, result.recheck)[1:]]
    if checkpoint is not None:
        if not checkpoint:
            lines.append("checkpoint: fits the fixed graph as it is")
        else:
            lines.append(f"checkpoint: {len(checkpoint)} array(s) no longer fit the fixed graph")
            lines += [f"  {line.strip()}" for line in finding_lines(None, checkpoint)[1:]]
    return lines


def fix_to_dict(
    result: FixResult, output: str | None, checkpoint: Sequence[Finding] | None
) -> dict[str, Any]:
    """The JSON-ready dict of a fix (see the module docstring)."""
    body = {
        "output": output if result.changed else None,
        "input_shapes": {name: list(shape) for name, shape in result.input_shapes.items()},
        "rules": dict(result.rules),
        "edits": [
            {
                "rule": e.rule,
                "layer": e.layer,
                "removed": dict(e.removed),
                "added": dict(e.added),
                "effect": e.effect,
                "message": e.message,
            }
            for e in result.edits
        ],
        "param_changes": [
            {"array": c.array, "old_shape": list(c.old_shape), "new_shape": list(c.new_shape)}
            for c in result.param_changes
        ],
        "recheck": [finding_to_dict(f) for f in result.recheck],
        "checkpoint": None if checkpoint is None else [finding_to_dict(f) for f in checkpoint],
    }
    diff = diff_to_dict(result.diff)["diff"] if result.diff is not None else None
    return {"schema_version": SCHEMA_VERSION, "fix": body, "diff": diff}


def render_fix(
    result: FixResult,
    fmt: OutputFormat | str = OutputFormat.TABLE,
    *,
    output: str | None = None,
    checkpoint: Sequence[Finding] | None = None,
) -> str:
    """A fix in a format: its summary lines, then the diff of original vs fixed.

    Raises:
        ValueError: for an unknown format, or CSV (a fix has no rows of its own).
    """
    fmt = OutputFormat.parse(fmt)
    if fmt is OutputFormat.JSON:
        return encode(fix_to_dict(result, output, checkpoint)) + "\n"
    lines = fix_lines(result, output, checkpoint)
    if fmt is OutputFormat.HTML:
        items = "\n".join(f"<li>{html.escape(line.strip())}</li>" for line in lines)
        page = diff_to_html(result.diff) if result.diff is not None else ""
        head = f'<div class="nin-mx"><h1>nin_mx fix</h1>\n<ul>\n{items}\n</ul></div>\n'
        return page.replace("<body>\n", f"<body>\n{head}", 1) if page else head
    if fmt is OutputFormat.MARKDOWN:
        text = "\n".join(f"- {terminal_safe(line.strip())}" for line in lines) + "\n"
        return text + ("\n" + render_diff_markdown(result.diff) if result.diff is not None else "")
    if fmt is OutputFormat.TABLE:
        text = "\n".join(terminal_safe(line) for line in lines) + "\n"
        return text + ("\n" + render_diff_table(result.diff) if result.diff is not None else "")
    raise ValueError("--fix prints its edits and diff as a table, markdown, json or html")
