"""The decoder layers' adapter bookkeeping (issue 16): how the reference's transposed-
convolution crop maps onto torch's and Keras' arguments (adapters/_decoder_geometry.py,
no framework needed), and the torch adapter's refusals in torch's own words."""

from __future__ import annotations

import numpy as np
import pytest

from adapters import _decoder_geometry as geometry
from tests.adapters.calls import refusal


@pytest.mark.parametrize(
    ("k", "s", "want_pads", "want_extra"),
    [(3, 2, (0, 1), 0), (4, 2, (1, 1), 0), (1, 2, (0, 0), 1), (5, 3, (1, 1), 0), (2, 3, (0, 0), 1)],
)
def test_same_is_tensorflows_crop(k, s, want_pads, want_extra):
    pads, extras = geometry.transpose_crops((4, 4), (k, k), s, "same", 0, 1)
    assert pads == (want_pads, want_pads)
    assert extras == (want_extra, want_extra)
    out = geometry.transpose_out(4, k, s, 1, *want_pads, want_extra)
    assert out == 4 * s, "'same' gives in * stride"


def test_torch_writes_a_crop_as_padding_and_output_padding():
    # Crop (1, 0) is torch's padding 1 with output_padding 1 (its 2x upsampling).
    assert geometry.torch_transpose_padding(((1, 0), (2, 1)), (0, 0)) == ((1, 2), (1, 1))
    # A heavier bottom crop needs a negative output_padding: torch has none.
    assert geometry.torch_transpose_padding(((0, 1), (0, 0)), (0, 0)) is None


@pytest.mark.parametrize(
    ("pads", "extras", "k", "s", "want"),
    [
        # TF 'same' (odd crop at the bottom): Keras' own 'same'.
        (((0, 1), (0, 1)), (0, 0), 3, 2, ("same", None, None)),
        # torch's padding 1, output_padding 0 with an odd kernel: Keras 'same' with
        # output_padding 0 (TF accepts its size: k % 2 + op = 1 lies in [1, s]).
        (((1, 1), (1, 1)), (0, 0), 3, 2, ("same", (0, 0), None)),
        # torch's padding 1, output_padding 1: no Keras padding; 'valid' then Cropping2D.
        (((1, 0), (1, 0)), (0, 0), 3, 2, ("valid", (0, 0), ((1, 0), (1, 0)))),
        # k < s: 'same' and 'valid' both give in*s cells, the last s - k bias only (the
        # first candidate, 'same', is taken) ...
        (((0, 0), (0, 0)), (1, 1), 2, 3, ("same", None, None)),
        # ... and the reference's plain valid, (in-1)s + k cells, is 'same' with
        # output_padding 2 (out = (in-1)s + k % 2 + op).
        (((0, 0), (0, 0)), (0, 0), 2, 3, ("same", (2, 2), None)),
    ],
)
def test_keras_options(pads, extras, k, s, want):
    assert geometry.keras_transpose_options((4, 4), (k, k), s, 1, pads, extras) == want


@pytest.mark.parametrize("min_output_padding", [0, 1])
def test_keras_options_reproduce_the_output_size_and_crop(min_output_padding):
    """Every option the mapping picks gives the reference's size and first cell; with
    ``min_output_padding=1`` (Keras 3.3.3 and 3.6.0 reject 0, keras-team/keras#19909) every
    output_padding tuple it picks is positive, and every one stays below the stride
    (Keras' documented limit), so none of these is refused."""
    for k in range(1, 5):
        for s in range(1, 4):
            for lo in range(3):
                for hi in range(3):
                    for extra in range(s):
                        pads, extras = ((lo, hi), (lo, hi)), (extra, extra)
                        out = geometry.transpose_out(4, k, s, 1, lo, hi, extra)
                        if out < 1:
                            continue
                        padding, op, crop = geometry.keras_transpose_options(
                            (4, 4), (k, k), s, 1, pads, extras, min_output_padding
                        )
                        if op is not None:
                            assert min_output_padding <= min(op) <= max(op) < s, (k, s, pads, op)
                        top, size = geometry.keras_transpose_axis(
                            4, k, s, 1, padding, None if op is None else op[0]
                        )
                        if crop is not None:
                            top, size = top + crop[0][0], size - sum(crop[0])
                        assert (top, size) == (lo, out), (k, s, pads, extras)


def test_keras_options_without_zero_output_padding():
    """ct_asym_pad's geometry (k 3, stride 2, crop ((1, 0), (2, 1))): Keras 3.15 writes it
    as "valid" with output_padding (0, 0) and a crop; where 0 is rejected, Keras' default
    (None, here (0, 0) as kernel 3 >= stride 2) gives the same scatter to crop."""
    pads, extras = ((1, 0), (2, 1)), (0, 0)
    assert geometry.keras_transpose_options((4, 4), (3, 3), 2, 1, pads, extras) == (
        "valid",
        (0, 0),
        ((1, 0), (2, 1)),
    )
    assert geometry.keras_transpose_options((4, 4), (3, 3), 2, 1, pads, extras, 1) == (
        "valid",
        None,
        ((1, 0), (2, 1)),
    )


def _torch():
    import adapters

    try:
        return adapters.load("torch")
    except adapters.FrameworkMissing as exc:
        pytest.skip(str(exc))


def test_torch_refuses_what_conv_transpose2d_cannot_crop():
    inputs = {"x": np.ones((1, 1, 3, 3)), "w": np.ones((1, 1, 3, 3))}
    said = refusal(_torch(), "conv_transpose2d", inputs, {"stride": 2, "padding": "same"})
    assert "it takes no padding string" in said
    assert "more cells from the bottom/right" in said
    said = refusal(_torch(), "conv_transpose2d", inputs, {"stride": 2, "padding": ((2, 0), (0, 0))})
    assert "output padding must be smaller than either stride or dilation" in said


def test_torch_refuses_symmetric_padding_in_its_own_words():
    said = refusal(
        _torch(), "pad2d", {"x": np.ones((1, 1, 3, 3))}, {"padding": 1, "mode": "symmetric"}
    )
    assert "Unrecognised padding mode symmetric" in said
