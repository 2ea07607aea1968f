"""Seed 000 (000_a32c5e8620cf1187.txt): a 2x2-filter conv trained on four flipped images."""

from __future__ import annotations

import numpy as np

from tests.cases import Case, register
from tests.cases.seeds._common import SEED, f

# Seed 000 (000_a32c5e8620cf1187.txt): four flipped 3x3 inputs and 2x2 targets for a
# single 2x2 filter.  The seed draws W and B with an unseeded np.random.randn, so its
# forward values are not golden; the data is kept for networks and benchmarks.

_S000_BASE_X = f([[0.1, 0.2, 0.3], [0.4, 0.5, 0.6], [0.7, 0.8, 0.9]])
_S000_BASE_Y = f([[0.0, 0.0], [0.0, 1.0]])


def _s000_stack(base: np.ndarray) -> np.ndarray:
    # The seed's order: the base, its up-down flip, its left-right flip, and the
    # left-right flip of the up-down flip.
    ud = np.flipud(base)
    return np.stack([base, ud, np.fliplr(base), np.fliplr(ud)])[:, None]


#: (4, 1, 3, 3) inputs and (4, 1, 2, 2) targets of seed 000 (the seed trains with MSE).
S000_INPUTS = _s000_stack(_S000_BASE_X)
S000_TARGETS = _s000_stack(_S000_BASE_Y)

_s000_rng = np.random.default_rng(0)
register(
    Case(
        id="s000_flips",
        layer="conv2d",
        inputs={
            "x": S000_INPUTS,
            # Generated with default_rng(0): the seed's W, B are unseeded randn draws.
            "w": _s000_rng.standard_normal((1, 1, 2, 2)),
            "b": _s000_rng.standard_normal(1),
        },
        attrs={"stride": 1, "padding": 0},
        provenance="seed 000 (inputs; targets in S000_TARGETS); w, b generated (seed 0)",
        note="The seed's backward uses 2*(pred-target), the gradient of the summed, "
        "not the averaged, squared error it reports as loss.",
        tags=SEED,
    )
)
