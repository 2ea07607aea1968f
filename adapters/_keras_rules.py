"""When the Keras adapter cannot run a case exactly, and Keras' own words for why.

Every reason quotes Keras: an error it raises when asked directly (``common.refusal``),
a line of its docstring, or what it did when a tiny case was run.  Nothing is emulated:
a case Keras' arguments cannot express is reported, not rebuilt from other ops.
"""

from __future__ import annotations

import contextlib
import warnings
from functools import cache

import numpy as np

from adapters import _tf_common as common

#: Keys of the framework bugs this module refuses; each names an entry of
#: tests/known_divergences.py (issue link, evidence test).
FLOAT64_DEMOTED = "keras-float64-demoted-to-float32"
SAME_AVERAGE_REPLICATES = "keras-torch-same-average-pool-replicates-edge"
ONE_FILTER_CONV_GRAD = "keras-torch-one-filter-conv-grad-weight-contiguous"


def unsupported(adapter, layer, inputs, attrs, dtype: np.dtype, direction) -> str | None:
    from adapters.keras import PLANS

    if layer not in PLANS:
        return _no_keras_layer(adapter, layer)
    if dtype not in (np.float32, np.float64):
        return f"keras adapter: runs float32 and float64 only, not {dtype}"
    rule = _RULES.get(layer)
    reason = rule(adapter, inputs, attrs, dtype, direction) if rule else None
    if reason is None and dtype == np.float64:
        reason = _float64_reason(adapter, layer, inputs, attrs)
    return reason


def _no_keras_layer(adapter, layer) -> str:
    """Layers outside Keras' layers and losses (the API issue 3 asks this adapter to use)."""
    reason = f"keras adapter: no keras.layers layer or keras.losses loss for layer {layer!r}"
    if layer.startswith("signal."):
        function = layer.partition(".")[2]
        reason += (
            f" (scipy.signal.{function} is a signal-processing function; "
            "Keras' convolution layers are the conv2d cases"
        )
        ops = getattr(getattr(adapter.api.keras, "ops", None), function, None)
        if ops is not None:
            reason += f", and keras.ops.{function} is a NumPy-style op, not a layer"
        reason += ")"
    return reason


def _conv2d(adapter, inputs, attrs, dtype, direction):
    L = adapter.api.layers
    stride = common.pair(attrs.get("stride", 1))
    dilation = common.pair(attrs.get("dilation", 1))
    if max(stride) > 1 and max(dilation) > 1:
        return "keras.layers.Conv2D: " + common.refusal(
            lambda: L.Conv2D(1, 3, strides=stride, dilation_rate=dilation)
        )
    w = inputs["w"]
    if w.shape[0] == 1 and direction in (None, "backward"):
        message = _one_filter_probe(adapter, int(w.shape[1]), tuple(w.shape[2:]), dtype.name)
        if message:
            return (
                f"backward: keras Conv2D with one filter over {w.shape[1]} channels, kernel "
                f"{tuple(w.shape[2:])}, backend {adapter.api.backend}: {message} (known "
                f"framework bug {ONE_FILTER_CONV_GRAD!r} in tests/known_divergences.py)"
            )
    grouped = int(attrs.get("groups", 1)) > 1
    dilated = max(dilation) > 1
    if not (grouped or dilated):
        return None
    for wanted in ("forward", "backward"):
        if direction in (None, wanted):
            message = _conv_probe(adapter, grouped, dilated, dtype.name, wanted)
            if message:
                what = "grouped" if grouped else "dilated"
                return f"{wanted}: keras Conv2D, {what}, backend {adapter.api.backend}: {message}"
    return None


