"""Seed 004 (004_bb7b389ca69aced6.txt): Keras Conv2D/MaxPool2D, SciPy signal, ReLU."""

from __future__ import annotations

import numpy as np

from tests.cases import Case, register
from tests.cases.seeds._common import EXACT, IMG_1_TO_9_NHWC, f, hwio_to_oihw, nhwc_to_nchw

# Seed 004 (004_bb7b389ca69aced6.txt): Keras Conv2D / MaxPool2D, SciPy correlate and
# convolve, ReLU.  The seed prints NO outputs: every expected value below is derived by
# hand.  Keras Conv2D has use_bias=True with a zeros bias initialiser, kept as b = 0.
# 'same' is SAME_UPPER: at stride 1 a 2x2 kernel gets one row/col of zeros bottom/right.

_SEED4_INPUTS = "seed 004 (inputs)"
_IMG_3X3 = nhwc_to_nchw(IMG_1_TO_9_NHWC)
_ONES_2X2_HWIO = np.ones((2, 2, 1, 1))
# By hand, 2x2 window sums of [[1,2,3],[4,5,6],[7,8,9]] with zeros bottom/right:
# 1+2+4+5, 2+3+5+6, 3+6 / 4+5+7+8, 5+6+8+9, 6+9 / 7+8, 8+9, 9.
_SUMS_SAME = f([[12, 16, 9], [24, 28, 15], [15, 17, 9]])
_SUMS_VALID = _SUMS_SAME[:2, :2]
# HWIO (2, 2, 1, 3): every tap holds [1, 10, -1] across the three filters.
_THREE_FILTERS_HWIO = np.broadcast_to(f([1.0, 10.0, -1.0]), (2, 2, 1, 3))
# (1,3,3,3): 1..9 on each channel (NHWC [[[1,1,1],[2,2,2],...]] -> NCHW).
_IMG_3CH = nhwc_to_nchw(np.repeat(IMG_1_TO_9_NHWC, 3, axis=3))
# HWIO (2, 2, 3, 1): input channel c has weight c+1 on every tap.
_PER_CHANNEL_HWIO = np.broadcast_to(f([1, 2, 3])[:, None], (2, 2, 3, 1))

# The 5x5x3 image, NHWC as the seed writes it (rows of [c0, c1, c2] pixels).
_IMG_5X5X3_NHWC = f(
    [
        [
            [[1, 0, 1], [1, 1, 1], [1, 1, 1], [0, 0, 1], [0, 1, 0]],
            [[0, 0, 1], [1, 1, 1], [1, 1, 1], [1, 1, 1], [0, 0, 0]],
            [[0, 0, 0], [0, 0, 0], [1, 1, 0], [1, 1, 1], [1, 0, 1]],
            [[0, 0, 0], [0, 0, 1], [1, 1, 1], [1, 1, 1], [0, 1, 0]],
            [[0, 1, 0], [1, 1, 1], [1, 1, 1], [0, 0, 0], [0, 0, 0]],
        ]
    ]
)
# HWIO (3, 3, 3, 2) as the seed writes it; filter 0 ([..., :1]) is also the seed's
# one-filter kernel.  OIHW: filter 0 has c0 = X pattern [[1,0,1],[0,1,0],[1,0,1]],
# c1 = [[0,-1,0],[-1,1,-1],[1,-1,0]], c2 = [[-1,0,0],[0,1,0],[0,0,-1]]; filter 1 has
# the X pattern on c0 and c1 and the same c2.
_W_5X5X3_HWIO = f(
    [
        [[[1, 1], [0, 1], [-1, -1]], [[0, 0], [-1, 0], [0, 0]], [[1, 1], [0, 1], [0, 0]]],
        [[[0, 0], [-1, 0], [0, 0]], [[1, 1], [1, 1], [1, 1]], [[0, 0], [-1, 0], [0, 0]]],
        [[[1, 1], [1, 1], [0, 0]], [[0, 0], [-1, 0], [0, 0]], [[1, 1], [0, 1], [-1, -1]]],
    ]
)
# By hand, out[m,i,j] = sum_{c,u,v} x[c,i+u,j+v] w[m,c,u,v] (valid).  E.g. filter 0 at
# (0,0): c0 X-pattern picks 1+1+1+0+1 = 4, c1 gives -1, c2 gives -1+1 = 0: 3.  Filter 1
# at (0,0): 4 + 3 (X on c1) + 0 = 7.
_OUT_5X5X3_F0 = f([[3, -1, 3], [-2, 0, 2], [1, 3, 4]])
_OUT_5X5X3_F1 = f([[7, 5, 7], [2, 6, 7], [5, 7, 8]])

