"""The one declared list of known divergences between a framework and the reference.

A parity test whose comparison matches an entry runs as ``xfail(strict=True)``: it must
fail, so a framework fix (or a wrong entry) shows up as XPASS, which fails the run.  A
divergence that is not declared here is a plain failure.  Documented *conventions*
(SAME vs symmetric padding, count_include_pad, momentum, ...) are not divergences: the
reference reproduces each framework through its parameters (tests/conventions).  A
convention the reference has no parameter for (what max pooling does with NaN) is
declared here as a strict xfail whose ``convention`` names its row in the conventions
table, which computes both sides; such an entry needs no issue.

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

import os
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
    *_maxpool_nan_conventions("torch", "torch"),
    *_maxpool_nan_conventions(_KERAS_BACKEND, "keras"),
    _nan_convention(
        "scipy",
        "forward",
        _NAN_CASES,
        "maxpool_nan_forward",
        "scipy.ndimage.maximum_filter keeps a NaN only where it comes first in its scan",
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
    if entry.convention:
        reason += " (tests/conventions/table_nan.py)"
    return [pytest.mark.xfail(strict=True, reason=reason, raises=AssertionError)]