@cache
def _conv_probe(adapter, grouped: bool, dilated: bool, dtype: str, direction: str) -> str | None:
    """Run a tiny grouped/dilated Conv2D; the backend's refusal, or None if it runs."""
    groups = 2 if grouped else 1
    inputs = {"x": np.ones((1, 2, 5, 5), dtype), "w": np.ones((2, 2 // groups, 2, 2), dtype)}
    attrs = {"groups": groups, "dilation": 2 if dilated else 1}
    try:
        out = adapter.forward("conv2d", inputs, attrs)
        if direction == "backward":
            adapter.backward("conv2d", np.ones_like(out), inputs, attrs)
    except Exception as exc:  # the framework's refusal, whatever its type
        return common.exception_text(exc)
    return None


@cache
def _one_filter_probe(adapter, channels: int, kernel_hw, dtype: str) -> str | None:
    """Run a tiny Conv2D backward with one filter of this shape; the backend's error, or
    None.  Keras' torch backend hands torch a channels_last kernel view whose strides
    torch's CPU conv backward rejects when there is one filter, several input channels
    and a kernel larger than 1x1 (measured with torch 2.13.0, keras 3.15.1)."""
    kh, kw = kernel_hw
    rng = np.random.default_rng(0)
    inputs = {
        "x": rng.standard_normal((1, channels, kh + 2, kw + 2)).astype(dtype),
        "w": rng.standard_normal((1, channels, kh, kw)).astype(dtype),
    }
    try:
        out = adapter.forward("conv2d", inputs, {})
        adapter.backward("conv2d", np.ones_like(out), inputs, {})
    except Exception as exc:  # the framework's own error, whatever its type
        return common.exception_text(exc)
    return None


def _pool_reason(adapter, cls_name, inputs, attrs, average):
    cls = getattr(adapter.api.layers, cls_name)
    padding_rule = common.doc_line(cls, "padding:").split(". ")[0]
    no_ceil = common.refusal(lambda: cls(pool_size=2, ceil_mode=True))
    reason = f"keras.layers.{cls_name} documents `{padding_rule}` and has no ceil_mode ({no_ceil})"
    if average:
        no_include = common.refusal(lambda: cls(pool_size=2, count_include_pad=True))
        reason += (
            f", no count_include_pad ({no_include}) and no divisor_override; "
            "its 'same' divides by the number of real cells"
        )
    size = tuple(inputs["x"].shape[2:])
    return (
        f"{reason}; neither 'valid' nor 'same' gives the reference's windows"
        f"{' and divisors' if average else ''} for {common.pooling_summary(attrs)} on {size}"
    )


def _maxpool2d(adapter, inputs, attrs, dtype, direction):
    dilation = common.pair(attrs.get("dilation", 1))
    if dilation != (1, 1):
        L = adapter.api.layers
        return "keras.layers.MaxPooling2D has no dilation: " + common.refusal(
            lambda: L.MaxPooling2D(pool_size=2, dilation_rate=dilation)
        )
    if adapter.pool_padding(inputs, attrs, average=False) is None:
        return _pool_reason(adapter, "MaxPooling2D", inputs, attrs, average=False)
    return None


def _avgpool2d(adapter, inputs, attrs, dtype, direction):
    padding = adapter.pool_padding(inputs, attrs, average=True)
    if padding is None:
        return _pool_reason(adapter, "AveragePooling2D", inputs, attrs, average=True)
    if padding == "same":
        kernel = common.pair(attrs["kernel_size"])
        stride = common.pair(attrs.get("stride") or attrs["kernel_size"])
        size = inputs["x"].shape[2:]
        pads = common.padding_pairs("same", size, kernel, stride)
        if any(lo != hi for lo, hi in pads):
            said = _same_average_probe(adapter)
            if said:
                return (
                    f"keras.layers.AveragePooling2D 'same' on backend {adapter.api.backend} "
                    f"with asymmetric padding {pads}: {said}"
                )
    return None


@cache
def _same_average_probe(adapter) -> str | None:
    """What AveragePooling2D(3, 2, 'same') gives on [10, 20]: SAME pads one cell on the
    right, and averaging the real cells gives 15 (what Keras computes on tensorflow and
    jax).  None when the backend gives that; otherwise what it gave."""
    pool = adapter.api.layers.AveragePooling2D((1, 3), (1, 2), padding="same", dtype="float64")
    x = np.array([10.0, 20.0]).reshape(1, 1, 2, 1)  # NHWC
    got = float(adapter.api.numpy(pool(adapter.api.tensor(x))).ravel()[0])
    if got == 15.0:
        return None
    said = (
        f"on [10, 20] with pool 3, stride 2 it gives {got:.6g}, not the mean of the real cells 15"
    )
    if abs(got - 50 / 3) < 1e-9:
        said += (
            ": it pads with copies of the edge cell and averages them ((10 + 20 + 20) / 3; "
            f"known framework bug {SAME_AVERAGE_REPLICATES!r} in tests/known_divergences.py)"
        )
    return said


def _flatten(adapter, inputs, attrs, dtype, direction):
    start = int(attrs.get("start_dim", 1))
    if start % inputs["x"].ndim == 1:
        return None
    L = adapter.api.layers
    return "keras.layers.Flatten flattens every axis but the batch axis: " + common.refusal(
        lambda: L.Flatten(start_dim=start)
    )


def _mse(adapter, inputs, attrs, dtype, direction):
    reduction = attrs.get("reduction", "mean")
    pred = inputs["pred"]
    if reduction == "mean" or (reduction == "sum" and pred.ndim > 1 and pred.shape[-1] == 1):
        return None
    formula = common.doc_line(adapter.api.losses.mean_squared_error, "axis=-1")
    loss = adapter.api.loss("MeanSquaredError", "none", dtype.name)
    per_sample = adapter.api.numpy(
        loss(adapter.api.tensor(np.zeros_like(pred)), adapter.api.tensor(pred))
    )
    return (
        f"keras.losses.MeanSquaredError first averages over the last axis "
        f"(keras.losses.mean_squared_error: `{formula}`): with reduction 'none' it returns "
        f"shape {per_sample.shape} for pred {pred.shape}, so reduction {reduction!r} "
        "(torch: elementwise, then "
        f"{'none' if reduction == 'none' else 'sum'}) cannot be expressed"
    )


def _float64_reason(adapter, layer, inputs, attrs) -> str | None:
    """Run the case in float64: a backend that computes it, or part of it, in another
    dtype is refused."""
    with warnings.catch_warnings(record=True) as caught, _demotions() as demoted:
        warnings.simplefilter("always")
        try:
            out = adapter.forward(layer, inputs, attrs)
        except Exception:
            return None  # not a dtype question: let the run report it
    backend = adapter.api.backend
    if out.dtype != np.float64:
        said = next((str(w.message) for w in caught if "float64" in str(w.message)), "")
        return f"float64: keras {layer} on backend {backend} computed in {out.dtype}" + (
            f" ({' '.join(said.split())})" if said else ""
        )
    if demoted:
        args, result = demoted[0]
        return (
            f"float64: keras {layer} on backend {backend} computes part of it in {result}: "
            f"keras.backend.result_type{args} returned {result!r} while it ran (Keras maps "
            "64-bit dtypes to 32-bit on every backend but tensorflow, 'to be aligned with "
            "JAX's default behavior': keras/src/backend/common/dtypes.py, "
            f"BIT64_TO_BIT32_DTYPE; known framework bug {FLOAT64_DEMOTED!r} in "
            "tests/known_divergences.py)"
        )
    return None


def float64_result_type() -> str:
    """What the installed Keras promotes two float64 operands to: ``"float32"`` where the
    known bug ``FLOAT64_DEMOTED`` applies; ``"float64"`` on Keras 2 (tf.keras), which has
    no ``keras.backend.result_type`` and computes float64 as float64."""
    import keras

    result_type = getattr(keras.backend, "result_type", None)
    return "float64" if result_type is None else str(result_type("float64", "float64"))


@contextlib.contextmanager
def _demotions():
    """Record Keras 3 type promotions that turn a float64 operand into a 32-bit result
    (``(args, result)`` pairs) while the block runs.  Observes only: every call goes
    through to Keras' own function.  Keras 2 (tf.keras) has no such function: nothing is
    recorded."""
    seen: list[tuple[tuple[str, ...], str]] = []
    try:
        from keras.src.backend.common import dtypes
    except ImportError:
        yield seen
        return
    original = dtypes._lattice_result_type  # what keras.backend.result_type calls

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


_RULES = {
    "conv2d": _conv2d,
    "maxpool2d": _maxpool2d,
    "avgpool2d": _avgpool2d,
    "flatten": _flatten,
    "mse": _mse,
}
