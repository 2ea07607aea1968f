"""batchnorm2d: x (N, C, H, W); training normalises with the biased batch variance."""

from __future__ import annotations

import numpy as np

from tests import tolerances
from tests.cases import generated
from tests.cases.seeds import seed_cases
from tests.layers import ErrorInput, Fuzz, LayerInfo
from tests.layers._bench import per_batch


def tolerance(direction, inputs, attrs, dtype, grad_out):
    """Per-channel magnitudes.  With ``cond = max|x_c| / std_c`` and ``h = max|xhat_c|``:
    the batch mean errs by ``eps*n*cond`` in units of std and the variance (often
    ``E[x^2] - mean^2``) by ``eps*n*cond^2`` relative, so xhat errs by
    ``eps * n * cond * (1 + h * cond)``; outputs scale that by |gamma|, gradients by
    ``|gamma| / std * max|g|`` and their own ``(1 + h)^2`` sums.  Eval mode is a few
    elementwise ops on running statistics."""
    x, gamma, beta = inputs["x"], inputs["gamma"], inputs["beta"]
    bn_eps = float(attrs.get("eps", 1e-5))
    c = (1, -1, 1, 1)
    n = x.shape[0] * x.shape[2] * x.shape[3]
    g_abs = None if grad_out is None else np.abs(grad_out)
    if not attrs.get("training", False):
        inv_std = 1.0 / np.sqrt(inputs["running_var"] + bn_eps)
        centred = (np.abs(x) + np.abs(inputs["running_mean"]).reshape(c)) * inv_std.reshape(c)
        if direction == "forward":
            mag = np.abs(gamma).reshape(c) * centred + np.abs(beta).reshape(c)
            return tolerances.reduction(
                dtype, {"y": (3, mag)}, "|gamma| (|x| + |mean|) / std + |beta|"
            )
        sized = {
            "x": (3, g_abs * (np.abs(gamma) * inv_std).reshape(c)),
            "gamma": (n, np.sum(g_abs * centred, axis=(0, 2, 3))),
            "beta": (n, np.sum(g_abs, axis=(0, 2, 3))),
        }
        return tolerances.reduction(
            dtype, sized, "eval: |g| |gamma| / std; sums of |g| |xhat|, |g|"
        )
    mean = x.mean(axis=(0, 2, 3))
    std = np.sqrt(x.var(axis=(0, 2, 3)) + bn_eps)
    cond = np.abs(x).max(axis=(0, 2, 3)) / std
    h = (np.abs(x - mean.reshape(c)) / std.reshape(c)).max(axis=(0, 2, 3))
    xhat_err = cond * (1 + h * cond)
    if direction == "forward":
        mag = np.abs(gamma) * xhat_err + np.abs(beta)
        return tolerances.reduction(
            dtype, {"y": (n, mag.reshape(c))}, "per channel |gamma| cond (1 + h cond) + |beta|"
        )
    g_max = g_abs.max(axis=(0, 2, 3))
    g_sum = g_abs.sum(axis=(0, 2, 3))
    sized = {
        "x": (n, (np.abs(gamma) / std * g_max * ((1 + h) ** 2 + 2 * h * xhat_err)).reshape(c)),
        "gamma": (n, g_sum * (h + xhat_err)),
        "beta": (n, g_sum),
    }
    return tolerances.reduction(dtype, sized, "per channel, see tests/layers/batchnorm2d.py")


def _bn(rng):
    c = 3
    return {
        # An offset, scaled batch so that normalisation does real work.
        "x": 2.0 + 3.0 * rng.standard_normal((4, c, 3, 3)),
        "gamma": rng.uniform(0.5, 1.5, c),
        "beta": rng.standard_normal(c),
        "running_mean": rng.standard_normal(c),
        "running_var": rng.uniform(0.5, 2.0, c),
    }


CASES = (
    *seed_cases("batchnorm2d"),
    generated("bn_train", "batchnorm2d", 900, _bn, training=True),
    generated("bn_eval", "batchnorm2d", 901, _bn, training=False),
    generated(
        "bn_train_keras_eps",
        "batchnorm2d",
        902,
        _bn,
        training=True,
        eps=1e-3,
        note="eps 1e-3 is Keras BatchNormalization's default (torch's is 1e-5).",
    ),
    generated(
        "bn_train_batch1",
        "batchnorm2d",
        903,
        lambda r: {**_bn(r), "x": r.standard_normal((1, 3, 4, 4))},
        training=True,
        note="N=1: statistics over H*W only.",
    ),
)