register(
    Case(
        id="s004_conv_same",
        layer="conv2d",
        inputs={"x": _IMG_3X3, "w": hwio_to_oihw(_ONES_2X2_HWIO), "b": np.zeros(1)},
        attrs={"padding": "same"},
        expected=_SUMS_SAME.reshape(1, 1, 3, 3),
        provenance=f"{_SEED4_INPUTS}, Keras Conv2D(1, 2, 'same'); expected derived by "
        "hand: 2x2 window sums, SAME_UPPER zero row/col bottom/right",
        tags=EXACT,
    ),
    Case(
        id="s004_conv_valid",
        layer="conv2d",
        inputs={"x": _IMG_3X3, "w": hwio_to_oihw(_ONES_2X2_HWIO), "b": np.zeros(1)},
        attrs={"padding": "valid"},
        expected=_SUMS_VALID.reshape(1, 1, 2, 2),
        provenance=f"{_SEED4_INPUTS}, Keras Conv2D(1, 2, 'valid'); expected derived by "
        "hand: 2x2 window sums",
        tags=EXACT,
    ),
    Case(
        id="s004_conv_same_3filters",
        layer="conv2d",
        inputs={"x": _IMG_3X3, "w": hwio_to_oihw(_THREE_FILTERS_HWIO), "b": np.zeros(3)},
        attrs={"padding": "same"},
        expected=np.stack([_SUMS_SAME, 10 * _SUMS_SAME, -_SUMS_SAME])[None],
        provenance=f"{_SEED4_INPUTS}, Keras Conv2D(3, 2, 'same') with taps [1,10,-1]; "
        "expected derived by hand: the window sums times 1, 10, -1",
        tags=EXACT,
    ),
    Case(
        id="s004_conv_same_3ch",
        layer="conv2d",
        inputs={"x": _IMG_3CH, "w": hwio_to_oihw(_PER_CHANNEL_HWIO), "b": np.zeros(1)},
        attrs={"padding": "same"},
        expected=(6 * _SUMS_SAME).reshape(1, 1, 3, 3),
        provenance=f"{_SEED4_INPUTS}, Keras Conv2D(1, 2, 'same') on 1..9 repeated on 3 "
        "channels, channel weights 1, 2, 3; expected derived by hand: (1+2+3) * window sums",
        tags=EXACT,
    ),
    Case(
        id="s004_conv_5x5x3",
        layer="conv2d",
        inputs={
            "x": nhwc_to_nchw(_IMG_5X5X3_NHWC),
            "w": hwio_to_oihw(_W_5X5X3_HWIO[..., :1]),
            "b": np.zeros(1),
        },
        attrs={"padding": "valid"},
        expected=_OUT_5X5X3_F0.reshape(1, 1, 3, 3),
        provenance=f"{_SEED4_INPUTS}, Keras Conv2D(1, 3, 'valid') on the 5x5x3 image; "
        "expected derived by hand from the cross-correlation sum",
        tags=EXACT,
    ),
    Case(
        id="s004_conv_5x5x3_2filters",
        layer="conv2d",
        inputs={
            "x": nhwc_to_nchw(_IMG_5X5X3_NHWC),
            "w": hwio_to_oihw(_W_5X5X3_HWIO),
            "b": np.zeros(2),
        },
        attrs={"padding": "valid"},
        expected=np.stack([_OUT_5X5X3_F0, _OUT_5X5X3_F1])[None],
        provenance=f"{_SEED4_INPUTS}, Keras Conv2D(2, 3, 'valid') on the 5x5x3 image; "
        "expected derived by hand from the cross-correlation sum",
        tags=EXACT,
    ),
    Case(
        id="s004_maxpool_valid",
        layer="maxpool2d",
        inputs={"x": f([[4, 3], [2, 1]]).reshape(1, 1, 2, 2)},
        attrs={"kernel_size": 2, "stride": 1, "padding": "valid"},
        expected=f([[[[4]]]]),
        provenance=f"{_SEED4_INPUTS}, Keras MaxPool2D(2, strides=1, 'valid'); expected "
        "derived by hand: one window, max 4",
        tags=EXACT,
    ),
    Case(
        id="s004_maxpool_same",
        layer="maxpool2d",
        inputs={"x": f([[4, 3], [2, 1]]).reshape(1, 1, 2, 2)},
        attrs={"kernel_size": 2, "stride": 1, "padding": "same"},
        # Windows at (0,0) all four cells; (0,1) {3,1}; (1,0) {2,1}; (1,1) {1}.
        expected=f([[4, 3], [2, 1]]).reshape(1, 1, 2, 2),
        provenance=f"{_SEED4_INPUTS}, Keras MaxPool2D(2, strides=1, 'same'); expected "
        "derived by hand: SAME_UPPER pads bottom/right and padding never wins",
        tags=EXACT,
    ),
    Case(
        id="s004_relu",
        layer="relu",
        inputs={"x": f([-1, 2, -3, 4, -5])},
        expected=f([0, 2, 0, 4, 0]),
        provenance=f"{_SEED4_INPUTS}, np.maximum(x, 0) / tf.nn.relu; expected derived by hand",
        tags=EXACT,
    ),
)

