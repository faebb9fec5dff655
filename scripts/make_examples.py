#!/usr/bin/env python
"""Writes every file the README's examples and ``nin-shape-report --help``'s read, into a folder
(default: the current one).

- ``densenet121-symbol.json`` and ``densenet121-0000.params``: Gluon's model-zoo DenseNet-121,
  built with ``pretrained=False`` (random weights, no download) and exported at 224 x 224;
- ``irv2-manual-symbol.json``: our Inception-ResNet-v2 with its final pool computed by hand
  (``nin_mx.manual_symbol``), the pitfall ``--check`` finds and ``--fix`` repairs.

Needs MXNet 1.9.1 (Python 3.9-3.12). ``bash scripts/examples.sh [DIR]`` sets up the
environment first; tests/test_readme.py runs every README command against these files (each of
--help's examples is one of them).
"""

from __future__ import annotations

import sys
from pathlib import Path


def main(folder: Path) -> int:
    import nin_mx
    from nin_mx._mxnet import mx  # not `import mxnet`: see nin_mx._mxnet's numpy.bool shim

    folder.mkdir(parents=True, exist_ok=True)
    if not (folder / "densenet121-symbol.json").exists():
        mx.random.seed(0)
        net = mx.gluon.model_zoo.vision.get_model("densenet121", pretrained=False)
        net.initialize()
        net.hybridize()
        net(mx.nd.zeros((1, 3, 224, 224)))
        net.export(str(folder / "densenet121"))
    manual = nin_mx.manual_symbol("inception_resnet_v2", (1, 3, 299, 299))
    manual.save(str(folder / "irv2-manual-symbol.json"))
    print(f"wrote densenet121-symbol.json, densenet121-0000.params and irv2-manual-symbol.json in {folder}")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1] if len(sys.argv) > 1 else ".")))
