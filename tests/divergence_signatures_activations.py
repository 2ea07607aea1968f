"""Signatures (tests/divergence_signatures.py) of the activation bugs of issue 17: a
float64 computation that uses a constant rounded to float32.

- torch-hardsigmoid-float64-grad-float32-sixth (and keras-torch-...): torch's CPU
  Hardsigmoid backward multiplies by ``one_sixth(1.0f / 6.0f)`` in every dtype.
- tf-nn-gelu-float64-constants-via-float32 (and keras-tf-...): tf.nn.gelu builds its
  constants with ``math_ops.cast(<Python float>, features.dtype)``, through float32.  Its
  exact form has two shapes across the tox matrix's releases: ``0.5 x (1 + erf(x /
  cast(sqrt 2)))`` in TF 2.15.1 and 2.18.1, ``0.5 x erfc(-x cast(1 / sqrt 2))`` in
  TF 2.21.0 (tensorflow/python/ops/nn_ops.py ``gelu`` of each); the probe tells which
  one the installed release computes.

Each model is the framework's own formula from its source (cited at each) with the
float32-rounded constant, in NumPy and the standard library's ``math.erfc``.  The probes
run a one-element call through the adapter method the parity tests use.
"""

from __future__ import annotations

import math
from functools import cache

import numpy as np

from adapters.base import Unsupported
from tests.divergence_signatures import modelled

#: 1/6 as torch's kernel holds it: ``scalar_t one_sixth(1.0f / 6.0f)``.
SIXTH_VIA_FLOAT32 = float(np.float32(1.0 / 6.0))
#: The constants tf.nn.gelu casts (TF 2.21, tensorflow/python/ops/nn_ops.py ``gelu``), as
#: ``math_ops.cast`` of the Python float gives them in float64.
GELU_ERF_SCALE = 0.7071067811865476
GELU_CUBIC = 0.044715
GELU_ERF_SCALE_VIA_FLOAT32 = float(np.float32(GELU_ERF_SCALE))
GELU_CUBIC_VIA_FLOAT32 = float(np.float32(GELU_CUBIC))
#: sqrt(2), which TF <= 2.18's exact form divides by (cast like the others).
GELU_ERF_DIVISOR = 1.4142135623730951
GELU_ERF_DIVISOR_VIA_FLOAT32 = float(np.float32(GELU_ERF_DIVISOR))
#: Not cast in tf.nn.gelu: a Python float times a float64 tensor stays float64.
GELU_TANH_SCALE = 0.7978845608028654
_TWO_OVER_ROOT_PI = 2.0 / math.sqrt(math.pi)


def _backend(adapter) -> str | None:
    """The adapter's name, or for Keras ``keras:<backend>``."""
    name = getattr(adapter, "name", None)
    if name == "keras":
        return f"keras:{adapter.api.backend}"
    return name


def _who(adapter) -> str:
    version = adapter.version()
    return version if version.startswith(adapter.name) else f"{adapter.name} {version}"


def _gradient(adapter, method: str, x: np.ndarray, attrs) -> np.ndarray | None:
    """The adapter's float64 gradient for g = 1, or None where it refuses the call."""
    try:
        run = getattr(adapter, method)(x, **attrs).backward(np.ones_like(x))
    except Unsupported:
        return None
    return np.asarray(run.to_reference(run.call())["x"], dtype=np.float64)


def _output(adapter, method: str, x: np.ndarray, attrs) -> np.ndarray | None:
    """The adapter's output, or None where it refuses the call."""
    try:
        run = getattr(adapter, method)(x, **attrs).forward()
    except Unsupported:
        return None
    return np.asarray(run.to_reference(run.call()), dtype=np.float64)


# --------------------------------------------------------------------------------------
# torch-hardsigmoid-float64-grad-float32-sixth


@cache
def hardsigmoid_float32_sixth(adapter) -> str | None:
    """The float64 hard-sigmoid gradient at x = 0 for g = 1, through the adapter's
    ``hardsigmoid``: evidence when it is 1/6 rounded to float32 (torch, or Keras on the
    torch backend, whose ``hard_sigmoid`` is ``torch.nn.functional.hardsigmoid``:
    keras/src/backend/torch/nn.py)."""
    if _backend(adapter) not in ("torch", "keras:torch"):
        return None
    grad = _gradient(adapter, "hardsigmoid", np.zeros(1), {})
    if grad is None or float(grad[0]) != SIXTH_VIA_FLOAT32:
        return None
    got = float(grad[0])
    return (
        f"{_who(adapter)}: the float64 hard-sigmoid gradient at 0 for g = 1 is {got!r}, "
        f"1/6 rounded to float32, not {1 / 6!r}"
    )


def torch_hardsigmoid_backward(x, grad_out) -> np.ndarray:
    """torch's CPU ``hardsigmoid_backward_kernel`` (aten/src/ATen/native/cpu/Activation.cpp):
    ``(x > -3 && x < 3) ? grad * one_sixth : 0`` with ``one_sixth(1.0f / 6.0f)``, here in
    float64."""
    inside = (x > -3.0) & (x < 3.0)
    return np.where(inside, grad_out * SIXTH_VIA_FLOAT32, 0.0)


def _hardsigmoid_prediction(observed):
    attrs = observed.attrs
    default = (float(attrs.get("slope", 1 / 6)), float(attrs.get("offset", 0.5))) == (1 / 6, 0.5)
    if observed.dtype != "float64" or observed.direction != "backward" or not default:
        return None
    x = observed.reference_inputs["x"]
    return {"x": torch_hardsigmoid_backward(x, observed.grad_out)}


