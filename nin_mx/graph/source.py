"""A resolved graph: a model name, a symbol file, a Symbol or a Gluon block, built and parsed once.

:class:`Graph` is what every inspection of nin_mx takes (the shape report, the minimum input
search, and the checks built on them): the symbol, its nodes as parsed from the symbol's own
JSON, its data inputs and the padding it was built with. A request builds one per model and
border mode and hands the same value to each step, so no step loads, builds or parses again::

    source (name | -symbol.json | Symbol | HybridBlock) -> Graph -> infer + walk -> rows -> Report
                                          -> Document -> render -> cli
"""

from __future__ import annotations

import functools
import itertools
import json
import operator
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from nin_mx._mxnet import mx, require_mxnet
from nin_mx.core.border import ReportMode, parse_report_mode
from nin_mx.core.errors import GraphError, one_line
from nin_mx.graph.files import load_symbol_file, mxnet_symbol
from nin_mx.graph.nodes import Node, _check_crashers, collector_paused, data_inputs, parse_nodes
from nin_mx.models import build, get_model_entry, list_models
from nin_mx.models.symbol import Group, Symbol, graph_order

__all__ = ["Graph"]


def _built_nodes(order: Sequence[Any], position: Mapping[Any, int]) -> list[Node]:
    """The builder's nodes as :class:`Node` values, as :func:`parse_nodes` makes them of the
    JSON the builder writes (its ``trusted`` path), without writing that JSON first."""
    make = tuple.__new__  # Node(...) without its keywords
    first, second = operator.itemgetter(0), operator.itemgetter(1)
    where = position.__getitem__
    nodes = [
        make(
            Node,
            (
                index,
                built.name,
                built.op,
                built.attrs,
                tuple(map(where, map(first, inputs))),
                inputs[0][1],
                tuple(map(second, inputs)),
            ),
        )
        if (inputs := built.inputs)
        else make(Node, (index, built.name, built.op, built.attrs, (), 0, ()))
        for index, built in enumerate(order)
    ]
    for node in nodes:
        if node.op in ("Convolution", "Deconvolution"):
            _check_crashers(node)  # as parse_nodes does for a trusted JSON
    return nodes