_X4 = np.zeros((2, 3, 2, 2))
_C3 = np.ones(3)
_GOOD = {"x": _X4, "gamma": _C3, "beta": _C3, "running_mean": _C3, "running_var": _C3}


def _bad(case_id, match, training=True, **changes):
    attrs = {"training": training}
    for key in ("eps",):
        if key in changes:
            attrs[key] = changes.pop(key)
    return ErrorInput(case_id, {**_GOOD, **changes}, match, attrs)


ERRORS = (
    _bad("bn_x_ndim", r"x must have 4 dimensions, got shape \(2, 3\)", x=np.zeros((2, 3))),
    _bad("bn_gamma_shape", r"gamma shape \(2,\).*3 channels", gamma=np.ones(2)),
    _bad("bn_beta_shape", r"beta shape \(4,\).*3 channels", beta=np.ones(4)),
    _bad(
        "bn_running_mean_shape",
        r"running_mean must have 1 dimensions, got shape \(3, 1\)",
        running_mean=np.ones((3, 1)),
    ),
    _bad("bn_running_var_shape", r"running_var shape \(1,\).*3 channels", running_var=np.ones(1)),
    _bad("bn_eps_negative", r"eps must be .*-1e-05", eps=-1e-5),
    _bad("bn_eps_nan", r"eps must be .*nan", eps=float("nan")),
    _bad("bn_eps_beyond_float64", r"eps must be .*float64 can hold, got 10{20}", eps=10**400),
    _bad(
        "bn_no_channels",
        r"x shape \(2, 0, 2, 2\) has no channels",  # torch fails inside (IndexError)
        x=np.zeros((2, 0, 2, 2)),
        **{k: np.ones(0) for k in ("gamma", "beta", "running_mean", "running_var")},
    ),
    _bad("bn_training_type", r"training must be a bool, got 'yes'", training="yes"),
    ErrorInput(
        "bn_grad_shape",
        _GOOD,
        r"grad_out shape \(2, 3\).*\(2, 3, 2, 2\)",
        {"training": False},
        direction="backward",
        grad_out=np.zeros((2, 3)),
    ),
)


def _configs():
    from hypothesis import strategies as st

    from tests.layers._fuzz import seeds

    @st.composite
    def configs(draw):
        shape = {
            "n": draw(st.integers(1, 4)),
            "c": draw(st.integers(1, 3)),
            "h": draw(st.integers(1, 4)),
            "w": draw(st.integers(1, 4)),
            "offset": draw(st.sampled_from([0.0, 2.0, -5.0])),
            "scale": draw(st.sampled_from([0.5, 1.0, 3.0])),
        }
        attrs = {"training": draw(st.booleans()), "eps": draw(st.sampled_from([1e-5, 1e-3]))}
        return {"shape": shape, "attrs": attrs, "seed": draw(seeds())}

    return configs()


def _fuzz_inputs(config):
    s = config["shape"]
    c = s["c"]
    rng = np.random.default_rng(config["seed"])
    return {
        "x": s["offset"] + s["scale"] * rng.standard_normal((s["n"], c, s["h"], s["w"])),
        "gamma": rng.uniform(0.5, 1.5, c),
        "beta": rng.standard_normal(c),
        "running_mean": rng.standard_normal(c),
        "running_var": rng.uniform(0.5, 2.0, c),
    }


DECLARED = (
    LayerInfo(
        "batchnorm2d",
        tolerance=tolerance,
        cases=CASES,
        error_inputs=ERRORS,
        fuzz=Fuzz(_configs, _fuzz_inputs),
        bench=per_batch(
            "batchnorm2d",
            lambda n: {
                "x": ((n, 1, 28, 28), "normal"),
                "gamma": ((1,), "normal"),
                "beta": ((1,), "normal"),
                "running_mean": ((1,), "normal"),
                "running_var": ((1,), "positive"),
            },
            {"training": True},
        ),
        attributes={"training": ("True", "False"), "eps": ("1e-05", "0.001")},
    ),
)