# SciPy signal view.  Layer "signal.<function>" names reference.signal.<function>.
# x = [2,8,3,7,1,2,0,4,5], w = [2,1,5,3]; by hand:
#   convolve valid  = correlate with w reversed [3,5,1,2]: 2*3+8*5+3*1+7*2 = 63, ...
#   correlate valid : 2*2+8*1+3*5+7*3 = 48, 8*2+3+7*5+1*3 = 57, ...
#   correlate full  : x zero-padded by len(w)-1 = 3 on both sides, 12 outputs, starting
#                     0+0+0+2*3 = 6, 2*5+8*3 = 34, ...; ending 4+5*5 = 29, 4*2+5 = 13, 5*2 = 10
#   correlate same  : len(x) outputs centred in full, starting at (12-9)//2 = 1
#                     (SciPy: "same size as in1, centered with respect to the full
#                     output", docs.scipy.org/doc/scipy/reference/generated/
#                     scipy.signal.correlate.html)
_SIG_X = f([2, 8, 3, 7, 1, 2, 0, 4, 5])
_SIG_W = f([2, 1, 5, 3])
_CORR_FULL = f([6, 34, 51, 48, 57, 24, 25, 16, 39, 29, 13, 10])
# 2-D: x = 1..9 (3x3), w = [[2,0],[0,0]].  valid: 2*x[i,j] for the 2x2 windows.  same:
# correlate2d keeps full[kh//2 : kh//2 + 3] (its C kernel offsets an even kernel by
# one more than the n-D 'same' centring; this is what scipy 1.17 does), so each output
# is 2*x[i,j] again with zeros at the bottom/right: 2 * [[1,2,3],[4,5,6],[7,8,9]].
_SIG2_X = np.arange(1, 10, dtype=np.float64).reshape(3, 3)
_SIG2_W = f([[2, 0], [0, 0]])

register(
    Case(
        id="s004_convolve_valid",
        layer="signal.convolve",
        inputs={"in1": _SIG_X, "in2": _SIG_W},
        attrs={"mode": "valid"},
        expected=f([63, 48, 49, 28, 21, 20]),
        provenance=f"{_SEED4_INPUTS}, scipy.signal.convolve(x, w, 'valid'); expected "
        "derived by hand (dot products with the flipped kernel, as the seed's loop does)",
        tags=EXACT,
    ),
    Case(
        id="s004_correlate_valid",
        layer="signal.correlate",
        inputs={"in1": _SIG_X, "in2": _SIG_W},
        attrs={"mode": "valid"},
        expected=_CORR_FULL[3:9],
        provenance=f"{_SEED4_INPUTS}, scipy.signal.correlate(x, w, 'valid'); expected "
        "derived by hand: [48, 57, 24, 25, 16, 39]",
        tags=EXACT,
    ),
    Case(
        id="s004_correlate_full",
        layer="signal.correlate",
        inputs={"in1": _SIG_X, "in2": _SIG_W},
        attrs={"mode": "full"},
        expected=_CORR_FULL,
        provenance=f"{_SEED4_INPUTS}, scipy.signal.correlate(x, w, 'full'); expected "
        "derived by hand",
        tags=EXACT,
    ),
    Case(
        id="s004_correlate_same",
        layer="signal.correlate",
        inputs={"in1": _SIG_X, "in2": _SIG_W},
        attrs={"mode": "same"},
        expected=_CORR_FULL[1:10],
        provenance=f"{_SEED4_INPUTS}, scipy.signal.correlate(x, w, 'same'); expected "
        "derived by hand: full[1:10] per SciPy's centring",
        tags=EXACT,
    ),
    Case(
        id="s004_correlate2d_valid",
        layer="signal.correlate2d",
        inputs={"in1": _SIG2_X, "in2": _SIG2_W},
        attrs={"mode": "valid"},
        expected=f([[2, 4], [8, 10]]),
        provenance=f"{_SEED4_INPUTS}, scipy.signal.correlate2d(x, w, 'valid'); expected "
        "derived by hand",
        tags=EXACT,
    ),
    Case(
        id="s004_correlate2d_same",
        layer="signal.correlate2d",
        inputs={"in1": _SIG2_X, "in2": _SIG2_W},
        attrs={"mode": "same"},
        expected=2 * _SIG2_X,
        provenance=f"{_SEED4_INPUTS}, scipy.signal.correlate2d(x, w, 'same'); expected "
        "derived by hand: SciPy's 2-D 'same' offset for an even kernel",
        tags=EXACT,
    ),
)
