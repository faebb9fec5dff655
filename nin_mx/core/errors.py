"""The exceptions nin_mx raises, and the reduction of MXNet's C++ traces to one line."""

from __future__ import annotations

import re

__all__ = ["GraphError", "ShapeError", "UnsupportedOperator", "one_line"]


class ShapeError(ValueError):
    """Shapes cannot be inferred: an input is too small, or a kernel does not fit.

    Attributes:
        layer: name of the first layer whose output would be empty, when known.
        index: that layer's node index, when known (a graph may repeat a name).
    """

    def __init__(self, message: str, layer: str | None = None, index: int | None = None) -> None:
        super().__init__(message)
        self.layer = layer
        self.index = index


class GraphError(ValueError):
    """A symbol graph (or symbol file) is malformed or cannot be built."""


class UnsupportedOperator(GraphError):
    """nin_mx's own shape engine has no rule for an operator of the graph.

    Attributes:
        layer: the node's name.
        op: the operator's name.
        index: the node's index (a graph may repeat a name).
    """

    def __init__(
        self, message: str, layer: str | None = None, op: str | None = None, index: int | None = None
    ) -> None:
        super().__init__(message)
        self.layer = layer
        self.op = op
        self.index = index


_OPERATOR = re.compile(r"Error in operator ([^:\s]+):|Failed loading Op (\S+) of type (\S+?):")
_CHECK = re.compile(r"Check failed: (.*)")
_TIMESTAMP = re.compile(r"\[\d\d:\d\d:\d\d\] \S+:\d+: ")
_PREFIXES = re.compile(
    r"^(?:(?:MXNetError|Error|Error in operator \S+|Failed loading Op \S+ of type \S+): )+"
)
# MXNet's long tails: the operator's argument dump, the list of its parameters.
_TAILS = re.compile(r",? in operator \w+\(.*$|,? Possible Arguments:.*$")
_NOISE = ("Stack trace", "File ", "[bt]", "infer_shape error", "Traceback", "----")


def _check_message(check: str) -> str:
    """The user's part of a failed check: ``cond (a vs. b) : message`` or ``cond: message``."""
    if " : " in check:
        condition, message = check.split(" : ", 1)
        message = message.strip()
        numbers = re.search(r"\((-?\d+) vs\. (-?\d+)\)", condition)  # CHECK_EQ and friends
        if numbers and numbers.group(1) != numbers.group(2) and numbers.group(1) not in message:
            message = f"{message} {numbers.group(0)}"
        return message
    # dmlc/tvm checks read "cond: message"; a C++ condition never holds ": " itself.
    condition, sep, message = check.partition(": ")
    return message if sep and message.strip() else check


def one_line(exc: BaseException) -> str:
    """Reduces an exception's text (an MXNet C++ trace included) to its one useful line.

    For MXNet errors this keeps the operator's name and the failed check's own words, and
    drops the failed condition, the argument dump, the source locations and the stack trace.

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
            detail = _check_message(_TIMESTAMP.sub("", check.group(1)))
            break
    if detail is None:
        cleaned = (_PREFIXES.sub("", _TIMESTAMP.sub("", ln)).strip() for ln in lines)
        informative = [ln for ln in cleaned if ln and not ln.startswith(_NOISE)]
        detail = informative[0] if informative else type(exc).__name__
    detail = _TAILS.sub("", detail)
    detail = " ".join(detail.split()).rstrip(".:,; ") or type(exc).__name__
    if operator:
        name = operator.group(1) or operator.group(2)
        kind = f" ({operator.group(3)})" if operator.group(3) else ""
        return f"operator '{name}'{kind}: {detail}"
    return detail
