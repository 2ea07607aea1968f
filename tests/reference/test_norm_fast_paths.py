"""layernorm's and groupnorm's row paths (``forward`` / ``backward``) against their plain
NumPy reductions (``forward_plain`` / ``backward_plain``).

Both compute the same standardisation with different summation orders (BLAS row sums and,
where reference/_normalize.py's ``row_moments`` allows it, a one-pass variance), so they
agree to rounding.  The bound is each layer's own declared tolerance
(tests/layers/_norm.py): computed from the inputs with NumPy, it covers two
implementations whose variance is either two-pass or ``E[x^2] - mean^2``, which is the
pair compared here.  NaN and Inf must land in the same places.  Both variance paths are
exercised on every case: as chosen, and with the one-pass path switched off.  The plain
functions are themselves held to golden values and finite differences elsewhere
(tests/reference/test_golden.py, the generic gradcheck).
"""

from __future__ import annotations

import numpy as np
import pytest

from reference import _normalize, groupnorm, layernorm
from tests import layers
from tests.harness import assert_parity

pytestmark = pytest.mark.reference


def _gn_inputs(shape, offset=0.0, seed=0):
    rng = np.random.default_rng(seed)
    c = shape[1]
    return {
        "x": offset + rng.standard_normal(shape),
        "gamma": rng.uniform(0.5, 1.5, c),
        "beta": rng.standard_normal(c),
    }


def _ln_inputs(shape, axes, offset=0.0, seed=0):
    rng = np.random.default_rng(seed)
    params = tuple(shape[a] for a in sorted(a % len(shape) for a in axes))
    return {
        "x": offset + rng.standard_normal(shape),
        "gamma": rng.uniform(0.5, 1.5, params),
        "beta": rng.standard_normal(params),
    }


def _one_row_offset(inputs):
    """Sample 0's first group / slice moved far from 0: the whole call takes two passes."""
    inputs = {k: v.copy() for k, v in inputs.items()}
    inputs["x"][0] += 40.0
    return inputs


#: (id, layer, inputs, attrs) beyond the declared cases: the benchmark's size, offset rows
#: (two passes), a single offset sample among centred ones, one value per slice.
EXTRA = [
    ("gn_bench_size", "groupnorm", _gn_inputs((32, 32, 28, 28), seed=1), {"groups": 8}),
    ("gn_offset", "groupnorm", _gn_inputs((4, 6, 5, 5), offset=30.0, seed=2), {"groups": 3}),
    ("gn_one_offset_sample", "groupnorm", _one_row_offset(_gn_inputs((3, 4, 6, 6))), {"groups": 2}),
    ("gn_one_value_per_group", "groupnorm", _gn_inputs((3, 4, 1, 1), seed=3), {"groups": 4}),
    (
        "ln_bench_size",
        "layernorm",
        _ln_inputs((32, 32, 28, 28), (1, 2, 3), 0, 4),
        {"axes": (1, 2, 3)},
    ),
    ("ln_offset", "layernorm", _ln_inputs((5, 7, 9), (-1,), offset=-25.0, seed=5), {"axes": (-1,)}),
    (
        "ln_offset_sample",
        "layernorm",
        _one_row_offset(_ln_inputs((3, 4, 5), (1, 2))),
        {"axes": (1, 2)},
    ),
    ("ln_last_two", "layernorm", _ln_inputs((2, 3, 4, 5), (2, 3), seed=6), {"axes": (-2, -1)}),
]


def _params():
    out = []
    for name in ("layernorm", "groupnorm"):
        for case in layers.get(name).cases:
            out.append(pytest.param(name, dict(case.inputs), dict(case.attrs), id=case.id))
    out += [pytest.param(layer, inputs, attrs, id=cid) for cid, layer, inputs, attrs in EXTRA]
    return out


_MODULES = {"layernorm": layernorm, "groupnorm": groupnorm}


@pytest.mark.parametrize("one_pass", [True, False], ids=["as-chosen", "two-pass-forced"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(("layer", "inputs", "attrs"), _params())
def test_row_path_matches_plain(monkeypatch, layer, inputs, attrs, dtype, one_pass):
    if not one_pass:
        monkeypatch.setattr(_normalize, "_ONE_PASS_MAX_K_EPS", 0.0)
    module, info = _MODULES[layer], layers.get(layer)
    cast = {k: np.asarray(v).astype(dtype) for k, v in inputs.items()}
    as64 = {k: v.astype(np.float64) for k, v in cast.items()}
    g = np.random.default_rng(7).standard_normal(cast["x"].shape).astype(dtype)
    runs = {
        "forward": (
            {"y": module.forward(**cast, **attrs)},
            {"y": module.forward_plain(**cast, **attrs)},
            None,
        ),
        "backward": (
            module.backward(g, **cast, **attrs),
            module.backward_plain(g, **cast, **attrs),
            g.astype(np.float64),
        ),
    }
    for direction, (fast, plain, grad64) in runs.items():
        policy = info.tolerance(direction, as64, attrs, dtype, grad64)
        for key, value in fast.items():
            assert np.array_equal(np.isnan(value), np.isnan(plain[key]))
            assert np.array_equal(np.isinf(value), np.isinf(plain[key]))
            assert_parity(
                value,
                plain[key],
                bound=policy.bounds[key],
                kind=policy.kind,
                dtype=dtype,
                label=f"{layer} {direction} {key}: row path vs plain",
                repro="pytest tests/reference/test_norm_fast_paths.py",
                rule=policy.rule,
            )


def test_row_moments_takes_one_pass_only_when_the_rows_are_centred_enough():
    rng = np.random.default_rng(8)
    rows = rng.standard_normal((6, 500))
    var, base, base_mean = _normalize.row_moments(rows)
    assert base is rows  # one pass: no shifted copy
    np.testing.assert_allclose(var, rows.var(axis=1), rtol=1e-12)
    np.testing.assert_allclose(base_mean, rows.mean(axis=1), rtol=1e-12, atol=1e-15)
    rows[3] += 5.0  # one row with mean^2 > var sends every row through two passes
    var, base, base_mean = _normalize.row_moments(rows)
    assert base is not rows
    np.testing.assert_allclose(base - base_mean[:, None], rows - rows.mean(axis=1)[:, None])
    np.testing.assert_allclose(var, rows.var(axis=1), rtol=1e-12)


def test_row_moments_two_pass_keeps_an_offset_float32_variance():
    """1e4 + N(0, 1) in float32: one pass would lose the variance to cancellation
    (E[x^2] = 1e8 in float32 has an ulp of 8); two passes keep it to rounding."""
    rng = np.random.default_rng(9)
    rows = (1e4 + rng.standard_normal((4, 1000))).astype(np.float32)
    var, _, _ = _normalize.row_moments(rows)
    want = rows.astype(np.float64).var(axis=1)
    np.testing.assert_allclose(var, want, rtol=1e-4)


def test_row_moments_constant_rows_have_zero_variance():
    rows = np.full((3, 7), -0.75, dtype=np.float32)
    var, base, base_mean = _normalize.row_moments(rows)
    assert np.all(var == 0)
    assert np.all(base - base_mean[:, None] == 0)


def test_short_row_buffers_restores_the_buffer_size_on_error():
    before = np.getbufsize()
    inside = []

    def fail():
        with _normalize.short_row_buffers():
            inside.append(np.getbufsize())
            raise RuntimeError("inside")

    with pytest.raises(RuntimeError, match="inside"):
        fail()
    assert inside == [_normalize._SHORT_ROW_BUFSIZE]
    assert np.getbufsize() == before
