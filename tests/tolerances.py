"""The one tolerance policy: keyed by dtype and by kind of op.  Every number lives here.

Each layer's declaration (``tests/layers/<module>.py``) picks its kind and computes its
magnitudes; this module holds the numbers and the three ways of turning magnitudes into
a bound.  Kinds:
- ``exact``: the framework must reproduce the reference bit for bit (relu, max-pool
  values, flatten, shapes; max-pool gradients where no cell wins two windows).
- ``elementwise``: a few ops per element (sigmoid, tanh, dropout, mse's gradient):
  ``|error| <= ULPS * eps(dtype) * magnitude + tiny(dtype)``, the magnitude being the size
  of the intermediates (not of the result where the formula cancels, e.g. ``1 - s``).
- ``reduction``: sums of many terms (conv, linear, avg pool, batch norm, softmax,
  losses, scipy.signal): ``|error| <= SAFETY * eps(dtype) * n * magnitude``, where n is the
  reduction length and magnitude the size of the summed terms (the classic bound for
  recursive summation, Higham, "Accuracy and Stability of Numerical Algorithms", 2nd ed.,
  eq. 4.4).  For conv/linear/avg pool/signal the magnitude is per output element: the
  reference applied to absolute values (``conv2d.forward(|x|, |w|, |b|)``, and
  ``conv2d.backward(|g|, |x|, |w|, |b|)`` for gradients), i.e. exactly ``sum |terms|``.
  Batch norm, softmax and the losses use the documented scalar (or per-channel)
  magnitudes in ``_batchnorm`` / ``_softmax`` / ``_cross_entropy`` / ``_mse``.

No bound is pointwise relative to the result: near zero that explodes.  The comparison
is always framework (dtype under test) against the reference in float64 on the same,
already cast, inputs, so only the framework's own arithmetic is being bounded.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

#: Multiplier on the summation bound; framework kernels reorder sums (blocked GEMM,
#: Winograd, pairwise) and fuse ops, so allow a constant factor over the textbook bound.
SAFETY: dict[str, float] = {"float32": 4.0, "float64": 4.0}

#: Relative ulps allowed for elementwise transcendental ops.
ELEMENTWISE_ULPS: dict[str, float] = {"float32": 8.0, "float64": 8.0}

#: Finite-difference gradient check of the reference (always float64).
GRADCHECK = {"step": 1e-6, "rtol": 1e-5}

#: ``max_rel_err`` (a statistic only, never a criterion) skips elements whose reference
#: value is below this many eps(dtype) times the largest |reference|.
REL_ERR_FLOOR_EPS = 64.0

#: Extra rounding steps on top of a reduction's length: the bias add, the division of a
#: mean, the final cast to the dtype under test.
_EXTRA_OPS = 2

KINDS = ("exact", "elementwise", "reduction")


def eps(dtype: np.dtype | str | type) -> float:
    return float(np.finfo(np.dtype(dtype)).eps)


@dataclass(frozen=True)
class Tolerance:
    """``bounds`` maps an output key ("y" forward, input names backward) to a bound that
    broadcasts against that output; ``rule`` says in words how it was computed."""

    kind: str
    bounds: dict[str, np.ndarray | float]
    rule: str
    n: dict[str, int] = field(default_factory=dict)


def absolute(inputs: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Absolute values of the floating inputs (indices and masks untouched)."""
    return {k: np.abs(v) if np.issubdtype(v.dtype, np.floating) else v for k, v in inputs.items()}


def exact(keys, why: str = "exact op") -> Tolerance:
    """Bit for bit: every bound is 0."""
    return Tolerance("exact", {k: 0.0 for k in keys}, f"exact: bit for bit ({why})")


def reduction(dtype, sized: Mapping[str, tuple[int, Any]], magnitude: str) -> Tolerance:
    """``SAFETY * eps * (n + extra) * magnitude`` per output key; ``sized`` maps the key
    to (reduction length n, magnitude array or scalar), ``magnitude`` says in words what
    the magnitude is."""
    name = np.dtype(dtype).name
    e = eps(dtype)
    bounds, ns = {}, {}
    for key, (n, mag) in sized.items():
        ns[key] = int(n)
        bounds[key] = SAFETY[name] * e * (n + _EXTRA_OPS) * np.asarray(mag, dtype=np.float64)
    lengths = ", ".join(f"n[{k}]={v}" for k, v in ns.items())
    rule = (
        f"reduction: {SAFETY[name]:g} * eps({name}) * (n + {_EXTRA_OPS}) * magnitude; "
        f"{lengths}; magnitude = {magnitude}"
    )
    return Tolerance("reduction", bounds, rule, ns)


def elementwise(dtype, key: str, magnitude: Any, what: str) -> Tolerance:
    """``ULPS * eps * magnitude + tiny`` for a few rounded ops per element."""
    name = np.dtype(dtype).name
    bound = ELEMENTWISE_ULPS[name] * eps(dtype) * np.asarray(magnitude, dtype=np.float64)
    bound = bound + np.finfo(np.dtype(name)).tiny
    rule = (
        f"elementwise: {ELEMENTWISE_ULPS[name]:g} * eps({name}) * magnitude + tiny({name}); "
        f"magnitude = {what}"
    )
    return Tolerance("elementwise", {key: bound}, rule)
