"""Settings as string enums: one base with one parser, and the enums the CLI's arguments need.

Strings from users are converted once, at the boundary, with ``Enum.parse(value)``; a bad
value raises ``ValueError`` naming the valid ones. ``str()`` and ``format()`` of a member are
its value on every Python version (Python 3.11 and 3.12 differ for plain ``(str, Enum)``).
"""

from __future__ import annotations

import enum
import re
from typing import TypeVar

__all__ = ["OutputFormat", "StrEnum", "View"]

_E = TypeVar("_E", bound="StrEnum")


class StrEnum(str, enum.Enum):
    """A ``str`` enum whose members print as their values, with one parser for users' strings."""

    def __str__(self) -> str:
        return self.value

    def __format__(self, spec: str) -> str:
        return format(self.value, spec)

    @classmethod
    def _missing_(cls, value: object) -> StrEnum | None:
        if isinstance(value, str) and value.strip().lower() != value:
            return cls._value2member_map_.get(value.strip().lower())  # type: ignore[return-value]
        return None

    @classmethod
    def _label(cls) -> str:
        """What the setting is called in messages: the class name in snake case by default."""
        return re.sub(r"(?<!^)(?=[A-Z])", "_", cls.__name__).lower()

    @classmethod
    def _choices(cls) -> str:
        """The valid values as messages list them."""
        return ", ".join(member.value for member in cls)

    @classmethod
    def parse(cls: type[_E], value: object) -> _E:
        """A user's value as a member (surrounding blanks and case are ignored).

        Raises:
            ValueError: ``'<setting> must be one of <choices>, got <value>'``.
        """
        if isinstance(value, cls):
            return value
        try:
            return cls(value)
        except ValueError:
            raise ValueError(f"{cls._label()} must be one of {cls._choices()}, got {value!r}") from None


class OutputFormat(StrEnum):
    """The output formats of ``nin-shape-report``."""

    TABLE = "table"
    MARKDOWN = "markdown"
    CSV = "csv"
    JSON = "json"
    HTML = "html"

    @classmethod
    def _label(cls) -> str:
        return "format"


class View(StrEnum):
    """How many layers a row of the report holds."""

    LAYERS = "layers"
    BLOCKS = "blocks"
    STAGES = "stages"
