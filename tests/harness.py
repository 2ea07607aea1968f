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
   the bound coming from the layer's declaration (``tests/layers/``), never from the code
   under judgement and never negative; where the policy also has a tight (probabilistic)
   bound the error must stay within both (``tests/tolerances.py``).

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


def error_stats(actual, expected, bound, dtype, tight=None) -> dict[str, Any]:
    """Max abs error, its index, max rel error (where |expected| is not tiny), the worst
    error-to-bound ratio (0/0 counts as 0; error over a zero bound as inf) and the same
    against the tight bound (``err_to_tight``; the rigorous bound when ``tight`` is None).
    Ratios are of an error >= 0 over a bound >= 0, so never negative."""
    a = np.asarray(actual, dtype=np.float64)
    e = np.asarray(expected, dtype=np.float64)
    b = np.broadcast_to(np.asarray(bound, dtype=np.float64), e.shape)
    t = b if tight is None else np.broadcast_to(np.asarray(tight, dtype=np.float64), e.shape)
    # Equal values (infinities included) and NaN against NaN agree; any other NaN or
    # infinity in the difference is an infinite error.
    with np.errstate(invalid="ignore", over="ignore"):
        err = np.abs(a - e)
    err = np.where((a == e) | (np.isnan(a) & np.isnan(e)), 0.0, err)
    err = np.where(np.isnan(err), np.inf, err)
    if err.size == 0:
        return {
            "max_abs_err": 0.0,
            "max_rel_err": 0.0,
            "err_to_bound": 0.0,
            "err_to_tight": 0.0,
            "worst_index": (),
            "over_bound": 0,
            "over_tight": 0,
            "size": 0,
        }
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(err == 0, 0.0, err / b)
        tight_ratio = np.where(err == 0, 0.0, err / t)
    worst = np.unravel_index(int(np.argmax(ratio)), e.shape) if e.ndim else ()
    worst_tight = np.unravel_index(int(np.argmax(tight_ratio)), e.shape) if e.ndim else ()
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
        "err_to_tight": float(np.max(tight_ratio)),
        "worst_index": tuple(int(i) for i in worst),
        "worst_err": float(err[worst]),
        "worst_bound": float(b[worst]),
        "worst_actual": float(a[worst]),
        "worst_expected": float(e[worst]),
        "tight_index": tuple(int(i) for i in worst_tight),
        "tight_err": float(err[worst_tight]),
        "tight_bound": float(t[worst_tight]),
        "tight_actual": float(a[worst_tight]),
        "tight_expected": float(e[worst_tight]),
        "over_bound": int(np.count_nonzero(ratio > 1.0)),
        "over_tight": int(np.count_nonzero(tight_ratio > 1.0)),
        "size": int(err.size),
    }


def assert_parity(
    actual,
    expected,
    *,
    bound,
    kind,
    dtype,
    label,
    repro,
    rule="",
    tight=None,
    tight_rule="",
    context="",
) -> dict:
    """Check shape, dtype and ``|actual - expected| <= bound`` and ``<= tight`` (the tight
    criterion, when the policy has one); return the stats.

    On failure the message states, in this order: what failed (label, shape, dtype) and
    which bound was exceeded (the rigorous hard limit, or the tight probabilistic
    criterion), the ``context`` line (the case's attributes and input shapes), how many
    elements are over that bound, the worst error with its index, values and bound, both
    ratios, the tolerance rule, and Python lines that reproduce the comparison.
    """
    where = f"\n  {context}" if context else ""
    actual = np.asarray(actual)
    expected = np.asarray(expected)
    problems = []
    if actual.shape != expected.shape:
        problems.append(f"shape {actual.shape} != reference shape {expected.shape}")
    if actual.dtype != np.dtype(dtype):
        problems.append(f"dtype {actual.dtype} != dtype under test {np.dtype(dtype)}")
    if problems:
        stats = {"max_abs_err": None, "max_rel_err": None, "err_to_bound": None}
        stats["err_to_tight"] = None
        stats["passed"] = False
        raise_with(stats, f"{label}: " + "; ".join(problems) + where, repro)
    stats = error_stats(actual, expected, bound, dtype, tight)
    rigorous_ok = stats["err_to_bound"] <= 1.0
    stats["passed"] = bool(rigorous_ok and stats["err_to_tight"] <= 1.0)
    if not stats["passed"]:
        if not rigorous_ok:
            which = "the rigorous bound (a hard limit no correct float arithmetic crosses)"
            at, ratio = "worst", stats["err_to_bound"]
        else:
            which = f"the tight probabilistic criterion ({tight_rule})"
            at, ratio = "tight", stats["err_to_tight"]
        index = stats["worst_index"] if at == "worst" else stats["tight_index"]
        over = stats["over_bound"] if at == "worst" else stats["over_tight"]
        share = 100.0 * over / stats["size"]
        message = (
            f"{label}: {kind} comparison failed, shape {expected.shape}, dtype {dtype}: "
            f"error exceeds {which}{where}\n"
            f"  {over} of {stats['size']} elements over that bound ({share:.3g}%)\n"
            f"  worst at index {index}: framework {stats[at + '_actual']!r}, "
            f"reference {stats[at + '_expected']!r}; error {stats[at + '_err']:.3e}, "
            f"bound {stats[at + '_bound']:.3e} (error/bound {ratio:.3g})\n"
            f"  error/rigorous bound {stats['err_to_bound']:.3g}, error/tight bound "
            f"{stats['err_to_tight']:.3g}\n"
            f"  max abs error {stats['max_abs_err']:.3e}, max rel error "
            f"{stats['max_rel_err']:.3e}\n  tolerance: {rule}"
        )
        raise_with(stats, message, repro)
    return stats


