"""What a check finds: :class:`Finding`, its :class:`Severity`, and the :class:`Rule` tables.

The graph rules live in :mod:`nin_mx.checks.rules` (``RULES``), the checkpoint rules in
:mod:`nin_mx.checks.params` (``PARAMS_RULES``); both tables map a rule id to a :class:`Rule`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from nin_mx.core.enums import StrEnum

__all__ = ["Finding", "Rule", "Severity"]


class Severity(StrEnum):
    """How bad a finding is. Ordered by gravity: ``INFO < WARNING < ERROR``.

    Comparisons also take the plain strings: ``finding.severity >= "warning"``.
    """

    INFO = "info"
    WARNING = "warning"
    ERROR = "error"

    @property
    def rank(self) -> int:
        """0 for info, 1 for warning, 2 for error."""
        return _RANKS[self.value]

    def _rank_of(self, other: object) -> int | None:
        return (
            _RANKS.get(other.value if isinstance(other, Severity) else other)
            if isinstance(other, str)
            else None
        )

    def __lt__(self, other: object) -> bool:
        rank = self._rank_of(other)
        return NotImplemented if rank is None else self.rank < rank

    def __le__(self, other: object) -> bool:
        rank = self._rank_of(other)
        return NotImplemented if rank is None else self.rank <= rank

    def __gt__(self, other: object) -> bool:
        rank = self._rank_of(other)
        return NotImplemented if rank is None else self.rank > rank

    def __ge__(self, other: object) -> bool:
        rank = self._rank_of(other)
        return NotImplemented if rank is None else self.rank >= rank


_RANKS = {"info": 0, "warning": 1, "error": 2}


@dataclass(frozen=True)
class Finding:
    """One diagnosis of a graph (or of a checkpoint against it).

    Attributes:
        rule: the rule's id, a key of ``nin_mx.rules.RULES`` or ``nin_mx.params.PARAMS_RULES``.
        severity: ``error``, ``warning`` or ``info`` (a string is converted).
        layer: the node it is about; ``None`` for an array of a checkpoint that no node uses.
        message: one line: what happens, with its numbers, and what to do.
        detail: the rule's structured data, as plain JSON values (lists, not tuples).

    Raises:
        ValueError: for an unknown severity or a message of more than one line.
    """

    rule: str
    severity: Severity
    layer: str | None
    message: str
    detail: Mapping[str, Any] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "severity", Severity(self.severity))
        if "\n" in self.message or not self.message.strip():
            raise ValueError(f"a finding's message is one non-empty line, got {self.message!r}")

    def _repr_html_(self) -> str:
        from nin_mx.render.html import findings_to_html  # it imports this module

        return findings_to_html([self])


class Rule(NamedTuple):
    """An entry of a rule table.

    Attributes:
        severity: the severity of every finding of the rule.
        summary: one line, for the docs (the check's docstring, with :meth:`of`).
        check: the function that finds it (private; its arguments depend on the table).
        ops: the operators it looks at (``None``: every node), so that a run asks each node
            only the rules that can apply to it.
    """

    severity: Severity
    summary: str
    check: Callable[..., Any]
    ops: frozenset[str] | None = None

    @classmethod
    def of(cls, severity: Severity, check: Callable[..., Any], ops: Iterable[str] | None = None) -> Rule:
        """A rule whose summary is the first line of its check's docstring."""
        summary = (check.__doc__ or "").strip().splitlines()[0]
        return cls(severity, summary, check, None if ops is None else frozenset(ops))
