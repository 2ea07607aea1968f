"""The one declared list of known divergences between a framework and the reference.

A parity test whose comparison matches an entry runs as ``xfail(strict=True)``: it must
fail, so a framework fix (or a wrong entry) shows up as XPASS, which fails the run.  A
divergence that is not declared here is a plain failure.  Documented *conventions*
(SAME vs symmetric padding, count_include_pad, momentum, ...) are not divergences: the
reference reproduces each framework through its parameters (tests/conventions).

Add an entry only with evidence: the failing test id, the measured error, and for a
framework bug the link to the framework's issue.  Patterns are ``fnmatch`` patterns on
the test id's fields.

Some bugs cannot be an in-process strict xfail: one that kills the process (an abort in
native code) would end the test run itself, and one that only some backends or releases
have (Keras 3 on jax/torch, selected by KERAS_BACKEND at import) cannot be named by test
id patterns.  Such an entry has ``enforced="unsupported"``: the adapter refuses the
family (detecting the bug at run time where it can), its reason names the entry's
``key``, and ``evidence`` names the test that shows the bug -- in a child process for a
crash.  The crash's evidence fails once fixed; a run-time-detected bug's evidence checks
that the adapter refuses exactly where the installed release has the bug, and skips,
saying so, where it does not (the parity cases then run).
tests/adapters/test_known_divergences.py checks the links.
"""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase

import pytest


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
    #: "xfail": the parity test runs and must fail.  "unsupported": the bug aborts the
    #: process, so the adapter refuses the family instead (see the module docstring).
    enforced: str = "xfail"
    #: Short id an adapter's refusal quotes ("enforced" = "unsupported" only).
    key: str = ""
    #: The test (``path::name``) that demonstrates the bug, for "unsupported" entries.
    evidence: str = ""

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
    # The three Keras entries below are enforced by the Keras adapter's own rules
    # (adapters/_keras_rules.py), which detect each bug at run time -- a dtype-promotion
    # observer, a tiny probe -- on whichever backend KERAS_BACKEND selects, and drop the
    # refusal once the bug is gone.  All three present with keras 3.15.1.  With keras
    # 3.6.0 and 3.3.3 (tox environments) float64 is not demoted and the one-filter conv
    # backward runs; 3.6.0's torch backend replicates the edge as 3.15.1 does, 3.3.3's
    # gives another wrong value (10 for the probe below; refused without this key).
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
            "keras.ops.mean (MeanSquaredError, BatchNormalization) computes in float32 "
            "and casts back, errors ~1e-7 relative; on torch, Dense's matmul returns "
            "float32 (the bias add promotes it back to float64)"
        ),
        issue="https://github.com/keras-team/keras/issues/23704",
        enforced="unsupported",
        evidence=("tests/adapters/test_keras_adapter.py::test_known_keras_backend_bugs_reproduce"),
    ),
    Divergence(
        key="keras-torch-same-average-pool-replicates-edge",
        layer="avgpool2d",
        case="*",
        adapter="keras",
        reason=(
            "keras.layers.AveragePooling2D(padding='same') on the torch backend pads "
            "asymmetric SAME padding with copies of the edge cells (torch's pad mode "
            "'replicate') and averages them; tensorflow and jax average the real cells "
            "only.  Measured with keras 3.15.1: [10, 20], pool 3, stride 2 gives 16.6667, "
            "not 15.  Fixed upstream by keras-team/keras#23233 (merged 2026-07, not in "
            "3.15.1)"
        ),
        issue="https://github.com/keras-team/keras/issues/19721",
        enforced="unsupported",
        evidence=("tests/adapters/test_keras_adapter.py::test_known_keras_backend_bugs_reproduce"),
    ),
    Divergence(
        key="keras-tf-depthwise-stride-dilation-wrong-output",
        layer="conv2d",
        case="*",
        adapter="keras",
        reason=(
            "On the TensorFlow backend, keras.ops.depthwise_conv (and DepthwiseConv2D, "
            "which calls it) with strides > 1 and dilation_rate > 1 passed both to "
            "tf.nn.depthwise_conv2d, which only warns ('When dilation rate is greater than "
            "1, then all values of strides must be 1') and returns a wrong, smaller output: "
            "(1, 10, 10, 3), kernel 3, strides 2, dilation 3, 'valid' gave 1x1 instead of "
            "2x2.  Fixed in keras 3.15 by keras-team/keras#23027 (issue #22515), which "
            "runs the dilated conv at stride 1 and subsamples.  Releases before 3.15 (tox "
            "tf216: 3.3.3, tf218: 3.6.0): the adapter's probe finds the bug and refuses "
            "the family; 3.15.1 passes the cases (conv_depthwise_s2_*)"
        ),
        issue="https://github.com/keras-team/keras/pull/23027",
        enforced="unsupported",
        evidence=(
            "tests/adapters/test_keras_depthwise_ops.py::"
            "test_depthwise_stride_dilation_bug_is_refused_exactly_where_present"
        ),
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
    # Enforced by the adapters' run-time probe (adapters.torch.hardsigmoid_float64_grad),
    # which drops the refusal once torch's float64 gradient is 1/6: Keras reaches torch's
    # kernel only on the torch backend, which test ids cannot name.
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
                "4.97e-9 for g = 1; Keras 3.15 on the torch backend inherits it).  No "
                "upstream issue found as of 2026-11 (searched: hardsigmoid backward float64 "
                "precision; one_sixth 1.0f / 6.0f)"
            ),
            issue=None,
            enforced="unsupported",
            evidence=(
                "tests/adapters/test_activation_adapters.py::"
                "test_torch_hardsigmoid_float64_backward_uses_a_float32_sixth"
            ),
        )
        for key, adapter in (
            ("torch-hardsigmoid-float64-grad-float32-sixth", "torch"),
            ("keras-torch-hardsigmoid-float64-grad-float32-sixth", "keras"),
        )
    ),
    # Both enforced by the adapters' run-time check (adapters._tf_common.tf_gelu_float64),
    # which drops the refusal once tf.cast keeps float64: Keras reaches tf.nn.gelu only on
    # the tensorflow backend, which test ids cannot name.
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
                "errors up to 4.6e-9 (relative 3e-8) forward and backward in float64.  No "
                "upstream issue found as of 2026-11 (searched: tf.nn.gelu float64 "
                "precision; math_ops.cast constant float32)"
            ),
            issue=None,
            enforced="unsupported",
            evidence=(
                "tests/adapters/test_activation_adapters.py::"
                "test_tf_gelu_float64_uses_float32_constants"
            ),
        )
        for key, adapter in (
            ("tf-nn-gelu-float64-constants-via-float32", "tensorflow"),
            ("keras-tf-gelu-float64-constants-via-float32", "keras"),
        )
    ),
]


def find(layer: str, case: str, adapter: str, dtype: str, direction: str) -> Divergence | None:
    """The xfail entry matching a parity test id's fields (refused families never run)."""
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
    reason = entry.reason + (f" ({entry.issue})" if entry.issue else "")
    return [pytest.mark.xfail(strict=True, reason=reason, raises=AssertionError)]
