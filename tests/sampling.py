"""The default run's sample of the parity tests; ``pytest --full`` runs all of them.

The default ``pytest`` has to finish within 3 minutes on 2 cores, and the full case list
(every case x adapter x dtype x direction, about 9,000 comparisons) does not.  So by default
every built-in adapter runs these of its parity tests:

- for the first dtype a layer declares (float32): the fewest cases, picked greedily in
  declaration order, that exercise every attribute category the layer's cases exercise
  (``tests.layers.case_values``: each ``ceil_mode``, ``count_include_pad``, padding form,
  ``reduction``, target kind, ...);
- for that dtype too, every case with an attribute value the adapter names in
  ``always_sample`` (the ONNX adapters: ``ceil_mode=True``, where ONNX runtimes and
  PyTorch have disagreed);
- for its other dtypes: the layer's first case;
- every case a known divergence in tests/known_divergences.py names for the adapter, so a
  strict xfail still fails the run when upstream fixes the bug.

So every layer meets every adapter in every dtype and direction, and every attribute value
any case exercises is exercised.  Outside the sample a test is skipped, with the reason
(the report counts it as skipped, not missing).  Candidates (``--candidate``,
``--adapter``) always run every case.

Benchmarks (tests/benchmarks/test_bench_layers.py) run once each, untimed, under
``--full``, and all of them whenever pytest-benchmark times (``--benchmark-enable``).
Adapters whose set-up is slow (``slow_setup``: the ONNX exports, LiteRT conversions) run
only each layer's first case in float32 (plus the ``always_sample`` values and the declared
divergences' cases) instead of the attribute cover, and leave their fuzz tests to
``--full`` (every fuzz example is one more export or conversion), as do the adapters that
set ``slow_fuzz`` (JAX and Flax: XLA compiles every example's new shapes, about 11 s of
the default run's 3 minutes for the two); under ``--full`` their
benchmarks get the strict xfail of a divergence declared for every case of its layer (ONNX
Runtime's Sigmoid).
``pytest --full`` (or ``CNN_PARITY_FULL=1``, which child runs inherit) runs everything.
"""

from __future__ import annotations

import os
from functools import cache

import pytest

import adapters
from tests import known_divergences, layers

#: Tests generated per adapter from the declarations, and how each is sampled.
_SAMPLED_TESTS = {"test_parity": "cases", "test_fuzz": "full", "test_layer_benchmark": "bench"}


def _timing(config) -> bool:
    """pytest-benchmark asked to time (``--benchmark-enable`` or ``--benchmark-only``)."""
    return bool(
        config.getoption("benchmark_enable", False) or config.getoption("benchmark_only", False)
    )


def full_run(config) -> bool:
    """``--full`` given, or ``CNN_PARITY_FULL`` set to anything but "" or "0"."""
    return bool(config.getoption("full", False)) or os.environ.get("CNN_PARITY_FULL", "") not in (
        "",
        "0",
    )


@cache
def slow_setup(adapter_name: str) -> str | None:
    """Why the adapter's setup is slow (its ``slow_setup``), or None."""
    try:
        adapter = adapters.get(adapter_name)
    except KeyError:
        return None
    return getattr(type(adapter), "slow_setup", None)


@cache
def slow_fuzz(adapter_name: str) -> str | None:
    """Why every fuzz example is slow for the adapter (its ``slow_fuzz``), or None."""
    try:
        adapter = adapters.get(adapter_name)
    except KeyError:
        return None
    return getattr(type(adapter), "slow_fuzz", None)


def sampled(adapter_name: str) -> bool:
    """Whether the default run samples ``adapter_name``'s cases: every built-in adapter."""
    return adapter_name in adapters.ADAPTERS


@cache
def default_cases(layer: str, dtype: str, adapter_name: str) -> frozenset[str]:
    """The case ids of ``layer`` that ``adapter_name`` runs in ``dtype`` by default."""
    info = layers.get(layer)
    if not info.cases:
        return frozenset()
    if dtype == info.dtypes[0]:
        # A slow-setup adapter pays an export or a conversion per case: its quick run keeps
        # the first case (with the focus values below); --full reaches every attribute.
        chosen = {info.cases[0].id} if slow_setup(adapter_name) else _attribute_cover(info)
        focus = getattr(type(adapters.get(adapter_name)), "always_sample", {})
        chosen |= {
            case.id
            for case in info.cases
            if any(
                name in case.attrs and case.attrs[name] == value for name, value in focus.items()
            )
        }
    else:
        chosen = {info.cases[0].id}
    for case in info.cases:
        if known_divergences.find(layer, case.id, adapter_name, dtype, "forward"):
            chosen.add(case.id)
    return frozenset(chosen)


def _attribute_cover(info) -> set[str]:
    categories = {case.id: set(layers.case_values(info, case).items()) for case in info.cases}
    missing = set().union(*categories.values())
    chosen = {info.cases[0].id}
    missing -= categories[info.cases[0].id]
    while missing:
        best = max(info.cases, key=lambda case: len(categories[case.id] & missing))
        chosen.add(best.id)
        missing -= categories[best.id]
    return chosen


def skip_outside_sample(config, items) -> None:
    """Mark every sampled test outside the default sample as skipped (see the docstring);
    under ``--full``, give these adapters' benchmarks the strict xfail of a divergence
    declared for every case of their layer (the benchmark checks its result too)."""
    if full_run(config):
        _benchmark_divergences(items)
        return
    for item in items:
        how = _SAMPLED_TESTS.get(getattr(item, "originalname", ""))
        callspec = getattr(item, "callspec", None)
        if how is None or callspec is None:
            continue
        params = callspec.params
        name = params.get("adapter_name", params.get("name"))
        if how == "bench" and not (isinstance(name, str) and slow_setup(name)):
            # Benchmarks of every implementation (the reference too) run once each in a
            # full run; timing them (--benchmark-enable) runs them all.
            if not _timing(config):
                item.add_marker(pytest.mark.skip(reason=_BENCH_SKIP))
            continue
        if not isinstance(name, str) or not sampled(name):
            continue
        why = slow_setup(name)
        if how == "cases":
            case = layers.case(params["case_id"])
            if case.id in default_cases(case.layer, params["dtype"], name):
                continue
        else:
            why = why or slow_fuzz(name)
            if why is None:
                continue  # fuzz: only slow adapters leave it to --full
        because = f" ({why})" if why else ""
        item.add_marker(
            pytest.mark.skip(
                reason=f"{name}: outside the default sample{because}; pytest --full runs it"
            )
        )


_BENCH_SKIP = "benchmarks: not in the default run; pytest --full runs each once, untimed"


def _benchmark_divergences(items) -> None:
    for item in items:
        callspec = getattr(item, "callspec", None)
        if getattr(item, "originalname", "") != "test_layer_benchmark" or callspec is None:
            continue
        name, shape = callspec.params.get("name"), callspec.params.get("shape")
        if not isinstance(name, str) or slow_setup(name) is None or shape is None:
            continue
        direction = callspec.params.get("direction", "forward")
        for marker in known_divergences.marks(shape.layer, "*", name, "float32", direction):
            item.add_marker(marker)
