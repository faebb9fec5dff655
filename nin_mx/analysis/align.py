"""Pairs the rows of two reports: by name where names mean something, by structure otherwise.

Pure Python, no MXNet; :func:`nin_mx.diff.diff_reports` compares the pairs. A join by name fails
on MXNet's automatic names (``convolution12``), whose counters shift after the first added or
removed layer, so rows are paired in passes, from the strongest evidence to the weakest. Each
pass is a patience diff: the keys that occur exactly once in both ranges become anchors (the
longest run of them in the same order on both sides), and the ranges between anchors are
aligned again, first by the same key, then by the next:

1. the name and operator, for names that are not automatic (:func:`is_automatic_name`);
2. the operator, its attributes, the output shape and the operators feeding it;
3. the operator, attributes and output shape; 4. operator and attributes;
5. operator and output shape; 6. the operator alone.

Where no key is unique (runs of identical blocks), a longest common subsequence of structures
(key 3), then of operators between its pairs, aligns the rest (Myers' O((n + m) d) diff, up to
:data:`MAX_EDITS` rows added or removed; a longest-block matcher such as :mod:`difflib`'s
pairs a periodic run out of phase). A stretch that differs more is paired in one pass: at a
mismatch, the fewest rows (at most :data:`MAX_SKIP` a side) are skipped after which the next
:data:`RESYNC` operators agree. Each step is linear in the rows (times a constant) for graphs
that mostly agree, and bounded for those that do not.

Then a single row left between two pairs on each side is taken as one layer replaced by another
(its operator differs), and rows still unpaired whose (non-automatic) name and operator agree
are paired, so that a layer built in another order is not reported as removed and added. The
result is deterministic.

Attributes take part in keys 2-4 when both sides have them, compared as stored with whitespace
removed and MXNet's symbol attributes (``__lr_mult__``) left out.

Rows are told apart by position, never by name alone: a Gluon block called twice makes two
nodes of one name. The k-th node of a repeated name is keyed ``name#k`` (key 1), and a row's
input is the last row of that name before it (key 2).
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple, Optional

if TYPE_CHECKING:
    from nin_mx.report.rows import LayerRow

__all__ = [
    "MAX_EDITS",
    "MAX_SKIP",
    "RESYNC",
    "Alignment",
    "GraphAttrs",
    "align_rows",
    "is_automatic_name",
    "row_attrs",
]

Attrs = Mapping[str, Mapping[str, str]]
NormalAttrs = Optional[tuple[tuple[str, str], ...]]  # sorted (key, value) pairs, or None


class GraphAttrs(dict):  # type: ignore[type-arg]
    """A graph's operator attributes by node name (a plain dict: a name several nodes share
    keeps the last one's), and by position: ``by_row[k]`` is the k-th operator's
    ``(name, attributes)`` in graph order, as a report's k-th row is, so that each node of a
    repeated name is compared with its own attributes (:func:`row_attrs`)."""

    def __init__(self, operators: Sequence[tuple[str, Mapping[str, str]]]) -> None:
        super().__init__(operators)
        self.by_row = tuple(operators)


def row_attrs(attrs: Attrs, rows: Sequence[LayerRow]) -> list[Mapping[str, str] | None]:
    """Each row's attributes: by position where ``attrs`` has them (a :class:`GraphAttrs` of the
    graph the rows were reported from), else by the row's name."""
    by_row = getattr(attrs, "by_row", ())
    return [
        by_row[k][1] if k < len(by_row) and by_row[k][0] == row.name else attrs.get(row.name)
        for k, row in enumerate(rows)
    ]


MAX_EDITS = 64  # rows added or removed in one stretch with no unique key, for an exact alignment
RESYNC = 8  # beyond that: operators that must agree after rows are skipped
MAX_SKIP = 16  # ... and the rows skipped on either side at most, before one of each is given up


class Alignment(NamedTuple):
    """Pairs of row indices, and each row's attributes as the comparison sees them.

    Attributes:
        pairs: ``(i, j)``: row ``i`` of a with row ``j`` of b, increasing on both sides.
        moved: pairs found last, out of that order, by a's index.
        attrs_a, attrs_b: per row, its attributes as sorted ``(key, value)`` pairs with
            whitespace removed, or ``None`` (none given for it).
    """

    pairs: list[tuple[int, int]]
    moved: dict[int, int]
    attrs_a: list[NormalAttrs]
    attrs_b: list[NormalAttrs]


