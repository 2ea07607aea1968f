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

Magnitudes never come from the code under judgement: conv/linear/avg pool/max pool/signal
compute theirs with ``tests/layers/_magnitudes.py`` (the sums written again from the
definitions).  Every magnitude is a float64 sum of non-negative numbers, which rounding
can leave below the exact sum by a relative ``(n + 1) * eps(float64) / 2``;
``reduction`` multiplies it by ``1 + 2 (n + 2) eps(float64)`` so that it never is.

The tight criterion
-------------------
The rigorous bound grows like n; real rounding errors grow like sqrt(n), so at n = 4608
it is ~100x too loose to notice TF32 or bfloat16 arithmetic.  Conv and linear therefore
carry a second, probabilistic bound (``probabilistic``), in the manner of Higham & Mary,
"A New Approach to Probabilistic Rounding Error Analysis", SIAM J. Sci. Comput. 41(5),
2019, A2815-A2835: the rounding errors ``delta`` of the individual operations are
modelled as independent, mean zero and ``|delta| <= u`` (u = eps/2), so they add like a
random walk.  For one output ``y = sum_{k<=n} t_k`` summed recursively in float
(``s_j = (s_{j-1} + t_j (1 + delta_j)) (1 + epsilon_j)``) the error is, to first order,
``sum_k t_k delta_k + sum_j s_j epsilon_j``, of variance at most
``u^2 / 3 * (Q + sum_j s_j^2)`` with ``Q = sum_k t_k^2`` (uniform rounding errors have
variance u^2/3).  The partial sums depend on the order; for terms of mean mu and
variance sigma^2 in random order ``E sum_j s_j^2 = n^3 mu^2 / 3 + n^2 sigma^2 / 2 <=
n y^2 / 3 + n Q / 2`` (y = n mu, Q >= n sigma^2).  Blocked and pairwise orders (BLAS,
oneDNN, Eigen) have shorter partial sums and so less.  Hence the data-adaptive scale

    scale = sqrt(n Q / 2 + n y^2 / 3 + Q)

which grows like sqrt(n) * |y| for same-sign terms and like n * sigma for random signs
(Higham & Mary's Theorem 3.1 has ``lambda sqrt(n) u sum|t_k|`` instead: never smaller,
so less sensitive).  The tight bound is

    tight = TIGHT_LAMBDA * u * sqrt(s) * scale + 2 s u |y| + tiny,

where ``2 u |y|`` is the deterministic rounding of the result (and of the bias add) and
``s`` is 1 when the framework runs in float32 against the float64 reference and 2 in
float64, where the reference's own rounding errors are of the same size.  ``Q`` and
``y`` come from ``tests/layers/_magnitudes.py`` on ``inputs**2`` and on the inputs (not
from the reference).  Under the model the random part is Gaussian with standard
deviation at most ``u scale / sqrt(3)``, so ``TIGHT_LAMBDA * u * scale`` is
``TIGHT_LAMBDA * sqrt(3)`` standard deviations (see ``TIGHT_LAMBDA`` for the confidence
and the calibration).  A comparison fails when it exceeds either bound; the tight bound
is capped at the rigorous one, so ``err_to_tight >= err_to_bound`` always.
"""

from __future__ import annotations

import dataclasses
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

#: lambda of the tight criterion (module docstring).  Under the model, lambda = 4 holds the
#: random part to 4 sqrt(3) = 6.9 standard deviations: a two-sided Gaussian tail of 4e-12
#: per element, under 1e-5 over the ~10^6 elements a whole suite run compares.  A factor 2
#: on top covers the model's approximations (independent errors, first order, summation
#: orders other than random recursive).  Calibration (``tests/tools/tight_calibration.py
#: calibrate``: torch, tensorflow, keras, jax and scipy, every declared conv2d and linear
#: case plus fixtures with reduction lengths 64 to 4608, normal and same-sign inputs,
#: float32 and float64, forward and backward): the largest lambda any real comparison
#: needed was 1.73 (jax float32), so real arithmetic stays below 0.22 of the tight bound;
#: emulated TF32, bf16 inputs and float16 outputs exceed it 11x or more at every length
#: from 64 to 4608 (``detect``).
TIGHT_LAMBDA = 8.0

#: What the tight criterion claims, in words (quoted in every tight rule).
TIGHT_CONFIDENCE = (
    "the random part held to 8 sqrt(3) = 13.9 model standard deviations, twice the 6.9 of a "
    "4e-12 per-element tail; the worst real float32/float64 comparison calibrated needed 1.73"
)

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
    #: The tight (probabilistic) criterion per output key; None: the rigorous bound is
    #: the only one (exact and elementwise ops, reductions without one).
    tight: dict[str, np.ndarray | float] | None = None
    tight_rule: str = ""

    @property
    def tight_bounds(self) -> dict[str, np.ndarray | float]:
        """The tight bound per key (the rigorous one where there is no tight one)."""
        return self.bounds if self.tight is None else self.tight


def absolute(inputs: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Absolute values of the floating inputs (indices and masks untouched)."""
    return {k: np.abs(v) if np.issubdtype(v.dtype, np.floating) else v for k, v in inputs.items()}


