"""The parity harness: run one implementation and the reference on the same inputs,
compare under the layer's tolerance policy, and describe the comparison (stats, record,
reproduction).

Protocol for every comparison (parity tests, fuzzing and benchmarks alike):

1. Floating inputs are cast to the dtype under test; the implementation runs on those.
2. The reference runs in float64 on the *same* cast values (so input rounding is shared
   and only the implementation's arithmetic is being judged).
3. Backward uses ``grad_out`` drawn from ``np.random.default_rng(seed)`` (the seed is the
   CRC32 of the test's label, stable across processes), cast the same way.
4. ``assert_parity`` checks shape, dtype and ``|actual - expected| <= bound`` elementwise,
   the bound coming from the layer's declaration (``tests/layers/``).

Every failure carries a reproduction: a few lines that, saved as ``repro.py`` and run with
``python repro.py`` from anywhere inside the checkout, rerun that one comparison
(``check_case``), the user's own candidate included.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

import adapters
from adapters.base import DIRECTIONS, Unsupported, prepare
from tests.layers import DTYPES, LayerInfo, reference_functions
from tests.layers import get as declaration
from tests.tolerances import REL_ERR_FLOOR_EPS, Tolerance

__all__ = [
    "DIRECTIONS",
    "DTYPES",
    "Observed",
    "ParityError",
    "Unsupported",
    "assert_parity",
    "check_case",
    "compare",
    "reference_functions",
]


class ParityError(AssertionError):
    """A framework disagrees with the reference beyond the policy's bound."""


def _info(layer: str | LayerInfo) -> LayerInfo:
    return layer if isinstance(layer, LayerInfo) else declaration(layer)


def run_adapter(adapter, layer, direction, inputs, attrs, grad_out=None):
    """The adapter's result in the reference's layout; raises ``Unsupported``."""
    prepared = prepare(adapter, _info(layer).method, inputs, attrs)
    run = prepared.forward() if direction == "forward" else prepared.backward(grad_out)
    return run.result()


def seed_for(label: str) -> int:
    return zlib.crc32(label.encode())


