"""layernorm: normalise over ``axes`` of x; gamma, beta shaped like x on those axes."""

from __future__ import annotations

import numpy as np

from tests.cases import Case, generated
from tests.layers import ErrorInput, Fuzz, LayerInfo
from tests.layers._bench import BenchShape
from tests.layers._norm import bound, slice_terms


def _axes(attrs, ndim):
    axes = attrs["axes"]
    axes = axes if isinstance(axes, (tuple, list)) else (axes,)
    return tuple(sorted(int(a) % ndim for a in axes))


def tolerance(direction, inputs, attrs, dtype, grad_out):
    """Per slice over ``axes`` (tests/layers/_norm.py)."""
    x = inputs["x"]
    axes = _axes(attrs, x.ndim)
    others = tuple(a for a in range(x.ndim) if a not in axes)
    shape = tuple(x.shape[a] if a in axes else 1 for a in range(x.ndim))
    n = int(np.prod([x.shape[a] for a in axes]))
    terms = slice_terms(x, axes, float(attrs.get("eps", 1e-5)))

    def slice_max(a):
        return np.broadcast_to(a.max(axis=axes, keepdims=True), a.shape)

    gamma, beta = inputs["gamma"].reshape(shape), inputs["beta"].reshape(shape)
    return bound(direction, dtype, n, terms, gamma, beta, grad_out, slice_max, others)


def _ln(x_shape, axes, offset=0.0, scale=1.0):
    def make(rng):
        shape = tuple(x_shape[a] for a in sorted(a % len(x_shape) for a in axes))
        return {
            "x": offset + scale * rng.standard_normal(x_shape),
            "gamma": rng.uniform(0.5, 1.5, shape),
            "beta": rng.standard_normal(shape),
        }

    return make


def _constant_slice(rng):
    inputs = _ln((2, 3, 2, 2), (1,))(rng)
    inputs["x"][0, :, 1, 0] = 1.5  # one (n, h, w) position: every channel equal, var = 0
    return inputs


#: mean 2.5, biased variance 1.25 (torch.nn.LayerNorm docs: "The variance is calculated
#: via the biased estimator, equivalent to torch.var(input, unbiased=False)").
_GOLDEN_X = np.array([[1.0, 2.0, 3.0, 4.0]])

CASES = (
    Case(
        id="ln_golden_1234",
        layer="layernorm",
        inputs={"x": _GOLDEN_X, "gamma": np.array([1.0, 1.0, 2.0, 2.0]), "beta": np.zeros(4)},
        attrs={"axes": (1,)},
        expected=np.array([[-1.5, -0.5, 1.0, 3.0]]) / np.sqrt(1.25 + 1e-5),
        provenance=(
            "hand-derived: x = [1, 2, 3, 4], mean 2.5, biased variance 1.25, eps 1e-5, "
            "gamma [1, 1, 2, 2]: y = gamma (x - 2.5) / sqrt(1.25 + 1e-5) (torch.nn.LayerNorm "
            "docs formula)"
        ),
    ),
    generated(
        "ln_convnext_channels",
        "layernorm",
        1700,
        _ln((2, 4, 3, 3), (1,)),
        axes=(1,),
        eps=1e-6,
        note="ConvNeXt's LayerNorm on NCHW: over the channels only, eps 1e-6.",
    ),
    generated("ln_chw", "layernorm", 1701, _ln((2, 3, 4, 4), (1, 2, 3)), axes=(1, 2, 3)),
    generated(
        "ln_last_axis_keras_eps",
        "layernorm",
        1702,
        _ln((3, 5, 8), (-1,)),
        axes=(-1,),
        eps=1e-3,
        note="Features of (N, L, D); eps 1e-3 is Keras LayerNormalization's default.",
    ),
    generated(
        "ln_noncontiguous_axes",
        "layernorm",
        1703,
        _ln((2, 3, 4, 5), (1, 3)),
        axes=(1, 3),
        note="Axes (C, W): torch.nn.LayerNorm needs the permute; Keras takes the list.",
    ),
    generated(
        "ln_unsorted_axes",
        "layernorm",
        1704,
        _ln((2, 3, 3, 4), (3, 2)),
        axes=(3, 2),
        note="Axes in any order: gamma follows the increasing order (H, W).",
    ),
    generated("ln_2d", "layernorm", 1705, _ln((4, 6), (1,)), axes=(1,)),
    generated(
        "ln_offset",
        "layernorm",
        1706,
        _ln((2, 4, 3, 3), (1, 2, 3), offset=50.0, scale=0.5),
        axes=(1, 2, 3),
        note="Mean 50, std 0.5: E[x^2] - mean^2 cancels (flax's fast variance).",
    ),
    generated(
        "ln_constant_slice",
        "layernorm",
        1707,
        _constant_slice,
        axes=(1,),
        note="One slice with equal values: variance 0, output beta (eps keeps it finite).",
    ),
)

