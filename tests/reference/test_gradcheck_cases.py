"""Proof (b) for every declared layer: its backward matches float64 central differences of
its forward (tests/gradcheck.py) on each of its shared cases, so a new layer is
gradient-checked as soon as it is declared.  The per-layer grids in
test_gradcheck_layers.py / test_gradcheck_windows.py go further over the attributes.

A case tagged "kink" sits on purpose where the forward is not differentiable (ReLU at
an exact 0, a clipped probability, tied maxima); central differences cannot judge it,
and the parity tests and golden values do instead.
"""

from __future__ import annotations

import numpy as np
import pytest

from tests import layers
from tests.gradcheck import check_backward
from tests.harness import as_float64

pytestmark = pytest.mark.reference


def _params():
    for info in layers.all_layers():
        for case in info.cases:
            if "kink" in case.tags:
                continue
            yield pytest.param(info, case, id=f"{info.name}-{case.id}")


@pytest.mark.parametrize(("info", "case"), list(_params()))
def test_backward_matches_central_differences(info, case):
    inputs = as_float64(case.inputs)
    if not all(np.all(np.isfinite(v)) for v in inputs.values() if v.dtype.kind == "f"):
        pytest.skip("non-finite inputs: central differences are undefined")
    check_backward(info.forward, info.backward, inputs, case.attrs)
