"""The declared list of framework divergences is well formed; every error that an adapter
refuses (enforced as "unsupported") is tied both ways to the adapter that refuses it and
to the test that demonstrates it; every "matched" entry has a signature and evidence.
tests/test_divergence_signatures.py checks the signatures and the verdicts."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest

import adapters
from tests import known_divergences
from tests.adapters.calls import refusal
from tests.conventions.table import ROW
from tests.known_divergences import DIVERGENCES

ROOT = Path(__file__).resolve().parents[2]
REFUSED = [d for d in DIVERGENCES if d.enforced == "unsupported"]
MATCHED = [d for d in DIVERGENCES if d.enforced == "matched"]


@pytest.mark.parametrize("entry", DIVERGENCES, ids=lambda d: d.key or d.reason[:40])
def test_entry_is_well_formed(entry):
    assert entry.enforced in ("xfail", "matched", "unsupported")
    assert (entry.signature is not None) == (entry.enforced == "matched")
    assert entry.adapter in adapters.ADAPTERS
    assert entry.issue is None or entry.issue.startswith("https://github.com/")
    if entry.convention is not None:
        # A documented convention: its row exists, computes both sides, and is named.
        assert entry.convention in ROW, entry.convention
        assert entry.enforced == "xfail"
        assert f"conventions row {entry.convention}" in entry.reason
    elif entry.issue is None:
        # Without a link the entry must say that no upstream issue was found.
        assert "no upstream" in entry.reason.lower()


def test_refused_keys_are_unique_and_found():
    keys = [d.key for d in REFUSED]
    assert all(keys)
    assert len(set(keys)) == len(keys)
    for entry in REFUSED:
        assert known_divergences.refused(entry.key) is entry
    with pytest.raises(KeyError):
        known_divergences.refused("no-such-entry")


@pytest.mark.parametrize("entry", REFUSED + MATCHED, ids=lambda d: d.key)
def test_refused_or_matched_entry_is_never_an_id_xfail(entry):
    # A refused family never runs, and a matched bug xfails only where it is present and
    # explains the failure: neither may turn the matching ids into static xfails (which
    # would XPASS-fail wherever the bug is absent).
    fields = (entry.layer, "any_case", entry.adapter, "float32", "backward")
    assert known_divergences.marks(*fields) == []


@pytest.mark.parametrize("entry", REFUSED + MATCHED, ids=lambda d: d.key)
def test_entry_evidence_test_exists(entry):
    path, _, name = entry.evidence.partition("::")
    tree = ast.parse((ROOT / path).read_text())
    functions = {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}
    assert name in functions, f"{entry.evidence} does not exist"


def test_jax_adapter_refusal_names_the_xla_cpu_abort_entry():
    try:
        jax_adapter = adapters.load("jax")
    except adapters.FrameworkMissing as exc:
        pytest.skip(str(exc))
    from adapters.jax import XLA_CPU_CONV_ABORT

    entry = known_divergences.refused(XLA_CPU_CONV_ABORT)
    # The crashing example the entry quotes.
    attrs = {"stride": (2, 2), "padding": ((0, 0), (1, 1)), "dilation": (2, 1)}
    inputs = {"x": np.ones((1, 1, 8, 4)), "w": np.ones((1, 1, 3, 2))}
    reason = refusal(jax_adapter, "conv2d", inputs, attrs, direction="backward")
    assert reason is not None
    assert repr(entry.key) in reason
    assert "tests/known_divergences.py" in reason


def test_keras_rule_keys_are_declared():
    from adapters import _keras_rules  # imports no framework

    assert known_divergences.refused(_keras_rules.ONE_FILTER_CONV_GRAD).adapter == "keras"
