"""The one tolerance policy: keyed by dtype and by kind of op.

Kinds:
- ``exact``: the framework must reproduce the reference bit for bit (relu, max-pool
  values and gradients, flatten, shapes).
- ``elementwise``: one transcendental per element (sigmoid, tanh): a few ulps relative.
- ``reduction``: sums of many terms (conv, linear, avg pool, batch norm, softmax,
  losses): |error| <= SAFETY * eps(dtype) * n * magnitude, where n is the reduction
  length and magnitude the size of the summed terms (the classic bound for recursive
  summation, Higham, "Accuracy and Stability of Numerical Algorithms", 2nd ed., eq. 4.4).
"""

from __future__ import annotations

import numpy as np

#: Multiplier on the summation bound; framework kernels reorder sums (blocked GEMM,
#: Winograd, pairwise) and fuse ops, so allow a constant factor over the textbook bound.
SAFETY: dict[str, float] = {"float32": 4.0, "float64": 4.0}

#: Relative ulps allowed for elementwise transcendental ops.
ELEMENTWISE_ULPS: dict[str, float] = {"float32": 8.0, "float64": 8.0}

#: Finite-difference gradient check of the reference (always float64).
GRADCHECK = {"step": 1e-6, "rtol": 1e-5}

KINDS = ("exact", "elementwise", "reduction")


def eps(dtype: np.dtype | str | type) -> float:
    return float(np.finfo(np.dtype(dtype)).eps)
