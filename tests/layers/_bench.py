"""Benchmark shapes: the ``BenchShape`` type, where the sizes come from, and the builders
the layer declarations share.  Values are drawn from ``np.random.default_rng(seed)`` with a
seed derived from the shape's label, in float32 (benchmarks run float32 only); integer
class indices and boolean masks keep their dtype.

Sources (the seeds are in shared/seeds/):

- seed 002 (FashionMNIST): ``Conv2d(in_channels=1, out_channels=16, kernel_size=5)`` ->
  ReLU -> ``MaxPool2d(kernel_size=2)`` -> Flatten gives (n, 2304) -> ``Linear(2304, 10)``;
  so the max-pool input is (n, 16, 24, 24).
- seed 004 (Keras CNN on 28x28x1 MNIST): ``Conv2D(10, (3, 3), padding='same')`` ->
  ``MaxPooling2D((2, 2))``; its hand-written ConvolutionNetwork trains with
  ``batch_size=128`` (32 is its default).
- issue 6: MNIST-sized 28x28 inputs at batch 32 and 128 for the other layers, one larger
  convolution x (32, 16, 28, 28), w (32, 16, 3, 3), padding 1, and max pooling 2x2/2 on
  (32, 32, 28, 28) (the speed targets of the reference).
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

SEED002 = (
    "seed 002: FashionMNIST net Conv2d(1, 16, kernel_size=5) -> ReLU -> MaxPool2d(2) -> "
    "Flatten (n, 2304) -> Linear(2304, 10)"
)
SEED004 = (
    "seed 004: Keras Conv2D(10, (3, 3), padding='same') on (28, 28, 1) -> "
    "MaxPooling2D((2, 2)); ConvolutionNetwork batch_size 128 (default 32)"
)
ISSUE6_LARGE = "issue 6: larger shape x (32, 16, 28, 28), w (32, 16, 3, 3), padding 1"
ISSUE6_POOL = "issue 6: max-pool target 2x2/2 on (32, 32, 28, 28)"
MNIST = "issue 6: MNIST-sized 28x28 input (seeds 002/004 train on 28x28 images)"

BATCHES = (32, 128)
CLASSES = 10  # MNIST / FashionMNIST


@dataclass(frozen=True, eq=False)  # hashed by identity: shapes are module-level constants
class BenchShape:
    """One benchmark input.  ``inputs`` maps each parameter of ``reference.<layer>.forward``
    to ``(shape, draw)``; ``draw`` is "normal", "positive" (uniform in [0.5, 1.5), for
    variances), "classes" (int64 indices in [0, CLASSES)), "onehot" (float one-hot rows),
    "mask" (bool, keeps half) or "unit" (uniform in [0, 1), for probabilities)."""

    layer: str
    id: str
    inputs: Mapping[str, tuple[tuple[int, ...], str]]
    provenance: str
    attrs: Mapping[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return f"{self.layer}-{self.id}"

    def group(self, direction: str) -> str:
        """pytest-benchmark group: ``<layer>-<fwd|bwd>-<shape>``."""
        return f"{self.layer}-{'fwd' if direction == 'forward' else 'bwd'}-{self.id}"

    def make_inputs(self) -> dict[str, np.ndarray]:
        rng = np.random.default_rng(zlib.crc32(self.label.encode()))
        return {name: _draw(rng, shape, how) for name, (shape, how) in self.inputs.items()}


def _draw(rng: np.random.Generator, shape: tuple[int, ...], how: str) -> np.ndarray:
    if how == "normal":
        return rng.standard_normal(shape, dtype=np.float32)
    if how == "positive":
        return rng.uniform(0.5, 1.5, shape).astype(np.float32)
    if how == "classes":
        return rng.integers(0, CLASSES, shape, dtype=np.int64)
    if how == "onehot":
        return np.eye(CLASSES, dtype=np.float32)[rng.integers(0, CLASSES, shape[0])]
    if how == "mask":
        return rng.random(shape) < 0.5
    if how == "unit":
        return rng.uniform(0.0, 1.0, shape).astype(np.float32)
    raise ValueError(f"draw must be normal/positive/classes/onehot/mask/unit, got {how!r}")


def image(n: int, c: int = 1, h: int = 28, w: int = 28) -> tuple[tuple[int, ...], str]:
    return (n, c, h, w), "normal"


def per_batch(
    layer: str,
    make_inputs: Callable[[int], Mapping[str, tuple[tuple[int, ...], str]]],
    attrs: Mapping[str, Any] | None = None,
) -> tuple[BenchShape, ...]:
    """One MNIST-sized shape per batch size in ``BATCHES``."""
    return tuple(
        BenchShape(layer, f"mnist-b{n}", make_inputs(n), MNIST, attrs or {}) for n in BATCHES
    )
