"""The one declared list of known divergences between a framework and the reference.

A divergence that is not declared here is a plain failure.  Documented *conventions*
(SAME vs symmetric padding, count_include_pad, momentum, ...) are not divergences: the
reference reproduces each framework through its parameters (tests/conventions).  A
convention the reference has no parameter for (what max pooling does with NaN) is
declared here as a strict xfail whose ``convention`` names its row in the conventions
table, which computes both sides; such an entry needs no issue.

Add an entry only with evidence: the failing test id, the measured error, and for a
framework bug the link to the framework's issue.  Patterns are ``fnmatch`` patterns on
the test id's fields.  Each entry is enforced one of three ways:

- ``"xfail"``: the matching parity tests run as ``xfail(strict=True)``: they must fail, so
  a framework fix (or a wrong entry) shows up as XPASS, which fails the run.
- ``"matched"``: for a bug only some releases or backends have (Keras 3 on jax/torch,
  selected by KERAS_BACKEND at import), which test id patterns cannot name.  The parity
  test runs; it xfails only when the entry's ``signature`` (tests/divergence_signatures.py)
  finds the bug in the installed framework *and* explains the failing output as that
  bug's own wrong value.  Any other wrong value fails.  Where the signature says the bug
  must change this comparison's answer and the test passes, it fails as a strict xfail's
  XPASS would.  Nothing is refused: a release without the bug runs the same tests, which
  must then pass.
- ``"unsupported"``: for a framework that raises or kills the process on a family of
  calls (an abort in native code would end the test run itself).  The adapter refuses
  the family, quoting the error where it can run it; its reason names the entry's
  ``key``, and ``evidence`` names the test that shows the error (in a child process for a
  crash).  A wrong *value* is never enforced this way.

The ONNX adapters' entries are in tests/known_divergences_onnx.py (``ONNX_DIVERGENCES``,
spliced into ``DIVERGENCES`` below) and the entry record in tests/divergence_entry.py.
tests/adapters/test_known_divergences.py checks the links and the keys.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import pytest

from tests import divergence_signatures as signatures
from tests import divergence_signatures_activations as activation_signatures
from tests import divergence_signatures_decoder as decoder_signatures
from tests import divergence_signatures_depthwise as depthwise_signatures
from tests import divergence_signatures_flax as flax_signatures
from tests.divergence_entry import Divergence
from tests.known_divergences_onnx import ONNX_DIVERGENCES

DIVERGENCES: list[Divergence] = [
    Divergence(
        key="jax-xla-cpu-conv-grad-abort",
        layer="conv2d",
        case="*",
        adapter="jax",
        direction="backward",
        reason=(
            "jax.vjp of lax.conv_general_dilated aborts the process on XLA:CPU (SIGABRT, "
            "'algebraic_simplifier.cc:586] Check failed: computation->Accept(this) is OK "
            "(INVALID_ARGUMENT: Window dimensions do not match RHS shape') compiling the "
            "input gradient of some convolutions strided on both axes and dilated, e.g. "
            "x (1,1,8,4), w (1,1,3,2), stride (2,2), padding ((0,0),(1,1)), dilation (2,1); "
            "seen with jax 0.10.2.  The adapter refuses the family stride > 1 on both axes "
            "and any dilation > 1 (a superset of the crashing configurations found by "
            "fuzzing).  No upstream jax / openxla issue found as of 2026-11 (searched: "
            "conv_general_dilated gradient window dilation stride abort XLA CPU; "
            "'Window dimensions do not match RHS shape' algebraic_simplifier)"
        ),
        issue=None,
        enforced="unsupported",
        evidence="tests/adapters/test_jax_adapter.py::test_conv_backward_abort_family",
    ),
    # The two Keras entries below are "matched": the parity tests run on every Keras
    # release and backend, and xfail only where the signature's probe finds the bug and
    # its model explains the failing output.  Both present with keras 3.15.1 (torch
    # 2.13.0, jax 0.10.2) and absent on the tensorflow backend.  With keras 3.6.0 and
    # 3.3.3 (tox tf218, tf216) float64 is not demoted.
    Divergence(
        key="keras-float64-demoted-to-float32",
        layer="*",
        case="*",
        adapter="keras",
        dtype="float64",
        reason=(
            "Keras 3 on the jax and torch backends computes parts of some float64 layers "
            "in float32: keras.backend.result_type('float64', ...) returns 'float32' "
            "(keras/src/backend/common/dtypes.py maps 64-bit to 32-bit dtypes on every "
            "backend but tensorflow).  Measured with keras 3.15.1: on jax, "
            "keras.ops.mean (MeanSquaredError, BatchNormalization) and tanh compute in "
            "float32, errors ~1e-7 relative; on torch, Dense's matmul returns float32 (the "
            "bias add promotes it back to float64).  Matched: Keras demoted a float64 "
            "operand while the failing call ran and the error is within the layer's "
            "float32 bound"
        ),
        issue="https://github.com/keras-team/keras/issues/23704",
        enforced="matched",
        evidence="tests/adapters/test_keras_adapter.py::test_known_keras_backend_bugs_reproduce",
        signature=signatures.FLOAT64_DEMOTED,
    ),
    Divergence(
        key="keras-torch-same-average-pool-replicates-edge",
        layer="avgpool2d",
        case="*",
        adapter="keras",
        reason=(
            "keras.layers.AveragePooling2D(padding='same') on the torch backend pads "
            "asymmetric SAME padding with copies of the edge cells (torch's pad mode "
            "'replicate', since keras-team/keras#19979 in Keras 3.5.0) and divides by "
            "kh * kw; tensorflow and jax average the real cells only.  Measured with keras "
            "3.15.1: [10, 20], pool 3, stride 2 gives 16.6667, not 15.  Fixed upstream by "
            "this pull request (merged 2026-07, not in 3.15.1).  Matched: the output must "
            "equal the edge-replicating average within the comparison's bound.  Keras "
            "<= 3.4.1 has another bug there (keras-team/keras#19721: wrong shape when "
            "H != W, zero padding counted), which is not declared and fails"
        ),
        issue="https://github.com/keras-team/keras/pull/23233",
        enforced="matched",
        evidence="tests/adapters/test_keras_adapter.py::test_known_keras_backend_bugs_reproduce",
        signature=signatures.SAME_AVERAGE_REPLICATES,
    ),
    Divergence(
        key="keras-torch-same-max-pool-padding-length",
        layer="maxpool2d",
        case="*",
        adapter="keras",
        reason=(
            "keras.layers.MaxPooling2D(padding='same') on the torch backend before Keras "
            "3.9.0 pads each axis by (k - 1) - (n - 1) mod s, split (total // 2, "
            "(total + 1) // 2) (keras 3.6.0 keras/src/backend/torch/nn.py, "
            "_compute_padding_length), not TensorFlow's SAME: -1 for kernel 1, stride 2 on "
            "2 cells, so torch.nn.functional.pad(mode='replicate') crops the first row; "
            "equal sides go to max_pool2d's own padding with the axes swapped.  Measured "
            "with keras 3.6.0 (tox py311-tf218, KERAS_BACKEND=torch): "
            "maxpool_same_k1x2_s2x1 keeps row 1 where SAME keeps row 0.  Fixed by this pull "
            "request in 3.9.0.  Matched: the output and gradient must equal that padding's "
            "max pooling (tests/divergence_signatures.py, torch_same_max_pool) within the "
            "comparison's bound.  Where torch refuses the swapped padding (maxpool_same_k1x3: "
            "'pad should be at most half of effective kernel size') the adapter refuses "
            "the call quoting torch (adapters/_keras_rules.py, same_max_pool_crash)"
        ),
        issue="https://github.com/keras-team/keras/pull/20774",
        enforced="matched",
        evidence=(
            "tests/adapters/test_divergence_signatures.py::"
            "test_torch_same_max_pool_models_keras_3_6_padding"
        ),
        signature=signatures.SAME_MAX_POOL_PADDING_LENGTH,
    ),
    Divergence(
        key="keras-tf-depthwise-stride-dilation-wrong-output",
        layer="conv2d",
        case="*",
        adapter="keras",
        reason=(
            "On the TensorFlow backend, keras.ops.depthwise_conv (and DepthwiseConv2D, "
            "which calls it, where the layer takes the arguments) with strides > 1 and "
            "dilation_rate > 1 passed both to tf.nn.depthwise_conv2d, whose docstring says "
            "'If it is greater than 1, then all values of strides must be 1' and which only "
            "warns and runs its space-to-batch dilation with the stride inside: a wrong "
            "output, often smaller: (1, 10, 10, 3), kernel 3, strides 2, dilation 3, "
            "'valid' gave 1x1 instead of 2x2.  Fixed in keras 3.15 by keras-team/keras"
            "#23027 (issue #22515), which runs the dilated conv at stride 1 and subsamples.  "
            "Matched: the output (shape and values) and the gradients must equal "
            "TensorFlow's space-to-batch computation at the caller's stride within the "
            "comparison's bound.  Measured with keras 3.14.0 (TF 2.21): keras.ops path "
            "conv_depthwise_s2_d3 (1, 6, 1, 1) and conv_depthwise_s2_d2_same wrong values, "
            "both as the model; its DepthwiseConv2D refuses the arguments (its own "
            "ValueError).  3.15.1 passes the cases"
        ),
        issue="https://github.com/keras-team/keras/pull/23027",
        enforced="matched",
        evidence=(
            "tests/adapters/test_keras_depthwise_ops.py::"
            "test_depthwise_stride_dilation_bug_is_matched_where_present"
        ),
        signature=depthwise_signatures.DEPTHWISE_SPACE_TO_BATCH_STRIDED,
    ),
    Divergence(
        key="keras-torch-layernorm-contiguous-non-trailing-axes",
        layer="layernorm",
        case="*",
        adapter="keras",
        reason=(
            "keras.layers.LayerNormalization on the torch backend sends consecutive axes to "
            "torch.nn.functional.layer_norm, which normalises trailing axes only: axis=[1, "
            "2] of a 4-D input raises 'RuntimeError: Given normalized_shape=[...], "
            "expected input with shape [*, ...]' (measured with keras 3.15.1, torch "
            "2.13.0; tensorflow and jax compute it).  Fixed upstream by keras-team/keras"
            "#23510 (merged 2026-08, after 3.15.1)"
        ),
        issue="https://github.com/keras-team/keras/pull/23510",
        enforced="unsupported",
        evidence="tests/adapters/test_keras_adapter.py::test_known_keras_backend_bugs_reproduce",
    ),
    Divergence(
        key="keras-torch-one-filter-conv-grad-weight-contiguous",
        layer="conv2d",
        case="*",
        adapter="keras",
        direction="backward",
        reason=(
            "Conv2D backward with one filter, several input channels and a kernel larger "
            "than 1x1 on Keras' torch backend raises torch's 'RuntimeError: slow_conv2d: "
            "grad_weight must be contiguous': Keras passes torch a channels_last view of "
            "its HWIO kernel, and with one output channel its strides are ones torch's "
            "CPU conv backward rejects (reproduced with torch 2.13.0 alone).  No upstream "
            "torch or keras issue found as of 2026-11 for this case (the same message, a "
            "different trigger: pytorch/vision#6001, fixed in 2022)"
        ),
        issue=None,
        enforced="unsupported",
        evidence=(
            "tests/adapters/test_keras_adapter.py::"
            "test_torch_one_filter_channels_last_conv_backward_fails"
        ),
    ),
    # -- activations (issue 17) --
    Divergence(
        layer="leaky_relu",
        case="leaky_relu_kink",
        adapter="jax",
        direction="backward",
        reason=(
            "jax.nn.leaky_relu is where(x >= 0, x, negative_slope * x) "
            "(jax/_src/nn/functions.py), so its derivative at x == 0 (and -0.0) is 1, "
            "where torch.nn.LeakyReLU, tf.nn.leaky_relu, Keras' LeakyReLU and the "
            "reference give negative_slope; elsewhere they agree.  A convention, asserted "
            "as the conventions row leaky_relu_grad_at_zero; measured with jax 0.10.2.  No "
            "upstream issue (the formula is JAX's documented definition)"
        ),
        issue=None,
    ),
    # Matched: Keras reaches torch's kernel only on the torch backend and tf.nn.gelu only
    # on the tensorflow backend, which test ids cannot name; the probes find the bug
    # through the adapter itself.
    *(
        Divergence(
            key=key,
            layer="hardsigmoid",
            case="*",
            adapter=adapter,
            dtype="float64",
            direction="backward",
            reason=(
                "torch.nn.Hardsigmoid's CPU backward multiplies by one_sixth(1.0f / 6.0f), a "
                "float constant, in every dtype (aten/src/ATen/native/cpu/Activation.cpp, "
                "hardsigmoid_backward_kernel): in float64 the gradient on (-3, 3) is "
                "0.16666667163372040 g, relative error 3e-8 (measured with torch 2.13.0: "
                "4.97e-9 for g = 1; Keras 3.15 on the torch backend inherits it).  Matched: "
                "the gradient must equal that kernel's, g * float32(1/6) on (-3, 3) and 0 "
                "elsewhere, within the comparison's bound.  No upstream issue found as of "
                "2026-11 (searched: hardsigmoid backward float64 precision; one_sixth 1.0f "
                "/ 6.0f)"
            ),
            issue=None,
            enforced="matched",
            evidence=(
                "tests/adapters/test_activation_adapters.py::"
                "test_torch_hardsigmoid_float64_backward_uses_a_float32_sixth"
            ),
            signature=activation_signatures.HARDSIGMOID_FLOAT32_SIXTH,
        )
        for key, adapter in (
            ("torch-hardsigmoid-float64-grad-float32-sixth", "torch"),
            ("keras-torch-hardsigmoid-float64-grad-float32-sixth", "keras"),
        )
    ),
    *(
        Divergence(
            key=key,
            layer="gelu",
            case="*",
            adapter=adapter,
            dtype="float64",
            reason=(
                "tf.nn.gelu (which Keras calls on the tensorflow backend) makes its constants "
                "with math_ops.cast(0.7071067811865476, features.dtype) (and 0.044715 for "
                "approximate=True); tf.cast of a Python float builds a float32 constant "
                "first, so float64 GELU uses 0.7071067690849304: measured with TF 2.21, "
                "errors up to 4.6e-9 (relative 3e-8) forward and backward in float64.  TF "
                "2.15.1 and 2.18.1 compute the exact form as 0.5 x (1 + erf(x / "
                "cast(1.4142135623730951))), so float64 divides by float32(sqrt 2) (tox "
                "py311-tf215, py311-tf218).  "
                "Matched: the output and gradient must equal tf.nn.gelu's formula with "
                "those float32-rounded constants within the comparison's bound.  No "
                "upstream issue found as of 2026-11 (searched: tf.nn.gelu float64 "
                "precision; math_ops.cast constant float32)"
            ),
            issue=None,
            enforced="matched",
            evidence=(
                "tests/adapters/test_activation_adapters.py::"
                "test_tf_gelu_float64_uses_float32_constants"
            ),
            signature=activation_signatures.TF_GELU_FLOAT32_CONSTANTS,
        )
        for key, adapter in (
            ("tf-nn-gelu-float64-constants-via-float32", "tensorflow"),
            ("keras-tf-gelu-float64-constants-via-float32", "keras"),
        )
    ),
    *ONNX_DIVERGENCES,
    Divergence(
        key="flax-xla-cpu-conv-grad-abort",
        layer="conv2d",
        case="*",
        adapter="flax",
        direction="backward",
        reason=(
            "The jax entry's XLA:CPU abort, through flax.linen.Conv: jax.vjp of a Conv "
            "strided on both axes and dilated aborts the process (SIGABRT, "
            "'algebraic_simplifier.cc:586] Check failed: ... Window dimensions do not match "
            "RHS shape'), e.g. x (1,8,4,1), kernel (3,2,1,1), strides (2,2), padding "
            "((0,0),(1,1)), kernel_dilation (2,1); seen with flax 0.12.8, jax 0.10.2.  The "
            "adapter refuses the same family as the jax adapter.  No upstream jax / openxla "
            "issue found as of 2026-11 (see the jax entry)"
        ),
        issue=None,
        enforced="unsupported",
        evidence="tests/adapters/test_flax_adapter.py::test_conv_backward_abort_family",
    ),
    Divergence(
        key="litert-converter-aborts-on-weights",
        layer="*",
        case="*",
        adapter="litert",
        direction="forward",
        reason=(
            "TF 2.16's tf.lite.TFLiteConverter aborts the process ('LLVM ERROR: Failed to "
            "infer result type(s)' after \"ReadVariableOp ... error: missing attribute "
            "'value'\") converting any Keras 3 model that reads a variable: measured with "
            "TF 2.16.2 and Keras 3.3.3 (tox py311-tf216) on Dense, Conv2D, Conv2DTranspose "
            "and BatchNormalization; TF 2.15.1 (tf.keras 2.15), 2.18.1 and 2.21.0 convert "
            "them.  The adapter asks a child process to convert a one-unit Dense once per "
            "process (converters older than TF 2.18 only) and, where the child dies, refuses "
            "every layer with weights quoting what it printed"
        ),
        issue="https://github.com/tensorflow/tensorflow/issues/63987",
        enforced="unsupported",
        evidence=(
            "tests/adapters/test_litert_adapter.py::"
            "test_weights_are_refused_only_where_a_child_conversion_dies"
        ),
    ),
    Divergence(
        key="flax-avg-pool-exclude-pad-float32-to-float64",
        layer="avgpool2d",
        case="*",
        adapter="flax",
        dtype="float32",
        direction="forward",
        reason=(
            "flax.linen.avg_pool(count_include_pad=False) returns float64 for float32 inputs "
            "when jax_enable_x64 is on: it divides the window sums by a pool of "
            "jnp.ones(div_shape), created without a dtype, so float64 under x64 "
            "(flax/linen/pooling.py, flax 0.12.8).  The values are right; the dtype is "
            "not the input's.  Matched: the float32 forward fails on its dtype and xfails "
            "only where the output is float64 with values within the float32 bound.  "
            "Measured with flax 0.12.8 / jax 0.10.2.  No upstream flax issue found as of "
            "2026-11 (searched: avg_pool count_include_pad float64 x64 dtype)"
        ),
        issue=None,
        enforced="matched",
        evidence=(
            "tests/adapters/test_flax_adapter.py::"
            "test_avg_pool_exclude_pad_promotes_float32_under_x64"
        ),
        signature=flax_signatures.AVG_POOL_PROMOTES,
    ),
]


# Nearest resizing at an exact tie: every framework below computes the source coordinate in
# float32, whatever the input dtype, and reads the other neighbour (the reference computes
# it exactly).  Measured on 1-D resizes with in <= 32, out <= 64 (half_pixel,
# round_prefer_ceil, i.e. floor((i + 0.5) * in/out)): torch 'nearest-exact' and
# tf.image.resize flip at 33 size pairs, jax.image.resize at 48, the first at 2 -> 41;
# torch 'nearest' (floor(i * in/out)) at 5, the first at 14 -> 46.  onnxruntime has the
# same class of bug for 20 -> 6 (microsoft/onnxruntime#28291, onnx/onnx#7841).
_TIE = (
    "At an exact tie of nearest resizing the source coordinate is computed in float32 and "
    "lands on the other side: 2 -> 41, output row 20 samples (20 + 1/2) * 2/41 - 1/2 = 1/2 "
    "exactly, which round_prefer_ceil (the rule of this framework's nearest mode) sends to "
    "row 1; "
)
_TIE_SEARCHED = (
    "No upstream issue found for this framework as of 2026-11 (searched: nearest resize "
    "float32 rounding exact tie wrong index; the same class of bug in onnxruntime: "
    "https://github.com/microsoft/onnxruntime/issues/28291)"
)
DIVERGENCES += [
    Divergence(
        layer="resize2d",
        case="resize_nearest_exact_tie",
        adapter="torch",
        reason=(
            f"{_TIE}torch.nn.functional.interpolate(mode='nearest-exact') computes "
            "floor((i + 0.5) * scale) with a float32 scale = in/out "
            "(aten/src/ATen/native/UpSample.h, nearest_neighbor_exact_compute_source_index) "
            f"and reads row 0 (torch 2.13.0, float32 and float64 inputs).  {_TIE_SEARCHED}"
        ),
    ),
    Divergence(
        layer="resize2d",
        case="resize_nearest_exact_tie",
        adapter="tensorflow",
        reason=(
            f"{_TIE}tf.image.resize(method='nearest') computes floor((i + 0.5) * scale) with "
            "a float32 scale = in/out (ResizeNearestNeighbor, half_pixel_centers=True; "
            "CalculateResizeScale) and reads row 0 (tensorflow 2.21, float32 and float64 "
            f"inputs).  {_TIE_SEARCHED}"
        ),
    ),
    Divergence(
        layer="resize2d",
        case="resize_nearest_exact_tie",
        adapter="litert",
        reason=(
            f"{_TIE}the converted keras.layers.Resizing(interpolation='nearest') computes the "
            "coordinate in float32 as tf.image.resize does and reads row 0: LiteRT's output "
            "equals tf.nn's and Keras' exactly (ai-edge-litert 2.3.0, TF 2.21, float32).  "
            f"{_TIE_SEARCHED}"
        ),
    ),
    Divergence(
        layer="maxpool2d",
        case="maxpool_nan*",
        adapter="litert",
        direction="forward",
        reason=(
            "LiteRT's MAX_POOL_2D (XNNPACK delegate) over a window holding NaN follows neither "
            "torch (NaN) nor TF (the max of the other cells): in maxpool_nan the window "
            "[[nan, 3], [9, -6.25]] gives -inf where tf.nn.max_pool2d gives 9 and the "
            "reference NaN (ai-edge-litert 2.3.0, TF 2.21, float32).  No max-pool issue found; "
            "the same -inf for NaN windows is reported for TFLite's average pooling in "
            "tensorflow/tensorflow#120296"
        ),
        issue="https://github.com/tensorflow/tensorflow/issues/120296",
    ),
    Divergence(
        layer="resize2d",
        case="resize_nearest_exact_tie",
        adapter="keras",
        reason=(
            f"{_TIE}keras.layers.Resizing(interpolation='nearest') calls its backend's resize "
            "(tf.image.resize on tensorflow, jax.image.resize on jax, torch 'nearest-exact' "
            "on torch), each computing the coordinate in float32, and reads row 0 (keras "
            f"3.15.1 on tensorflow 2.21, float32 and float64).  {_TIE_SEARCHED}"
        ),
    ),
    *(
        Divergence(
            layer="resize2d",
            case="resize_nearest_exact_tie",
            adapter=name,
            direction="forward",
            reason=(
                f"{_TIE}torch.onnx.export writes torch.nn.Upsample(mode='nearest-exact') as "
                "a GatherND whose indices are a constant torch computed at export (in "
                "float32, as the torch entry says), so the graph reads row 0 in every "
                "runtime, float32 and float64 (tests/adapters/test_onnx_adapters.py::"
                "test_exported_nearest_resize_holds_torchs_indices).  The torch bug, "
                f"inherited.  {_TIE_SEARCHED}"
            ),
        )
        for name in ("onnxruntime", "onnx_reference")
    ),
    Divergence(
        layer="resize2d",
        case="resize_nearest_exact_tie",
        adapter="jax",
        reason=(
            f"{_TIE}jax.image.resize(method='nearest') computes (i + 0.5) * in / out in "
            "float32 ('this computation produces the wrong result on CPU and GPU when using "
            "float64. Use float32 until the bug is fixed', jax/_src/image/scale.py, "
            f"_resize_nearest) and reads row 0 (jax 0.10.2, float32 and float64).  "
            f"{_TIE_SEARCHED}"
        ),
    ),
]


_NAN_CASES = "maxpool_nan*"

#: The backend Keras runs its layers on (read once, at import, by keras and by
#: adapters/keras.py): Keras's max pooling treats NaN as that framework does.
_KERAS_BACKEND = os.environ.get("KERAS_BACKEND", "tensorflow")


def _nan_convention(adapter: str, direction: str, case: str, row: str, what: str) -> Divergence:
    return Divergence(
        layer="maxpool2d",
        case=case,
        adapter=adapter,
        direction=direction,
        reason=f"documented convention (conventions row {row}): {what}",
        convention=row,
    )


def _maxpool_nan_conventions(framework: str, adapter: str) -> list[Divergence]:
    """How ``framework``'s max pooling departs from the reference's on the NaN cases,
    declared for ``adapter`` (the framework's own, or Keras on that backend)."""
    forward, backward = "maxpool_nan_forward", "maxpool_nan_grad"
    if framework == "tensorflow":
        return [
            _nan_convention(
                adapter, "forward", _NAN_CASES, forward,
                "TF's max pooling drops NaN: a window holding NaN gives the max of its other "
                "cells where the reference (as torch and JAX) gives NaN",
            ),
            _nan_convention(
                adapter, "backward", _NAN_CASES, backward,
                "TF sends a NaN window's gradient to its first cell if that is NaN, else to "
                "the first maximum of the other cells; the reference to the first NaN",
            ),
        ]  # fmt: skip
    if framework == "jax":
        return [
            _nan_convention(
                adapter, "backward", _NAN_CASES, backward,
                "jax.vjp of lax.reduce_window(max) sends a NaN window's gradient to the first "
                "maximum after its last NaN (that NaN if it ends the window); the reference "
                "to the first NaN",
            )
        ]  # fmt: skip
    if framework == "torch":
        return [
            _nan_convention(
                adapter, "backward", "maxpool_nan_several", backward,
                "torch sends the gradient of a window with several NaNs to the last one; the "
                "reference to the first",
            )
        ]  # fmt: skip
    return []


DIVERGENCES += [
    *_maxpool_nan_conventions("tensorflow", "tensorflow"),
    *_maxpool_nan_conventions("jax", "jax"),
    # flax.linen.max_pool is lax.reduce_window(max), its gradient jax.vjp: JAX's rule.
    *_maxpool_nan_conventions("jax", "flax"),
    *_maxpool_nan_conventions("torch", "torch"),
    *_maxpool_nan_conventions(_KERAS_BACKEND, "keras"),
    _nan_convention(
        "scipy",
        "forward",
        _NAN_CASES,
        "maxpool_nan_forward",
        "scipy.ndimage.maximum_filter keeps a NaN only where it comes first in its scan",
    ),
    # Decoder layers (issue 16).
    Divergence(
        key="keras-torch-conv-transpose-same-shifted",
        layer="conv_transpose2d",
        case="*",
        adapter="keras",
        reason=(
            "keras.layers.Conv2DTranspose(padding='same') on Keras' torch backend before "
            "keras-team/keras#22876 gives torch a symmetric padding plus output_padding "
            "(keras 3.14.1 backend_utils, _convert_conv_transpose_padding_args_from_keras_"
            "to_torch), which shifts the output by one cell where the SAME crop is odd (an "
            "odd kernel at stride 2: torch padding 1, output_padding 1): on [1, 10, 100] "
            "with a kernel of ones it keeps the full scatter's cells 1-6, not 0-5 as "
            "TensorFlow and JAX do.  Matched: the output and gradients must equal that "
            "torch call's within conv_transpose2d's rule on its own terms.  Measured with "
            "keras 3.14.0/3.14.1 and torch 2.13.0 (tox py311-kerastorch-keras314): "
            "ct_same_k3_s2 and onnx_convtranspose_autopad_same as the model, "
            "ct_same_k4_s2 and ct_valid_s3_k2 (also 'same' in Keras, an even crop) "
            "right; keras 3.15.1 computes every case right"
        ),
        issue="https://github.com/keras-team/keras/pull/22876",
        enforced="matched",
        evidence="tests/adapters/test_keras_adapter.py::test_keras_conv_transpose_same_shift",
        signature=decoder_signatures.TRANSPOSE_SAME_SHIFTED,
    ),
    Divergence(
        key="keras-torch-one-input-channel-conv-transpose-grad-weight-contiguous",
        layer="conv_transpose2d",
        case="*",
        adapter="keras",
        direction="backward",
        reason=(
            "Conv2DTranspose backward from one input channel to several, with a kernel "
            "larger than 1x1, on Keras' torch backend raises torch's 'RuntimeError: "
            "grad_weight needs to be contiguous': Keras gives torch's conv_transpose2d a "
            "channels_last view of its NHWC input and a permuted kernel, and with one input "
            "channel torch's CPU backward rejects the weight gradient's strides (reproduced "
            "with torch 2.13.0 alone; keras 3.14.1 and 3.15.1).  No upstream torch or keras "
            "issue found as of 2026-11 (searched: conv_transpose2d 'grad_weight needs to "
            "be contiguous' channels_last)"
        ),
        issue=None,
        enforced="unsupported",
        evidence=(
            "tests/adapters/test_keras_adapter.py::"
            "test_torch_one_input_channel_channels_last_conv_transpose_backward_fails"
        ),
    ),
]


def find(layer: str, case: str, adapter: str, dtype: str, direction: str) -> Divergence | None:
    """The "xfail" entry matching a parity test id's fields."""
    for entry in DIVERGENCES:
        if entry.enforced == "xfail" and entry.matches(layer, case, adapter, dtype, direction):
            return entry
    return None


def refused(key: str) -> Divergence:
    """The "unsupported" entry an adapter's refusal names."""
    for entry in DIVERGENCES:
        if entry.enforced == "unsupported" and entry.key == key:
            return entry
    raise KeyError(f"no enforced='unsupported' entry with key {key!r}")


def marks(layer: str, case: str, adapter: str, dtype: str, direction: str) -> list:
    entry = find(layer, case, adapter, dtype, direction)
    if entry is None:
        return []
    reason = _cite(entry)
    if entry.convention:
        reason += " (tests/conventions/table_nan.py)"
    return [pytest.mark.xfail(strict=True, reason=reason, raises=AssertionError)]


@dataclass(frozen=True)
class Verdict:
    """What the "matched" entries say about one parity comparison."""

    #: The xfail reason: the failure is a present declared bug's own wrong value.
    xfail: str | None = None
    #: Why a pass is wrong: a present declared bug must have changed this answer.
    stale: str | None = None
    #: The key of the entry concerned, for the report.
    key: str | None = None


def judge(fields: tuple[str, str, str, str, str], observed, failed: bool) -> Verdict:
    """Judge one parity comparison (``fields``: layer, case, adapter, dtype, direction;
    ``observed``: ``tests.harness.Observed``) against the "matched" entries whose
    patterns match and whose probe finds the bug in the installed framework."""
    for entry in DIVERGENCES:
        if entry.enforced != "matched" or not entry.matches(*fields):
            continue
        evidence = entry.signature.present(observed.adapter)
        if evidence is None:
            continue
        if failed:
            how = entry.signature.explains(observed)
            if how is not None:
                link = entry.issue or "no upstream issue found"
                xfail = f"{entry.key} ({link}): {how}; {evidence}"
                return Verdict(xfail=xfail, key=entry.key)
        elif entry.signature.must_fail(observed):
            return Verdict(
                stale=(
                    f"[XPASS(strict)] {entry.key}: {evidence}, and its model changes this "
                    "comparison's answer beyond the bound, yet it passed: the entry in "
                    f"tests/known_divergences.py or its model is out of date. {_cite(entry)}"
                ),
                key=entry.key,
            )
    return Verdict()


def _cite(entry: Divergence) -> str:
    return entry.reason + (f" ({entry.issue})" if entry.issue else "")
