"""Proof (b) for the windowed layers: float64 central differences (tests/gradcheck.py)
agree with conv2d / maxpool2d / avgpool2d backward over a grid of stride, dilation,
groups, symmetric / asymmetric / SAME padding, ceil_mode and count_include_pad."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from reference import avgpool2d, conv2d, maxpool2d
from tests.gradcheck import check_backward

pytestmark = pytest.mark.reference

PADDINGS = [0, (1, 2), ((2, 0), (0, 1)), "same", "valid"]
PADDING_IDS = ["pad0", "pad1x2", "asym", "same", "valid"]

CONV_GRID = list(itertools.product([1, 2], [1, 2], [1, 2], range(len(PADDINGS)), [True, False]))


@pytest.mark.parametrize(
    ("stride", "dilation", "groups", "pad_index", "bias"),
    CONV_GRID,
    ids=[f"s{s}-d{d}-g{g}-{PADDING_IDS[p]}-{'b' if b else 'nob'}" for s, d, g, p, b in CONV_GRID],
)
def test_conv2d_gradcheck(stride, dilation, groups, pad_index, bias):
    rng = np.random.default_rng(stride + 4 * dilation + 16 * groups + 64 * pad_index + 512 * bias)
    inputs = {
        "x": rng.standard_normal((2, 2 * groups, 7, 6)),
        "w": rng.standard_normal((2 * groups, 2, 3, 2)),
    }
    if bias:
        inputs["b"] = rng.standard_normal(2 * groups)
    attrs = {"stride": stride, "padding": PADDINGS[pad_index], "dilation": dilation}
    attrs["groups"] = groups
    check_backward(conv2d.forward, conv2d.backward, inputs, attrs, seed=pad_index)


def _tie_free(rng, shape):
    """Distinct values 0.1 apart: a 1e-6 step never changes which cell wins."""
    return (rng.permutation(int(np.prod(shape))).reshape(shape) - 30.0) * 0.1


POOL_PADDINGS = [0, 1, ((0, 1), (1, 0)), "same"]
POOL_PADDING_IDS = ["pad0", "pad1", "asym", "same"]
MAX_GRID = list(itertools.product([1, 2], [1, 2], range(len(POOL_PADDINGS)), [False, True]))


@pytest.mark.parametrize(
    ("stride", "dilation", "pad_index", "ceil_mode"),
    MAX_GRID,
    ids=[f"s{s}-d{d}-{POOL_PADDING_IDS[p]}-ceil{int(c)}" for s, d, p, c in MAX_GRID],
)
def test_maxpool2d_gradcheck(stride, dilation, pad_index, ceil_mode):
    rng = np.random.default_rng(100 + pad_index + 4 * stride + 16 * dilation + 64 * ceil_mode)
    inputs = {"x": _tie_free(rng, (2, 2, 7, 6))}
    attrs = {
        "kernel_size": 3,
        "stride": stride,
        "padding": POOL_PADDINGS[pad_index],
        "dilation": dilation,
        "ceil_mode": ceil_mode,
    }
    check_backward(maxpool2d.forward, maxpool2d.backward, inputs, attrs)


AVG_GRID = list(
    itertools.product([1, 2], range(len(POOL_PADDINGS)), [False, True], [True, False], [None, 5])
)


@pytest.mark.parametrize(
    ("stride", "pad_index", "ceil_mode", "count_include_pad", "divisor_override"),
    AVG_GRID,
    ids=[
        f"s{s}-{POOL_PADDING_IDS[p]}-ceil{int(c)}-incl{int(i)}-div{d}" for s, p, c, i, d in AVG_GRID
    ],
)
def test_avgpool2d_gradcheck(stride, pad_index, ceil_mode, count_include_pad, divisor_override):
    rng = np.random.default_rng(200 + pad_index + 4 * stride + 16 * ceil_mode)
    inputs = {"x": rng.standard_normal((2, 2, 8, 7))}
    attrs = {
        "kernel_size": (3, 2),
        "stride": stride,
        "padding": POOL_PADDINGS[pad_index],
        "ceil_mode": ceil_mode,
        "count_include_pad": count_include_pad,
        "divisor_override": divisor_override,
    }
    check_backward(avgpool2d.forward, avgpool2d.backward, inputs, attrs)


def test_conv2d_gradcheck_large_input_directional():
    """Inputs above the element-wise limit are checked along random directions."""
    rng = np.random.default_rng(5)
    inputs = {
        "x": rng.standard_normal((3, 4, 12, 11)),
        "w": rng.standard_normal((6, 2, 3, 3)),
        "b": rng.standard_normal(6),
    }
    attrs = {"stride": (2, 1), "padding": ((1, 2), (0, 1)), "dilation": (1, 2), "groups": 2}
    check_backward(conv2d.forward, conv2d.backward, inputs, attrs, directions=8)