_GLUON = re.compile(r".*[A-Za-z]\d+_fwd")
_OPERATOR_HINTS = {"elemwiseadd": "plus", "elemwisesub": "minus", "elemwisemul": "mul", "elemwisediv": "div"}


def is_automatic_name(name: str, op: str) -> bool:
    """Whether ``name`` is one MXNet or Gluon made up from a counter.

    MXNet names an unnamed operator ``<operator><n>`` (``convolution3``, ``_plus0`` for
    ``x + y``, ``_mulscalar1``), possibly under a prefix; a Gluon block names its output
    ``<prefix><block><n>_fwd`` (``resnetv10_conv0_fwd``).
    """
    if name.endswith("_fwd"):
        return _GLUON.fullmatch(name) is not None
    hint = name.rstrip("0123456789")
    if hint == name:
        return False
    hint, key = hint.replace("_", "").lower(), op.replace("_", "").lower()
    return hint.endswith(key) or (key in _OPERATOR_HINTS and hint.endswith(_OPERATOR_HINTS[key]))


class _Side:
    """One report's rows with what the alignment keys are made of, computed once."""

    def __init__(self, rows: Sequence[LayerRow], attrs: Attrs | None) -> None:
        self.rows = rows
        self.ops = [row.op for row in rows]
        # Rows by position, never by name alone (a Gluon block called twice makes two nodes of
        # one name): an input is the last row of its name before the row that reads it.
        op_of: dict[str, str] = {}
        self.feeding: list[tuple[str, ...]] = []
        for row in rows:
            self.feeding.append(tuple(op_of.get(name, "null") for name in row.inputs))
            op_of[row.name] = row.op
        self.attrs: list[NormalAttrs] = [None] * len(rows)
        if attrs is not None:
            memo: dict[tuple[tuple[str, str], ...], tuple[tuple[str, str], ...]] = {}
            for i, raw in enumerate(row_attrs(attrs, rows)):
                if raw is not None:
                    items = tuple(raw.items())
                    normal = memo.get(items)
                    if normal is None:
                        normal = memo[items] = _normalized(items)
                    self.attrs[i] = normal
        # A name that is not automatic, with its occurrence (``name#2`` for the second node of
        # it), so that the k-th node of a repeated name pairs with the k-th of the other side.
        seen: dict[str, int] = {}
        self.names: list[str | None] = []
        for row in rows:
            count = seen[row.name] = seen.get(row.name, 0) + 1
            automatic = is_automatic_name(row.name, row.op)
            self.names.append(None if automatic else row.name if count == 1 else f"{row.name}#{count}")


def _normalized(items: tuple[tuple[str, str], ...]) -> tuple[tuple[str, str], ...]:
    """Sorted, whitespace removed, MXNet's ``__symbol_attributes__`` left out."""
    return tuple(
        sorted(
            (k, "".join(str(v).split())) for k, v in items if not (k.startswith("__") and k.endswith("__"))
        )
    )


_Key = Callable[[_Side, int], Any]
_LEVELS: tuple[_Key, ...] = (
    lambda s, i: None if s.names[i] is None else (s.names[i], s.ops[i]),
    lambda s, i: (s.ops[i], s.attrs[i], s.rows[i].output_shape, s.feeding[i]),
    lambda s, i: (s.ops[i], s.attrs[i], s.rows[i].output_shape),
    lambda s, i: (s.ops[i], s.attrs[i]),
    lambda s, i: (s.ops[i], s.rows[i].output_shape),
    lambda s, i: s.ops[i],
)
_STRUCTURE = 2  # the index of key 3 (operator, attributes, shape) in _LEVELS


