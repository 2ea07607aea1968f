"""Helpers for the conventions tests: loading adapters (skipping what is missing),
running a layer through an adapter, comparing a framework's output with the reference
under the layer's declared tolerance, and the ``("convention", record)`` each test hands
to the report."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pytest

import adapters
from adapters.base import prepare
from tests import layers
from tests.conventions.table import Convention
from tests.harness import as_float64, assert_parity, cast, framework_version


def need(name: str):
    """The loaded adapter, or skip the test with the adapter's reason."""
    try:
        return adapters.load(name)
    except adapters.FrameworkMissing as exc:
        pytest.skip(str(exc))


def keras_backend() -> str:
    """The backend Keras 3 computes with in this run (``KERAS_BACKEND``, TF by default)."""
    return os.environ.get("KERAS_BACKEND", "tensorflow")


def available(names: Iterable[str]) -> dict[str, Any]:
    """The loaded adapters among ``names``; skip the test when none is installed."""
    ok, reasons = {}, []
    names = list(names)
    for name in names:
        backend = keras_backend()
        if name == "keras" and backend != "tensorflow" and backend not in names:
            # Keras computes with its backend's ops: on torch it sits on torch's side.
            reasons.append(f"keras runs on {backend}, which this side does not list")
            continue
        try:
            ok[name] = adapters.load(name)
        except adapters.FrameworkMissing as exc:
            reasons.append(str(exc))
    if not ok:
        pytest.skip("; ".join(reasons))
    return ok


def computed_dtype(name: str, dtype: str = "float64") -> str:
    """The dtype a side named ``name`` computes a ``dtype`` call in: Keras on a backend
    that demotes float64 to float32 (the declared keras-float64-demoted-to-float32,
    keras-team/keras#23704) is judged by its float32 bound, as its parity cases are."""
    if dtype == "float64" and name.split()[0] == "keras":
        from tests import divergence_signatures

        if divergence_signatures.float64_demoted(adapters.load("keras")):
            return "float32"
    return dtype


def run(adapter, layer: str, inputs: Mapping[str, Any], attrs: Mapping[str, Any]):
    """``layer``'s forward output from ``adapter``, in the reference's layout.  ``layer`` is
    the same key ``check_reference`` takes, so one string names both sides of a check.
    An adapter refusing the call raises ``Unsupported``: a row whose framework cannot run
    its own documented API fails rather than skips."""
    return prepare(adapter, layers.get(layer).method, inputs, attrs).forward().result()


def run_backward(
    adapter, layer: str, grad_out, inputs: Mapping[str, Any], attrs: Mapping[str, Any]
) -> dict:
    """``layer``'s gradients from ``adapter`` for ``grad_out`` (reference layout and keys)."""
    prepared = prepare(adapter, layers.get(layer).method, inputs, attrs)
    return prepared.backward(grad_out).result()


def start_record(request, row: Convention, **extra) -> dict:
    """Append the row's record now (so a failing test still reports its row) and return
    it for the test to fill in.  The first keys are the report's columns."""
    record = {
        "row": row.id,
        "frameworks": row.frameworks(),
        "difference": row.difference,
        "versions": row.versions,
        "max_abs_diff_between_sides": None,
        "reference_matches": None,
        "title": row.title,
        "side_a": f"{row.a.api}  ->  {row.a.reference}",
        "side_b": f"{row.b.api}  ->  {row.b.reference}",
        "source": list(row.sources),
        "notes": row.notes or None,
        "observed_versions": {},
        **extra,
    }
    request.node.user_properties.append(("convention", record))
    return record


def note_versions(record: dict, names: Iterable[str]) -> None:
    for name in names:
        if adapters.missing_reason(name) is None:
            record["observed_versions"][name] = str(framework_version(adapters.load(name)))


def matches(record: dict, side: str, err_to_bound: float) -> None:
    """Add ``side``'s worst error/bound against the reference to the record."""
    done = record["reference_matches"] or ""
    entry = f"{side}: err/bound {err_to_bound:.2g}"
    record["reference_matches"] = f"{done}; {entry}" if done else entry


def check_reference(
    actual,
    layer: str,
    inputs: Mapping[str, np.ndarray],
    attrs: Mapping[str, Any],
    dtype: str,
    *,
    label: str,
    direction: str = "forward",
    grad_out=None,
    key: str | None = None,
) -> tuple[np.ndarray, np.ndarray, dict]:
    """Assert ``actual`` (a framework's result on ``inputs`` cast to ``dtype``) matches the
    reference ``layer`` with ``attrs`` under the tolerance its declaration in tests/layers
    gives (the policy of tests/tolerances.py).  Returns ``(expected, bound, stats)``;
    ``bound`` broadcasts to the output's shape."""
    info = layers.get(layer)
    fwd, bwd = info.forward, info.backward
    ref_inputs = as_float64(cast(inputs, dtype))
    g64 = None
    if direction == "forward":
        expected, key = fwd(**ref_inputs, **attrs), "y"
    else:
        g64 = np.asarray(grad_out, dtype=np.float64)
        expected = bwd(g64, **ref_inputs, **attrs)[key]
    policy = info.tolerance(direction, ref_inputs, attrs, dtype, g64)
    bound = np.broadcast_to(np.asarray(policy.bounds[key], dtype=np.float64), np.shape(expected))
    stats = assert_parity(
        actual,
        expected,
        bound=bound,
        kind=policy.kind,
        dtype=dtype,
        label=label,
        # Labels start with the row id, which names its test in either module.
        repro=f"pytest tests/conventions -k '{label.split(':')[0]}'",
        rule=policy.rule,
        tight=policy.tight_bounds[key],
        tight_rule=policy.tight_rule,
    )
    return np.asarray(expected), bound, stats


def max_abs(a, b) -> float:
    return float(np.max(np.abs(np.asarray(a, np.float64) - np.asarray(b, np.float64))))


def assert_within(got, want, bound, what: str) -> float:
    """``|got - want| <= bound`` elementwise; returns the worst error/bound."""
    err = np.abs(np.asarray(got, np.float64) - np.asarray(want, np.float64))
    bound = np.broadcast_to(np.asarray(bound, np.float64), err.shape)
    bad = err > bound
    if np.any(bad):
        i = np.unravel_index(int(np.argmax(np.where(bad, err - bound, -np.inf))), err.shape)
        raise AssertionError(
            f"{what}: |difference| {err[i]:.3e} > bound {bound[i]:.3e} at {i} "
            f"(got {np.asarray(got)[i]!r}, want {np.asarray(want)[i]!r})"
        )
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(err == 0, 0.0, err / bound)
    return float(np.max(ratio)) if ratio.size else 0.0


def side(record: dict, who: str, actual, layer, inputs, attrs, dtype, **kwargs) -> np.ndarray:
    """``check_reference`` for one framework on one side, noted in the record; returns the
    policy's bound for that comparison."""
    label = f"{record['row']}: {who}"
    if dtype == "float32" and np.asarray(actual).dtype == np.float64:
        # A demoted float64 call (computed_dtype): its values are float32 arithmetic.
        actual = np.asarray(actual).astype(np.float32)
    _, bound, stats = check_reference(actual, layer, inputs, attrs, dtype, label=label, **kwargs)
    matches(record, who, stats["err_to_bound"])
    return bound


def widen(record: dict, a, b) -> float:
    """Record the largest |a - b| seen between the two sides; returns this one."""
    diff = max_abs(a, b)
    record["max_abs_diff_between_sides"] = max(record["max_abs_diff_between_sides"] or 0, diff)
    return diff
