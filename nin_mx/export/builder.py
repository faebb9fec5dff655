"""What a translation writes into: the ONNX nodes, initializers and value names of one export.

A handler (:mod:`nin_mx.export.handlers`) reads a node's attributes through the operator
table's typed reader (:class:`nin_mx.core.ops._base.Attrs`) and its shapes from the engine
(:func:`nin_mx.graph.shapes.infer`, kept in :class:`Builder`), and emits ONNX nodes through
:meth:`Builder.op`. The value an MXNet output becomes is named as MXNet names it
(:func:`mxnet_output_name`: ``<node>_output``, ``<node>_output<k>`` for a node of several
outputs, ``<node>_mean`` where the operator names its outputs, a variable's own name), so the ONNX
graph reads like the symbol.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from nin_mx.core.errors import GraphError
from nin_mx.core.ops import OPS
from nin_mx.export import proto
from nin_mx.export.dtypes import DTYPES, pack
from nin_mx.graph.nodes import Node
from nin_mx.graph.shapes import Shapes

__all__ = ["Builder", "NeedsStatic", "mxnet_output_name", "untranslatable"]

INT64_MAX = 2**63 - 1
INT64_MIN = -(2**63)


class NeedsStatic(Exception):
    """A translation that is exact at one input size only: the export falls back to fixed
    height and width, and says which layer asked for it (``str(exc)``)."""


def untranslatable(node: Node, why: str) -> GraphError:
    """The one-line refusal of a node: ``layer 'x' (Op): cannot be exported to ONNX: <why>``."""
    return GraphError(f"layer '{node.name}' ({node.op}): cannot be exported to ONNX: {why}")


def mxnet_output_name(node: Node, output: int, num_outputs: int) -> str:
    """The name MXNet gives output ``output`` of ``node`` (``Symbol::ListOutputNames`` in
    apache/mxnet 1.9.1's nnvm, 3rdparty/tvm/nnvm/src/core/symbolic.cc): a variable's own name;
    ``<node>_<listed name>`` for an operator that lists its outputs' names (the operator
    table's :attr:`~nin_mx.core.ops.OpInfo.output_names`); otherwise
    ``<node>_output``, or ``<node>_output<k>`` when it has more than one output (all of them,
    shown or not: ``sort`` shows one of two, ``<node>_output0``)."""
    if node.is_variable:
        return node.name
    info = OPS.get(node.op)
    listed = info.output_names if info is not None else ()
    if output < len(listed):
        return f"{node.name}_{listed[output]}"
    return f"{node.name}_output" if num_outputs <= 1 else f"{node.name}_output{output}"


def _slot(node: Node, j: int) -> str:
    info = OPS.get(node.op)
    if info is None or info.variadic:
        return "data"
    names = info.input_names(node.attrs)
    return names[j] if j < len(names) else "data"


class Builder:
    """The ONNX graph being written for one MXNet graph at one set of input shapes.

    Attributes:
        opset: the target ONNX opset.
        nodes: the MXNet graph's nodes (engine order).
        shapes: the engine's shapes at the export's input size.
        others: the engine's shapes at other input sizes (empty for a fixed-size export); a
            dimension that differs between them is symbolic in the ONNX model.
        weight: ``weight(tensor, variable_node, shape, fill, slot)`` fills the initializer
            ``tensor`` (:class:`nin_mx.export.proto.Tensor`) of a variable that is not a data
            input (the checkpoint's, or seeded random, values); ``slot`` is the operator's name
            for that input (``weight``, ``gamma``, ``moving_var``, ...). It may leave its raw
            data out and return where the bytes are instead (:class:`nin_mx.export.weights.Span`),
            kept in ``deferred``.
        deferred: per initializer index, the :class:`~nin_mx.export.weights.Span` of the bytes
            its ``raw_data`` is left without (copied when the model is written).
        model: the model being written (:class:`nin_mx.export.proto.Model`): initializers go
            straight into it, so a weight is copied once, from the checkpoint into the model.
    """

    def __init__(
        self,
        nodes: Sequence[Node],
        shapes: Shapes,
        others: Sequence[Shapes],
        opset: int,
        data_inputs: Sequence[str],
        weight: Callable[[proto.Tensor, Node, tuple[int, ...], float | None, str], Any],
    ) -> None:
        self.nodes, self.shapes, self.others, self.opset = nodes, shapes, others, opset
        self.data_inputs = frozenset(data_inputs)
        self._weight = weight
        self.deferred: dict[int, Any] = {}
        self.model = proto.Model(opset)
        self._node_names: set[str] = set()
        self._weights_made: set[int] = set()
        self._made: dict[tuple[int, tuple[int, ...], float | None], str] = {}
        self._names: dict[tuple[int, int], str] = {}
        self._taken: set[str] = set()
        self._produced: set[str] = set(data_inputs)
        self._count = 0
        self._attributes: dict[Any, bytes] = {}

    # -- names --------------------------------------------------------------------------------

    def value(self, index: int, output: int = 0) -> str:
        """The ONNX name of output ``output`` of MXNet node ``index``."""
        key = (index, output)
        if key not in self._names:
            base = mxnet_output_name(self.nodes[index], output, len(self.shapes.outputs[index]))
            name = base if base not in self._taken else f"{base}__{index}"
            self._taken.add(name)
            self._names[key] = name
        return self._names[key]

    def outputs(self, node: Node) -> list[str]:
        """The names of the visible outputs of ``node``, which its handler must produce."""
        return [self.value(node.index, k) for k in range(max(1, self.shapes.visible[node.index]))]

    def fresh(self, node: Node, hint: str) -> str:
        """A new name for a value inside one node's translation."""
        self._count += 1
        name = f"{node.name}/{hint}"
        while name in self._taken:
            self._count += 1
            name = f"{node.name}/{hint}_{self._count}"
        self._taken.add(name)
        return name

    # -- inputs and shapes ----------------------------------------------------------------------

    def input(
        self, node: Node, j: int, *, dims: Sequence[int] | None = None, fill: float | None = None
    ) -> str:
        """The value of input ``j`` of ``node``; a weight becomes an initializer (``dims``: its
        shape in the ONNX model, same data; ``fill``: every element this value instead)."""
        index = node.inputs[j]
        source = self.nodes[index]
        if source.is_variable and source.name not in self.data_inputs:
            shape = tuple(self.shapes.outputs[index][0] or ())
            key = (index, tuple(dims) if dims is not None else shape, fill)
            if key not in self._made:
                name = self.value(index) if index not in self._weights_made else self.fresh(source, "as_used")
                self._weights_made.add(index)
                if dims is not None and math.prod(dims) != math.prod(shape):
                    raise untranslatable(node, f"weight {source.name} cannot be read as {tuple(dims)}")
                tensor = proto.Tensor()
                self.model.initializers.append(tensor)
                span = self._weight(tensor, source, shape, fill, _slot(node, j))
                if span is not None:  # its raw_data is copied from the checkpoint when written
                    self.deferred[len(self.model.initializers) - 1] = span
                tensor.name = name
                if dims is not None:
                    tensor.dims = list(dims)
                self._produced.add(name)
                self._made[key] = name
            return self._made[key]
        k = node.input_outputs[j] if j < len(node.input_outputs) else 0
        name = self.value(index, k)
        if name not in self._produced:
            raise untranslatable(
                node, f"it reads output {k} of '{source.name}' ({source.op}), which the export does not write"
            )
        return name

    def produced(self, name: str) -> bool:
        """Whether a translation wrote the value ``name``."""
        return name in self._produced

    def in_shape(self, node: Node, j: int = 0) -> tuple[int, ...]:
        index = node.inputs[j]
        k = node.input_outputs[j] if j < len(node.input_outputs) else 0
        return tuple(self.shapes.outputs[index][k])  # type: ignore[arg-type]

    def out_shape(self, node: Node, k: int = 0) -> tuple[int, ...]:
        return tuple(self.shapes.outputs[node.index][k])  # type: ignore[arg-type]

    def varying(self, node: Node, j: int = 0) -> list[bool]:
        """Per dimension of input ``j``: whether it differs at another input size (symbolic)."""
        index = node.inputs[j]
        k = node.input_outputs[j] if j < len(node.input_outputs) else 0
        return self._varying(index, k)

    def out_varying(self, node: Node, k: int = 0) -> list[bool]:
        return self._varying(node.index, k)

    def _varying(self, index: int, k: int) -> list[bool]:
        base = self.shapes.outputs[index][k] or ()
        flags = [False] * len(base)
        for other in self.others:
            shape = other.outputs[index][k] or ()
            for i, (a, b) in enumerate(zip(base, shape)):
                flags[i] = flags[i] or a != b
        return flags

    def dynamic(self, node: Node, j: int = 0, axes: Sequence[int] | None = None) -> bool:
        """Whether a dimension of input ``j`` among ``axes`` (default: the spatial ones, from
        2) is symbolic."""
        flags = self.varying(node, j)
        return any(flags[a] for a in (axes if axes is not None else range(2, len(flags))))

    def static(self, node: Node, why: str, j: int = 0, axes: Sequence[int] | None = None) -> None:
        """Raises :class:`NeedsStatic` when input ``j`` has symbolic dims among ``axes``
        (default: the spatial ones)."""
        if self.dynamic(node, j, axes):
            raise NeedsStatic(f"layer '{node.name}' ({node.op}) {why}")

    # -- writing ------------------------------------------------------------------------------

    def const(
        self,
        node: Node,
        hint: str,
        values: Any,
        dtype: str = "float32",
        dims: Sequence[int] | None = None,
    ) -> str:
        """A constant initializer of MXNet type ``dtype`` (int64 for shapes and axes, float32
        for numbers): a scalar, or a flat list of values of shape ``dims`` (default: a vector),
        stored as ``numpy_helper.from_array(np.asarray(values, dtype))`` stores it."""
        flat = list(values) if isinstance(values, (list, tuple)) else [values]
        shape = () if not isinstance(values, (list, tuple)) else (len(flat),) if dims is None else tuple(dims)
        name = self.fresh(node, hint)
        self.model.initializers.append(proto.Tensor(name, DTYPES[dtype], shape, pack(flat, dtype)))
        self._produced.add(name)
        return name

    def ints(self, node: Node, hint: str, values: Sequence[int]) -> str:
        return self.const(node, hint, list(values), "int64")

    def op(
        self,
        node: Node,
        op_type: str,
        inputs: Sequence[str],
        outputs: Sequence[str] | None = None,
        hint: str | None = None,
        **attrs: Any,
    ) -> list[str]:
        """Appends one ONNX node; returns its outputs (one fresh value unless named)."""
        outs = list(outputs) if outputs is not None else [self.fresh(node, hint or op_type.lower())]
        name = node.name if node.name not in self._node_names else self.fresh(node, op_type)
        self._node_names.add(name)
        # what helper.make_node writes (attributes sorted by name)
        made = [self._attribute(k, v) for k, v in sorted(attrs.items()) if v is not None]
        self.model.nodes.append(proto.node(op_type, inputs, outs, name, made))
        self._produced.update(outs)
        return outs

    def _attribute(self, key: str, value: Any) -> bytes:
        """The attribute's bytes, made once per key and value in an export (by type too: 1 and
        1.0, True and 1 are attributes of other types or values)."""
        if isinstance(value, (list, tuple)):
            memo: Any = (key, tuple((type(v), v) for v in value))
        elif isinstance(value, proto.Tensor):
            return proto.Attribute.of(key, value).encode()
        else:
            memo = (key, type(value), value)
        found = self._attributes.get(memo)
        if found is None:
            found = self._attributes[memo] = proto.Attribute.of(key, value).encode()
        return found

    def shape_of(self, node: Node, value: str) -> str:
        return self.op(node, "Shape", [value], hint="shape")[0]

    def reduce(
        self, node: Node, op_type: str, x: str, axes: Sequence[int], keepdims: int = 1, **kw: Any
    ) -> str:
        """A Reduce* node: ``axes`` as an attribute up to the opset where it became an input
        (ReduceSum at 13, the others at 18: onnx docs/Changelog.md)."""
        as_input = self.opset >= (13 if op_type == "ReduceSum" else 18)
        if as_input:
            return self.op(node, op_type, [x, self.ints(node, "axes", axes)], keepdims=keepdims, **kw)[0]
        return self.op(node, op_type, [x], axes=list(axes), keepdims=keepdims, **kw)[0]

    def unsqueeze(self, node: Node, x: str, axes: Sequence[int], outputs: Sequence[str] | None = None) -> str:
        return self.op(node, "Unsqueeze", [x, self.ints(node, "axes", axes)], outputs)[0]

    def squeeze(self, node: Node, x: str, axes: Sequence[int], outputs: Sequence[str] | None = None) -> str:
        return self.op(node, "Squeeze", [x, self.ints(node, "axes", axes)], outputs)[0]
