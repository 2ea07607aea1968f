"""The comparison's two bounds (tests/tolerances.py): never negative, the tight one never
looser than the rigorous one, and the tight one catches reduced-precision arithmetic
that the rigorous one, growing like n, misses at real layer sizes.

Reduced precision is emulated around a correct implementation (tests/reduced_precision.py):
TF32 or bfloat16 multiplicands, or a float16 result, in conv2d and linear at float32
under test, at reduction lengths n = 64, 576, 1152 and 4608 in each direction (forward,
dx, dw).  Each must fail parity on the tight criterion; the same comparison without the
emulation must pass.  The inner implementation is torch (when installed) and
``tests.independent.Independent`` (always).  One length per mode runs by default; the
whole grid is marked ``slow``.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import adapters
from tests import layers
from tests.harness import as_float64, cast, compare, error_stats, seed_for
from tests.independent import Independent
from tests.reduced_precision import (
    MODES,
    Emulated,
    conv2d_shapes,
    inputs_for,
    linear_shapes,
    round_mantissa,
    to_bf16,
    to_tf32,
)
from tests.tolerances import Tolerance

SIZES = (64, 576, 1152, 4608)
WHICH = ("forward", "dx", "dw")
_SHAPES = {"conv2d": conv2d_shapes, "linear": linear_shapes}
_KEY = {"forward": "y", "dx": "x", "dw": "w"}


def _inner(name: str):
    if name == "independent":
        return Independent()
    try:
        return adapters.load(name)
    except adapters.FrameworkMissing as exc:
        pytest.skip(f"{name} not installed: {exc}")


def _judge(adapter, layer: str, n: int, which: str):
    shapes, attrs = _SHAPES[layer](n, which)
    inputs = inputs_for(shapes, seed_for(f"tight-{layer}-{n}-{which}"))
    direction = "forward" if which == "forward" else "backward"
    label = f"{layer}-{which}-n{n}-{adapter.name}"
    stats, failure = compare(
        adapter, layer, direction, inputs, attrs, "float32", label=label, repro="(emulated)"
    )
    return stats["outputs"][_KEY[which]], failure


def _grid(default_n: int):
    for inner in ("torch", "independent"):
        for layer in ("conv2d", "linear"):
            for which in WHICH:
                for n in SIZES:
                    marks = () if n == default_n and inner == "torch" else pytest.mark.slow
                    yield pytest.param(inner, layer, which, n, marks=marks,
                                       id=f"{inner}-{layer}-{which}-n{n}")  # fmt: skip


@pytest.mark.parametrize(("inner", "layer", "which", "n"), list(_grid(4608)))
@pytest.mark.parametrize("mode", MODES)
def test_reduced_precision_fails_the_tight_criterion(mode, inner, layer, which, n):
    stats, failure = _judge(Emulated(_inner(inner), mode), layer, n, which)
    assert stats["err_to_tight"] > 1.0, f"{mode} at n={n} passed: {stats}"
    assert failure is not None
    if which == "forward" and stats["err_to_bound"] <= 1.0:  # (backward: the first of 3 keys)
        assert "tight probabilistic criterion" in str(failure)


@pytest.mark.parametrize(("inner", "layer", "which", "n"), list(_grid(576)))
def test_float32_itself_passes_both_bounds(inner, layer, which, n):
    stats, failure = _judge(_inner(inner), layer, n, which)
    assert failure is None, str(failure)
    assert 0.0 <= stats["err_to_bound"] <= stats["err_to_tight"] <= 1.0


def test_rounding_to_tf32_and_bf16_keeps_10_and_7_mantissa_bits_to_nearest_even():
    # 1 + 2^-11 is halfway between 1 and 1 + 2^-10 (TF32's next number): ties go to even.
    half = np.float32(1 + 2.0**-11)
    assert to_tf32(np.array([half]))[0] == 1.0
    assert to_tf32(np.array([np.float32(1 + 3 * 2.0**-11)]))[0] == np.float32(1 + 2.0**-9)
    assert to_bf16(np.array([np.float32(1 + 2.0**-8)]))[0] == 1.0
    assert to_bf16(np.array([np.float32(1 + 2.0**-8 + 2.0**-20)]))[0] == np.float32(1 + 2.0**-7)
    values = np.random.default_rng(0).standard_normal(1000).astype(np.float32)
    for bits in (10, 7):
        rounded = round_mantissa(values, bits)
        assert np.all(np.abs(rounded - values) <= np.abs(values) * 2.0 ** -(bits + 1))
        assert np.all(rounded.view(np.uint32) % (1 << (23 - bits)) == 0)


def test_every_bound_of_every_case_is_non_negative_and_the_tight_one_no_looser():
    for info in layers.all_layers():
        for case in info.cases:
            for dtype in info.dtypes:
                ref = as_float64(cast(case.inputs, dtype))
                y = info.forward(**ref, **case.attrs)
                g = np.random.default_rng(0).standard_normal(np.shape(y))
                for direction, grad_out in (("forward", None), ("backward", g)):
                    policy = info.tolerance(direction, ref, case.attrs, dtype, grad_out)
                    for key, bound in policy.bounds.items():
                        tight = np.asarray(policy.tight_bounds[key])
                        where = f"{case.id} {dtype} {direction} [{key}]"
                        assert np.all(np.asarray(bound) >= 0), where
                        assert np.all(tight >= 0), where
                        assert np.all(tight <= bound), where


def test_error_ratios_are_never_negative():
    rng = np.random.default_rng(1)
    expected = rng.standard_normal(50)
    actual = -expected  # a sign error: every ratio is a size, whatever the signs
    bound = np.abs(rng.standard_normal(50))
    stats = error_stats(actual.astype(np.float32), expected, bound, "float32", bound / 10)
    assert stats["err_to_bound"] > 1.0
    assert stats["err_to_tight"] >= stats["err_to_bound"]


def test_a_negative_bound_is_refused_rather_than_compared():
    info = layers.get("linear")
    negative = dataclasses.replace(
        info, tolerance=lambda *a: Tolerance("reduction", {"y": -1.0}, "a negative bound")
    )
    case = info.cases[-1]
    with pytest.raises(ValueError, match="negative bound"):
        compare(Independent(), negative, "forward", case.inputs, case.attrs, "float32",
                label="linear-negative", repro="")  # fmt: skip


def test_the_rigorous_bound_alone_misses_tf32_at_4608_and_the_message_names_the_tight_one():
    stats, failure = _judge(Emulated(Independent(), "tf32"), "conv2d", 4608, "forward")
    assert stats["err_to_bound"] < 1.0 < stats["err_to_tight"]
    assert "tight probabilistic criterion" in str(failure)
    assert "rigorous bound (a hard limit" not in str(failure)
