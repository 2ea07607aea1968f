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
    # Decoder layers (issue 16).
    Divergence(
        key="keras-torch-conv-transpose-same-shifted",
        layer="conv_transpose2d",
        case="*",
        adapter="keras",
        reason=(
            "keras.layers.Conv2DTranspose(padding='same') with strides > 1 on Keras' torch "
            "backend before keras-team/keras#22876 gives torch a symmetric padding plus "
            "output_padding, which shifts the output by one cell where the SAME crop is odd "
            "(an odd kernel at stride 2): on [1, 10, 100] with a kernel of ones it keeps the "
            "full scatter's cells 1-6, not 0-5 as TensorFlow and JAX do.  Measured with "
            "keras 3.14.1 and torch 2.13.0 (tox py311-kerastorch-keras314); keras 3.15.1 "
            "computes it right"
        ),
        issue="https://github.com/keras-team/keras/pull/22876",
        enforced="unsupported",
        evidence="tests/adapters/test_keras_adapter.py::test_keras_conv_transpose_same_shift",
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