def raise_with(stats, message: str, repro: str):
    """Raise a ``ParityError`` carrying ``stats``, ``summary`` (the message) and ``repro``."""
    raise _parity_error(stats, message, repro)


def _parity_error(stats, message: str, repro: str) -> ParityError:
    text = f"{message}\n  reproduce with:\n{_indent(repro)}" if repro.strip() else message
    error = ParityError(text)
    error.stats = stats
    error.summary = message
    error.repro = repro
    return error


def _indent(text: str) -> str:
    return "\n".join("    " + line for line in text.strip().splitlines())


def describe_case(attrs: Mapping[str, Any], inputs: Mapping[str, Any]) -> str:
    """One line: the attributes and the input shapes (``stride=2, padding=1; inputs x
    (2, 3, 8, 8), w (4, 3, 3, 3)``)."""

    def show(value) -> str:
        if isinstance(value, np.ndarray):
            return f"array{value.shape}" if value.size > 8 else repr(value.tolist())
        return repr(jsonable(value))

    parts = ", ".join(f"{k}={show(v)}" for k, v in attrs.items())
    shapes = ", ".join(f"{k} {tuple(np.shape(v))}" for k, v in inputs.items())
    return f"case: {parts or 'default attributes'}; inputs {shapes}"


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
    failures: dict[str, ParityError] = {}
    context = describe_case(attrs, under_test)
    missing = sorted(set(expected) - set(actual))
    if missing:
        message = f"{label}: the implementation returned no gradient for {missing}\n  {context}"
        failures["missing"] = _parity_error({}, message, repro)
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
                tight=policy.tight_bounds[key],
                tight_rule=policy.tight_rule,
                context=context,
            )
        except ParityError as exc:
            per_output[key] = exc.stats
            failures[key] = exc
    failure = _first_failure(failures, repro)
    stats = _aggregate(per_output)
    stats.update(
        kind=policy.kind,
        tolerance=_max_bound(policy),
        tolerance_rule=policy.rule,
        tight_rule=policy.tight_rule or None,
        outputs={
            k: {kk: vv for kk, vv in v.items() if kk not in ("worst_index", "tight_index")}
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


def _first_failure(failures: Mapping[str, ParityError], repro: str) -> ParityError | None:
    """The first failure, its message naming the other outputs that failed too."""
    if len(failures) <= 1:
        return next(iter(failures.values()), None)
    (_, first), *others = failures.items()
    also = ", ".join(
        f"{key} (error/bound {_ratio(exc.stats.get('err_to_bound'))})" for key, exc in others
    )
    return _parity_error(first.stats, f"{first.summary}\n  also failed: {also}", repro)


def _ratio(value) -> str:
    return "n/a (shape or dtype)" if value is None else f"{value:.3g}"


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
        "err_to_tight": worst("err_to_tight"),
    }


def _non_negative(policy: Tolerance) -> bool:
    """Every bound, rigorous and tight, is >= 0 (NaN counts as negative: it would pass
    nothing and fail nothing)."""
    bounds = [*policy.bounds.values(), *policy.tight_bounds.values()]
    return all(bool(np.all(np.asarray(b) >= 0)) for b in bounds)


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
        "print('agrees: error/bound', stats['err_to_bound'],\n"
        "      'error/tight bound', stats['err_to_tight'])\n"
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