_X = np.zeros((2, 3, 4, 4))
_GOOD = {"x": _X, "gamma": np.ones(3), "beta": np.zeros(3)}


def _bad(case_id, match, inputs=_GOOD, **attrs):
    return ErrorInput(case_id, inputs, match, {"axes": (1,), **attrs})


ERRORS = (
    _bad("ln_axes_out_of_range", r"axes \(4,\): axis 4 is out of range for x with 4", axes=(4,)),
    _bad("ln_axes_negative_out_of_range", r"axis -5 is out of range", axes=(-5,)),
    _bad("ln_axes_duplicate", r"axes \(1, -3\) name axis 1 twice", axes=(1, -3)),
    _bad("ln_axes_empty", r"axes must be a non-empty tuple of ints, got \(\)", axes=()),
    _bad("ln_axes_float", r"axes must be .*\(1\.0,\)", axes=(1.0,)),
    _bad("ln_axes_string", r"axes must be .*'channels'", axes="channels"),
    _bad(
        "ln_gamma_shape",
        r"gamma shape \(4,\) does not match the shape \(3,\) of x",
        {**_GOOD, "gamma": np.ones(4)},
    ),
    _bad(
        "ln_beta_shape",
        r"beta shape \(3, 1\) does not match the shape \(3,\)",
        {**_GOOD, "beta": np.zeros((3, 1))},
    ),
    _bad(
        "ln_gamma_shape_multi_axes",
        r"gamma shape \(4, 4\) does not match the shape \(3, 4, 4\)",
        {**_GOOD, "gamma": np.ones((4, 4))},
        axes=(1, 2, 3),
    ),
    _bad("ln_eps_zero", r"eps must be a finite real number > 0, got 0", eps=0),
    _bad("ln_eps_negative", r"eps must be .*-1e-05", eps=-1e-5),
    _bad("ln_eps_nan", r"eps must be .*nan", eps=float("nan")),
    _bad("ln_eps_inf", r"eps must be .*inf", eps=float("inf")),
    _bad("ln_string_x", r"x must be a real numeric array, got dtype <U1", {**_GOOD, "x": "a"}),
    ErrorInput(
        "ln_grad_shape",
        _GOOD,
        r"grad_out shape \(2, 3\) does not match the output shape \(2, 3, 4, 4\)",
        {"axes": (1,)},
        direction="backward",
        grad_out=np.zeros((2, 3)),
    ),
)


def _configs():
    from hypothesis import strategies as st

    from tests.layers._fuzz import seeds

    @st.composite
    def configs(draw):
        ndim = draw(st.integers(2, 4))
        dims = [draw(st.integers(1, 4)) for _ in range(ndim)]
        chosen = draw(st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True))
        # Some axes written negative, as users do for "the last axes".
        axes = [a - ndim if draw(st.booleans()) else a for a in chosen]
        shape = {
            "dims": dims,
            "offset": draw(st.sampled_from([0.0, 3.0, -20.0])),
            "scale": draw(st.sampled_from([0.1, 1.0, 5.0])),
        }
        attrs = {"axes": tuple(axes), "eps": draw(st.sampled_from([1e-5, 1e-3, 1e-6]))}
        return {"shape": shape, "attrs": attrs, "seed": draw(seeds())}

    return configs()


def _fuzz_inputs(config):
    s = config["shape"]
    return _ln(tuple(s["dims"]), config["attrs"]["axes"], s["offset"], s["scale"])(
        np.random.default_rng(config["seed"])
    )


_TARGET = "issue 17: norm speed target, batch 32, 32 channels, 28x28"


def _bench(sid, axes, param_shape, eps, what) -> BenchShape:
    inputs = {
        "x": ((32, 32, 28, 28), "normal"),
        "gamma": (param_shape, "positive"),
        "beta": (param_shape, "normal"),
    }
    return BenchShape("layernorm", sid, inputs, f"{_TARGET}; {what}", {"axes": axes, "eps": eps})


BENCH = (
    _bench("convnext-c32-b32", (1,), (32,), 1e-6, "ConvNeXt's channels-only LayerNorm"),
    _bench("chw-c32-b32", (1, 2, 3), (32, 28, 28), 1e-5, "torch.nn.LayerNorm((C, H, W))"),
)

DECLARED = (
    LayerInfo(
        "layernorm",
        tolerance=tolerance,
        cases=CASES,
        error_inputs=ERRORS,
        fuzz=Fuzz(_configs, _fuzz_inputs),
        bench=BENCH,
        attributes={
            "axes": ("channels (1,)", "trailing (1, 2, 3)", "last (-1,)", "non-contiguous"),
            "eps": ("1e-05", "0.001", "1e-06"),
        },
    ),
)
