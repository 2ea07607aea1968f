"""Helpers shared by the seed modules: float64 arrays and TF-to-reference layouts."""

from __future__ import annotations

import numpy as np

#: Tags: ``seed`` marks a case from shared/seeds/; ``exact`` marks an expected value that
#: float64 reproduces bit for bit (integer or dyadic arithmetic).
SEED = frozenset({"seed"})
EXACT = frozenset({"seed", "exact"})


def f(values) -> np.ndarray:
    """A float64 array (seed integers become floats so dtype casting applies)."""
    return np.asarray(values, dtype=np.float64)


def nhwc_to_nchw(a: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(np.transpose(a, (0, 3, 1, 2)))


def hwio_to_oihw(w: np.ndarray) -> np.ndarray:
    """TF/Keras kernels (kh, kw, in, out) to the reference's (out, in, kh, kw)."""
    return np.ascontiguousarray(np.transpose(w, (3, 2, 0, 1)))


#: The 3x3 image 1..9 of seeds 003 and 004, NHWC (1, 3, 3, 1) as the seeds write it.
IMG_1_TO_9_NHWC = np.arange(1, 10, dtype=np.float64).reshape(1, 3, 3, 1)
