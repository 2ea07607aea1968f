"""Depthwise convolution in Keras, both ways users write it.

- The "keras" adapter's conv2d runs depthwise cases (groups == C_in > 1) through
  keras.layers.DepthwiseConv2D with depth_multiplier = C_out / C_in (its parity tests are
  the conv2d cases in tests/parity); checked here to be that layer.
- keras.ops.depthwise_conv, the ops API, has no column of its own: every depthwise conv2d
  case x dtype x direction runs here through ``adapters.keras.KerasOpsDepthwise`` and is
  compared with the reference under conv2d's tolerance (``tests.harness.compare``), ids
  ``conv2d-<case>-keras.ops-<dtype>-<direction>``.
- Evidence for ``keras-tf-depthwise-stride-dilation-wrong-output``
  (tests/known_divergences.py, "matched"): strides > 1 with dilation > 1 on the
  TensorFlow backend before Keras 3.15 (keras-team/keras#23027).  Nothing is refused
  for it: the keras.ops cases run, and fail unless the failure is that bug's own wrong
  output (``known_divergences.judge``, as in tests/parity).
"""

from __future__ import annotations

import numpy as np
import pytest

import adapters
from adapters.base import FrameworkMissing, Unsupported, prepare
from tests import divergence_signatures_depthwise as signatures
from tests import known_divergences, layers
from tests.adapters.calls import refusal
from tests.harness import compare_observed

pytestmark = pytest.mark.keras

DEPTHWISE = [
    case
    for case in layers.get("conv2d").cases
    if case.attrs.get("groups", 1) > 1 and case.attrs["groups"] == case.inputs["x"].shape[1]
]


@pytest.fixture(scope="module")
def keras_adapter():
    try:
        return adapters.load("keras")
    except FrameworkMissing as exc:
        pytest.skip(str(exc))


@pytest.fixture(scope="module")
def ops(keras_adapter):
    from adapters.keras import KerasOpsDepthwise

    adapter = KerasOpsDepthwise(keras_adapter)
    try:
        adapter.load()
    except FrameworkMissing as exc:
        pytest.skip(str(exc))
    return adapter


def test_depthwise_cases_cover_the_keras_23027_configuration():
    ids = {c.id for c in DEPTHWISE}
    assert {"conv_depthwise", "conv_depthwise_s2_d3", "conv_depthwise_s2_d2_same"} <= ids
    strided_dilated = [
        c
        for c in DEPTHWISE
        if np.max(c.attrs.get("stride", 1)) > 1 and np.max(c.attrs.get("dilation", 1)) > 1
    ]
    assert len(strided_dilated) >= 2


def test_conv2d_runs_depthwise_cases_as_depthwise_conv2d(keras_adapter):
    case = layers.case("conv_depthwise")  # C = 3, C_out = 6
    prepared = prepare(keras_adapter, "conv2d", case.cast_inputs(np.float32), case.attrs)
    assert type(prepared.layer).__name__ == "DepthwiseConv2D"
    assert prepared.layer.depth_multiplier == 2
    grouped = layers.case("conv_groups2")  # groups 2 of 4 channels: not depthwise
    prepared = prepare(keras_adapter, "conv2d", grouped.cast_inputs(np.float32), grouped.attrs)
    assert type(prepared.layer).__name__ == "Conv2D"


def test_ops_path_refuses_what_is_not_depthwise(ops):
    case = layers.case("conv_groups2")
    with pytest.raises(Unsupported, match="groups == C_in"):
        ops.conv2d(**case.cast_inputs(np.float32), **case.attrs)


@pytest.mark.parametrize(
    ("case_id", "dtype", "direction"),
    [
        pytest.param(c.id, dtype, direction, id=f"conv2d-{c.id}-keras.ops-{dtype}-{direction}")
        for c in DEPTHWISE
        for dtype in ("float32", "float64")
        for direction in ("forward", "backward")
    ],
)
def test_keras_ops_depthwise_conv_matches_the_reference(ops, case_id, dtype, direction):
    case = layers.case(case_id)
    label = f"conv2d-{case_id}-keras.ops-{dtype}-{direction}"
    repro = f"pytest tests/adapters/test_keras_depthwise_ops.py -k '{label}'"
    try:
        _, failure, observed = compare_observed(
            ops, "conv2d", direction, case.inputs, case.attrs, dtype, label=label, repro=repro
        )
    except Unsupported as exc:
        pytest.skip(f"unsupported by keras.ops: {exc}")
    # Judged as the "keras" column's bugs: keras.ops.depthwise_conv is Keras.
    fields = ("conv2d", case_id, "keras", dtype, direction)
    verdict = known_divergences.judge(fields, observed, failed=failure is not None)
    if failure is not None:
        if verdict.xfail:
            pytest.xfail(verdict.xfail)
        raise failure
    if verdict.stale:
        pytest.fail(verdict.stale)


def test_depthwise_stride_dilation_bug_is_matched_where_present(keras_adapter, ops):
    """Where the probe finds keras-team/keras#23027's bug, keras.ops.depthwise_conv on
    conv_depthwise_s2_d3 runs (no refusal) and returns the model's output, shape (1, 6,
    1, 1) instead of (1, 6, 2, 2), which the verdict xfails; where it does not, the case
    runs right.  DepthwiseConv2D either refuses the arguments itself (before
    keras-team/keras#22598) or runs them."""
    said = signatures.depthwise_stride_dilation_wrong(keras_adapter)
    case = layers.case("conv_depthwise_s2_d3")
    by_layer = refusal(keras_adapter, "conv2d", case.cast_inputs(np.float32), case.attrs)
    assert by_layer is None or by_layer.startswith("keras.layers.DepthwiseConv2D: ")
    _, failure, observed = compare_observed(
        ops, "conv2d", "forward", case.inputs, case.attrs, "float32", label="evidence", repro="-"
    )
    verdict = known_divergences.judge(
        ("conv2d", case.id, "keras", "float32", "forward"), observed, failure is not None
    )
    if said is None:
        assert failure is None, str(failure)
        assert verdict == known_divergences.Verdict()
        pytest.skip(
            f"{keras_adapter.version()}: keras.ops.depthwise_conv computes keras-team/keras"
            "#23027's example right (fixed in 3.15); the cases run and pass"
        )
    assert "#23027" in said
    assert observed.actual["y"].shape == (1, 6, 1, 1)
    assert failure is not None
    assert verdict.key == "keras-tf-depthwise-stride-dilation-wrong-output"
    assert verdict.xfail is not None
