"""Convention probes for Flax: ``flax.linen`` layers built with their own defaults (the
layer adapter always passes every attribute), run once, with their state read back.

NumPy in and out, in the reference's layouts (NCHW activations, OIHW kernels); Flax runs
channels-last, so the layout changes happen here.  Flax is imported through the flax
adapter's ``load`` (x64 on, the CPU device pinned, as in the parity tests); a missing
Flax raises ``adapters.FrameworkMissing``.
"""

from __future__ import annotations

import numpy as np

import adapters
from adapters.layout import nchw_to_nhwc, nhwc_to_nchw, oihw_to_hwio


def _nn():
    return adapters.load("flax")._lib()


def conv_default(x, w, b) -> dict:
    """``nn.Conv(features, kernel_size)`` with Flax's default padding (and strides 1).
    Returns ``{"y", "padding"}``, the padding as the module reports it."""
    nn = _nn()
    conv = nn.Conv(features=w.shape[0], kernel_size=w.shape[2:], param_dtype=x.dtype)
    params = {"kernel": oihw_to_hwio(w), "bias": b}
    y = conv.apply({"params": params}, nchw_to_nhwc(x))
    return {"y": nhwc_to_nchw(np.asarray(y)), "padding": conv.padding}


def batchnorm(x, gamma, beta, running_mean, running_var, *, use_running_average, **kwargs):
    """``nn.BatchNorm(**kwargs)`` (``momentum`` / ``epsilon`` left to Flax unless given)
    applied once with ``use_running_average``; in training ``batch_stats`` is mutable, as
    Flax requires.  Returns ``{"y", "running_mean", "running_var", "momentum", "eps"}``."""
    nn = _nn()
    bn = nn.BatchNorm(param_dtype=x.dtype, **kwargs)
    variables = {
        "params": {"scale": gamma, "bias": beta},
        "batch_stats": {"mean": running_mean, "var": running_var},
    }
    stats = variables["batch_stats"]
    if use_running_average:
        y = bn.apply(variables, nchw_to_nhwc(x), use_running_average=True)
    else:
        y, updated = bn.apply(
            variables, nchw_to_nhwc(x), use_running_average=False, mutable=["batch_stats"]
        )
        stats = updated["batch_stats"]
    return {
        "y": nhwc_to_nchw(np.asarray(y)),
        "running_mean": np.asarray(stats["mean"]),
        "running_var": np.asarray(stats["var"]),
        "momentum": bn.momentum,
        "eps": bn.epsilon,
    }


def batchnorm_without_flag(x, gamma, beta, running_mean, running_var) -> str:
    """What ``nn.BatchNorm()`` says when neither the module nor the call sets
    ``use_running_average`` ("TypeName: message"); raises if Flax runs it."""
    nn = _nn()
    variables = {
        "params": {"scale": gamma, "bias": beta},
        "batch_stats": {"mean": running_mean, "var": running_var},
    }
    try:
        nn.BatchNorm().apply(variables, nchw_to_nhwc(x))
    except Exception as exc:  # Flax's refusal, whatever its type
        return f"{type(exc).__name__}: {exc}"
    raise AssertionError("nn.BatchNorm ran without use_running_average")


def avg_pool(x, window, strides, padding, **kwargs):
    """``nn.avg_pool`` on NCHW ``x`` (``count_include_pad`` left to Flax unless given)."""
    y = _nn().avg_pool(nchw_to_nhwc(x), window, strides, padding, **kwargs)
    return nhwc_to_nchw(np.asarray(y))
