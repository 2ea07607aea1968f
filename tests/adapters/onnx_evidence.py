"""What the ONNX adapters' evidence tests share: the two adapters, the runtimes present,
a declared "matched" entry, and the proof that it explains a failing comparison made
through an adapter and nothing else."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import adapters
from tests import known_divergences, layers

NAMES = ("onnxruntime", "onnx_reference")


def _loaded(request):
    try:
        return adapters.load(request.param)
    except adapters.FrameworkMissing as exc:
        pytest.skip(str(exc))


def adapter_fixture():
    """A module-scoped fixture giving each ONNX adapter, loaded (its tests skip where it
    is not installed): ``adapter = adapter_fixture()`` in a test module."""
    return pytest.fixture(scope="module", params=NAMES, name="adapter")(_loaded)


def runtimes():
    """The ONNX adapters that are installed, loaded."""
    for name in NAMES:
        try:
            yield adapters.load(name)
        except adapters.FrameworkMissing:
            continue


def matched(key):
    (entry,) = [e for e in known_divergences.DIVERGENCES if e.key == key]
    assert entry.enforced == "matched"
    return entry


def assert_matched_through_adapter(adapter, signature, layer, inputs, attrs, dtype="float64"):
    """The comparison through ``adapter`` (in ``dtype``) fails, the signature explains the
    output, must_fail says so, and the same output moved by three bounds is not explained."""
    from tests.harness import compare_observed

    info = layers.get(layer)
    stats, failure, observed = compare_observed(
        adapter, info, "forward", inputs, attrs, dtype, label="evidence", repro=""
    )
    assert failure is not None, stats
    assert signature.explains(observed) is not None
    assert signature.must_fail(observed) is True
    y = np.array(observed.actual["y"], dtype=np.float64, copy=True)
    where = int(np.argmax(np.abs(y)))
    # Relative to the element too: 1e-3 is lost on float32's lowest value (a MaxPool
    # window with no tap), which an exact (zero) bound would otherwise leave unmoved.
    y.flat[where] += 3.0 * float(np.max(observed.bounds["y"])) + 1e-3 * max(1.0, abs(y.flat[where]))
    other = dataclasses.replace(observed, actual={"y": y})
    assert signature.explains(other) is None
