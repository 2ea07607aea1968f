"""How to recognise a declared framework bug's own wrong value (tests/known_divergences.py).

A ``Signature`` has three parts:

- ``present(adapter)``: a tiny probe of the installed framework; a sentence of evidence
  when it has the bug, else None.  It only selects which declared bug applies: nothing is
  refused because of it.
- ``explains(observed)``: given a failing comparison (``tests.harness.Observed``), how its
  output is the bug's wrong value, or None.  A model of the bug predicts the wrong output
  and the framework's must equal it within the comparison's own bound; any other wrong
  value is not explained and fails.
- ``must_fail(observed)``: True where the bug changes this comparison's answer beyond its
  bound (so a pass means the entry is stale: the parity test fails, as a strict xfail's
  XPASS would), False where it does not, None where the model cannot tell in advance.
- ``predict(observed)`` (``modelled`` signatures): the bug's whole wrong output, from
  which ``modelled`` derives ``explains`` and ``must_fail``.

The models are NumPy (and the standard library's math) written from the frameworks'
source (cited at each), never the reference's code: they describe a wrong answer, not the
right one.  Frameworks are reached only through the adapter object a probe is given.
This module has the shared parts and the Keras-backend bugs; the activation and depthwise
bugs' signatures are in tests/divergence_signatures_activations.py and
tests/divergence_signatures_depthwise.py.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Signature:
    present: Callable[[Any], str | None]
    explains: Callable[[Any], str | None]
    must_fail: Callable[[Any], bool | None] = lambda observed: None
    #: The model's whole wrong output for a comparison, where the signature has one
    #: (``modelled``); None where the bug does not touch the comparison.
    predict: Callable[[Any], dict[str, np.ndarray] | None] | None = None


def worst_ratio(actual, predicted, bound) -> float:
    """max |actual - predicted| / bound (0/0 counts as 0; a NaN or infinity the model
    predicts, met where it predicts it, is no error), or inf on a shape mismatch.
    ``bound`` is the comparison's, shaped for the right output; where a bug's output has
    another shape (a model predicting a wrong shape) the bound does not map onto it, and
    its smallest element bounds every element instead."""
    a, p = np.asarray(actual, np.float64), np.asarray(predicted, np.float64)
    if a.shape != p.shape:
        return float("inf")
    with np.errstate(invalid="ignore"):
        err = np.where((a == p) | (np.isnan(a) & np.isnan(p)), 0.0, np.abs(a - p))
    b = np.asarray(bound, np.float64)
    try:
        b = np.broadcast_to(b, err.shape)
    except ValueError:
        b = np.min(b)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(err == 0, 0.0, err / b)
    return float(np.max(np.where(np.isnan(ratio), np.inf, ratio), initial=0.0))


def modelled(
    present: Callable[[Any], str | None],
    predict: Callable[[Any], dict[str, np.ndarray] | None],
    what: str,
    own_bounds: Callable[[Any], dict] | None = None,
) -> Signature:
    """A signature whose model predicts the bug's whole wrong output.  ``predict(observed)``
    gives the output the bug produces for this comparison (keyed like
    ``observed.expected``), or None where the bug does not touch it.  ``explains``: every
    output equals the prediction within the comparison's own bound (a shape the model did
    not predict is not explained); ``must_fail``: the prediction itself is beyond that bound
    from the reference's answer.  ``what`` names the wrong value in the xfail reason.
    ``own_bounds(observed)``: the comparison's rule applied to the bug's own computation,
    for a bug that sums other terms than the right answer (the comparison's bounds, built
    from the right answer's terms, do not bound its rounding); by default the
    comparison's bounds."""

    def explains(observed) -> str | None:
        predicted = predict(observed)
        if predicted is None:
            return None
        bounds = observed.bounds if own_bounds is None else own_bounds(observed)
        worst = max(worst_ratio(observed.actual.get(k), p, bounds[k]) for k, p in predicted.items())
        if worst > 1.0:
            return None
        return (
            f"the framework's output equals {what} within the comparison's "
            f"{'rule on its own terms' if own_bounds else 'bound'} (worst error/bound "
            f"{worst:.3g})"
        )

    def must_fail(observed) -> bool:
        predicted = predict(observed)
        if predicted is None:
            return False
        return any(
            worst_ratio(p, observed.expected[k], observed.bounds[k]) > 1.0
            for k, p in predicted.items()
        )

    return Signature(present=present, explains=explains, must_fail=must_fail, predict=predict)


# --------------------------------------------------------------------------------------
# keras-torch-same-average-pool-replicates-edge


def _keras(adapter):
    return adapter.api if getattr(adapter, "name", None) == "keras" else None


@cache
def same_average_replicates_edge(adapter) -> str | None:
    """AveragePooling2D((1, 3), (1, 2), 'same') on [10, 20]: SAME pads one cell on the
    right; the mean of the real cells is 15, the edge-replicating average
    (10 + 20 + 20) / 3."""
    api = _keras(adapter)
    if api is None or api.tf_keras:
        return None
    pool = api.layers.AveragePooling2D((1, 3), (1, 2), padding="same", dtype="float64")
    got = float(api.numpy(pool(api.tensor(np.array([10.0, 20.0]).reshape(1, 1, 2, 1)))).ravel()[0])
    if abs(got - 50 / 3) > 1e-12:
        return None
    return (
        f"keras {api.version} on backend {api.backend}: AveragePooling2D((1, 3), (1, 2), "
        f"'same') on [10, 20] gives {got:.6g} = (10 + 20 + 20) / 3"
    )


def _same_pads(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """TensorFlow's SAME: out = ceil(size / stride), the odd cell after."""
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def _replicated_average_setup(observed):
    """(pads, kernel, stride) when the adapter asks Keras for an asymmetric 'same'
    average pool, else None (symmetric SAME goes to torch's own padding, which is right)."""
    from adapters import _keras_rules
    from adapters._geometry import pair

    x = observed.reference_inputs["x"]
    attrs = observed.attrs
    if _keras_rules.pool_padding(x.shape[2:], attrs, average=True) != "same":
        return None
    kernel = pair(attrs["kernel_size"])
    stride = pair(attrs.get("stride") or attrs["kernel_size"])
    pads = tuple(_same_pads(x.shape[2 + a], kernel[a], stride[a]) for a in (0, 1))
    if all(lo == hi for lo, hi in pads):
        return None
    return pads, kernel, stride


def replicated_average(x, grad_out, pads, kernel, stride):
    """Keras' torch backend (keras/src/backend/torch/nn.py, ``_apply_same_padding``):
    asymmetric SAME pooling pads every spatial axis with ``mode="replicate"`` and then
    ``avg_pool2d(..., padding=0)`` divides every window by kh * kw.  Forward: that output
    for NCHW ``x``; backward (``grad_out`` given): the gradient w.r.t. ``x``, each window's
    share spread over its cells and the copies folded back onto the edge cells."""
    (kh, kw), (sh, sw) = kernel, stride
    padded = np.pad(x, ((0, 0), (0, 0), *pads), mode="edge")
    windows = np.lib.stride_tricks.sliding_window_view(padded, (kh, kw), axis=(2, 3))
    windows = windows[:, :, ::sh, ::sw]
    if grad_out is None:
        return {"y": windows.mean(axis=(-2, -1))}
    d_padded = np.zeros_like(padded)
    share = grad_out / (kh * kw)
    for i in range(kh):
        for j in range(kw):
            rows = slice(i, i + sh * (share.shape[2] - 1) + 1, sh)
            cols = slice(j, j + sw * (share.shape[3] - 1) + 1, sw)
            d_padded[:, :, rows, cols] += share
    source_h = np.clip(np.arange(padded.shape[2]) - pads[0][0], 0, x.shape[2] - 1)
    source_w = np.clip(np.arange(padded.shape[3]) - pads[1][0], 0, x.shape[3] - 1)
    dx = np.zeros_like(x)
    np.add.at(dx, (slice(None), slice(None), source_h[:, None], source_w[None, :]), d_padded)
    return {"x": dx}


def _replicated_prediction(observed):
    setup = _replicated_average_setup(observed)
    if setup is None:
        return None
    return replicated_average(observed.reference_inputs["x"], observed.grad_out, *setup)


SAME_AVERAGE_REPLICATES = modelled(
    same_average_replicates_edge,
    _replicated_prediction,
    "the edge-replicating average (replicate padding, divisor kh * kw)",
)


# --------------------------------------------------------------------------------------
# keras-torch-same-max-pool-padding-length


@cache
def same_max_pool_padding_length(adapter) -> str | None:
    """MaxPooling2D(1, 2, 'same') on [[1, 2], [3, 4]]: TensorFlow's SAME pads nothing and
    keeps cell (0, 0), 1; Keras < 3.9 on torch computes a padding of -1 before each axis,
    crops the first row and column and returns 4."""
    api = _keras(adapter)
    if api is None or api.tf_keras or api.backend != "torch":
        return None
    pool = api.layers.MaxPooling2D(1, 2, padding="same", dtype="float64")
    x = np.array([[1.0, 2.0], [3.0, 4.0]]).reshape(1, 2, 2, 1)
    got = float(api.numpy(pool(api.tensor(x))).ravel()[0])
    if got != 4.0:
        return None
    return (
        f"keras {api.version} on backend torch: MaxPooling2D(1, 2, 'same') on "
        f"[[1, 2], [3, 4]] gives {got:g}, the cell a padding of -1 per axis leaves, not 1"
    )


def torch_same_max_pool(x, grad_out, kernel, stride):
    """Keras < 3.9's torch-backend 'same' max pooling (keras 3.6.0,
    keras/src/backend/torch/nn.py: ``_compute_padding_length`` and
    ``_apply_same_padding``; replaced by keras-team/keras#20774, in 3.9.0).  Per axis the
    padding is ``total = (k - 1) - (n - 1) % s``, ``(total // 2, (total + 1) // 2)``, which
    can be -1.  Unequal sides: ``torch.nn.functional.pad(mode="replicate")`` (a negative
    side crops) and ``max_pool2d(padding=0)``.  Equal sides: ``max_pool2d(padding=...)``
    with the pads listed W first, so torch applies W's to H and H's to W (its implicit
    -inf padding); None where torch then refuses (a pad over half the kernel).  Forward:
    the output for NCHW ``x``; backward: each window's gradient to its first maximum
    (torch's), copies folded back onto the cells they copy."""
    sizes = x.shape[2:]
    pads = []
    for n, k, s in zip(sizes, kernel, stride, strict=True):
        total = (k - 1) - (n - 1) % s
        pads.append((total // 2, (total + 1) // 2))
    if all(lo == hi for lo, hi in pads):
        pads = [(pads[1][0],) * 2, (pads[0][0],) * 2]
        if any(not 0 <= lo <= k // 2 for (lo, _), k in zip(pads, kernel, strict=True)):
            return None
        # -1 marks torch's implicit -inf padding.
        sources = [
            np.where((i := np.arange(-lo, n + hi)) >= 0, np.where(i < n, i, -1), -1)
            for (lo, hi), n in zip(pads, sizes, strict=True)
        ]
    else:
        sources = [
            np.clip(np.arange(n + lo + hi) - lo, 0, n - 1)
            for (lo, hi), n in zip(pads, sizes, strict=True)
        ]
    outs = [(len(src) - k) // s + 1 for src, k, s in zip(sources, kernel, stride, strict=True)]
    y = np.empty((*x.shape[:2], *outs))
    dx = np.zeros_like(x)
    for i in range(outs[0]):
        for j in range(outs[1]):
            rows = sources[0][i * stride[0] : i * stride[0] + kernel[0]]
            cols = sources[1][j * stride[1] : j * stride[1] + kernel[1]]
            cells = [(r, c) for r in rows for c in cols if r >= 0 and c >= 0]
            values = np.stack([x[:, :, r, c] for r, c in cells], axis=-1)
            first = np.argmax(values, axis=-1)  # the first maximum, as torch picks it
            y[:, :, i, j] = np.take_along_axis(values, first[..., None], -1)[..., 0]
            if grad_out is not None:
                for (r, c), hit in zip(
                    cells, np.moveaxis(np.eye(len(cells))[first], -1, 0), strict=True
                ):
                    dx[:, :, r, c] += hit * grad_out[:, :, i, j]
    return {"y": y} if grad_out is None else {"x": dx}


def _torch_same_max_prediction(observed):
    from adapters import _keras_rules
    from adapters._geometry import pair

    x, attrs = observed.reference_inputs["x"], observed.attrs
    if _keras_rules.pool_padding(x.shape[2:], attrs, average=False) != "same":
        return None
    kernel = pair(attrs["kernel_size"])
    stride = pair(attrs.get("stride") or attrs["kernel_size"])
    return torch_same_max_pool(x, observed.grad_out, kernel, stride)


SAME_MAX_POOL_PADDING_LENGTH = modelled(
    same_max_pool_padding_length,
    _torch_same_max_prediction,
    "Keras < 3.9's torch 'same' max pooling (padding (k - 1) - (n - 1) mod s per axis)",
)


# --------------------------------------------------------------------------------------
# keras-float64-demoted-to-float32


def keras_float64_result_type() -> str:
    """What the installed Keras promotes two float64 operands to: ``"float32"`` where the
    demotion applies; ``"float64"`` on Keras 2 (tf.keras), which has no
    ``keras.backend.result_type`` and computes float64 as float64."""
    import keras

    result_type = getattr(keras.backend, "result_type", None)
    return "float64" if result_type is None else str(result_type("float64", "float64"))


@cache
def float64_demoted(adapter) -> str | None:
    api = _keras(adapter)
    if api is None or api.tf_keras:
        return None
    promoted = keras_float64_result_type()
    if promoted == "float64":
        return None
    return (
        f"keras {api.version} on backend {api.backend}: keras.backend.result_type"
        f"('float64', 'float64') is {promoted!r}"
    )


@contextlib.contextmanager
def float64_demotions():
    """Record Keras 3 type promotions that turn a float64 operand into a 32-bit result
    (``(args, result)`` pairs) while the block runs.  Observes only: every call goes
    through to Keras' own function (``keras.backend.result_type`` calls
    ``keras/src/backend/common/dtypes.py::_lattice_result_type``)."""
    seen: list[tuple[tuple[str, ...], str]] = []
    try:
        from keras.src.backend.common import dtypes
    except ImportError:  # Keras 2 (tf.keras): no such promotion
        yield seen
        return
    original = dtypes._lattice_result_type

    def spy(*args):
        result = original(*args)
        names = tuple(_dtype_name(dtypes, a) for a in args)
        if "float64" in names and result in ("float32", "float16", "bfloat16"):
            seen.append((names, result))
        return result

    dtypes._lattice_result_type = spy
    try:
        yield seen
    finally:
        dtypes._lattice_result_type = original


def _dtype_name(dtypes, value) -> str:
    try:
        return dtypes.standardize_dtype(value)
    except Exception:  # a Python scalar type or weak type: not a float64 operand
        return str(value)


def _explains_float64_demotion(observed) -> str | None:
    """Keras demoted a float64 operand while this very call ran, and the output is what
    float32 arithmetic gives: within the layer's float32 bound (its dtype float32 or
    float64).  An error beyond float32's bound is another bug."""
    if observed.dtype != "float64":
        return None
    with float64_demotions() as demoted:
        observed.rerun()
    if not demoted:
        return None
    policy = observed.info.tolerance(
        observed.direction, observed.reference_inputs, observed.attrs, "float32", observed.grad_out
    )
    worst = 0.0
    for key, want in observed.expected.items():
        got = observed.actual.get(key)
        if got is None or np.asarray(got).dtype not in (np.float32, np.float64):
            return None
        worst = max(worst, worst_ratio(got, want, policy.bounds[key]))
    if worst > 1.0:
        return None
    args, result = demoted[0]
    return (
        f"keras.backend.result_type{args} returned {result!r} while it ran, and the error "
        f"is within the layer's float32 bound (worst error/float32 bound {worst:.3g})"
    )


FLOAT64_DEMOTED = Signature(present=float64_demoted, explains=_explains_float64_demotion)
