"""Golden values for resize2d: the ONNX Resize operator's own examples.

Source: onnx/backend/test/case/node/resize.py (github.com/onnx/onnx, read at commit
f7546912001bc31e92a238b17068a21b373d882e), one ``export_*`` function per example: its
input ``data``, its ``scales`` or ``sizes`` on the two spatial axes, its attributes, and
the expected output printed in its comment, copied here verbatim.  Each printed value
is compared at the precision it was printed with:

- ``exact``: the printed decimals are the exact value (dyadic results);
- ``float64``: exact in rationals, but 0.6 is not: within float64 rounding;
- ``8 decimals``: printed rounded to 8 decimals: within 5e-9 (plus float64 rounding);
- ``float32``: a float32 result of ONNX's float32 scales (0.6 is 0.6000000238 there):
  within 8 float32 ulps of 16, the largest value.

Examples left out, and why: tf_crop_and_resize* (roi; out of the contract),
cubic_A_n0p5_exclude_outside (exclude_outside=1 is out of the contract), *_axes_*,
*_not_larger / *_not_smaller (axes and keep_aspect_ratio_policy: the contract fixes the
axes to H, W and stretches), *_half_pixel_symmetric (opset 19).  The two align_corners
examples given by ``scales`` below 1 use ONNX's reference evaluator's unfloored output
length (4 * 0.6 = 2.4) where the operator text and torch use the integer length; they
are checked against that formula in ``test_onnx_align_corners_with_scales``.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from reference import resize2d

pytestmark = pytest.mark.reference

DATA = {
    "2x2": np.array([[[[1.0, 2.0], [3.0, 4.0]]]]),
    "2x4": np.arange(1.0, 9.0).reshape(1, 1, 2, 4),
    "4x4": np.arange(1.0, 17.0).reshape(1, 1, 4, 4),
}
TOLERANCE = {
    "exact": 0.0,
    "float64": 1e-13 * 16,
    "8 decimals": 5e-9 + 1e-13,
    "float32": 8 * 16 * float(np.finfo(np.float32).eps),
}


def _printed(text: str) -> np.ndarray:
    return np.array([float(v) for v in re.findall(r"-?\d+\.?\d*", text)])


EXAMPLES = [
    (
        "export_resize_upsample_scales_nearest",
        "2x2",
        {"scale": (2.0, 3.0)},
        "exact",
        """[[[[1. 1. 1. 2. 2. 2.]
        [1. 1. 1. 2. 2. 2.]
        [3. 3. 3. 4. 4. 4.]
        [3. 3. 3. 4. 4. 4.]]]]""",
    ),
    ("export_resize_downsample_scales_nearest", "2x4", {"scale": 0.6}, "exact", "[[[[1. 3.]]]]"),
    (
        "export_resize_upsample_sizes_nearest",
        "2x2",
        {"size": (7, 8)},
        "exact",
        """[[[[1. 1. 1. 1. 2. 2. 2. 2.]
        [1. 1. 1. 1. 2. 2. 2. 2.]
        [1. 1. 1. 1. 2. 2. 2. 2.]
        [1. 1. 1. 1. 2. 2. 2. 2.]
        [3. 3. 3. 3. 4. 4. 4. 4.]
        [3. 3. 3. 3. 4. 4. 4. 4.]
        [3. 3. 3. 3. 4. 4. 4. 4.]]]]""",
    ),
    (
        "export_resize_downsample_sizes_nearest",
        "2x4",
        {"size": (1, 3)},
        "exact",
        "[[[[1. 2. 4.]]]]",
    ),
    (
        "export_resize_upsample_scales_linear",
        "2x2",
        {"scale": 2.0, "mode": "linear"},
        "exact",
        """[[[[1.   1.25 1.75 2.  ]
        [1.5  1.75 2.25 2.5 ]
        [2.5  2.75 3.25 3.5 ]
        [3.   3.25 3.75 4.  ]]]]""",
    ),
    (
        "export_resize_upsample_scales_linear_align_corners",
        "2x2",
        {"scale": 2.0, "mode": "linear", "coordinate_transformation_mode": "align_corners"},
        "8 decimals",
        """[[[[1.         1.33333333 1.66666667 2.        ]
        [1.66666667 2.         2.33333333 2.66666667]
        [2.33333333 2.66666667 3.         3.33333333]
        [3.         3.33333333 3.66666667 4.        ]]]]""",
    ),
    (
        "export_resize_downsample_scales_linear",
        "2x4",
        {"scale": 0.6, "mode": "linear"},
        "float32",
        "[[[[2.6666665 4.3333331]]]]",
    ),
    (
        "export_resize_upsample_scales_cubic",
        "4x4",
        {"scale": 2.0, "mode": "cubic"},
        "exact",
        """[[[[ 0.47265625  0.76953125  1.24609375  1.875       2.28125
        2.91015625  3.38671875  3.68359375]
        [ 1.66015625  1.95703125  2.43359375  3.0625      3.46875
        4.09765625  4.57421875  4.87109375]
        [ 3.56640625  3.86328125  4.33984375  4.96875     5.375
        6.00390625  6.48046875  6.77734375]
        [ 6.08203125  6.37890625  6.85546875  7.484375    7.890625
        8.51953125  8.99609375  9.29296875]
        [ 7.70703125  8.00390625  8.48046875  9.109375    9.515625
        10.14453125 10.62109375 10.91796875]
        [10.22265625 10.51953125 10.99609375 11.625      12.03125
        12.66015625 13.13671875 13.43359375]
        [12.12890625 12.42578125 12.90234375 13.53125    13.9375
        14.56640625 15.04296875 15.33984375]
        [13.31640625 13.61328125 14.08984375 14.71875    15.125
        15.75390625 16.23046875 16.52734375]]]]""",
    ),
    (
        "export_resize_upsample_scales_cubic_align_corners",
        "4x4",
        {"scale": 2.0, "mode": "cubic", "coordinate_transformation_mode": "align_corners"},
        "8 decimals",
        """[[[[ 1.          1.34110787  1.80029155  2.32944606  2.67055394
        3.19970845  3.65889213  4.        ]
        [ 2.36443149  2.70553936  3.16472303  3.69387755  4.03498542
        4.56413994  5.02332362  5.36443149]
        [ 4.20116618  4.54227405  5.00145773  5.53061224  5.87172012
        6.40087464  6.86005831  7.20116618]
        [ 6.31778426  6.65889213  7.1180758   7.64723032  7.98833819
        8.51749271  8.97667638  9.31778426]
        [ 7.68221574  8.02332362  8.48250729  9.01166181  9.35276968
        9.8819242  10.34110787 10.68221574]
        [ 9.79883382 10.13994169 10.59912536 11.12827988 11.46938776
        11.99854227 12.45772595 12.79883382]
        [11.63556851 11.97667638 12.43586006 12.96501458 13.30612245
        13.83527697 14.29446064 14.63556851]
        [13.         13.34110787 13.80029155 14.32944606 14.67055394
        15.19970845 15.65889213 16.        ]]]]""",
    ),
    (
        "export_resize_downsample_scales_cubic",
        "4x4",
        {"scale": 0.8, "mode": "cubic"},
        "8 decimals",
        """[[[[ 1.47119141  2.78125     4.08251953]
        [ 6.71142578  8.02148438  9.32275391]
        [11.91650391 13.2265625  14.52783203]]]]""",
    ),
    (
        "export_resize_upsample_sizes_cubic",
        "4x4",
        {"size": (9, 10), "mode": "cubic"},
        "8 decimals",
        """[[[[ 0.45507922  0.64057922  0.97157922  1.42257922  1.90732922
        2.22332922  2.70807922  3.15907922  3.49007922  3.67557922]
        [ 1.39437963  1.57987963  1.91087963  2.36187963  2.84662963
        3.16262963  3.64737963  4.09837963  4.42937963  4.61487963]
        [ 2.95130693  3.13680693  3.46780693  3.91880693  4.40355693
        4.71955693  5.20430693  5.65530693  5.98630693  6.17180693]
        [ 5.20525069  5.39075069  5.72175069  6.17275069  6.65750069
        6.97350069  7.45825069  7.90925069  8.24025069  8.42575069]
        [ 6.88975     7.07525     7.40625     7.85725     8.342
        8.658       9.14275     9.59375     9.92475    10.11025   ]
        [ 8.57424931  8.75974931  9.09074931  9.54174931 10.02649931
        10.34249931 10.82724931 11.27824931 11.60924931 11.79474931]
        [10.82819307 11.01369307 11.34469307 11.79569307 12.28044307
        12.59644307 13.08119307 13.53219307 13.86319307 14.04869307]
        [12.38512037 12.57062037 12.90162037 13.35262037 13.83737037
        14.15337037 14.63812037 15.08912037 15.42012037 15.60562037]
        [13.32442078 13.50992078 13.84092078 14.29192078 14.77667078
        15.09267078 15.57742078 16.02842078 16.35942078 16.54492078]]]]""",
    ),
    (
        "export_resize_downsample_sizes_cubic",
        "4x4",
        {"size": (3, 3), "mode": "cubic"},
        "8 decimals",
        """[[[[ 1.63078704  3.00462963  4.37847222]
        [ 7.12615741  8.5         9.87384259]
        [12.62152778 13.99537037 15.36921296]]]]""",
    ),
    (
        "export_resize_upsample_scales_cubic_asymmetric",
        "4x4",
        {"scale": 2.0, "mode": "cubic", "coordinate_transformation_mode": "asymmetric"},
        "exact",
        """[[[[ 1.       1.40625  2.       2.5      3.       3.59375  4.
        4.09375]
        [ 2.625    3.03125  3.625    4.125    4.625    5.21875  5.625
        5.71875]
        [ 5.       5.40625  6.       6.5      7.       7.59375  8.
        8.09375]
        [ 7.       7.40625  8.       8.5      9.       9.59375 10.
        10.09375]
        [ 9.       9.40625 10.      10.5     11.      11.59375 12.
        12.09375]
        [11.375   11.78125 12.375   12.875   13.375   13.96875 14.375
        14.46875]
        [13.      13.40625 14.      14.5     15.      15.59375 16.
        16.09375]
        [13.375   13.78125 14.375   14.875   15.375   15.96875 16.375
        16.46875]]]]""",
    ),
    (
        "export_resize_downsample_sizes_linear_pytorch_half_pixel",
        "4x4",
        {"size": (3, 1), "mode": "linear", "coordinate_transformation_mode": "pytorch_half_pixel"},
        "float32",
        """[[[[ 1.6666666]
        [ 7.       ]
        [12.333333 ]]]]""",
    ),
    (
        "export_resize_upsample_sizes_nearest_floor_align_corners",
        "4x4",
        {
            "size": (8, 8),
            "coordinate_transformation_mode": "align_corners",
            "nearest_mode": "floor",
        },
        "exact",
        """[[[[ 1.  1.  1.  2.  2.  3.  3.  4.]
        [ 1.  1.  1.  2.  2.  3.  3.  4.]
        [ 1.  1.  1.  2.  2.  3.  3.  4.]
        [ 5.  5.  5.  6.  6.  7.  7.  8.]
        [ 5.  5.  5.  6.  6.  7.  7.  8.]
        [ 9.  9.  9. 10. 10. 11. 11. 12.]
        [ 9.  9.  9. 10. 10. 11. 11. 12.]
        [13. 13. 13. 14. 14. 15. 15. 16.]]]]""",
    ),
    (
        "export_resize_upsample_sizes_nearest_round_prefer_ceil_asymmetric",
        "4x4",
        {
            "size": (8, 8),
            "coordinate_transformation_mode": "asymmetric",
            "nearest_mode": "round_prefer_ceil",
        },
        "exact",
        """[[[[ 1.  2.  2.  3.  3.  4.  4.  4.]
        [ 5.  6.  6.  7.  7.  8.  8.  8.]
        [ 5.  6.  6.  7.  7.  8.  8.  8.]
        [ 9. 10. 10. 11. 11. 12. 12. 12.]
        [ 9. 10. 10. 11. 11. 12. 12. 12.]
        [13. 14. 14. 15. 15. 16. 16. 16.]
        [13. 14. 14. 15. 15. 16. 16. 16.]
        [13. 14. 14. 15. 15. 16. 16. 16.]]]]""",
    ),
    (
        "export_resize_upsample_sizes_nearest_ceil_half_pixel",
        "4x4",
        {"size": (8, 8), "nearest_mode": "ceil"},
        "exact",
        """[[[[ 1.  2.  2.  3.  3.  4.  4.  4.]
        [ 5.  6.  6.  7.  7.  8.  8.  8.]
        [ 5.  6.  6.  7.  7.  8.  8.  8.]
        [ 9. 10. 10. 11. 11. 12. 12. 12.]
        [ 9. 10. 10. 11. 11. 12. 12. 12.]
        [13. 14. 14. 15. 15. 16. 16. 16.]
        [13. 14. 14. 15. 15. 16. 16. 16.]
        [13. 14. 14. 15. 15. 16. 16. 16.]]]]""",
    ),
    (
        "export_resize_downsample_scales_linear_antialias",
        "4x4",
        {"scale": 0.6, "mode": "linear", "antialias": True},
        "float64",
        """[[[[ 2.875  4.5  ]
        [ 9.375 11.   ]]]]""",
    ),
    (
        "export_resize_downsample_sizes_linear_antialias",
        "4x4",
        {"size": (3, 3), "mode": "linear", "antialias": True},
        "float32",
        """[[[[ 2.3636363  3.590909   4.818182 ]
        [ 7.2727275  8.5        9.727273 ]
        [12.181818  13.409091  14.636364 ]]]]""",
    ),
    (
        "export_resize_downsample_scales_cubic_antialias",
        "4x4",
        {"scale": 0.6, "mode": "cubic", "antialias": True},
        "float32",
        """[[[[ 2.5180721  4.2858863]
        [ 9.589329  11.357142 ]]]]""",
    ),
    (
        "export_resize_downsample_sizes_cubic_antialias",
        "4x4",
        {"size": (3, 3), "mode": "cubic", "antialias": True},
        "float32",
        """[[[[ 1.7750092  3.1200073  4.4650054]
        [ 7.1550016  8.5        9.844998 ]
        [12.534994  13.8799925 15.224991 ]]]]""",
    ),
]


@pytest.mark.parametrize(
    ("example", "data", "attrs", "precision", "printed"), EXAMPLES, ids=[e[0] for e in EXAMPLES]
)
def test_onnx_example(example, data, attrs, precision, printed):
    got = resize2d.forward(DATA[data], **attrs)
    want = _printed(printed)
    assert got.size == want.size, f"{example}: {got.shape} has {got.size} values, not {want.size}"
    err = np.max(np.abs(got.ravel() - want))
    assert err <= TOLERANCE[precision], f"{example}: max |error| {err:.3g} ({precision})"


@pytest.mark.parametrize(
    ("example", "mode", "printed"),
    [
        ("export_resize_downsample_scales_linear_align_corners", "linear", "[[[[1. 3.142857]]]]"),
        (
            "export_resize_downsample_scales_cubic_align_corners",
            "cubic",
            """[[[[ 1.          2.39519159  3.79038317]
            [ 6.58076634  7.97595793  9.37114951]
            [12.16153268 13.55672427 14.95191585]]]]""",
        ),
    ],
)
def test_onnx_align_corners_with_scales(example, mode, printed):
    """ONNX's evaluator divides by the unfloored length n * scale - 1 (1.4 for 2 -> 2.4 is
    not 1, 2.2 for 4 -> 3.2); the reference, the operator text ("length_resized") and
    torch by the integer output length minus 1.  Both readings, computed here by hand:
    ONNX's reproduces the printed values, the integer one is the reference's."""
    data = DATA["2x4"] if mode == "linear" else DATA["4x4"]
    attrs = {"scale": 0.6 if mode == "linear" else 0.8, "mode": mode}
    n = np.array(data.shape[2:])
    m = np.floor(n * attrs["scale"]).astype(int)
    want = _printed(printed).reshape(m)

    def by_length(lengths):
        # align_corners on each axis is a resize by sizes with i * (n - 1) / (L - 1).
        out = data[0, 0]
        for axis, (ni, mi, length) in enumerate(zip(n, m, lengths, strict=True)):
            coords = np.arange(mi) * (ni - 1) / (length - 1) if length != 1 else np.zeros(mi)
            rows = [_interpolate_1d(np.moveaxis(out, axis, 0), c, mode) for c in coords]
            out = np.moveaxis(np.array(rows), 0, axis)
        return out

    np.testing.assert_allclose(by_length(n * attrs["scale"]), want, atol=5e-7)
    got = resize2d.forward(data, coordinate_transformation_mode="align_corners", **attrs)[0, 0]
    np.testing.assert_allclose(got, by_length(m), rtol=1e-14)
    assert np.max(np.abs(got - want)) > 0.1


def _interpolate_1d(values, c, mode):
    """One sample at coordinate ``c`` along axis 0, edge-clamped taps."""
    base = int(np.floor(c))
    n = values.shape[0]
    if mode == "linear":
        taps = {base: 1 - (c - base), base + 1: c - base}
    else:  # Keys, a = -0.75
        a, t = -0.75, c - base
        taps = {
            base - 1: ((a * (t + 1) - 5 * a) * (t + 1) + 8 * a) * (t + 1) - 4 * a,
            base: ((a + 2) * t - (a + 3)) * t * t + 1,
            base + 1: ((a + 2) * (1 - t) - (a + 3)) * (1 - t) * (1 - t) + 1,
            base + 2: ((a * (2 - t) - 5 * a) * (2 - t) + 8 * a) * (2 - t) - 4 * a,
        }
    return sum(w * values[min(max(j, 0), n - 1)] for j, w in taps.items())
