"""Hypothesis differential fuzzing: every layer whose declaration has a fuzz strategy, in
every adapter that has the layer, against the reference, forward and backward.

The declaration's strategy draws a JSON-able configuration (shapes, attributes in every
form the reference accepts, a value seed); its ``inputs(config)`` turns it into values.
A configuration the reference rejects, or the adapter cannot run forward, is discarded
with ``assume``; backward is compared wherever the adapter runs it.  A failing example
whose output a present declared bug explains (tests/known_divergences.py, "matched") is
counted as that bug, not as a failure; any other failure fails.

A failing example prints the lines that rerun it once: in the ``ParityError``'s message,
or, for a crash, attached with ``note()``.  Example counts come from the Hypothesis profile
loaded in tests/conftest.py ("ci": derandomized, bounded); the quick run (no ``--full``)
draws a third as many (``QUICK_SHARE``), derandomized too.
"""

from __future__ import annotations

import pytest

import adapters
from tests import known_divergences, layers, sampling
from tests.harness import (
    DIRECTIONS,
    Unsupported,
    compare,
    compare_observed,
    framework_version,
    jsonable,
    repro_call,
)

hypothesis = pytest.importorskip("hypothesis")
st = pytest.importorskip("hypothesis.strategies")
from hypothesis import assume, given, note  # noqa: E402

#: The share of each layer's examples the quick run (no ``--full``) draws.
QUICK_SHARE = 1 / 3

_FIELDS = (
    "max_abs_err",
    "max_rel_err",
    "err_to_bound",
    "err_to_tight",
    "tolerance",
    "kind",
    "shapes",
)


def check_fuzz_example(
    layer: str,
    adapter_name: str,
    dtype: str,
    direction: str,
    config: dict,
    *,
    candidate: str | None = None,
) -> dict:
    """Rerun one fuzz example outside pytest; returns its stats or raises."""
    if candidate is not None and adapter_name not in adapters.names():
        adapters.register_spec(candidate, adapter_name)
    info = layers.get(layer)
    stats, failure = compare(
        adapters.load(adapter_name),
        info,
        direction,
        info.fuzz.inputs(config),
        config["attrs"],
        dtype,
        label=f"fuzz {layer}-{adapter_name}-{dtype}-{direction}",
        repro="",
    )
    if failure is not None:
        raise failure
    return stats


def _repro(layer, adapter_name, dtype, direction, config) -> str:
    return repro_call(
        "check_fuzz_example", layer, adapter_name, dtype, direction, config, adapter=adapter_name
    ).replace("from tests.harness import", "from tests.parity.test_fuzz import")


def _reference_accepts(info, inputs, attrs) -> bool:
    try:
        info.forward(**inputs, **attrs)
    except ValueError:
        return False
    return True


def _params():
    for info in layers.all_layers():
        if info.fuzz is None:
            continue
        for name in adapters.names():
            if adapters.supports(name, info.method) and name not in info.skips:
                yield pytest.param(info.name, name, id=f"{info.name}-{name}")


@pytest.mark.fuzz
@pytest.mark.parametrize(("layer", "adapter_name"), list(_params()))
def test_fuzz(request, layer, adapter_name):
    try:
        adapter = adapters.load(adapter_name)
    except adapters.FrameworkMissing as exc:
        pytest.skip(f"{adapter_name} not installed: {exc}")
    info = layers.get(layer)
    worst: dict[str, dict | None] = {"forward": None, "backward": None}
    counts = {"forward": 0, "backward": 0}
    refusals: set[str] = set()
    declared: set[str] = set()

    share = info.fuzz.share * (1.0 if sampling.full_run(request.config) else QUICK_SHARE)
    examples = max(1, round(hypothesis.settings().max_examples * share))

    @hypothesis.settings(max_examples=examples)
    @given(config=info.fuzz.configs(), dtype=st.sampled_from(list(info.dtypes)))
    def check(config, dtype):
        inputs = info.fuzz.inputs(config)
        attrs = config["attrs"]
        assume(_reference_accepts(info, inputs, attrs))
        for direction in DIRECTIONS:
            repro = _repro(layer, adapter_name, dtype, direction, config)
            try:
                stats, failure, observed = compare_observed(
                    adapter,
                    info,
                    direction,
                    inputs,
                    attrs,
                    dtype,
                    label=f"fuzz {layer}-{adapter_name}-{dtype}-{direction}",
                    repro=repro,
                )
            except Unsupported as exc:
                refusals.add(str(exc))
                assume(direction == "backward")  # a refused forward discards the example
                continue
            except Exception:
                # A crash carries no reproduction of its own (a ParityError does).
                note(f"reproduce with:\n{repro}")
                raise
            if failure is not None:
                fields = (layer, "fuzz", adapter_name, dtype, direction)
                verdict = known_divergences.judge(fields, observed, failed=True)
                if verdict.xfail:
                    declared.add(verdict.key)
                    continue
            counts[direction] += 1
            best = worst[direction]
            if best is None or (stats["err_to_bound"] or 0) > (best["err_to_bound"] or 0):
                worst[direction] = {
                    **stats,
                    "attrs": jsonable(attrs),
                    "repro": repro,
                    "dtype": dtype,
                }
            if failure is not None:
                raise failure

    try:
        check()
    except hypothesis.errors.Unsatisfiable:
        pytest.skip(f"unsupported by {adapter_name}: {'; '.join(sorted(refusals)[:2])}")
    finally:
        for direction, stats in worst.items():
            if stats is None:
                continue
            record = {
                "layer": layer,
                "case": "fuzz",
                "adapter": adapter_name,
                "framework_version": framework_version(adapter),
                "dtype": stats["dtype"],
                "direction": direction,
                "provenance": "hypothesis (tests/parity/test_fuzz.py)",
                "unsupported": None,
                "examples": counts[direction],
                "known_divergences": sorted(declared),
                "attrs": stats["attrs"],
                "repro": stats["repro"],
                **{k: stats.get(k) for k in _FIELDS},
            }
            request.node.user_properties.append(("parity", record))
