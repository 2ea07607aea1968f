"""The integer-to-float64 rule, for every declared layer.

reference/_checks.py (``float_array``): "integers promoted to float64"; linear, conv2d
and signal return an integer input's gradient in float64 ("integer inputs were promoted
to float64").  So a layer given integer arrays computes exactly what it computes on the
same values as float64: same dtype, same bits, forward and backward.

Every layer's first case that stays valid in integers is turned into integers: each
differentiable input (a key of its backward) becomes nonzero integers of the same sign
(class indices, masks, running statistics and probability targets keep theirs); a case
whose integers the reference rejects (binary cross-entropy on probabilities, which must
lie in [0, 1]) gives way to the layer's next case.
"""

from __future__ import annotations

import numpy as np
import pytest

from tests import layers
from tests.harness import as_float64

pytestmark = pytest.mark.reference


def _integers(values: np.ndarray) -> np.ndarray:
    """Nonzero int64 of the sign of ``values`` (a kept sign keeps a case valid:
    positive probabilities stay positive)."""
    scaled = np.rint(4 * values)
    return np.where(values >= 0, np.maximum(scaled, 1), np.minimum(scaled, -1)).astype(np.int64)


def _as_integers(info, case) -> dict | None:
    """The case's inputs with its differentiable ones as integers, or None when the
    reference rejects those integers."""
    inputs = as_float64(case.inputs)
    try:
        y = info.forward(**inputs, **case.attrs)
        differentiable = info.backward(np.ones_like(y), **inputs, **case.attrs)
        as_int = {
            name: _integers(value) if name in differentiable else value
            for name, value in inputs.items()
        }
        info.forward(**as_int, **case.attrs)
    except ValueError:
        return None
    return as_int


def _params():
    for info in layers.all_layers():
        case = next((c for c in info.cases if _as_integers(info, c) is not None), None)
        if case is not None:
            yield pytest.param(info, case, id=f"{info.name}-{case.id}")


@pytest.mark.parametrize(("info", "case"), list(_params()))
def test_integer_inputs_compute_as_float64(info, case):
    inputs = as_float64(case.inputs)
    y = info.forward(**inputs, **case.attrs)
    differentiable = info.backward(np.ones_like(y), **inputs, **case.attrs)
    as_int = {
        name: _integers(value) if name in differentiable else value
        for name, value in inputs.items()
    }
    as_float = {
        name: value.astype(np.float64) if name in differentiable else value
        for name, value in as_int.items()
    }
    y_int = np.asarray(info.forward(**as_int, **case.attrs))
    y_float = np.asarray(info.forward(**as_float, **case.attrs))
    assert y_int.dtype == np.float64
    np.testing.assert_array_equal(y_int, y_float)

    grad_out = np.random.default_rng(0).standard_normal(y_float.shape)
    grads_int = info.backward(grad_out, **as_int, **case.attrs)
    grads_float = info.backward(grad_out, **as_float, **case.attrs)
    assert set(grads_int) == set(grads_float) == set(differentiable)
    for name, grad in grads_int.items():
        assert np.asarray(grad).dtype == np.float64, name
        np.testing.assert_array_equal(grad, grads_float[name], err_msg=name)


def test_every_layer_has_a_case_that_stays_valid_in_integers():
    covered = {param.values[0].name for param in _params()}
    assert covered == {info.name for info in layers.all_layers() if info.cases}
