"""Seeded random cases that cover each layer's conventions.

No case here has an ``expected`` value: they exist for parity, gradient and fuzz tests,
which compare the reference with a framework or with finite differences.  Each case's
inputs come from ``np.random.default_rng(seed)`` with its own seed, named in the
provenance, so any case can be rebuilt on its own.  Shapes stay small to keep the suite
fast.  Max-pool inputs are tie-free (a permutation of distinct dyadic values, exact in
float16/32/64) so that the winner of each window is unambiguous; ReLU inputs stay away
from 0, where frameworks may differ.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from tests.cases import Case, register

GENERATED = frozenset({"generated"})


def _case(
    case_id: str,
    layer: str,
    seed: int,
    make_inputs: Callable[[np.random.Generator], Mapping[str, np.ndarray]],
    note: str = "",
    **attrs: Any,
) -> None:
    """Register one case; keyword arguments other than ``note`` are the layer's attrs."""
    rng = np.random.default_rng(seed)
    register(
        Case(
            id=case_id,
            layer=layer,
            inputs=dict(make_inputs(rng)),
            attrs=attrs,
            provenance=f"generated (seed {seed})",
            note=note,
            tags=GENERATED,
        )
    )


def _normal_x(shape: tuple[int, ...]) -> Callable[[np.random.Generator], dict]:
    return lambda rng: {"x": rng.standard_normal(shape)}


def _distinct(rng: np.random.Generator, shape: tuple[int, ...], offset: float = 0.0):
    """Tie-free values: a random permutation of 0, 1/4, 1/2, ... shifted by ``offset``."""
    size = int(np.prod(shape))
    return (rng.permutation(size).reshape(shape) - size / 2) * 0.25 + offset


