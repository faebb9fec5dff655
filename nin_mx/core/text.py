"""Untrusted text made safe for where it is shown: a terminal, a spreadsheet (pure, no MXNet).

Names of layers, checkpoint keys and file names come from files nin_mx did not write. Shown raw
in a terminal, an escape sequence in a name can retitle the window or clear the screen, and a
bidirectional override can make a name read as another; in a CSV opened by a spreadsheet, a
cell that begins with ``=`` is a formula. JSON (escaped by ``json``) and HTML (escaped by
``html.escape``) keep names exactly.
"""

from __future__ import annotations

import re

__all__ = ["csv_cell", "terminal_safe"]

# C0 controls but TAB and LF, DEL, C1 controls, and Unicode's bidirectional embeddings,
# overrides and isolates (U+202A-U+202E, U+2066-U+2069) and marks that reorder text silently
# (U+200E, U+200F, U+061C).
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def terminal_safe(text: str, *, keep_newlines: bool = False) -> str:
    """``text`` with control characters and bidirectional overrides shown escaped (``\\x1b``,
    ``\\u202e``); a tab is kept, a line feed too with ``keep_newlines`` (else ``\\x0a``)."""
    if keep_newlines:
        return _UNSAFE.sub(_escape, text)
    return _UNSAFE.sub(_escape, text.replace("\n", "\\x0a"))


# OWASP, "CSV Injection": a cell that begins with one of these is read as a formula.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"-?\d+(\.\d+)?")


def csv_cell(value: object) -> object:
    """A CSV cell that no spreadsheet reads as a formula: text that begins with ``=``, ``+``,
    ``-``, ``@``, a tab or a carriage return gets a leading ``'`` (OWASP's advice). Numbers, a
    negative number written as text and the ``-`` that stands for "none" are left as they are.
    """
    if not isinstance(value, str) or not value.startswith(_FORMULA_START):
        return value
    if value == "-" or _NUMBER.fullmatch(value):
        return value
    return "'" + value
