"""groupnorm: x (N, C, H, W) normalised per (sample, group of C / groups channels)."""

from __future__ import annotations

import numpy as np

from tests.cases import Case, generated
from tests.layers import ErrorInput, Fuzz, LayerInfo
from tests.layers._bench import BenchShape
from tests.layers._norm import bound, slice_terms


def tolerance(direction, inputs, attrs, dtype, grad_out):
    """Per (sample, group) slice of n = C / groups * H * W values (tests/layers/_norm.py)."""
    x = inputs["x"]
    groups = int(attrs["groups"])
    grouped = x.reshape(x.shape[0], groups, -1)
    terms = tuple(
        t.reshape(x.shape) for t in slice_terms(grouped, (2,), float(attrs.get("eps", 1e-5)))
    )

    def slice_max(a):
        per_group = a.reshape(a.shape[0], groups, -1).max(axis=2, keepdims=True)
        return np.broadcast_to(per_group, grouped.shape).reshape(a.shape)

    c = (1, -1, 1, 1)
    gamma, beta = inputs["gamma"].reshape(c), inputs["beta"].reshape(c)
    return bound(
        direction, dtype, grouped.shape[2], terms, gamma, beta, grad_out, slice_max, (0, 2, 3)
    )


def _gn(n, c, h, w, offset=0.0, scale=1.0):
    def make(rng):
        return {
            "x": offset + scale * rng.standard_normal((n, c, h, w)),
            "gamma": rng.uniform(0.5, 1.5, c),
            "beta": rng.standard_normal(c),
        }

    return make


def _constant_group(rng):
    inputs = _gn(2, 4, 2, 2)(rng)
    inputs["x"][1, 2:] = -0.75  # sample 1, group 1 (channels 2, 3): variance 0
    return inputs


CASES = (
    Case(
        id="gn_golden_two_groups",
        layer="groupnorm",
        inputs={
            "x": np.arange(1.0, 9.0).reshape(1, 4, 1, 2),
            "gamma": np.ones(4),
            "beta": np.array([0.0, 0.0, 1.0, 1.0]),
        },
        attrs={"groups": 2},
        expected=(
            np.array([-1.5, -0.5, 0.5, 1.5, -1.5, -0.5, 0.5, 1.5]).reshape(1, 4, 1, 2)
            / np.sqrt(1.25 + 1e-5)
            + np.array([0.0, 0.0, 1.0, 1.0]).reshape(1, 4, 1, 1)
        ),
        provenance=(
            "hand-derived: channels (0, 1) hold 1..4 and channels (2, 3) hold 5..8, each "
            "group mean +- 1.5, +- 0.5 with biased variance 1.25, eps 1e-5 (torch.nn.GroupNorm "
            "docs formula; Wu & He 2018 eq. 1-2)"
        ),
    ),
    generated("gn_groups2", "groupnorm", 1710, _gn(2, 4, 3, 3), groups=2),
    generated(
        "gn_groups1_keras_eps",
        "groupnorm",
        1711,
        _gn(2, 3, 3, 4),
        groups=1,
        eps=1e-3,
        note="One group: layer norm over (C, H, W) with per-channel gamma; Keras' eps 1e-3.",
    ),
    generated(
        "gn_instance",
        "groupnorm",
        1712,
        _gn(2, 3, 4, 3),
        groups=3,
        note="groups = C: instance normalisation.",
    ),
    generated(
        "gn_offset_flax_eps",
        "groupnorm",
        1713,
        _gn(1, 6, 3, 3, offset=-30.0, scale=0.25),
        groups=3,
        eps=1e-6,
        note="Mean -30, std 0.25 (E[x^2] - mean^2 cancels); eps 1e-6 is flax GroupNorm's.",
    ),
    generated(
        "gn_constant_group",
        "groupnorm",
        1714,
        _constant_group,
        groups=2,
        note="One (sample, group) of equal values: variance 0, output beta.",
    ),
    generated(
        "gn_channels_mix_check",
        "groupnorm",
        1715,
        lambda r: {
            **_gn(1, 4, 2, 3)(r),
            # Channels of very different scales, so normalising the wrong values shows.
            "x": r.standard_normal((1, 4, 2, 3)) * np.array([0.1, 10.0, 1.0, 100.0])[:, None, None],
        },
        groups=2,
        note="Per-channel scales 0.1, 10, 1, 100: a reshape that mixes channels with "
        "positions (tensorflow/addons#751) normalises the wrong values and fails here.",
    ),
)

