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

tests/adapters/test_known_divergences.py checks the links and the keys.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from fnmatch import fnmatchcase

import pytest

from tests import divergence_signatures as signatures
from tests import divergence_signatures_activations as activation_signatures
from tests import divergence_signatures_decoder as decoder_signatures
from tests import divergence_signatures_depthwise as depthwise_signatures
from tests import divergence_signatures_flax as flax_signatures
from tests import divergence_signatures_onnx as onnx_signatures
from tests import divergence_signatures_onnx_pool as onnx_pool_signatures


@dataclass(frozen=True)
class Divergence:
    layer: str
    case: str
    adapter: str
    reason: str
    dtype: str = "*"
    direction: str = "*"
    #: The framework's issue for a framework bug, else None (documented limitation).
    issue: str | None = None
    #: "xfail", "matched" or "unsupported" (see the module docstring).
    enforced: str = "xfail"
    #: Short id: an adapter's refusal quotes it ("unsupported"); xfail reasons name it.
    key: str = ""
    #: The test (``path::name``) that demonstrates the bug ("unsupported", "matched").
    evidence: str = ""
    #: How to recognise the bug's wrong value ("matched" only).
    signature: signatures.Signature | None = None
    #: The conventions row (tests/conventions/table.py id) of a documented difference the
    #: reference cannot take as a parameter; such an entry is not a bug.
    convention: str | None = None

    def matches(self, layer: str, case: str, adapter: str, dtype: str, direction: str) -> bool:
        fields = zip(
            (self.layer, self.case, self.adapter, self.dtype, self.direction),
            (layer, case, adapter, dtype, direction),
            strict=True,
        )
        return all(fnmatchcase(value, pattern) for pattern, value in fields)


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
    # ONNX (adapters/_onnx_export.py): measured with torch 2.13.0's torch.onnx.export
    # (dynamo=True, onnxscript 0.7.2, opset 20), onnxruntime 1.32.0 and onnx 1.23.2.
    *(
        Divergence(
            key=f"{name}-export-drops-divisor-override",
            layer="avgpool2d",
            case="*",
            adapter=name,
            direction="forward",
            reason=(
                "torch.onnx.export drops AvgPool2d's divisor_override without a word: the "
                "exported AveragePool divides by the window size (kernel 2x2, "
                "divisor_override=3: every output is 3/4 of torch's).  onnxscript's "
                "torch_lib aten_avg_pool2d takes divisor_override and never reads it ('TODO: "
                "if want to support divisor_override argument'); the TorchScript exporter "
                "refused it instead.  Matched: the output must equal the exported "
                "AveragePool without divisor_override (torch's windows and divisors) within "
                "the comparison's bound; another wrong value fails"
            ),
            issue="https://github.com/pytorch/pytorch/issues/105349",
            enforced="matched",
            evidence="tests/adapters/test_onnx_adapters.py::test_export_drops_divisor_override",
            signature=onnx_pool_signatures.DROPS_DIVISOR_OVERRIDE,
        )
        for name in ("onnxruntime", "onnx_reference")
    ),
    *(
        Divergence(
            key=f"{name}-export-drops-label-smoothing",
            layer="cross_entropy",
            case="*",
            adapter=name,
            direction="forward",
            reason=(
                "torch.onnx.export drops CrossEntropyLoss's label_smoothing without a word: "
                "the exported SoftmaxCrossEntropyLoss computes the unsmoothed loss (case "
                "ce_smooth_golden, logits [[0, ln 3]], target [0], label_smoothing=0.2: "
                "ln 4 = 1.3863, torch and the reference 1.2764).  onnxscript's torch_lib "
                "aten_cross_entropy_loss takes label_smoothing and never reads it ('# this "
                "was ignored due to ONNX not support', since microsoft/onnxscript#444); the "
                "TorchScript exporter refused it ('Unsupported: ONNX does not support "
                "label_smoothing').  Matched: the output must equal the unsmoothed loss "
                "(logsumexp(x) - x[target], reduced) within the comparison's bound; another "
                "wrong value fails"
            ),
            issue="https://github.com/microsoft/onnxscript/pull/444",
            enforced="matched",
            evidence="tests/adapters/test_onnx_adapters.py::test_export_drops_label_smoothing",
            signature=onnx_pool_signatures.DROPS_LABEL_SMOOTHING,
        )
        for name in ("onnxruntime", "onnx_reference")
    ),
    *(
        Divergence(
            layer=layer,
            case=case,
            adapter="onnxruntime",
            direction="forward",
            reason=(
                f"{through}ONNX Runtime's CPU Sigmoid is accurate to an absolute error of "
                "about one epsilon, not to a few ulps of the result: measured on a grid over "
                "[-60, 60], max |error| 1.3 eps (float32), 1.0 eps (float64); 8.9 ulps at "
                "-2 < x < 0; sigmoid(-17) = 8.94e-08 in float32 (exact 4.14e-08), and 0.0 "
                "for every x <= -15.96 (float32) / x <= -36.74 (float64).  Also reported "
                "with torch exports as pytorch/pytorch#147508"
            ),
            issue="https://github.com/microsoft/onnxruntime/issues/22557",
        )
        for layer, case, through in (
            ("sigmoid", "*", ""),
            (
                "silu",
                "*",
                "SiLU exports as Mul(x, Sigmoid(x)) and ONNX Runtime's output is exactly x "
                "times its Sigmoid (tests/adapters/test_onnx_adapters.py::"
                "test_onnxruntime_silu_and_bce_logits_inherit_its_sigmoid): silu_nchw "
                "gives -0.0 where silu(-24.4) = -1.29e-09 (float32), max relative error "
                "1.1e-06 (float32), 9.6e-08 (float64).  ",
            ),
            (
                "binary_cross_entropy",
                "bce_logits_large",
                "BCEWithLogitsLoss exports as (1 - target) * x - Log(Sigmoid(x)): ONNX "
                "Runtime's Sigmoid(-60) = 0 gives log(0) = -inf and a loss of inf where "
                "torch, onnx.reference (same graph) and the reference give 31.46 (tests/"
                "adapters/test_onnx_adapters.py::"
                "test_onnxruntime_silu_and_bce_logits_inherit_its_sigmoid).  ",
            ),
        )
    ),
    Divergence(
        layer="cross_entropy",
        case="ce_index_large_logits",
        adapter="onnx_reference",
        direction="forward",
        reason=(
            "onnx.reference's SoftmaxCrossEntropyLoss takes log(softmax(x)) after the "
            "softmax has underflowed: logits [251.4, 946.1, -409.6], target 2 give "
            "log(0) = -inf and a loss of inf, where the loss is logsumexp(x) - x[2] = "
            "946.13 + 409.56 = 1355.69 (torch, ONNX Runtime and the reference agree; mean "
            "601.05).  Fixed upstream by onnx/onnx#8423 (merged 2026-09), not in onnx 1.23.2"
        ),
        issue="https://github.com/onnx/onnx/pull/8423",
    ),
    # Ceil-mode pooling in older runtimes (the tox environment py311-onnxold: onnxruntime
    # 1.20.1, onnx 1.17.0).  Matched: the probes of adapters/_onnx_rules.py
    # (runtime_ceil_bugs) select the bug, and the model of that release's whole pooling
    # output (tests/divergence_signatures_onnx_pool.py) must explain the failing output;
    # onnxruntime 1.32.0 and onnx 1.23.2 have none of them, and run the same cases.
    *(
        Divergence(
            key=f"{name}-ceil-window-in-padding",
            layer="*pool2d",
            case="*",
            adapter=name,
            direction="forward",
            reason=(
                f"{runtime} keeps the last ceil-mode pooling window when it would start in "
                "the right padding, which torch drops: x (1,2,7,4), kernel 2, stride 3, "
                "padding 1 gives (4, 3) outputs where torch gives (3, 2).  Matched: the output "
                "must equal that release's pooling (the extra window: the dtype's lowest value "
                "in MaxPool, 0 in AveragePool; onnx 1.17 pads to the rounded-up length, half "
                "the extra cells before) within the comparison's bound.  Measured with "
                f"{measured}; fixed by {fixed}"
            ),
            issue=issue,
            enforced="matched",
            evidence=(
                "tests/adapters/test_onnx_adapters.py::test_ceil_pool_bugs_match_their_models"
            ),
            signature=onnx_pool_signatures.POOL_BUGS[(name, "window-in-padding")],
        )
        for name, runtime, measured, fixed, issue in (
            (
                "onnxruntime",
                "ONNX Runtime's MaxPool and AveragePool",
                "onnxruntime 1.20.1",
                "microsoft/onnxruntime#16752 (1.32.0 drops it)",
                "https://github.com/microsoft/onnxruntime/issues/15446",
            ),
            (
                "onnx_reference",
                "onnx.reference's AveragePool (its MaxPool drops it since onnx/onnx#5741)",
                "onnx 1.17.0",
                "onnx/onnx#6650 (1.23.2 drops it)",
                "https://github.com/onnx/onnx/issues/4958",
            ),
        )
    ),
    *(
        Divergence(
            key=f"{name}-ceil-overhang-divisor",
            layer="avgpool2d",
            case="*",
            adapter=name,
            direction="forward",
            reason=(
                f"{runtime} divides a ceil-mode AveragePool window (count_include_pad=1) "
                "that runs past the padding by the whole kernel, where torch divides by the "
                "cells of the input and padding it covers: x (1,2,8,8), kernel 3, stride 2 "
                "gives 4/9 of torch's value in the last row and column's corner.  Matched: "
                "the output must equal that release's AveragePool within the comparison's "
                f"bound; another wrong value fails.  Measured with {measured}; fixed by {fixed}"
            ),
            issue=issue,
            enforced="matched",
            evidence=(
                "tests/adapters/test_onnx_adapters.py::test_ceil_pool_bugs_match_their_models"
            ),
            signature=onnx_pool_signatures.POOL_BUGS[(name, "overhang-divisor")],
        )
        for name, runtime, measured, fixed, issue in (
            (
                "onnxruntime",
                "ONNX Runtime",
                "onnxruntime 1.20.1",
                "microsoft/onnxruntime#16752 (1.32.0 agrees with torch)",
                "https://github.com/microsoft/onnxruntime/issues/16203",
            ),
            (
                "onnx_reference",
                "onnx.reference",
                "onnx 1.17.0",
                "onnx/onnx#6650 (1.23.2 agrees with torch)",
                "https://github.com/onnx/onnx/issues/5276",
            ),
        )
    ),
    # onnx.reference's ceil-mode AveragePool (onnx/reference/ops/op_pool_common.py, onnx
    # 1.17.0 to 1.23.2): the current release's own wrong value, modelled exactly.
    Divergence(
        key="onnx_reference-ceil-extra-pad-before",
        layer="avgpool2d",
        case="*",
        adapter="onnx_reference",
        direction="forward",
        reason=(
            "onnx.reference's ceil-mode AveragePool pads the input to the rounded-up length "
            "(out - 1) * stride + kernel with half the extra cells before it (op_pool_common.py "
            "get_output_shape_explicit_padding: 'pads_spatial_shape_new[dim] += extra_pad // "
            "2'), so every window on that axis starts that many cells early; onnx 1.23.2's "
            "pool() then keeps only taps below in + pads, dropping the last real cells (fuzz: "
            "x (1,1,1,4), kernel 3, padding (1, 0), ceil_mode, count_include_pad=False gives "
            "[mean(x0, x1), x2] where torch gives [mean(x0, x1, x2), x3]; probe [0, 1, 2, 3], "
            "kernel (1, 3): [0.5, 2], torch [1, 3]).  ONNX Runtime 1.32.0 runs the same graph "
            "as torch does.  Matched: the output must equal op_pool_common.py's AveragePool "
            "(onnx_average_pool; onnx 1.17.0: onnx_old_average_pool) within the comparison's "
            "bound; another wrong value fails.  Measured with onnx 1.23.2 and 1.17.0.  No "
            "upstream onnx issue found as of 2026-11 (searched: ReferenceEvaluator "
            "AveragePool ceil_mode extra_pad // 2 shifted windows; "
            "get_output_shape_explicit_padding pads_required; onnx/onnx#4958 reports only the "
            "window starting in the padding)"
        ),
        issue=None,
        enforced="matched",
        evidence="tests/adapters/test_onnx_adapters.py::test_ceil_pool_bugs_match_their_models",
        signature=onnx_pool_signatures.POOL_BUGS[("onnx_reference", "extra-pad-before")],
    ),
    # onnx.reference's MaxPool at stride 1 and dilation 1 (onnx/reference/ops/op_max_pool.py
    # hands it to _op_common_pool.CommonPool; other strides go to its own _max_pool, and
    # AveragePool to op_pool_common, both right).  Matched where it returns an output (the
    # model: tests/divergence_signatures_onnx_pool.py common_pool_max); where it raises,
    # the adapter refuses quoting the error (onnx_reference-unit-stride-maxpool-fails).
    *(
        Divergence(
            key=f"onnx_reference-unit-stride-maxpool-{bug}",
            layer="maxpool2d",
            case="*",
            adapter="onnx_reference",
            direction="forward",
            reason=(
                "onnx.reference's MaxPool at stride 1 and dilation 1 runs "
                f"onnx/reference/ops/_op_common_pool.py's CommonPool, which {what}.  "
                "torch.onnx.export writes torch's padding as ONNX pads [h_begin, w_begin, "
                "h_end, w_end] and ceil_mode as given (opset 20); ONNX Runtime 1.32.0 runs "
                "the same graph with torch's shape.  Measured with onnx 1.23.2 (fuzz: "
                f"{example}).  No upstream onnx issue found as of 2026-11 (searched: "
                "reference MaxPool pads order; ReferenceEvaluator MaxPool strides 1 "
                "ceil_mode pads output shape); the pooling fix onnx/onnx#6650 changed "
                "op_pool_common.py, not this path.  Matched: the output must equal that "
                "path's (NaN padding on the sides it reads, its output length, the windows "
                "past its loop left 0) within the comparison's bound"
            ),
            issue=None,
            enforced="matched",
            evidence=(
                "tests/adapters/test_onnx_adapters.py::"
                "test_unit_stride_maxpool_bugs_match_their_model"
            ),
            signature=onnx_pool_signatures.POOL_BUGS[("onnx_reference", bug)],
        )
        for bug, what, example in (
            (
                "pads-misread",
                "unpacks pads as 'pad_top, pad_bottom, pad_left, pad_right = pads' and pads "
                "the wrong sides (pads [0, 1, 0, 1] pads H by 1 and W by 1 at the end only)",
                "x (1,1,3,3), kernel 2, stride 1, padding (0, 1) gives a (3, 3) output where "
                "torch gives (2, 4)",
            ),
            (
                "ceil-pads-twice",
                "in ceil mode computes the output length from the padded length plus the "
                "padding again",
                "x (1,1,1,1), kernel 2, stride 1, padding 1, ceil_mode gives a (4, 4) "
                "output where torch and the reference give (2, 2)",
            ),
        )
    ),
    Divergence(
        key="onnx_reference-unit-stride-maxpool-fails",
        layer="maxpool2d",
        case="*",
        adapter="onnx_reference",
        direction="forward",
        reason=(
            "onnx.reference's MaxPool at stride 1 and dilation 1 (_op_common_pool.py's "
            "CommonPool, which reads pads [h_begin, w_begin, h_end, w_end] as (top, bottom, "
            "left, right) and in ceil mode counts the padding twice) raises on some valid "
            "configurations: x (1,1,3,1), kernel 3, padding (0, 1) gives 'RuntimeError: "
            "output shape cannot be null or negative, out_shape=(2, 0)' where torch gives "
            "(1, 1); a window its misplaced padding fills wholly gives NumPy's 'zero-size "
            "array to reduction operation maximum which has no identity'.  The adapter "
            "refuses the call when the evaluator raises one of these on a unit-stride "
            "MaxPool it misreads, quoting it.  Measured with onnx 1.23.2 and 1.17.0.  No "
            "upstream onnx issue found as of 2026-11 (searched: reference MaxPool pads "
            "order; ReferenceEvaluator MaxPool strides 1 output shape cannot be null)"
        ),
        issue=None,
        enforced="unsupported",
        evidence=(
            "tests/adapters/test_onnx_adapters.py::"
            "test_unit_stride_maxpool_errors_are_refused_quoting_them"
        ),
    ),
    # Matched: the fuzz test meets these in any float64 case, so each is recognised by its
    # model (tests/divergence_signatures_onnx.py), not by a case id.
    Divergence(
        key="onnx_reference-erf-float64-via-float32",
        layer="gelu",
        case="*",
        adapter="onnx_reference",
        dtype="float64",
        direction="forward",
        reason=(
            "onnx.reference's Erf rounds its result to float32 in every dtype: "
            "onnx/reference/ops/op_erf.py builds np.vectorize(math.erf, otypes=['f']) and "
            "casts back to the input dtype, so a float64 Gelu (ONNX's function body: "
            "0.5 x (1 + Erf(x / sqrt 2))) is off by up to 5.6e-08 (gelu_none: "
            "-0.000141578 vs -0.000141522, max relative error 1.0 where 1 + erf "
            "cancels).  Matched: the output must equal 0.5 x (1 + float32(erf(x / "
            "sqrt 2))) within the float64 comparison's bound; another wrong value fails.  "
            "ONNX Runtime has no float64 Erf kernel and refuses the graph.  Measured with "
            "onnx 1.23.2.  No upstream onnx issue found as of 2026-11 (searched: reference "
            "Erf float32 otypes float64 precision)"
        ),
        issue=None,
        enforced="matched",
        evidence=(
            "tests/adapters/test_onnx_adapters.py::"
            "test_onnx_reference_erf_rounds_float64_to_float32"
        ),
        signature=onnx_signatures.ERF_VIA_FLOAT32,
    ),
    Divergence(
        key="onnx_reference-cubic-coefficients-float32",
        layer="resize2d",
        case="*",
        adapter="onnx_reference",
        dtype="float64",
        direction="forward",
        reason=(
            "onnx.reference hands FLOAT attributes to operators as np.float32 scalars "
            "(onnx/reference/op_run.py: 'AttributeProto.FLOAT: lambda att: "
            "np.float32(att.f)'), and under NumPy 2's promotion rules (NEP 50) its Resize's "
            "cubic coefficients, A * (ratio + 1) ... with A = cubic_coeff_a, are then "
            "computed in float32 even for float64 data: off by 3.0e-07 "
            "(resize_bicubic_align_corners: worst 0.57585959 vs 0.57585899; fuzz: one cell "
            "upsampled by 1.5 is the cell times 1.0000008, the float32 coefficients' sum).  "
            "Cases whose ratios are dyadic (scale 2) are exact.  Matched: the output must "
            "equal that Resize with float32 coefficients (float64 coordinates and sums) "
            "within the float64 comparison's bound; another wrong value fails.  ONNX Runtime "
            "has no float64 Resize kernel.  Measured with onnx 1.23.2, NumPy 2.  No upstream "
            "onnx issue found as of 2026-11 (searched: ReferenceEvaluator float attribute "
            "np.float32 float64 precision Resize cubic_coeff_a)"
        ),
        issue=None,
        enforced="matched",
        evidence=(
            "tests/adapters/test_onnx_adapters.py::"
            "test_onnx_reference_cubic_coefficients_are_float32"
        ),
        signature=onnx_signatures.CUBIC_COEFFICIENTS_FLOAT32,
    ),
    Divergence(
        key="onnx_reference-resize-align-corners-unfloored-length",
        layer="resize2d",
        case="*",
        adapter="onnx_reference",
        direction="forward",
        reason=(
            "onnx.reference's Resize maps align_corners coordinates over the unfloored "
            "output length: op_resize.py _compute_x_ori takes y (n - 1) / (output_width - "
            "1) with output_width = scale * n, where the operator text's length_resized and "
            "torch's align_corners=True use the integer output length (the README's resize "
            "conventions).  torch.onnx.export writes scale_factor as Resize scales, so a "
            "scale with n * scale not an integer samples elsewhere: [0, 1, 2] by 0.75 gives "
            "[0, 1.6], torch and the reference [0, 2] (fuzz: (2, 3) by 0.75, linear).  "
            "Matched: the output must equal the evaluator's Resize with that length (and its "
            "float32 cubic coefficients) within the comparison's bound; another wrong value "
            "fails.  Measured with onnx 1.23.2; ONNX Runtime 1.32.0 runs the same graph as "
            "torch does.  No upstream onnx issue found as of 2026-11 (searched: reference "
            "Resize align_corners scales output_width not floored)"
        ),
        issue=None,
        enforced="matched",
        evidence=(
            "tests/adapters/test_onnx_adapters.py::"
            "test_onnx_reference_align_corners_uses_the_unfloored_length"
        ),
        signature=onnx_signatures.ALIGN_CORNERS_UNFLOORED,
    ),
    # ConvTranspose (adapters/_onnx_conv_transpose.py): the runtimes raise on these; the
    # adapter refuses a call only when the runtime raises that bug's error on it.
    Divergence(
        key="onnx_reference-conv-transpose-grouped",
        layer="conv_transpose2d",
        case="*",
        adapter="onnx_reference",
        direction="forward",
        reason=(
            "onnx.reference's ConvTranspose fails on group > 1 unless each group has one "
            "input and one output channel: it slices W by output channels (W is C x "
            "M/group x kH x kW) and writes each group's M/group channels into one "
            "('ValueError: could not "
            "broadcast input array from shape (2,7,6) into shape (1,7,6)', case ct_groups2; "
            "probe x (1,2,1,1), w (2,2,1,1), group 2: 'cannot reshape array of size 4 into "
            "shape (1,1,2)').  Measured with onnx 1.23.2; the reassembly is fixed by "
            "onnx/onnx#8446 (merged 2026-09)"
        ),
        issue="https://github.com/onnx/onnx/pull/8446",
        enforced="unsupported",
        evidence=(
            "tests/adapters/test_onnx_adapters.py::"
            "test_conv_transpose_errors_are_refused_quoting_them"
        ),
    ),
    Divergence(
        key="onnx_reference-conv-transpose-grouped-whole-bias",
        layer="conv_transpose2d",
        case="*",
        adapter="onnx_reference",
        direction="forward",
        reason=(
            "onnx.reference's ConvTranspose runs a depthwise group (one input and one "
            "output channel, the configuration it does not fail on) as "
            "'self._run(group_X, group_W, B=B, ..., group=1)' with the whole bias, whose "
            "one output channel adds B[0] (onnx/reference/ops/op_conv_transpose.py): every "
            "channel gets b[0] (fuzz: x (1,2,1,1), w (2,1,1,1), b (2,), groups 2 gives "
            "channel 1 = x1 w1 + b0; probe [2, 3] by [1, 10] with bias [1, 2]: [3, 31], "
            "torch [3, 32]).  Matched: the output must equal the evaluator's arithmetic "
            "(evaluator_depthwise_conv_transpose, bit-exact on 294 random graphs with onnx "
            "1.23.2 and 1.17.0) within the comparison's bound; another wrong value fails.  "
            "Measured with onnx 1.23.2; ONNX Runtime 1.32.0 agrees with torch.  No "
            "upstream onnx issue found as of 2026-11 (searched: ReferenceEvaluator "
            "ConvTranspose group bias B[0] every group; reference ConvTranspose depthwise "
            "bias); onnx/onnx#8446 fixes the grouped reassembly's channel slice only and "
            "still passes B whole"
        ),
        issue=None,
        enforced="matched",
        evidence=(
            "tests/adapters/test_onnx_adapters.py::"
            "test_depthwise_conv_transpose_bias_matches_the_evaluator_model"
        ),
        signature=onnx_signatures.GROUPED_WHOLE_BIAS,
    ),
    *(
        Divergence(
            key=f"{name}-conv-transpose-output-padding-past-stride",
            layer="conv_transpose2d",
            case="*",
            adapter=name,
            direction="forward",
            reason=(
                f"{runtime} fails on a ConvTranspose whose output_padding is not below the "
                "stride, which torch allows below the stride or the dilation and ONNX's "
                "attribute text allows 'less than the corresponding stride/dilation "
                "dimension' (onnx/onnx#3187 asks what '/' means): case ct_dilation2 "
                f"(stride 1, dilation 2, output_padding 1) raises {error}.  Measured with "
                f"{measured}"
            ),
            issue=issue,
            enforced="unsupported",
            evidence=(
                "tests/adapters/test_onnx_adapters.py::"
                "test_conv_transpose_errors_are_refused_quoting_them"
            ),
        )
        for name, runtime, error, measured, issue in (
            (
                "onnxruntime",
                "ONNX Runtime",
                "'INVALID_ARGUMENT ... output_padding (1) may be too large for stride (1)'",
                "onnxruntime 1.32.0",
                "https://github.com/microsoft/onnxruntime/issues/14208",
            ),
            (
                "onnx_reference",
                "onnx.reference",
                "'ValueError: ... expected size of input's dimension 2 to match the "
                "calculated number of sliding blocks' in its col2im, which counts the "
                "blocks of the padded output",
                "onnx 1.23.2; no upstream onnx issue found as of 2026-11 (searched: "
                "reference ConvTranspose output_padding dilation col2im)",
                "https://github.com/onnx/onnx/issues/3187",
            ),
        )
    ),
    *(
        Divergence(
            key=f"{name}-ce-probabilities-invalid-model",
            layer="cross_entropy",
            case="*",
            adapter=name,
            direction="forward",
            reason=(
                "torch.onnx.export writes CrossEntropyLoss with class-probability targets "
                "as ONNX SoftmaxCrossEntropyLoss with the float targets as its labels, which "
                "the spec types int32/int64 (onnx/onnx#2667): onnx.checker rejects the model "
                "('labels typestr: Tind, has unsupported type: tensor(float)'), ONNX Runtime "
                "refuses to load it (INVALID_GRAPH) and onnx.reference fails inside the "
                "operator.  The adapter refuses exactly the models the checker rejects this "
                "way.  No upstream torch or onnxscript issue found as of 2026-11 (searched: "
                "onnx export cross_entropy probability targets SoftmaxCrossEntropyLoss)"
            ),
            issue=None,
            enforced="unsupported",
            evidence=(
                "tests/adapters/test_onnx_adapters.py::"
                "test_cross_entropy_probabilities_export_is_an_invalid_model"
            ),
        )
        for name in ("onnxruntime", "onnx_reference")
    ),
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
