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
            "not the input's.  The adapter detects it at run time and refuses those "
            "forwards.  No upstream flax issue found as of 2026-11 (searched: avg_pool "
            "count_include_pad float64 x64 dtype)"
        ),
        issue=None,
        enforced="unsupported",
        evidence=(
            "tests/adapters/test_flax_adapter.py::"
            "test_avg_pool_exclude_pad_promotes_float32_under_x64"
        ),
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
