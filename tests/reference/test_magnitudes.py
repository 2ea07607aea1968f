"""The sums the bounds are built from (tests/layers/_magnitudes.py) are the layers' own
sums: on signed inputs they reproduce the reference on every declared case, forward and
backward, so that on |inputs| they are the sum of |terms| each output element adds up.
Both are written independently (their own geometry), so each checks the other."""

from __future__ import annotations

import numpy as np
import pytest

from tests import layers
from tests.harness import as_float64
from tests.independent import Independent

pytestmark = pytest.mark.reference

_LAYERS = [info for info in layers.all_layers() if hasattr(Independent, info.method)]


def _params():
    for info in _LAYERS:
        for case in info.cases:
            yield pytest.param(info, case, id=f"{info.name}-{case.id}")


@pytest.mark.parametrize(("info", "case"), list(_params()))
def test_independent_sums_reproduce_the_reference(info, case):
    inputs = as_float64(case.inputs)
    prepared = getattr(Independent(), info.method)(**inputs, **case.attrs)
    y = info.forward(**inputs, **case.attrs)
    np.testing.assert_allclose(prepared.forward().result(), y, rtol=1e-12, atol=1e-12)
    g = np.random.default_rng(0).standard_normal(np.shape(y))
    want = info.backward(g, **inputs, **case.attrs)
    got = prepared.backward(g).result()
    assert set(got) == set(want)
    for key in want:
        np.testing.assert_allclose(got[key], want[key], rtol=1e-12, atol=1e-12, err_msg=key)


def test_maxpool_wins_count_each_window_once():
    from tests.layers import _magnitudes

    info = layers.get("maxpool2d")
    for case in info.cases:
        x = as_float64(case.inputs)["x"]
        y = info.forward(x, **case.attrs)
        wins, sums = _magnitudes.maxpool_wins(x, np.ones_like(y), case.attrs)
        assert wins.sum() == y.size, case.id
        g = np.random.default_rng(0).standard_normal(y.shape)
        _, sums = _magnitudes.maxpool_wins(x, g, case.attrs)
        np.testing.assert_allclose(sums, info.backward(g, x, **case.attrs)["x"], atol=1e-12)