def _longest_increasing(candidates: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """The longest run of ``(i, j)`` pairs (sorted by ``i``) whose ``j`` also increase."""
    tails: list[int] = []  # tails[k]: the smallest j ending a run of length k + 1
    tail_at: list[int] = []  # ... and the candidate it belongs to
    previous = [-1] * len(candidates)
    for c, (_, j) in enumerate(candidates):
        k = bisect_left(tails, j)
        if k == len(tails):
            tails.append(j)
            tail_at.append(c)
        else:
            tails[k], tail_at[k] = j, c
        previous[c] = tail_at[k - 1] if k else -1
    run = []
    c = tail_at[-1] if tail_at else -1
    while c >= 0:
        run.append(candidates[c])
        c = previous[c]
    return run[::-1]


def _anchors(
    ka: Sequence[Any], kb: Sequence[Any], a0: int, a1: int, b0: int, b1: int
) -> list[tuple[int, int]]:
    """Patience anchors: keys found exactly once in ``ka[a0:a1]`` and in ``kb[b0:b1]``."""
    only_b: dict[Any, int] = {}
    for j in range(b0, b1):
        key = kb[j]
        if key is not None:
            only_b[key] = -1 if key in only_b else j
    only_a: dict[Any, int] = {}
    for i in range(a0, a1):
        key = ka[i]
        if key is not None and key in only_b:
            only_a[key] = -1 if key in only_a else i
    candidates = [(i, only_b[key]) for key, i in only_a.items() if i >= 0 and only_b[key] >= 0]
    return _longest_increasing(candidates) if candidates else []


_OFF = -(1 << 40)  # a path that left the grid


def _myers(
    ka: Sequence[Any], kb: Sequence[Any], a0: int, a1: int, b0: int, b1: int
) -> list[tuple[int, int]] | None:
    """The pairs of a longest common subsequence of ``ka[a0:a1]`` and ``kb[b0:b1]``, or None
    if it takes more than :data:`MAX_EDITS` rows added or removed.

    Myers, "An O(ND) difference algorithm and its variations", Algorithmica 1 (1986): the
    furthest-reaching path on each diagonal ``k = x - y`` after ``d`` edits, O((n + m) d).
    """
    n, m = a1 - a0, b1 - b0
    v, trace = {1: 0}, []
    for d in range(min(MAX_EDITS, n + m) + 1):
        for k in range(-d, d + 1, 2):
            x = v[k + 1] if k == -d or (k != d and v[k - 1] < v[k + 1]) else v[k - 1] + 1
            y = x - k
            if not (0 <= x <= n and 0 <= y <= m):
                v[k] = _OFF
                continue
            while x < n and y < m and ka[a0 + x] == kb[b0 + y]:
                x, y = x + 1, y + 1
            v[k] = x
            if x == n and y == m:
                return _myers_pairs(trace, d, n, m, a0, b0)
        trace.append(dict(v))
    return None


def _myers_pairs(
    trace: list[dict[int, int]], d: int, x: int, y: int, a0: int, b0: int
) -> list[tuple[int, int]]:
    """Walks a path back from ``(x, y)``, edit by edit, collecting its diagonal steps."""
    pairs = []
    for step in range(d, -1, -1):
        if step:
            v, k = trace[step - 1], x - y
            previous = k + 1 if k == -step or (k != step and v[k - 1] < v[k + 1]) else k - 1
            start_x, start_y = v[previous], v[previous] - previous
        else:
            start_x = start_y = 0
        while x > start_x and y > start_y:
            x, y = x - 1, y - 1
            pairs.append((a0 + x, b0 + y))
        x, y = start_x, start_y
    return pairs[::-1]


def _skips(limit: int) -> tuple[tuple[int, int], ...]:
    """``(rows skipped in a, rows skipped in b)``, fewest first, even skips before uneven."""
    found = [(da, db) for da in range(limit + 1) for db in range(limit + 1) if da or db]
    return tuple(sorted(found, key=lambda d: (d[0] + d[1], abs(d[0] - d[1]), -d[0])))


_SKIPS = _skips(MAX_SKIP)


def _in_step(ops_a: list[str], ops_b: list[str], i: int, a1: int, j: int, b1: int) -> bool:
    """Whether the next :data:`RESYNC` operators from ``i`` and ``j`` agree (or both end)."""
    if i > a1 or j > b1:
        return False
    n = min(RESYNC, a1 - i, b1 - j)
    if n == 0:
        return i == a1 and j == b1
    return ops_a[i] == ops_b[j] and ops_a[i : i + n] == ops_b[j : j + n]


def _resync(ops_a: list[str], ops_b: list[str], a0: int, a1: int, b0: int, b1: int) -> list[tuple[int, int]]:
    """Equal operators paired in one pass; at a mismatch, the fewest rows are skipped after
    which both sides are in step again (for stretches too different for :func:`_myers`)."""
    pairs = []
    i, j = a0, b0
    while i < a1 and j < b1:
        if ops_a[i] == ops_b[j]:
            pairs.append((i, j))
            i, j = i + 1, j + 1
            continue
        da, db = next((d for d in _SKIPS if _in_step(ops_a, ops_b, i + d[0], a1, j + d[1], b1)), (1, 1))
        i, j = i + da, j + db
    return pairs


def _unkeyed(
    structure: tuple[list[Any], list[Any]],
    ops_a: list[str],
    ops_b: list[str],
    a0: int,
    a1: int,
    b0: int,
    b1: int,
) -> list[tuple[int, int]]:
    """Pairs in a stretch where no key is unique: a longest common subsequence of structures
    (operator, attributes, shape), then of operators in the stretches between its pairs."""
    pairs = _myers(*structure, a0, a1, b0, b1) or []
    found = list(pairs)
    for (i0, j0), (i1, j1) in zip([(a0 - 1, b0 - 1), *pairs], [*pairs, (a1, b1)]):
        if i1 - i0 > 1 and j1 - j0 > 1:
            between = _myers(ops_a, ops_b, i0 + 1, i1, j0 + 1, j1)
            found += between if between is not None else _resync(ops_a, ops_b, i0 + 1, i1, j0 + 1, j1)
    return found


def _align(side_a: _Side, side_b: _Side) -> list[tuple[int, int]]:
    """Monotone pairs ``(i, j)`` of row indices, sorted."""
    keys: dict[int, tuple[list[Any], list[Any]]] = {}

    def level_keys(level: int) -> tuple[list[Any], list[Any]]:
        if level not in keys:
            key = _LEVELS[level]
            keys[level] = (
                [key(side_a, i) for i in range(len(side_a.rows))],
                [key(side_b, j) for j in range(len(side_b.rows))],
            )
        return keys[level]

    pairs: list[tuple[int, int]] = []
    stack = [(0, len(side_a.rows), 0, len(side_b.rows), 0)]
    while stack:
        a0, a1, b0, b1, level = stack.pop()
        if a0 == a1 or b0 == b1:
            continue
        if level == len(_LEVELS):
            pairs += _unkeyed(level_keys(_STRUCTURE), side_a.ops, side_b.ops, a0, a1, b0, b1)
            continue
        anchors = _anchors(*level_keys(level), a0, a1, b0, b1)
        if not anchors:
            stack.append((a0, a1, b0, b1, level + 1))
            continue
        for i, j in anchors:  # the stretches between anchors, again by the same key
            stack.append((a0, i, b0, j, level))
            a0, b0 = i + 1, j + 1
        stack.append((a0, a1, b0, b1, level))
        pairs += anchors
    pairs.sort()
    return pairs


def _single_replacements(pairs: list[tuple[int, int]], n_a: int, n_b: int) -> list[tuple[int, int]]:
    """One row left between two pairs (or an end) on both sides: the same layer, replaced."""
    added = []
    last_i = last_j = -1
    for i, j in [*pairs, (n_a, n_b)]:
        if i - last_i == 2 and j - last_j == 2:
            added.append((last_i + 1, last_j + 1))
        last_i, last_j = i, j
    return sorted(pairs + added) if added else pairs


def _moved(side_a: _Side, side_b: _Side, free_a: list[int], free_b: list[int]) -> dict[int, int]:
    """Rows left on both sides with the same non-automatic name and operator, once each."""
    count: dict[tuple[str, str], int] = {}
    where_b: dict[tuple[str, str], int] = {}
    for j in free_b:
        if side_b.names[j] is not None:
            key = (side_b.names[j], side_b.ops[j])
            count[key] = count.get(key, 0) + 1
            where_b[key] = j
    seen: dict[tuple[str, str], int] = {}
    for i in free_a:
        if side_a.names[i] is not None:
            key = (side_a.names[i], side_a.ops[i])
            seen[key] = -1 if key in seen else i
    return {i: where_b[key] for key, i in seen.items() if i >= 0 and count.get(key) == 1}


def align_rows(
    rows_a: Sequence[LayerRow],
    rows_b: Sequence[LayerRow],
    attrs_a: Attrs | None = None,
    attrs_b: Attrs | None = None,
) -> Alignment:
    """Pairs the rows of two reports (see the module docstring).

    Args:
        rows_a, rows_b: the rows, in graph order.
        attrs_a, attrs_b: operator attributes by node name; used only when both are given.
    """
    both = attrs_a is not None and attrs_b is not None
    side_a, side_b = _Side(rows_a, attrs_a if both else None), _Side(rows_b, attrs_b if both else None)
    pairs = _single_replacements(_align(side_a, side_b), len(rows_a), len(rows_b))
    paired_a, paired_b = {i for i, _ in pairs}, {j for _, j in pairs}
    free_a = [i for i in range(len(rows_a)) if i not in paired_a]
    free_b = [j for j in range(len(rows_b)) if j not in paired_b]
    return Alignment(pairs, _moved(side_a, side_b, free_a, free_b), side_a.attrs, side_b.attrs)