_X = np.zeros((2, 4, 3, 3))
_GOOD = {"x": _X, "gamma": np.ones(4), "beta": np.zeros(4)}


def _bad(case_id, match, inputs=_GOOD, **attrs):
    return ErrorInput(case_id, inputs, match, {"groups": 2, **attrs})


ERRORS = (
    _bad("gn_groups_not_dividing", r"groups 3 does not divide the 4 channels", groups=3),
    _bad("gn_groups_zero", r"groups must be an int >= 1, got 0", groups=0),
    _bad("gn_groups_float", r"groups must be an int >= 1, got 2\.0", groups=2.0),
    _bad("gn_groups_bool", r"groups must be an int >= 1, got True", groups=True),
    _bad(
        "gn_x_3d",
        r"x must have 4 dimensions, got shape \(2, 4, 9\)",
        {**_GOOD, "x": np.zeros((2, 4, 9))},
    ),
    _bad(
        "gn_gamma_shape",
        r"gamma shape \(2,\) does not match the 4 channels",
        {**_GOOD, "gamma": np.ones(2)},
    ),
    _bad(
        "gn_beta_2d",
        r"beta must have 1 dimensions, got shape \(4, 1\)",
        {**_GOOD, "beta": np.zeros((4, 1))},
    ),
    _bad("gn_eps_zero", r"eps must be a finite real number > 0, got 0", eps=0.0),
    _bad("gn_eps_nan", r"eps must be .*nan", eps=float("nan")),
    _bad("gn_eps_string", r"eps must be .*'1e-5'", eps="1e-5"),
    ErrorInput(
        "gn_grad_shape",
        _GOOD,
        r"grad_out shape \(2, 4, 3\) does not match the output shape \(2, 4, 3, 3\)",
        {"groups": 2},
        direction="backward",
        grad_out=np.zeros((2, 4, 3)),
    ),
)


def _configs():
    from hypothesis import strategies as st

    from tests.layers._fuzz import seeds

    @st.composite
    def configs(draw):
        groups = draw(st.integers(1, 3))
        shape = {
            "n": draw(st.integers(1, 3)),
            "c": groups * draw(st.integers(1, 3)),
            "h": draw(st.integers(1, 4)),
            "w": draw(st.integers(1, 4)),
            "offset": draw(st.sampled_from([0.0, 4.0, -20.0])),
            "scale": draw(st.sampled_from([0.1, 1.0, 5.0])),
        }
        attrs = {"groups": groups, "eps": draw(st.sampled_from([1e-5, 1e-3, 1e-6]))}
        return {"shape": shape, "attrs": attrs, "seed": draw(seeds())}

    return configs()


def _fuzz_inputs(config):
    s = config["shape"]
    make = _gn(s["n"], s["c"], s["h"], s["w"], s["offset"], s["scale"])
    return make(np.random.default_rng(config["seed"]))


BENCH = (
    BenchShape(
        "groupnorm",
        "c32-g8-b32",
        {
            "x": ((32, 32, 28, 28), "normal"),
            "gamma": ((32,), "positive"),
            "beta": ((32,), "normal"),
        },
        "issue 17: norm speed target, batch 32, 32 channels, 28x28; 8 groups of 4 channels",
        {"groups": 8},
    ),
)

DECLARED = (
    LayerInfo(
        "groupnorm",
        tolerance=tolerance,
        cases=CASES,
        error_inputs=ERRORS,
        fuzz=Fuzz(_configs, _fuzz_inputs),
        bench=BENCH,
        attributes={
            "groups": ("1", ">1 (< C)", "C (instance norm)"),
            "eps": ("1e-05", "0.001", "1e-06"),
        },
    ),
)