HARDSIGMOID_FLOAT32_SIXTH = modelled(
    hardsigmoid_float32_sixth,
    _hardsigmoid_prediction,
    "torch's kernel's gradient, g * float32(1/6) on (-3, 3) and 0 elsewhere,",
)


# --------------------------------------------------------------------------------------
# tf-nn-gelu-float64-constants-via-float32

_erfc = np.frompyfunc(math.erfc, 1, 1)


_erf = np.frompyfunc(math.erf, 1, 1)


def tf_gelu(
    x,
    approximate: str,
    grad_out=None,
    erf_scale=GELU_ERF_SCALE_VIA_FLOAT32,
    cubic=GELU_CUBIC_VIA_FLOAT32,
    form: str = "erfc",
):
    """tf.nn.gelu (TF 2.21, nn_ops.py) with its cast constants as given: exact form
    ``0.5 x erfc(-x c)``, tanh form ``0.5 x (1 + tanh(k (x + a x^3)))`` with ``k`` the
    uncast 0.7978845608028654.  With ``grad_out``: the gradient TensorFlow's autodiff
    takes through those ops (Erfc's registered gradient is -2/sqrt(pi) exp(-z^2),
    math_grad.py), i.e. the exact derivative of the same formula.  ``form="erf"``: TF
    2.15-2.18's exact form ``0.5 x (1 + erf(x / d))``, ``d`` = float32(sqrt 2) (Erf's
    gradient 2/sqrt(pi) exp(-z^2), math_grad.py)."""
    x = np.asarray(x, dtype=np.float64)
    if approximate != "tanh" and form == "erf":
        z = x / GELU_ERF_DIVISOR_VIA_FLOAT32
        cdf = 1.0 + _erf(z).astype(np.float64)
        if grad_out is None:
            return 0.5 * x * cdf
        density = _TWO_OVER_ROOT_PI * np.exp(-np.square(z)) / GELU_ERF_DIVISOR_VIA_FLOAT32
        return grad_out * (0.5 * cdf + 0.5 * x * density)
    if approximate == "tanh":
        t = np.tanh(GELU_TANH_SCALE * (x + cubic * x**3))
        if grad_out is None:
            return 0.5 * x * (1.0 + t)
        du = GELU_TANH_SCALE * (1.0 + 3.0 * cubic * x**2)
        return grad_out * (0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * du)
    tail = _erfc(-x * erf_scale).astype(np.float64)
    if grad_out is None:
        return 0.5 * x * tail
    density = _TWO_OVER_ROOT_PI * np.exp(-np.square(x * erf_scale)) * erf_scale
    return grad_out * (0.5 * tail + 0.5 * x * density)


@cache
def tf_gelu_float32_constants(adapter) -> str | None:
    """float64 GELU at x = 1, both forms, through the adapter's ``gelu``: evidence when each
    equals tf.nn.gelu's formula with its float32-rounded constant (tf.nn, or Keras on the
    tensorflow backend, whose ``gelu`` is ``tf.nn.gelu``: keras/src/backend/tensorflow/
    nn.py) and not the float64 one."""
    if _backend(adapter) not in ("tensorflow", "keras:tensorflow"):
        return None
    form = tf_gelu_form(adapter)
    if form is None:
        return None
    x, said = np.ones(1), []
    for approximate in ("none", "tanh"):
        out = _output(adapter, "gelu", x, {"approximate": approximate})
        if out is None:
            return None
        got, rounded = float(out[0]), float(tf_gelu(x, approximate, form=form)[0])
        exact = float(tf_gelu(x, approximate, erf_scale=GELU_ERF_SCALE, cubic=GELU_CUBIC)[0])
        if abs(got - rounded) > 4 * np.finfo(np.float64).eps * abs(rounded) or got == exact:
            return None
        said.append(f"{approximate!r}: {got!r} (float64 constants give {exact!r})")
    return f"{_who(adapter)}: float64 GELU ({form} form) at x = 1 is " + ", ".join(said)


@cache
def tf_gelu_form(adapter) -> str | None:
    """Which exact form the adapter's float64 GELU computes, "erfc" (TF 2.21) or "erf" (TF
    2.15-2.18), told apart at x = 1, where their float32-rounded constants (1/sqrt 2 and
    sqrt 2) give values 1e-8 apart, far more than rounding; None when it is neither."""
    if not hasattr(adapter, "gelu"):  # a model checked without a framework
        return None
    x = np.ones(1)
    out = _output(adapter, "gelu", x, {"approximate": "none"})
    if out is None:
        return None
    got = float(out[0])
    for form in ("erfc", "erf"):
        want = float(tf_gelu(x, "none", form=form)[0])
        if abs(got - want) <= 4 * np.finfo(np.float64).eps * abs(want):
            return form
    return None


def _gelu_prediction(observed):
    if observed.dtype != "float64":
        return None
    form = tf_gelu_form(observed.adapter) or "erfc"
    x = observed.reference_inputs["x"]
    approximate = observed.attrs.get("approximate", "none")
    if observed.direction == "forward":
        return {"y": tf_gelu(x, approximate, form=form)}
    return {"x": tf_gelu(x, approximate, grad_out=observed.grad_out, form=form)}


TF_GELU_FLOAT32_CONSTANTS = modelled(
    tf_gelu_float32_constants,
    _gelu_prediction,
    "tf.nn.gelu's formula with its constants rounded to float32",
)
