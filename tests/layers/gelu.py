"""gelu: x * Phi(x), exact ("none", erf) or Hendrycks & Gimpel's tanh approximation."""

from __future__ import annotations

import numpy as np

from tests import tolerances
from tests.layers import ErrorInput, LayerInfo
from tests.layers import _activation as act

_SQRT_2_OVER_PI = np.sqrt(2.0 / np.pi)
_CUBIC = 0.044715
_CLIP = 1e50  # |x| beyond: every magnitude below is already 0 or |x|; x^3 stays finite


def _sigmoid(z):
    # Not the reference's formula (that one splits on the sign of z).
    return np.exp(-np.logaddexp(0.0, -z))


def _saturation(one_minus, dtype):
    """Error of a framework's ``1 - t^2`` or ``1 + erf``, in units of eps: about 2 (a few
    ulps of the tanh or erf, which not every library rounds correctly near -1: XLA's
    float64 tanh is 5 ulps off at u = -20), until the true value is below eps^2, where
    every implementation has rounded to exactly -1 and the error is the true value."""
    return np.minimum(2.0, 4.0 * one_minus / tolerances.eps(dtype) ** 2)


def tolerance(direction, inputs, attrs, dtype, grad_out):
    """A few rounded ops per element, but frameworks form ``1 + erf(x / sqrt(2))`` and
    ``1 + tanh(u)``, ``1 - tanh(u)^2``, which cancel for x < 0 and large x: their error is
    about eps in absolute terms (until the true value is below eps^2 and rounds to 0),
    times the factor multiplying them (|x| / 2, or |x| u' / 2).  Magnitudes from that,
    with Phi(x) bounded by min(1, phi(x) / |x|) for x < 0 (Mills' ratio; no erf here) and
    sigmoid(2u), sech(u)^2 from logaddexp; a subnormal phi(x) may be flushed to 0."""
    x = inputs["x"]
    ax = np.minimum(np.abs(x), _CLIP)
    g = np.abs(grad_out) if grad_out is not None else None
    if attrs.get("approximate", "none") == "tanh":
        big_u = _SQRT_2_OVER_PI * (ax + _CUBIC * ax**3)  # the size of u's terms
        two_u = 2.0 * np.sign(x) * big_u
        s, sech2 = _sigmoid(two_u), 4.0 * _sigmoid(two_u) * _sigmoid(-two_u)
        w = _saturation(sech2, dtype)
        if direction == "forward":
            magnitude = ax * (s + 0.5 * w + 0.5 * sech2 * big_u)
            return tolerances.elementwise(dtype, "y", magnitude, "|x| (s + eps-units of 1 + t)")
        du = _SQRT_2_OVER_PI * (1.0 + 3.0 * _CUBIC * ax**2)
        magnitude = g * (s + (0.5 + 0.5 * ax * du) * (w + sech2 * (1.0 + big_u)))
        return tolerances.elementwise(dtype, "x", magnitude, "|g| (s + |x| u' (1 - t^2) terms)")
    phi = np.exp(-0.5 * np.minimum(ax, 1e10) ** 2) / np.sqrt(2.0 * np.pi)
    with np.errstate(divide="ignore", invalid="ignore"):
        cdf = np.where(x >= 0, 1.0, np.minimum(1.0, phi / ax))
    w = _saturation(2.0 * cdf, dtype)
    if direction == "forward":
        return tolerances.elementwise(dtype, "y", ax * (cdf + 0.5 * w), "|x| (Phi + 1 + erf)")
    pdf_terms = ax * (phi * (1.0 + 0.5 * np.minimum(ax, 1e10) ** 2) + act.flushed(phi, dtype))
    magnitude = g * (cdf + 0.5 * w + pdf_terms)
    return tolerances.elementwise(dtype, "x", magnitude, "|g| (Phi + 1 + erf + |x| phi)")


def _case(approximate, seed):
    values = act.joined(
        act.away_from([], -4.0, 4.0),
        act.away_from([], -12.0, -2.0, (2, 8)),
        act.large(),
    )
    note = (
        "x in [-4, 4), the tail [-12, -2) where 1 + erf and 1 + tanh cancel (then round to 0 "
        "in float32), and |x| in [20, 1e4]"
    )
    return act.case(f"gelu_{approximate}", "gelu", seed, values, note, approximate=approximate)


CASES = (_case("none", 1720), _case("tanh", 1730))

_X = {"x": np.zeros((2, 3))}

ERRORS = (
    ErrorInput(
        "gelu_approximate_true", _X, r"approximate must be one of .*True", {"approximate": True}
    ),
    ErrorInput(
        "gelu_approximate_erf", _X, r"approximate must be one of .*'erf'", {"approximate": "erf"}
    ),
    act.string_dtype_error("gelu"),
    act.grad_shape_error("gelu"),
)


def _attrs():
    from hypothesis import strategies as st

    return st.fixed_dictionaries({"approximate": st.sampled_from(["none", "tanh"])})


DECLARED = (
    LayerInfo(
        "gelu",
        tolerance=tolerance,
        cases=CASES,
        error_inputs=ERRORS,
        fuzz=act.fuzz(_attrs),
        bench=act.bench("gelu", {"approximate": "none"}),
        attributes={"approximate": ("none", "tanh")},
    ),
)