def _away_from_zero(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    return rng.uniform(0.05, 2.0, shape) * rng.choice([-1.0, 1.0], shape)


# ---------------------------------------------------------------------------------------
# conv2d: x (N, C, H, W), w (M, C/groups, kh, kw), b (M,)


def _conv(n, c, h, w, m, kh, kw, groups=1, bias=True):
    def make(rng):
        inputs = {
            "x": rng.standard_normal((n, c, h, w)),
            "w": rng.standard_normal((m, c // groups, kh, kw)),
        }
        if bias:
            inputs["b"] = rng.standard_normal(m)
        return inputs

    return make


_case("conv_basic", "conv2d", 100, _conv(2, 3, 6, 7, 4, 3, 3))
_case("conv_no_bias", "conv2d", 101, _conv(2, 3, 5, 5, 2, 3, 3, bias=False))
_case("conv_1x1", "conv2d", 102, _conv(2, 4, 4, 4, 3, 1, 1))
_case("conv_stride2", "conv2d", 103, _conv(2, 3, 7, 8, 4, 3, 3), stride=2)
_case("conv_stride2_pad1", "conv2d", 104, _conv(1, 2, 7, 7, 3, 3, 3), stride=2, padding=1)
_case("conv_rect_stride", "conv2d", 105, _conv(2, 2, 6, 7, 3, 2, 3), stride=(2, 1), padding=(1, 0))
_case("conv_dilation2", "conv2d", 106, _conv(1, 2, 8, 8, 3, 3, 3), dilation=2, padding=2)
_case(
    "conv_dilation_rect", "conv2d", 107, _conv(1, 2, 9, 8, 2, 2, 3), dilation=(2, 1), stride=(1, 2)
)
_case("conv_groups2", "conv2d", 108, _conv(2, 4, 5, 5, 6, 3, 3, groups=2), groups=2)
_case("conv_depthwise", "conv2d", 109, _conv(1, 3, 6, 6, 6, 3, 3, groups=3), groups=3, padding=1)
_case(
    "conv_asym_pad",
    "conv2d",
    110,
    _conv(1, 2, 5, 6, 3, 3, 3),
    padding=((1, 0), (2, 1)),
    note="Asymmetric explicit padding: torch.nn.functional.conv2d cannot express it.",
)
_case("conv_valid_str", "conv2d", 111, _conv(1, 2, 6, 6, 2, 3, 3), padding="valid")
_case(
    "conv_same_even_kernel",
    "conv2d",
    112,
    _conv(1, 2, 5, 5, 2, 2, 4),
    padding="same",
    note="SAME at stride 1 with an even kernel: the extra cell goes bottom/right.",
)
_case(
    "conv_same_stride2",
    "conv2d",
    113,
    _conv(1, 2, 8, 7, 3, 3, 3),
    padding="same",
    stride=2,
    note="SAME at stride 2: H=8 needs total padding 1 (all at the bottom), W=7 needs 2.",
)
_case("conv_same_dilation2", "conv2d", 114, _conv(1, 2, 7, 6, 2, 2, 3), padding="same", dilation=2)

# ---------------------------------------------------------------------------------------
# maxpool2d (tie-free inputs)


def _maxpool(case_id: str, seed: int, shape, offset: float = 0.0, note: str = "", **attrs):
    make = lambda rng: {"x": _distinct(rng, shape, offset)}  # noqa: E731
    _case(case_id, "maxpool2d", seed, make, note, **attrs)


_maxpool("maxpool_k2", 200, (2, 3, 6, 6), kernel_size=2)
_maxpool("maxpool_k3_s2_pad1", 201, (2, 2, 7, 7), kernel_size=3, stride=2, padding=1)
_maxpool(
    "maxpool_overlap",
    202,
    (1, 2, 5, 5),
    kernel_size=3,
    stride=1,
    note="Overlapping windows: one cell can win several windows; gradients accumulate.",
)
_maxpool("maxpool_rect", 203, (1, 2, 6, 7), kernel_size=(2, 3), stride=(1, 2))
_maxpool(
    "maxpool_ceil_mode",
    204,
    (1, 2, 8, 8),
    kernel_size=3,
    stride=2,
    ceil_mode=True,
    note="ceil_mode adds a last, partial window starting inside the input.",
)
_maxpool("maxpool_ceil_pad", 205, (1, 1, 8, 8), kernel_size=3, stride=2, padding=1, ceil_mode=True)
_maxpool("maxpool_dilation2", 206, (1, 2, 7, 7), kernel_size=2, stride=1, dilation=2)
_maxpool(
    "maxpool_pad_negative",
    207,
    (1, 2, 5, 5),
    offset=-10.0,
    kernel_size=3,
    stride=2,
    padding=1,
    note="All inputs negative: padded cells (-inf) must never win.",
)
_maxpool(
    "maxpool_same_stride2",
    208,
    (1, 2, 6, 7),
    offset=-10.0,
    kernel_size=3,
    stride=2,
    padding="same",
    note="TF SAME: H=6 pads one row at the bottom only, W=7 one col each side; inputs < 0.",
)
_maxpool(
    "maxpool_asym_pad",
    209,
    (1, 1, 5, 6),
    offset=-5.0,
    kernel_size=2,
    stride=2,
    padding=((0, 1), (1, 1)),
)

# ---------------------------------------------------------------------------------------
# avgpool2d


def _avgpool(case_id: str, seed: int, shape, note: str = "", **attrs):
    _case(case_id, "avgpool2d", seed, _normal_x(shape), note, **attrs)


_avgpool("avgpool_k2", 300, (2, 3, 6, 6), kernel_size=2)
_avgpool(
    "avgpool_pad_include",
    301,
    (1, 2, 7, 7),
    kernel_size=3,
    stride=2,
    padding=1,
    count_include_pad=True,
)
_avgpool(
    "avgpool_pad_exclude",
    302,
    (1, 2, 7, 7),
    kernel_size=3,
    stride=2,
    padding=1,
    count_include_pad=False,
)
_avgpool("avgpool_ceil_mode", 303, (1, 2, 8, 8), kernel_size=3, stride=2, ceil_mode=True)
_avgpool(
    "avgpool_ceil_pad_include",
    304,
    (1, 1, 8, 8),
    kernel_size=3,
    stride=2,
    padding=1,
    ceil_mode=True,
    count_include_pad=True,
    note="The last window overhangs the padding: its divisor counts padding, not overhang.",
)
_avgpool(
    "avgpool_ceil_pad_exclude",
    305,
    (1, 1, 8, 8),
    kernel_size=3,
    stride=2,
    padding=1,
    ceil_mode=True,
    count_include_pad=False,
)
_avgpool("avgpool_divisor_override", 306, (1, 2, 6, 6), kernel_size=2, stride=2, divisor_override=3)
_avgpool(
    "avgpool_same_stride2",
    307,
    (1, 2, 6, 7),
    kernel_size=3,
    stride=2,
    padding="same",
    count_include_pad=False,
    note="TF SAME average pooling divides by the number of real cells.",
)
_avgpool("avgpool_rect", 308, (2, 1, 5, 7), kernel_size=(2, 3), stride=(1, 2), padding=(1, 1))

# ---------------------------------------------------------------------------------------
# Activations

_case("relu_nchw", "relu", 400, lambda r: {"x": _away_from_zero(r, (2, 3, 4, 4))})
_case("relu_2d", "relu", 401, lambda r: {"x": _away_from_zero(r, (4, 6))})
_case("sigmoid_nchw", "sigmoid", 402, lambda r: {"x": r.uniform(-6, 6, (2, 3, 4, 4))})
_case(
    "sigmoid_saturated",
    "sigmoid",
    403,
    lambda r: {"x": r.uniform(15, 40, (2, 8)) * r.choice([-1.0, 1.0], (2, 8))},
    note="|x| in [15, 40]: outputs within float32 eps of 0 or 1.",
)
_case("tanh_nchw", "tanh", 404, lambda r: {"x": r.uniform(-4, 4, (2, 3, 4, 4))})
_case(
    "tanh_saturated",
    "tanh",
    405,
    lambda r: {"x": r.uniform(10, 30, (2, 8)) * r.choice([-1.0, 1.0], (2, 8))},
)

# ---------------------------------------------------------------------------------------
# linear (w is (in_features, out_features)), flatten

_case(
    "linear_basic",
    "linear",
    500,
    lambda r: {
        "x": r.standard_normal((4, 5)),
        "w": r.standard_normal((5, 3)),
        "b": r.standard_normal(3),
    },
)
_case(
    "linear_no_bias",
    "linear",
    501,
    lambda r: {"x": r.standard_normal((3, 6)), "w": r.standard_normal((6, 2))},
)
_case(
    "linear_wide",
    "linear",
    502,
    lambda r: {
        "x": r.standard_normal((8, 48)),
        "w": r.standard_normal((48, 10)) / np.sqrt(48),
        "b": r.standard_normal(10),
    },
)
_case("flatten_nchw", "flatten", 510, _normal_x((2, 3, 4, 5)))
_case("flatten_start2", "flatten", 511, _normal_x((2, 3, 4, 5)), start_dim=2)

# ---------------------------------------------------------------------------------------
# softmax, cross_entropy, mse

_case("softmax_2d", "softmax", 600, _normal_x((4, 6)))
_case(
    "softmax_large_logits",
    "softmax",
    601,
    lambda r: {"x": 1000.0 + 50.0 * r.standard_normal((3, 5))},
    note="Logits near 1000: exp overflows unless the row maximum is subtracted first.",
)
_case("softmax_axis1_nchw", "softmax", 602, _normal_x((2, 4, 3, 3)), axis=1)


def _ce_index(rng):
    return {"logits": rng.standard_normal((5, 4)), "target": rng.integers(0, 4, 5)}


def _ce_prob(rng):
    return {"logits": rng.standard_normal((5, 4)), "target": rng.dirichlet(np.ones(4), 5)}


for _seed, _reduction in ((700, "mean"), (701, "sum"), (702, "none")):
    _case(f"ce_index_{_reduction}", "cross_entropy", _seed, _ce_index, reduction=_reduction)
for _seed, _reduction in ((703, "mean"), (704, "sum"), (705, "none")):
    _case(f"ce_prob_{_reduction}", "cross_entropy", _seed, _ce_prob, reduction=_reduction)
_case(
    "ce_index_large_logits",
    "cross_entropy",
    706,
    lambda r: {"logits": 500.0 * r.standard_normal((4, 3)), "target": r.integers(0, 3, 4)},
    reduction="mean",
    note="Logits of order 500: needs log-sum-exp, not log(softmax).",
)
_case(
    "ce_prob_onehot",
    "cross_entropy",
    707,
    lambda r: {
        "logits": r.standard_normal((4, 5)),
        "target": np.eye(5)[r.integers(0, 5, 4)],
    },
    reduction="mean",
    note="One-hot probabilities must give the same loss as the matching indices.",
)


# Keras categorical_crossentropy on probabilities: "cross_entropy.categorical_crossentropy".


def _softmax_rows(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _cce(rng, *, scale=1.0, normalised=True):
    probs = _softmax_rows(scale * rng.standard_normal((5, 4)))
    if not normalised:
        probs = probs * rng.uniform(0.5, 2.0, (5, 1))  # Keras renormalises each row
    return {"probs": probs, "target": rng.dirichlet(np.ones(4), 5)}


_KCE = "cross_entropy.categorical_crossentropy"
for _seed, _reduction in ((710, "mean"), (711, "sum"), (712, "none")):
    _case(f"kce_{_reduction}", _KCE, _seed, _cce, reduction=_reduction)
_case("kce_unnormalised", _KCE, 713, lambda r: _cce(r, normalised=False), reduction="mean")
_case(
    "kce_clipped",
    _KCE,
    714,
    lambda r: _cce(r, scale=20.0),
    reduction="mean",
    note="Peaked rows: some probabilities fall below 1e-7 or above 1 - 1e-7 and are clipped.",
)


def _mse(rng):
    return {"pred": rng.standard_normal((2, 3, 3, 3)), "target": rng.standard_normal((2, 3, 3, 3))}


for _seed, _reduction in ((800, "mean"), (801, "sum"), (802, "none")):
    _case(f"mse_{_reduction}", "mse", _seed, _mse, reduction=_reduction)

# ---------------------------------------------------------------------------------------
# batchnorm2d, dropout


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


_case("bn_train", "batchnorm2d", 900, _bn, training=True)
_case("bn_eval", "batchnorm2d", 901, _bn, training=False)
_case(
    "bn_train_keras_eps",
    "batchnorm2d",
    902,
    _bn,
    training=True,
    eps=1e-3,
    note="eps 1e-3 is Keras BatchNormalization's default (torch's is 1e-5).",
)
_case(
    "bn_train_batch1",
    "batchnorm2d",
    903,
    lambda r: {**_bn(r), "x": r.standard_normal((1, 3, 4, 4))},
    training=True,
    note="N=1: statistics over H*W only.",
)


def _dropout(p: float, shape=(2, 3, 4, 4)):
    # The mask is an input (a boolean array: True keeps the unit), not an attribute,
    # so that attrs stay JSON-able; ``forward(**inputs, **attrs)`` passes it by name.
    def make(rng):
        return {"x": rng.standard_normal(shape), "mask": rng.random(shape) >= p}

    return make


_case("dropout_p05", "dropout", 1000, _dropout(0.5), p=0.5, training=True)
_case("dropout_p02", "dropout", 1001, _dropout(0.2, (4, 10)), p=0.2, training=True)
_case("dropout_eval", "dropout", 1002, _dropout(0.5), p=0.5, training=False)
_case("dropout_p0", "dropout", 1003, _dropout(0.0, (3, 5)), p=0.0, training=True)

# ---------------------------------------------------------------------------------------
# SciPy signal view: "signal.<function>" (see tests/cases/__init__.py).


def _sig(n: int, k: int):
    return lambda rng: {"in1": rng.standard_normal(n), "in2": rng.standard_normal(k)}


def _sig2(shape: tuple[int, int], kshape: tuple[int, int]):
    return lambda rng: {"in1": rng.standard_normal(shape), "in2": rng.standard_normal(kshape)}


_seed = 1100
for _fn in ("correlate", "convolve"):
    for _k in (3, 4):
        for _mode in ("valid", "full", "same"):
            _case(f"sig_{_fn}_k{_k}_{_mode}", f"signal.{_fn}", _seed, _sig(9, _k), mode=_mode)
            _seed += 1
for _fn in ("correlate2d", "convolve2d"):
    for _kshape in ((3, 3), (2, 4)):
        for _mode in ("valid", "full", "same"):
            _case(
                f"sig_{_fn}_k{_kshape[0]}x{_kshape[1]}_{_mode}",
                f"signal.{_fn}",
                _seed,
                _sig2((5, 6), _kshape),
                mode=_mode,
            )
            _seed += 1
