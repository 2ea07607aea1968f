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
                "refused it instead.  The adapter refuses every call with divisor_override"
            ),
            issue="https://github.com/pytorch/pytorch/issues/105349",
            enforced="unsupported",
            evidence="tests/adapters/test_onnx_adapters.py::test_export_drops_divisor_override",
        )
        for name in ("onnxruntime", "onnx_reference")
    ),
    Divergence(
        layer="sigmoid",
        case="*",
        adapter="onnxruntime",
        direction="forward",
        reason=(
            "ONNX Runtime's CPU Sigmoid is accurate to an absolute error of about one "
            "epsilon, not to a few ulps of the result: measured on a grid over [-60, 60], "
            "max |error| 1.3 eps (float32), 1.0 eps (float64); 8.9 ulps at -2 < x < 0; "
            "sigmoid(-17) = 8.94e-08 in float32 (exact 4.14e-08), and 0.0 for every "
            "x <= -15.96 (float32) / x <= -36.74 (float64).  Also reported with torch "
            "exports as pytorch/pytorch#147508"
        ),
        issue="https://github.com/microsoft/onnxruntime/issues/22557",
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
    # 1.20.1, onnx 1.17.0).  Each adapter probes its runtime once per opset
    # (adapters/_onnx_rules.py: runtime_ceil_bugs) and refuses only the configurations a
    # bug it has touches; onnxruntime 1.32.0 and onnx 1.23.2 have none of them.
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
                "padding 1 gives (4, 3) outputs where torch gives (3, 2).  Measured with "
                f"{measured}; fixed by {fixed}"
            ),
            issue=issue,
            enforced="unsupported",
            evidence=(
                "tests/adapters/test_onnx_adapters.py::"
                "test_ceil_pool_bugs_are_refused_exactly_where_present"
            ),
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
                "gives 4/9 of torch's value in the last row and column's corner.  Measured "
                f"with {measured}; fixed by {fixed}"
            ),
            issue=issue,
            enforced="unsupported",
            evidence=(
                "tests/adapters/test_onnx_adapters.py::"
                "test_ceil_pool_bugs_are_refused_exactly_where_present"
            ),
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
