"""pad2d proven on its own, without any framework:

- (a) golden values: ONNX's Pad examples (constant, edge, wrap) and TensorFlow's tf.pad
  docstring examples (CONSTANT, REFLECT, SYMMETRIC) are declared cases
  (tests/layers/pad2d.py) run by test_golden.py; here, NumPy's np.pad, whose mode names
  the reference documents (reflect, edge, symmetric, wrap), on every mode and pad within
  the limits;
- (b) float64 central differences for every mode, symmetric and per-side pads, at the
  limits (reflect n - 1, symmetric and circular n);
- (c) the plain loops of tests/reference/loops_decoder.py, forward bit for bit;
- the backward is the forward's adjoint: <pad(x), g> = <x, pad'(g)>.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from reference import pad2d
from tests.gradcheck import check_backward
from tests.reference import loops_decoder as loops

pytestmark = pytest.mark.reference

NUMPY_NAMES = {
    "constant": "constant",
    "reflect": "reflect",
    "replicate": "edge",
    "symmetric": "symmetric",
    "circular": "wrap",
}
#: The largest pad each mode takes on an axis of n cells.
LIMIT = {"reflect": -1, "symmetric": 0, "circular": 0}


def _pads(rng, mode, h, w):
    extra = LIMIT.get(mode)
    tops = [int(rng.integers(0, (h if extra is None else h + extra) + 1)) for _ in range(2)]
    lefts = [int(rng.integers(0, (w if extra is None else w + extra) + 1)) for _ in range(2)]
    return (tops[0], tops[1]), (lefts[0], lefts[1])


@pytest.mark.parametrize("mode", pad2d.MODES)
def test_pad2d_matches_numpy_pad_and_loops(mode):
    rng = np.random.default_rng(len(mode))
    for h, w in [(1, 1), (1, 4), (3, 2), (4, 5)]:
        for _ in range(6):
            x = rng.standard_normal((2, 2, h, w))
            pads = _pads(rng, mode, h, w)
            kwargs = {"constant_values": 1.5} if mode == "constant" else {}
            value = 1.5 if mode == "constant" else 0.0
            y = pad2d.forward(x, padding=pads, mode=mode, value=value)
            want = np.pad(x, ((0, 0), (0, 0), *pads), mode=NUMPY_NAMES[mode], **kwargs)
            np.testing.assert_array_equal(y, want, err_msg=f"{mode} {x.shape} {pads}")
            np.testing.assert_array_equal(y, loops.pad2d_forward(x, pads, mode, value))
            g = rng.standard_normal(y.shape)
            got = pad2d.backward(g, x, padding=pads, mode=mode, value=value)["x"]
            np.testing.assert_allclose(got, loops.pad2d_backward(g, x, pads, mode), rtol=1e-12)
            # The adjoint identity, in float64.
            assert abs(np.sum(y * g) - np.sum(x * got) - value * _pad_sum(g, pads, mode)) < 1e-9


def _pad_sum(g, pads, mode):
    """Sum of g over the constant cells (the value's share of <pad(x), g>)."""
    if mode != "constant":
        return 0.0
    (top, bottom), (left, right) = pads
    inner = g[:, :, top : g.shape[2] - bottom, left : g.shape[3] - right]
    return float(g.sum() - inner.sum())


PADDINGS = [1, (2, 1), ((1, 0), (0, 2)), ((0, 3), (2, 2))]
GRID = list(itertools.product(pad2d.MODES, range(len(PADDINGS))))


@pytest.mark.parametrize(("mode", "pad_index"), GRID, ids=[f"{m}-p{p}" for m, p in GRID])
def test_pad2d_gradcheck(mode, pad_index):
    rng = np.random.default_rng(pad_index + 10 * len(mode))
    x = rng.standard_normal((2, 2, 4, 3))
    attrs = {"padding": PADDINGS[pad_index], "mode": mode}
    check_backward(pad2d.forward, pad2d.backward, {"x": x}, attrs)


@pytest.mark.parametrize(("mode", "limit"), [("reflect", 2), ("symmetric", 3), ("circular", 3)])
def test_the_largest_pads_each_mode_takes(mode, limit):
    """reflect takes n - 1 (the edge is not repeated), symmetric and circular n; one more
    is a ValueError naming padding, the mode and the size."""
    x = np.arange(9.0).reshape(1, 1, 3, 3)
    y = pad2d.forward(x, padding=limit, mode=mode)
    assert y.shape == (1, 1, 3 + 2 * limit, 3 + 2 * limit)
    check_backward(pad2d.forward, pad2d.backward, {"x": x}, {"padding": limit, "mode": mode})
    with pytest.raises(ValueError, match=rf"padding {limit + 1} with mode '{mode}'.*\(3\)"):
        pad2d.forward(x, padding=limit + 1, mode=mode)


def test_replicate_sums_the_band_onto_the_edge():
    x = np.zeros((1, 1, 1, 2))
    g = np.arange(1.0, 7.0).reshape(1, 1, 1, 6)  # pads (0, 0), (3, 1)
    dx = pad2d.backward(g, x, padding=((0, 0), (3, 1)), mode="replicate")["x"]
    np.testing.assert_array_equal(dx, [[[[1 + 2 + 3 + 4, 5 + 6]]]])


def test_float32_stays_float32_and_nan_is_copied():
    x = np.ones((1, 1, 3, 3), dtype=np.float32)
    x[0, 0, 0, 0] = np.nan
    for mode in pad2d.MODES:
        y = pad2d.forward(x, padding=1, mode=mode)
        assert y.dtype == np.float32
        # The corner cell is copied into every padded cell whose source it is.
        assert np.isnan(y).sum() == {"constant": 1, "reflect": 1}.get(mode, 4)
        assert pad2d.backward(np.ones_like(y), x, padding=1, mode=mode)["x"].dtype == np.float32
