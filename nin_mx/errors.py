"""The exceptions nin_mx raises, and the reduction of MXNet's C++ traces to one line."""

from __future__ import annotations

import re

__all__ = ["GraphError", "ShapeError", "one_line"]


class ShapeError(ValueError):
    """Shapes cannot be inferred: an input is too small, or a kernel does not fit.

    Attributes:
        layer: name of the first layer whose output would be empty, when known.
    """

    def __init__(self, message: str, layer: str | None = None) -> None:
        super().__init__(message)
        self.layer = layer


class GraphError(ValueError):
    """A symbol graph (or symbol file) is malformed or cannot be built."""


_OPERATOR = re.compile(r"Error in operator ([^:]+):")
_CHECK = re.compile(r"Check failed: (.*)")
_TIMESTAMP = re.compile(r"\[\d\d:\d\d:\d\d\] \S+:\d+: ")


def one_line(exc: BaseException) -> str:
    """Reduces an exception's text (an MXNet C++ trace included) to its one useful line.

    For MXNet errors this keeps the operator's name and the failed check's own words, and
    drops the argument dump, the source locations and the stack trace.

    Args:
        exc: any exception.

    Returns:
        A single line without a trailing period.
    """
    text = str(exc).strip()
    operator = _OPERATOR.search(text)
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    detail = None
    for ln in lines:
        check = _CHECK.search(ln)
        if check:
            detail = check.group(1)
            break
    if detail is None:
        informative = [
            ln
            for ln in lines
            if not ln.startswith(("Stack trace", "File ", "[bt]", "infer_shape error", "  "))
            and ":" not in ln[:3]
        ]
        detail = informative[0] if informative else type(exc).__name__
    detail = _TIMESTAMP.sub("", detail)
    detail = re.sub(r"^(MXNetError|Error): ", "", detail)
    # A check reads "cond (a vs. b) : message"; the message is what a user needs.
    if " : " in detail:
        condition, message = detail.split(" : ", 1)
        numbers = re.search(r"\(\d+ vs\. \d+\)", condition)
        detail = message.strip() + (f" {numbers.group(0)}" if numbers else "")
    elif ": " in detail and "<" in detail.split(": ", 1)[0]:
        detail = detail.split(": ", 1)[1]
    detail = " ".join(detail.split()).rstrip(".")
    if operator:
        return f"operator '{operator.group(1).strip()}': {detail}"
    return detail
