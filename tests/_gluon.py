"""Test helpers: graphs nobody here wrote (Gluon exports) and MXNet's own shape answers.

Everything here is a reference for the report: MXNet's ``infer_shape`` over a symbol's
internals, Gluon's own parameter count and forward output, and ``mx.viz.print_summary``'s
printout. None of it calls nin_mx.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import mxnet as mx
from mxnet.gluon import nn
from mxnet.gluon.model_zoo import vision

Shape = tuple[int, ...]


@dataclass(frozen=True)
class Export:
    """A Gluon network exported to ``-symbol.json``, with what Gluon itself says about it."""

    name: str
    path: Path
    input_shape: Shape
    gluon_count: int  # every Parameter of the net (weights and running statistics)
    output_shape: Shape  # of Gluon's own forward pass


@dataclass(frozen=True)
class MXNetShapes:
    """MXNet's answer for a symbol: one ``infer_shape`` over ``get_internals()``."""

    outputs: dict[str, Shape]  # '<node>_output' -> shape
    args: dict[str, Shape]
    aux: dict[str, Shape]


def mxnet_shapes(symbol: mx.sym.Symbol, shapes: Mapping[str, Shape]) -> MXNetShapes:
    """Every internal output, argument and aux shape, as MXNet infers them (no stdout print)."""
    internals = symbol.get_internals()
    args, outs, aux = internals._infer_shape_impl(False, **{k: tuple(v) for k, v in shapes.items()})
    return MXNetShapes(
        dict(zip(internals.list_outputs(), map(tuple, outs))),
        dict(zip(internals.list_arguments(), map(tuple, args))),
        dict(zip(internals.list_auxiliary_states(), map(tuple, aux))),
    )


def visible_output_counts(symbol: mx.sym.Symbol) -> list[int]:
    """How many outputs of each node (in the symbol's JSON order) ``get_internals()`` lists."""
    heads = json.loads(symbol.get_internals().tojson(remove_amp_cast=False))["heads"]
    counts = [0] * len(json.loads(symbol.tojson(remove_amp_cast=False))["nodes"])
    for node, *_ in heads:
        counts[node] += 1
    return counts


def learnable_total(ref: MXNetShapes, inputs: Mapping[str, Shape]) -> int:
    """Sum of MXNet's argument sizes, minus the data inputs and the labels."""
    return sum(math.prod(s) for n, s in ref.args.items() if n not in inputs and not n.endswith("_label"))


def aux_total(ref: MXNetShapes) -> int:
    return sum(math.prod(s) for s in ref.aux.values())


def output_of(ref: MXNetShapes, node: str) -> Shape:
    """A node's first output: ``<node>_output``, or ``<node>_output0`` for several outputs."""
    key = f"{node}_output"
    return ref.outputs[key] if key in ref.outputs else ref.outputs[f"{key}0"]


def print_summary_rows(symbol: mx.sym.Symbol, shapes: Mapping[str, Shape]) -> tuple[dict, int]:
    """Runs ``mx.viz.print_summary`` and parses its fixed columns (44/20/10 % of 120).

    Returns:
        ``({name: (op, shape text, params)}, total params)``.
    """
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        mx.viz.print_summary(symbol, dict(shapes))
    rows: dict[str, tuple[str, str, int]] = {}
    total = None
    for line in buf.getvalue().splitlines():
        if line.startswith("Total params: "):
            total = int(line.split(":")[1])
            continue
        head = line[:52].strip()
        if not head.endswith(")") or "(" not in head or head.startswith("Layer (type)"):
            continue
        name, op = head[:-1].split("(", 1)
        rows[name] = (op, line[52:76].strip(), int(line[76:88]))
    assert total is not None, buf.getvalue()
    return rows, total


def small_net() -> nn.HybridBlock:
    """A tiny Gluon net with the layers print_summary does not count (or counts wrong).

    3x16x16 -> Conv2D 8 (no bias) -> BatchNorm -> ReLU -> Conv2DTranspose 4 (2x2, stride 2)
    -> PReLU -> InstanceNorm -> MaxPool 2 -> LayerNorm -> Dense 10 (flattening a 4x16x16 map).
    """
    net = nn.HybridSequential(prefix="small_")
    with net.name_scope():
        net.add(
            nn.Conv2D(8, 3, padding=1, use_bias=False, in_channels=3),
            nn.BatchNorm(in_channels=8),
            nn.Activation("relu"),
            nn.Conv2DTranspose(4, 2, strides=2, in_channels=8),
            nn.PReLU(),
            nn.InstanceNorm(in_channels=4),
            nn.MaxPool2D(2),
            nn.LayerNorm(in_channels=16),  # over the last axis (W)
            nn.Dense(10, in_units=4 * 16 * 16),
        )
    return net


def initialize(net: nn.Block, *init: mx.init.Initializer) -> None:
    """``net.initialize(*init)`` for forward passes only: no gradient buffers.

    Gluon gives every parameter a gradient array of its own size unless its ``grad_req`` is
    ``'null'``; nothing here runs backward, and those arrays would double the memory of each
    network (VGG-19: 575 MB of weights).
    """
    net.collect_params().setattr("grad_req", "null")
    net.initialize(*init)


def export(net: nn.HybridBlock, name: str, folder: Path, input_shape: Shape) -> Export:
    """Initializes (random, seeded), hybridizes, runs one forward pass and exports ``net``."""
    mx.random.seed(0)
    initialize(net, mx.init.Xavier())
    net.hybridize()
    out = net(mx.nd.random.uniform(shape=input_shape))
    prefix = folder / name
    net.export(str(prefix))
    os.remove(f"{prefix}-0000.params")  # weights are not needed; symbol files only
    count = sum(p.data().size for p in net.collect_params().values())
    return Export(name, Path(f"{prefix}-symbol.json"), tuple(input_shape), count, tuple(out.shape))


def export_zoo(name: str, folder: Path, side: int = 224) -> Export:
    """A ``gluon.model_zoo.vision`` model, random init (``pretrained=False``: no download)."""
    return export(vision.get_model(name, pretrained=False), name, folder, (1, 3, side, side))
