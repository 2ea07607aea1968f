"""The transposed convolution proven on its own, without any framework:

- (a) golden values: the output sizes of the transposed-convolution figures 4.1-4.7 of
  Dumoulin & Visin 2016 ("A guide to convolution arithmetic for deep learning",
  arXiv:1603.07285, Relationships 8-14), and each figure's construction (zeros inserted
  between the inputs, a border of k - p - 1 zeros plus a on the bottom/right, a
  unit-stride convolution with the kernel flipped) computed numerically; ONNX's
  ConvTranspose examples are declared cases (tests/layers/conv_transpose2d.py) and run
  by test_golden.py;
- (b) float64 central differences over the attribute grid;
- (c) the plain loops of tests/reference/loops_decoder.py on seeded configurations;
- the definition of "same": the adjoint of conv2d's SAME, <conv2d(z, w), x> =
  <z, conv_transpose2d(x, w)> for every padding form, and dtype / NaN behaviour.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from reference import conv2d, conv_transpose2d
from tests.gradcheck import check_backward
from tests.reference import loops_decoder as loops

pytestmark = pytest.mark.reference

RTOL = 1e-12


def _close(got, want, what):
    assert got.shape == want.shape, f"{what}: shape {got.shape} != {want.shape}"
    scale = max(1.0, float(np.max(np.abs(want), initial=0.0)))
    np.testing.assert_allclose(got, want, rtol=RTOL, atol=RTOL * scale, err_msg=what)


# ---------------------------------------------------------------------------------------
# (a) Dumoulin & Visin 2016, chapter 4: each figure is the transpose of a convolution
# (i, k, s, p); its transposed convolution takes i' = o = floor((i + 2p - k)/s) + 1 and
# gives back o' = s(i' - 1) + a + k - 2p = i, a = (i + 2p - k) mod s (Relationship 14).

GUIDE_FIGURES = {
    "fig4.1_no_padding_no_strides": (4, 3, 1, 0),
    "fig4.2_arbitrary_padding_no_strides": (5, 4, 1, 2),
    "fig4.3_half_padding_no_strides": (5, 3, 1, 1),
    "fig4.4_full_padding_no_strides": (5, 3, 1, 2),
    "fig4.5_no_padding_strides": (5, 3, 2, 0),
    "fig4.6_padding_strides": (5, 3, 2, 1),
    "fig4.7_padding_strides_odd": (6, 3, 2, 1),
}


@pytest.mark.parametrize("figure", GUIDE_FIGURES)
def test_guide_figure_output_size_and_construction(figure):
    i, k, s, p = GUIDE_FIGURES[figure]
    i_t = (i + 2 * p - k) // s + 1
    a = (i + 2 * p - k) % s
    rng = np.random.default_rng(sum(GUIDE_FIGURES[figure]))
    x = rng.standard_normal((1, 2, i_t, i_t))
    w = rng.standard_normal((2, 3, k, k))
    y = conv_transpose2d.forward(x, w, stride=s, padding=p, output_padding=a)
    assert y.shape == (1, 3, i, i), f"{figure}: o' = s(i' - 1) + a + k - 2p = {i}"
    # The figure's construction: stretch x (s - 1 zeros between inputs), pad with
    # p' = k - p - 1 zeros (a more on the bottom/right), convolve at unit stride with
    # the kernel flipped and its channel axes swapped.
    stretched = np.zeros((1, 2, (i_t - 1) * s + 1, (i_t - 1) * s + 1))
    stretched[:, :, ::s, ::s] = x
    p_t = k - p - 1
    kernel = np.ascontiguousarray(w[:, :, ::-1, ::-1].transpose(1, 0, 2, 3))
    want = conv2d.forward(stretched, kernel, padding=((p_t, p_t + a), (p_t, p_t + a)))
    _close(y, want, f"{figure} = unit-stride convolution of the stretched input")


def test_guide_half_padding_keeps_the_size():
    """Relationship 10: k = 2n + 1, s = 1, p = n gives o' = i'."""
    for n in range(4):
        x = np.ones((1, 1, 6, 5))
        y = conv_transpose2d.forward(x, np.ones((1, 1, 2 * n + 1, 2 * n + 1)), padding=n)
        assert y.shape == x.shape


# ---------------------------------------------------------------------------------------
# "same" and every padding form: the adjoint of conv2d.


def _adjoint_gap(x, w, z, attrs_t, attrs_c):
    y = conv_transpose2d.forward(x, w, **attrs_t)
    assert y.shape == z.shape
    lhs = float(np.sum(conv2d.forward(z, w, **attrs_c) * x))
    rhs = float(np.sum(z * y))
    return abs(lhs - rhs) / max(1.0, abs(lhs))


@pytest.mark.parametrize(("k", "s", "d"), [(3, 2, 1), (4, 2, 1), (1, 2, 1), (2, 3, 1), (3, 1, 2)])
def test_same_is_the_adjoint_of_conv2d_same(k, s, d):
    """conv_transpose2d(x, 'same') is the transpose of conv2d(z, 'same') on z of size
    in*stride: TF builds conv2d_transpose as exactly that gradient."""
    rng = np.random.default_rng(k * 100 + s * 10 + d)
    x = rng.standard_normal((2, 3, 4, 5))
    w = rng.standard_normal((3, 2, k, k))
    z = rng.standard_normal((2, 2, 4 * s, 5 * s))
    attrs = {"stride": s, "padding": "same", "dilation": d}
    assert _adjoint_gap(x, w, z, attrs, attrs) < 1e-13


@pytest.mark.parametrize(
    ("padding", "output_padding"), [(0, 0), (1, 1), ((1, 2), (0, 1)), (((2, 0), (0, 1)), 1)]
)
def test_explicit_padding_is_the_adjoint_of_conv2d(padding, output_padding):
    rng = np.random.default_rng(7)
    x = rng.standard_normal((1, 2, 3, 4))
    w = rng.standard_normal((2, 3, 3, 2))
    attrs = {"stride": 2, "padding": padding, "output_padding": output_padding}
    out_hw = conv_transpose2d.forward(x, w, **attrs).shape[2:]
    z = rng.standard_normal((1, 3, *out_hw))
    assert _adjoint_gap(x, w, z, attrs, {"stride": 2, "padding": padding}) < 1e-13


def test_same_crop_puts_the_odd_cell_at_the_bottom():
    """k = 3, s = 2: the full scatter has 2*in + 1 cells and 'same' keeps the first 2*in
    (TF's conv2d_transpose; tests/conventions shows TF and Keras doing it)."""
    rng = np.random.default_rng(3)
    x, w = rng.standard_normal((1, 1, 3, 3)), rng.standard_normal((1, 1, 3, 3))
    full = conv_transpose2d.forward(x, w, stride=2)
    same = conv_transpose2d.forward(x, w, stride=2, padding="same")
    np.testing.assert_array_equal(same, full[:, :, :6, :6])


# ---------------------------------------------------------------------------------------
# (c) The loops.


def _config(seed):
    rng = np.random.default_rng(seed)
    while True:
        groups = int(rng.choice([1, 1, 2, 3]))
        kernel = tuple(int(v) for v in rng.integers(1, 4, size=2))
        stride = tuple(int(v) for v in rng.integers(1, 4, size=2))
        dilation = tuple(int(v) for v in rng.integers(1, 3, size=2))
        size = tuple(int(v) for v in rng.integers(1, 5, size=2))
        form = int(rng.integers(5))
        extras = (0, 0)
        if form == 0:
            padding = "same"
        elif form == 1:
            padding = "valid"
        elif form == 2:
            padding = int(rng.integers(3))
        elif form == 3:
            padding = tuple(int(v) for v in rng.integers(3, size=2))
        else:
            padding = tuple(tuple(int(v) for v in rng.integers(3, size=2)) for _ in range(2))
        if padding == "same":
            crops, extras = loops.same_crop(size, kernel, stride, dilation)
            output_padding = 0
        else:
            crops = _crops(padding)
            limits = [max(s, d) for s, d in zip(stride, dilation, strict=True)]
            extras = tuple(int(rng.integers(limit)) for limit in limits)
            output_padding = extras
        outs = [
            (size[a] - 1) * stride[a]
            + (kernel[a] - 1) * dilation[a]
            + 1
            - sum(crops[a])
            + extras[a]
            for a in (0, 1)
        ]
        if min(outs) >= 1:
            break
    n, cig, cog = int(rng.integers(1, 3)), int(rng.integers(1, 3)), int(rng.integers(1, 3))
    x = rng.standard_normal((n, cig * groups, *size))
    w = rng.standard_normal((cig * groups, cog, *kernel))
    b = rng.standard_normal(cog * groups) if rng.random() < 0.7 else None
    attrs = {
        "stride": stride,
        "padding": padding,
        "output_padding": output_padding,
        "dilation": dilation,
        "groups": groups,
    }
    return rng, x, w, b, attrs, crops, extras


def _crops(padding):
    if padding == "valid":
        return (0, 0), (0, 0)
    if isinstance(padding, int):
        return (padding, padding), (padding, padding)
    if isinstance(padding[0], int):
        return (padding[0], padding[0]), (padding[1], padding[1])
    return tuple(tuple(p) for p in padding)


@pytest.mark.parametrize("seed", range(30))
def test_conv_transpose2d_matches_loops(seed):
    rng, x, w, b, attrs, crops, extras = _config(seed)
    what = f"conv_transpose2d x{x.shape} w{w.shape} bias={b is not None} {attrs}"
    args = (attrs["stride"], crops, extras, attrs["dilation"], attrs["groups"])
    want = loops.conv_transpose2d_forward(x, w, b, *args)
    _close(conv_transpose2d.forward(x, w, b, **attrs), want, what + " forward")
    grad_out = rng.standard_normal(want.shape)
    want_grads = loops.conv_transpose2d_backward(
        grad_out, x, w, b, attrs["stride"], crops, attrs["dilation"], attrs["groups"]
    )
    got = conv_transpose2d.backward(grad_out, x, w, b, **attrs)
    assert set(got) == set(want_grads)
    for name in want_grads:
        _close(got[name], want_grads[name], f"{what} d{name}")


def test_sampled_configurations_cover_the_grid():
    configs = [_config(s)[4] for s in range(30)]
    assert {a["groups"] for a in configs} >= {1, 2, 3}
    assert {type(a["padding"]).__name__ for a in configs} >= {"str", "int", "tuple"}
    assert {a["padding"] for a in configs if isinstance(a["padding"], str)} == {"same", "valid"}
    assert any(max(a["output_padding"] if a["padding"] != "same" else (0,)) > 0 for a in configs)
    assert any(max(a["stride"]) > 1 for a in configs)
    assert any(max(a["dilation"]) > 1 for a in configs)


# ---------------------------------------------------------------------------------------
# (b) Central differences over the attribute grid.

PADDINGS = [0, (1, 2), ((2, 0), (0, 1)), "same", "valid"]
PADDING_IDS = ["pad0", "pad1x2", "asym", "same", "valid"]
GRID = list(itertools.product([1, 2], [1, 2], [1, 2], range(len(PADDINGS))))


@pytest.mark.parametrize(
    ("stride", "dilation", "groups", "pad_index"),
    GRID,
    ids=[f"s{s}-d{d}-g{g}-{PADDING_IDS[p]}" for s, d, g, p in GRID],
)
def test_conv_transpose2d_gradcheck(stride, dilation, groups, pad_index):
    rng = np.random.default_rng(stride + 4 * dilation + 16 * groups + 64 * pad_index)
    padding = PADDINGS[pad_index]
    # Output padding where the grid allows it (alternating, so both values are checked).
    output_padding = (
        0
        if padding == "same"
        else (pad_index + stride + dilation) % 2 * (1 if max(stride, dilation) > 1 else 0)
    )
    inputs = {
        "x": rng.standard_normal((2, 2 * groups, 3, 4)),
        "w": rng.standard_normal((2 * groups, 2, 3, 2)),
    }
    if (stride + groups + pad_index) % 2:
        inputs["b"] = rng.standard_normal(2 * groups)
    attrs = {
        "stride": stride,
        "padding": padding,
        "output_padding": output_padding,
        "dilation": dilation,
        "groups": groups,
    }
    check_backward(
        conv_transpose2d.forward, conv_transpose2d.backward, inputs, attrs, max_elementwise=32
    )


# ---------------------------------------------------------------------------------------
# dtypes and IEEE values


def test_float32_stays_float32_and_mixed_promotes():
    rng = np.random.default_rng(11)
    x = rng.standard_normal((2, 2, 3, 3)).astype(np.float32)
    w = rng.standard_normal((2, 3, 3, 3)).astype(np.float32)
    b = rng.standard_normal(3).astype(np.float32)
    y = conv_transpose2d.forward(x, w, b, stride=2, padding=1, output_padding=1)
    assert y.dtype == np.float32
    grads = conv_transpose2d.backward(
        np.ones_like(y), x, w, b, stride=2, padding=1, output_padding=1
    )
    assert {k: v.dtype for k, v in grads.items()} == dict.fromkeys("xwb", np.float32)
    assert conv_transpose2d.forward(x, w.astype(np.float64)).dtype == np.float64


def test_nan_and_inf_reach_only_their_footprint():
    x = np.zeros((1, 1, 3, 3))
    x[0, 0, 0, 0] = np.nan
    x[0, 0, 2, 2] = np.inf
    y = conv_transpose2d.forward(x, np.ones((1, 1, 2, 2)), stride=2)
    assert np.isnan(y[0, 0, :2, :2]).all()
    assert (y[0, 0, 4:, 4:] == np.inf).all()
    assert (y[0, 0, 2:4, :] == 0).all()
