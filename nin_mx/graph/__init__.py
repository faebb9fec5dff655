"""Graphs: symbol JSON -> validated nodes -> a resolved :class:`~nin_mx.graph.source.Graph`;
shape inference, the spatial walk and the input-size search.

``from nin_mx.graph import Node, parse_nodes`` (the old module's names) keeps working.
"""

from __future__ import annotations

from nin_mx.graph.files import existing_file, load_symbol_file
from nin_mx.graph.nodes import Node, data_inputs, parse_nodes

__all__ = ["Node", "data_inputs", "existing_file", "load_symbol_file", "parse_nodes"]
