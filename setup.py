"""Packaging for nin_mx: MXNet NIN / Inception-ResNet-v2 symbols and per-border-mode shape reports."""

from __future__ import annotations

from pathlib import Path

from setuptools import find_packages, setup

HERE = Path(__file__).parent
ONNX = ["onnx>=1.15", "onnxruntime>=1.17", 'ml_dtypes<0.6; python_version < "3.13"']

setup(
    name="nin_mx",
    version="0.1.0",
    description=(
        "MXNet symbol graphs of Network-in-Network and Inception-ResNet-v2, "
        "with per-layer shape reports under every border mode"
    ),
    long_description=(HERE / "README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    license="Apache-2.0",
    # MXNet 1.9.1 needs numpy<2, which has no wheels for Python 3.13: there nin_mx installs without
    # MXNet and numpy 2, and reads symbol files and checkpoints with its own shape engine.
    python_requires=">=3.9",
    # The packages sit at the top of the repository, and saying so (package_dir {"": "."}) makes
    # the layout one setuptools calls simple: an editable install is then a .pth line naming
    # the repository, not a meta path finder, which setuptools (>= 64) installs with a
    # "BuildBackendWarning: Editable installation" on every first set-up.
    package_dir={"": "."},
    packages=find_packages(include=["nin_mx", "nin_mx.*"]),
    # MXNet 1.9.1's operators and their attributes (scripts/make_op_registry.py writes it).
    package_data={"nin_mx.core.ops": ["mxnet_registry.json"]},
    install_requires=[
        # 1.9.1 is MXNet's last release. It uses np.bool, removed in numpy 1.24: below Python 3.12
        # the last numpy that has it; on 3.12, whose first numpy is 1.26, nin_mx._mxnet puts the
        # alias back. numpy 2 breaks MXNet's own numpy module in more ways than one alias.
        'mxnet==1.9.1; python_version < "3.13"',
        'numpy<1.24; python_version < "3.12"',
        'numpy>=1.26,<2; python_version == "3.12"',
        # MXNet imports distutils.version, which Python 3.12 removed; setuptools provides it.
        'setuptools; python_version == "3.12"',
        # No MXNet from 3.13, so any numpy (numpy 2: the first with wheels for 3.13 is 2.1).
        'numpy; python_version >= "3.13"',
        "tabulate>=0.9",
    ],
    extras_require={
        # ONNX export (nin_mx.to_onnx, --onnx) and onnxruntime to run the models. MXNet 1.9.1 imports
        # onnx at its own import when onnx is installed; with ml_dtypes 0.6+ (numpy>=2 only) that
        # import breaks MXNet, so below 3.13 (where MXNet runs) ml_dtypes stays below 0.6.
        "onnx": ONNX,
        "test": [
            *ONNX,
            "pytest>=7",
            "hypothesis>=6.80",
            "matplotlib>=3.6",
            # graphviz (the Python package) comes with mxnet, which pins it to <0.9.
            "nbclient>=0.8",
            "nbformat>=5.9",
            "ipykernel>=6.20",
            "ruff>=0.4",
            'gluoncv==0.10.5; python_version < "3.13"',  # tests/test_gluoncv_corpus.py: real graphs
        ],
    },
    entry_points={"console_scripts": ["nin-shape-report=nin_mx.cli:run"]},
    classifiers=[
        "Programming Language :: Python :: 3",
        "Topic :: Scientific/Engineering :: Artificial Intelligence",
    ],
)