def as_float64(inputs: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {
        k: v.astype(np.float64) if np.issubdtype(np.asarray(v).dtype, np.floating) else v
        for k, v in inputs.items()
    }


def cast(inputs: Mapping[str, np.ndarray], dtype) -> dict[str, np.ndarray]:
    out = {}
    for k, v in inputs.items():
        v = np.asarray(v)
        out[k] = v.astype(dtype) if np.issubdtype(v.dtype, np.floating) else v
    return out


# ------------------------------------------------------------------------------------------
# The one comparison helper


def error_stats(actual, expected, bound, dtype) -> dict[str, Any]:
    """Max abs error, its index, max rel error (where |expected| is not tiny) and the
    worst error-to-bound ratio (0/0 counts as 0; error over a zero bound as inf)."""
    a = np.asarray(actual, dtype=np.float64)
    e = np.asarray(expected, dtype=np.float64)
    b = np.broadcast_to(np.asarray(bound, dtype=np.float64), e.shape)
    # Equal values (infinities included) and NaN against NaN agree; any other NaN or
    # infinity in the difference is an infinite error.
    with np.errstate(invalid="ignore", over="ignore"):
        err = np.abs(a - e)
    err = np.where((a == e) | (np.isnan(a) & np.isnan(e)), 0.0, err)
    err = np.where(np.isnan(err), np.inf, err)
    if err.size == 0:
        return {"max_abs_err": 0.0, "max_rel_err": 0.0, "err_to_bound": 0.0, "worst_index": ()}
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(err == 0, 0.0, err / b)
    worst = np.unravel_index(int(np.argmax(ratio)), e.shape) if e.ndim else ()
    finite = np.abs(e[np.isfinite(e)])
    floor = (
        REL_ERR_FLOOR_EPS
        * float(np.finfo(np.dtype(dtype)).eps)
        * (float(finite.max()) if finite.size else 0.0)
    )
    big = np.abs(e) > floor
    rel = float(np.max(err[big] / np.abs(e[big]))) if np.any(big) else 0.0
    return {
        "max_abs_err": float(np.max(err)),
        "max_rel_err": rel,
        "err_to_bound": float(np.max(ratio)),
        "worst_index": tuple(int(i) for i in worst),
        "worst_err": float(err[worst]),
        "worst_bound": float(b[worst]),
        "worst_actual": float(a[worst]),
        "worst_expected": float(e[worst]),
    }


def assert_parity(actual, expected, *, bound, kind, dtype, label, repro, rule="") -> dict:
    """Check shape, dtype and ``|actual - expected| <= bound``; return the stats.

    On failure the message states the shape, dtype, worst error and its index, the
    tolerance, and Python lines that reproduce the comparison.
    """
    actual = np.asarray(actual)
    expected = np.asarray(expected)
    problems = []
    if actual.shape != expected.shape:
        problems.append(f"shape {actual.shape} != reference shape {expected.shape}")
    if actual.dtype != np.dtype(dtype):
        problems.append(f"dtype {actual.dtype} != dtype under test {np.dtype(dtype)}")
    if problems:
        stats = {"max_abs_err": None, "max_rel_err": None, "err_to_bound": None}
        stats["passed"] = False
        raise_with(stats, f"{label}: " + "; ".join(problems), repro)
    stats = error_stats(actual, expected, bound, dtype)
    stats["passed"] = bool(stats["err_to_bound"] <= 1.0)
    if not stats["passed"]:
        message = (
            f"{label}: {kind} comparison failed, shape {expected.shape}, dtype {dtype}\n"
            f"  worst error {stats['worst_err']:.3e} at index {stats['worst_index']} "
            f"(framework {stats['worst_actual']!r}, reference {stats['worst_expected']!r}), "
            f"bound there {stats['worst_bound']:.3e}, error/bound {stats['err_to_bound']:.3g}\n"
            f"  max abs error {stats['max_abs_err']:.3e}, max rel error "
            f"{stats['max_rel_err']:.3e}\n  tolerance: {rule}"
        )
        raise_with(stats, message, repro)
    return stats


def raise_with(stats, message: str, repro: str):
    error = ParityError(f"{message}\n  reproduce with:\n{_indent(repro)}")
    error.stats = stats
    raise error


def _indent(text: str) -> str:
    return "\n".join("    " + line for line in text.strip().splitlines())


# ------------------------------------------------------------------------------------------
# One whole comparison: framework vs reference, every output of one direction


@dataclass(frozen=True)
class Observed:
    """One comparison's arrays, kept so that a failure can be recognised as a declared
    bug's own wrong value (tests/known_divergences.py).  ``inputs`` are what the
    implementation was given (cast to ``dtype``), ``reference_inputs`` the same values in
    float64, ``grad_out`` the float64 values of the seed it was given (None forward);
    ``actual`` / ``expected`` / ``bounds`` are keyed by output ("y" or input name)."""

    adapter: Any
    info: LayerInfo
    direction: str
    dtype: str
    inputs: Mapping[str, np.ndarray]
    reference_inputs: Mapping[str, np.ndarray]
    attrs: Mapping[str, Any]
    grad_out: np.ndarray | None
    actual: Mapping[str, np.ndarray]
    expected: Mapping[str, np.ndarray]
    bounds: Mapping[str, Any]

    def rerun(self):
        """Run the implementation again on the same call; returns its result."""
        seed = None if self.grad_out is None else self.grad_out.astype(self.dtype)
        return run_adapter(self.adapter, self.info, self.direction, self.inputs, self.attrs, seed)


def compare(
    adapter,
    layer: str,
    direction: str,
    inputs: Mapping[str, np.ndarray],
    attrs: Mapping[str, Any],
    dtype: str,
    *,
    label: str,
    repro: str,
) -> tuple[dict, ParityError | None]:
    """Run both sides and compare.  Returns ``(stats, failure)``: stats aggregated over the
    outputs (worst ratio, largest errors) plus per-output stats and the tolerance rule;
    ``failure`` the first ``ParityError`` or None.  The caller decides how to report.
    Raises ``Unsupported`` when the implementation cannot run this comparison."""
    stats, failure, _ = compare_observed(
        adapter, layer, direction, inputs, attrs, dtype, label=label, repro=repro
    )
    return stats, failure


def compare_observed(
    adapter,
    layer: str,
    direction: str,
    inputs: Mapping[str, np.ndarray],
    attrs: Mapping[str, Any],
    dtype: str,
    *,
    label: str,
    repro: str,
) -> tuple[dict, ParityError | None, Observed]:
    """``compare``, also returning the comparison's arrays (``Observed``)."""
    info = _info(layer)
    fwd, bwd = info.forward, info.backward
    under_test = cast(inputs, dtype)
    ref_inputs = as_float64(under_test)
    expected_y = fwd(**ref_inputs, **attrs)
    if direction == "forward":
        actual = {"y": run_adapter(adapter, info, direction, under_test, attrs)}
        expected = {"y": expected_y}
        grad_out = None
    else:
        shape = np.shape(expected_y)
        grad_out = np.asarray(np.random.default_rng(seed_for(label)).standard_normal(shape))
        grad_out = grad_out.astype(dtype).astype(np.float64)
        actual = run_adapter(adapter, info, direction, under_test, attrs, grad_out.astype(dtype))
        expected = bwd(grad_out, **ref_inputs, **attrs)
    policy: Tolerance = info.tolerance(direction, ref_inputs, attrs, dtype, grad_out)
    if not _non_negative(policy):
        raise ValueError(f"{label}: the tolerance policy gave a negative bound ({policy.rule})")
    per_output: dict[str, dict] = {}
    failure = None
    missing = sorted(set(expected) - set(actual))
    if missing:
        failure = ParityError(
            f"{label}: the implementation returned no gradient for {missing}\n"
            f"  reproduce with:\n{_indent(repro)}"
        )
    for key, want in expected.items():
        if key not in actual:
            continue
        try:
            per_output[key] = assert_parity(
                actual[key],
                want,
                bound=policy.bounds[key],
                kind=policy.kind,
                dtype=dtype,
                label=f"{label} [{key}]",
                repro=repro,
                rule=policy.rule,
            )
        except ParityError as exc:
            per_output[key] = exc.stats
            failure = failure or exc
    stats = _aggregate(per_output)
    stats.update(
        kind=policy.kind,
        tolerance=_max_bound(policy),
        tolerance_rule=policy.rule,
        outputs={
            k: {kk: vv for kk, vv in v.items() if kk != "worst_index"}
            | {"worst_index": list(v.get("worst_index", ()))}
            for k, v in per_output.items()
        },
        shapes={k: list(np.shape(v)) for k, v in inputs.items()},
        arrays=_arrays(inputs, expected, actual) if direction == "forward" else None,
    )
    observed = Observed(
        adapter,
        info,
        direction,
        dtype,
        under_test,
        ref_inputs,
        attrs,
        grad_out,
        actual,
        expected,
        policy.bounds,
    )
    return stats, failure, observed


def _aggregate(per_output: Mapping[str, dict]) -> dict:
    def worst(key):
        values = [s.get(key) for s in per_output.values()]
        if any(v is None for v in values):
            return None
        return max(values, default=0.0)

    return {
        "max_abs_err": worst("max_abs_err"),
        "max_rel_err": worst("max_rel_err"),
        "err_to_bound": worst("err_to_bound"),
    }


def _non_negative(policy: Tolerance) -> bool:
    """Every bound is >= 0 (NaN counts as negative: it would pass nothing and fail
    nothing)."""
    return all(bool(np.all(np.asarray(b) >= 0)) for b in policy.bounds.values())


def _max_bound(policy: Tolerance) -> float:
    return max(float(np.max(np.asarray(b))) if np.size(b) else 0.0 for b in policy.bounds.values())


def _arrays(inputs, expected, actual):
    """2-D views (first image, first channel) of small fixtures for the report's heatmaps."""
    first = np.asarray(next(iter(inputs.values())))
    y_ref, y = np.asarray(expected["y"]), np.asarray(actual["y"])
    views = []
    for a in (first, y_ref, y):
        while a.ndim > 2:
            a = a[0]
        views.append(a)
    if any(v.ndim != 2 or v.size > 4096 for v in views) or first.ndim not in (2, 4):
        return None
    as_list = lambda a: np.asarray(a, dtype=np.float64).tolist()  # noqa: E731
    return {
        "input": as_list(views[0]),
        "reference": as_list(views[1]),
        "framework": as_list(views[2]),
    }


# ------------------------------------------------------------------------------------------
# Records and reproduction


_FIND_CHECKOUT = (
    "# Saved as repro.py, this runs from anywhere inside the cnn-parity checkout:\n"
    "import pathlib, sys\n"
    "here = pathlib.Path.cwd().resolve()\n"
    "root = next(p for p in (here, *here.parents) if (p / 'tests' / 'harness.py').is_file())\n"
    "sys.path.insert(0, str(root))\n"
)


def repro_call(function: str, *args: Any, adapter: str) -> str:
    """Python lines that rerun ``tests.harness.<function>(*args)`` in a fresh interpreter,
    registering ``adapter`` first when it is a user's candidate."""
    origin = adapters.origin(adapter)
    extra = f", candidate={origin!r}" if origin else ""
    call = ", ".join(repr(a) for a in args)
    return (
        f"{_FIND_CHECKOUT}from tests.harness import {function}\n"
        f"stats = {function}({call}{extra})  # raises ParityError on a mismatch\n"
        "print('agrees: error/bound', stats['err_to_bound'])\n"
    )


def repro_case(case_id: str, adapter: str, dtype: str, direction: str) -> str:
    return repro_call("check_case", case_id, adapter, dtype, direction, adapter=adapter)


def label_for(layer, case_id, adapter, dtype, direction) -> str:
    return f"{layer}-{case_id}-{adapter}-{dtype}-{direction}"


def check_case(
    case_id: str, adapter_name: str, dtype: str, direction: str, *, candidate: str | None = None
) -> dict:
    """Rerun one parity comparison outside pytest; returns its stats or raises
    ``ParityError`` (``Unsupported`` when the implementation cannot run it).
    ``candidate`` is the ``--candidate`` / ``--adapter`` spec of a user's implementation."""
    from tests import layers

    if candidate is not None and adapter_name not in adapters.names():
        adapters.register_spec(candidate, adapter_name)
    case = layers.case(case_id)
    adapter = adapters.load(adapter_name)
    stats, failure = compare(
        adapter,
        case.layer,
        direction,
        case.inputs,
        case.attrs,
        dtype,
        label=label_for(case.layer, case_id, adapter_name, dtype, direction),
        repro=repro_case(case_id, adapter_name, dtype, direction),
    )
    if failure:
        raise failure
    return stats


def jsonable(value):
    """attrs for the record: tuples become lists, numpy scalars plain numbers."""
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def framework_version(adapter) -> str | None:
    try:
        return adapter.version()
    except Exception:  # a version string is informative only
        return None