@dataclass(frozen=True, eq=False)
class Graph:
    """One MXNet graph, ready to inspect.

    Attributes:
        label: what reports call it: the model's name, the file's base name, the symbol's
            output name or the block's name.
        built: the ``mx.sym.Symbol`` it was made from, or ``None`` for a file or a registered
            model (then :attr:`symbol` loads one from :attr:`text` in MXNet, on first use only).
        nodes: its nodes in graph order, parsed from ``symbol.tojson()`` or the file, in MXNet's
            order (the order of its internal outputs).
        inputs: the names of its data inputs (variables that are an operator's first input).
        mode: the padding it was built with: a border mode or ``reference`` for a registered
            model, ``as built`` for a file, a symbol or a block.
        model: the registered model's name, or ``None``.
        node_row_ptr: the JSON's ``node_row_ptr`` (each node's first output), if it has one.
        notes: what loading it said, e.g. that MXNet upgraded a file of an older version.
        source: the symbol JSON it was read from (a file's text), or the builder symbol a
            registered model was built as (its JSON written out as :attr:`text` only when
            asked), or ``None``; read :attr:`text`.

    Two Graphs are equal only if they are the same object (MXNet's ``Symbol.__eq__`` builds an
    operator, it does not compare).
    """

    label: str
    built: Any
    nodes: tuple[Node, ...]
    inputs: tuple[str, ...]
    mode: ReportMode
    model: str | None = None
    node_row_ptr: Sequence[int] | None = None
    notes: tuple[str, ...] = ()
    source: str | Symbol | Group | None = field(default=None, repr=False)

    @classmethod
    def from_model(cls, name: str, *, border_mode: Any = None, **factory_kwargs: Any) -> Graph:
        """A registered model built under a border mode (``None``/``'reference'``: published),
        with nin_mx's own builder: no MXNet (its JSON is :attr:`text`, MXNet 1.9.1's bytes).

        Raises:
            ValueError: for an unknown model, border mode or factory argument.
        """
        get_model_entry(name)  # an unknown name: ValueError with the closest match
        mode = parse_report_mode(border_mode)
        if mode is ReportMode.AS_BUILT:
            raise ValueError("'as built' is the mode of a given symbol; a model is built under a border mode")
        with collector_paused():  # many objects, no cycles (a node refers to its inputs only)
            built = build(name, border_mode=mode.border_mode, **factory_kwargs)
        return cls.from_built(built, label=name, mode=mode, model=name)

    @classmethod
    def from_built(
        cls,
        symbol: Symbol | Group,
        *,
        label: str | None = None,
        mode: ReportMode = ReportMode.AS_BUILT,
        model: str | None = None,
    ) -> Graph:
        """A graph made with nin_mx's own builder (:mod:`nin_mx.models.symbol`), no MXNet: its
        nodes made straight from the builder's, in the order its JSON lists them (the JSON itself
        is written out as :attr:`text` only when asked)."""
        heads = symbol.heads if isinstance(symbol, Group) else (symbol,)
        with collector_paused():  # as for a file: many objects, no cycles
            order, position = graph_order(heads)
            nodes = tuple(_built_nodes(order, position))
            row_ptr = list(itertools.accumulate(map(operator.attrgetter("num_outputs"), order), initial=0))
        return cls(
            label=label if label is not None else getattr(symbol, "name", "symbol"),
            built=None,
            nodes=nodes,
            inputs=tuple(data_inputs(nodes)),
            mode=mode,
            model=model,
            node_row_ptr=row_ptr,
            source=symbol,
        )

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> Graph:
        """A saved ``-symbol.json``, checked and loaded (:func:`nin_mx.graph.load_symbol_file`).

        Raises:
            nin_mx.errors.GraphError: one line, for every way the file can be wrong.
        """
        loaded = load_symbol_file(path)
        return cls.from_nodes(
            loaded.nodes, loaded.text, label=os.path.basename(os.fspath(path)), notes=loaded.notes
        )

    @classmethod
    def from_nodes(
        cls,
        nodes: Sequence[Node],
        text: str,
        *,
        label: str,
        notes: tuple[str, ...] = (),
        node_row_ptr: Sequence[int] | None = None,
    ) -> Graph:
        """A graph read from symbol JSON (``text``) and its checked nodes, taken as built."""
        nodes = tuple(nodes)
        return cls(
            label=label,
            built=None,
            nodes=nodes,
            inputs=tuple(data_inputs(nodes)),
            mode=ReportMode.AS_BUILT,
            node_row_ptr=node_row_ptr,
            notes=notes,
            source=text,
        )

    @classmethod
    def from_block(cls, block: Any, *, label: str | None = None, inputs: Sequence[str] = ("data",)) -> Graph:
        """A Gluon ``HybridBlock``, hybridized or not, exported in memory (no files).

        The block is called on symbol variables, as ``HybridBlock.export`` does, so its nodes
        carry the block's prefixes (``resnetv10_conv0_fwd``) and its parameters' names.

        Args:
            block: the ``mx.gluon.HybridBlock``; its parameters need not be initialized.
            label: what reports call it; default: the block's name.
            inputs: the names of its data inputs, in call order (Gluon's export calls a single
                input ``data``).

        Raises:
            ValueError: for a plain ``Block``, which cannot be turned into a symbol.
            nin_mx.errors.GraphError: if the block cannot be called on symbols.
        """
        name = label if label is not None else (getattr(block, "name", None) or type(block).__name__)
        require_mxnet(f"exporting the Gluon block {name}")
        if not isinstance(block, mx.gluon.HybridBlock):
            raise ValueError(
                f"{name}: a Gluon {type(block).__name__} that is not a HybridBlock has no symbol "
                "graph; make it a HybridBlock (hybrid_forward) to report it"
            )
        try:
            out = block(*(mx.sym.var(n) for n in inputs))
        except Exception as exc:  # MXNet, or the block's own code, on symbols
            raise GraphError(f"{name}: cannot be exported to a symbol: {one_line(exc)}") from None
        if isinstance(out, (list, tuple)):
            out = mx.sym.Group(list(out))
        if not isinstance(out, mx.sym.Symbol):
            raise GraphError(f"{name}: calling it on symbols returned {type(out).__name__}, not a Symbol")
        return cls.from_symbol(out, label=name)

    @classmethod
    def from_symbol(
        cls,
        symbol: Any,
        *,
        label: str | None = None,
        mode: ReportMode = ReportMode.AS_BUILT,
        model: str | None = None,
        notes: tuple[str, ...] = (),
    ) -> Graph:
        """An ``mx.sym.Symbol``, parsed from its own JSON.

        Raises:
            ValueError: if ``symbol`` is not a Symbol.
        """
        if not hasattr(symbol, "get_internals"):
            raise ValueError(
                "expected a model name, a -symbol.json path, an mx.sym.Symbol or a Gluon HybridBlock, "
                f"got {type(symbol).__name__}"
            )
        # The symbol's own JSON: its nodes are those of its internals, in the same order, and it
        # is cheaper to write and read than theirs. remove_amp_cast=False keeps every node MXNet
        # infers (and skips a graph pass).
        with collector_paused():  # as for a file: many objects, no cycles
            raw = json.loads(symbol.tojson(remove_amp_cast=False))
            nodes = tuple(parse_nodes(raw, trusted=True))
            inputs = tuple(data_inputs(nodes))
        return cls(
            label=label if label is not None else (getattr(symbol, "name", None) or "symbol"),
            built=symbol,
            nodes=nodes,
            inputs=inputs,
            mode=mode,
            model=model,
            node_row_ptr=raw.get("node_row_ptr"),
            notes=notes,
        )

    @classmethod
    def resolve(cls, source: Any, *, border_mode: Any = None, **factory_kwargs: Any) -> Graph:
        """A Graph from whatever a user passed: a Graph, a model name, a file path or a Symbol.

        Args:
            source: a :class:`Graph` (returned as is), a registered model's name, a path to a
                ``-symbol.json``, an ``mx.sym.Symbol``, a Gluon ``HybridBlock`` or a symbol of
                nin_mx's own builder (:mod:`nin_mx.models.symbol`).
            border_mode: for a model name: ``'valid'``, ``'same'``/``'half'``, ``'full'``, or
                ``None``/``'reference'``; a file or a symbol is taken as built.
            **factory_kwargs: other factory arguments, for a model name only.

        Raises:
            ValueError: for an unknown model, a border mode or factory arguments given for a
                graph that is not built here, or a value of another type.
            nin_mx.errors.GraphError: for a symbol file that cannot be loaded.
        """
        is_name = isinstance(source, (str, os.PathLike)) and str(source) in list_models()
        if is_name:
            return cls.from_model(str(source), border_mode=border_mode, **factory_kwargs)
        if factory_kwargs:
            raise ValueError(
                f"factory arguments ({', '.join(factory_kwargs)}) apply to registered models only"
            )
        if isinstance(source, Graph):
            if border_mode is not None and parse_report_mode(border_mode) is not source.mode:
                raise ValueError(f"the graph was built under {source.mode}, not {border_mode}")
            return source
        if border_mode not in (None, "reference", "as built", ReportMode.REFERENCE, ReportMode.AS_BUILT):
            raise ValueError(
                "a border mode applies to nin_mx's own models; a given symbol is reported as built"
            )
        if isinstance(source, (str, os.PathLike)):
            if not (str(source).endswith(".json") or os.path.exists(source)):
                get_model_entry(str(source))  # raises: unknown model, with the closest name
            return cls.from_file(source)
        if isinstance(source, (Symbol, Group)):
            return cls.from_built(source)
        if not hasattr(source, "get_internals") and _is_gluon_block(source):
            return cls.from_block(source)
        return cls.from_symbol(source)

    @functools.cached_property
    def text(self) -> str | None:
        """The symbol JSON it was read from (a file) or built as (a registered model: MXNet
        1.9.1's bytes, written on first use), or ``None`` (a Symbol or a Gluon block)."""
        if self.source is None or isinstance(self.source, str):
            return self.source
        return self.source.tojson()

    @functools.cached_property
    def symbol(self) -> Any:
        """The ``mx.sym.Symbol``: the one it was made from, or, for a file or a registered model,
        loaded from :attr:`text` in MXNet (imported here, on first use: a report needs none).

        Raises:
            nin_mx.core.errors.GraphError: if MXNet cannot load the file.
        """
        if self.built is not None:
            return self.built
        try:
            return mxnet_symbol(self.text or "")
        except GraphError as exc:
            raise GraphError(f"{self.label}: {exc}") from None

    @functools.cached_property
    def heads(self) -> tuple[tuple[int, int], ...]:
        """The graph's outputs as MXNet's forward returns them: the symbol JSON's ``heads``, in
        order, each as (node index in :attr:`nodes`, output index). A head may be listed twice,
        be read by another node too, or be a variable; a node output no head names is not one
        (BatchNorm's mean and variance, a dangling branch)."""
        if isinstance(self.source, (Symbol, Group)):  # nin_mx's builder: its nodes, in the JSON's order
            symbols = self.source.heads if isinstance(self.source, Group) else (self.source,)
            position = graph_order(symbols)[1]
            return tuple((position[head.node], head.index) for head in symbols)
        if self.source is None and self.built is not None:  # an mx.sym.Symbol: the same JSON again
            raw_heads = json.loads(self.built.tojson(remove_amp_cast=False))["heads"]
        else:
            return _text_heads(self.source or "")
        return tuple((head[0], head[1] if len(head) > 1 else 0) for head in raw_heads)

    @functools.cached_property
    def inferred(self) -> dict[Any, Any]:
        """The shapes :func:`nin_mx.graph.shapes.infer` found for this graph at the last few
        input sizes (a report and its checkpoint check ask for the same ones)."""
        return {}

    @functools.cached_property
    def internals(self) -> Any:
        """``symbol.get_internals()``, made once: every node's outputs, in graph order."""
        return self.symbol.get_internals()

    @property
    def default_input_shape(self) -> tuple[int, ...] | None:
        """A registered model's own input ``(C, H, W)``; ``None`` for other graphs."""
        return get_model_entry(self.model).input_shape if self.model is not None else None


def _text_heads(text: str) -> tuple[tuple[int, int], ...]:
    """The heads of a symbol JSON text in the indices of its parsed nodes. Parsing puts the nodes
    in MXNet's order (dropping what no head reads, adding the auxiliary states of a legacy file),
    so the heads are parsed as the inputs of one more variable that reads them all: a depth-first
    walk from it visits the heads in their order, as MXNet's walk from the heads does, and it
    comes last."""
    raw = json.loads(text)
    count = len(raw["nodes"])
    sink = {"op": "null", "name": "", "inputs": raw["heads"]}
    nodes = parse_nodes({**raw, "nodes": [*raw["nodes"], sink], "heads": [[count, 0, 0]]})
    return tuple(zip(nodes[-1].inputs, nodes[-1].input_outputs))


def _is_gluon_block(value: Any) -> bool:
    """Whether ``value`` is a Gluon Block (told from its classes, without importing MXNet)."""
    return any(cls.__module__ == "mxnet.gluon.block" for cls in type(value).__mro__)