def exact(keys, why: str = "exact op") -> Tolerance:
    """Bit for bit: every bound is 0."""
    return Tolerance("exact", {k: 0.0 for k in keys}, f"exact: bit for bit ({why})")


def reduction(dtype, sized: Mapping[str, tuple[int, Any]], magnitude: str) -> Tolerance:
    """``SAFETY * eps * (n + extra) * magnitude`` per output key; ``sized`` maps the key
    to (reduction length n, magnitude array or scalar), ``magnitude`` says in words what
    the magnitude is (a float64 sum of up to n non-negative terms: see the module
    docstring for the ``1 + 2 (n + 2) eps(float64)`` that covers its own rounding)."""
    name = np.dtype(dtype).name
    e = eps(dtype)
    bounds, ns = {}, {}
    for key, (n, mag) in sized.items():
        ns[key] = int(n)
        own_rounding = 1.0 + 2.0 * (n + _EXTRA_OPS) * eps(np.float64)
        mag = np.asarray(mag, dtype=np.float64) * own_rounding
        bounds[key] = SAFETY[name] * e * (n + _EXTRA_OPS) * mag
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


def tight_scale(n: int, squares, value) -> np.ndarray:
    """``sqrt(n Q / 2 + n y^2 / 3 + Q)`` (module docstring): ``squares`` is ``Q = sum
    t_k^2`` and ``value`` the exact result ``y``, both per output element."""
    q = np.asarray(squares, dtype=np.float64)
    y2 = np.square(np.asarray(value, dtype=np.float64))
    return np.sqrt(n * q / 2.0 + n * y2 / 3.0 + q)


def _sides(dtype) -> int:
    """1 against the float64 reference from a lower precision; 2 in float64, where the
    reference rounds as much as the implementation."""
    return 2 if np.dtype(dtype) == np.float64 else 1


def probabilistic(
    dtype, rigorous: Tolerance, terms: Mapping[str, tuple[Any, Any]], what: str
) -> Tolerance:
    """``rigorous`` with the tight criterion added for the keys of ``terms``, which maps a
    key to ``(Q, y)`` arrays (sum of squared terms, exact value) for the same reduction
    lengths ``rigorous.n``; ``what`` says where Q and y come from."""
    name = np.dtype(dtype).name
    u, s = eps(dtype) / 2.0, _sides(dtype)
    tiny = float(np.finfo(np.dtype(name)).tiny)
    tight = dict(rigorous.bounds)
    for key, (squares, value) in terms.items():
        n = rigorous.n[key] + 1  # the bias (or the final scaling) as one more term
        scale = tight_scale(n, squares, value)
        bound = TIGHT_LAMBDA * u * np.sqrt(s) * scale + 2 * s * u * np.abs(value) + tiny
        tight[key] = np.minimum(bound, rigorous.bounds[key])
    rule = (
        f"tight: {TIGHT_LAMBDA:g} * u * sqrt({s}) * sqrt(n Q/2 + n y^2/3 + Q) + {2 * s} u |y| "
        f"(u = eps({name})/2, n + 1 terms, Q = sum of squared terms, y = the value, both "
        f"{what}; Higham & Mary 2019 style: {TIGHT_CONFIDENCE}), capped at the rigorous bound"
    )
    return dataclasses.replace(rigorous, tight=tight, tight_rule=rule)
