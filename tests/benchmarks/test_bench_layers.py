"""Benchmarks: every declared benchmark shape x every adapter with the layer (the reference
included), forward and backward, float32.

Group ``<layer>-<fwd|bwd>-<shape>`` (pytest-benchmark's ``benchmark.group``); ``extra_info``
holds the adapter, framework version, NumPy version, how the op runs and the shape's
provenance.  The timed callable is the adapter's own prepared call (``Run.call``): setup
(tensor conversion, layer building, JAX compilation) happened in the layer method; when
timing is on, one untimed warm-up call precedes it.  Every benchmark then checks the
result of its own timed callable against the float64 reference, so the default
``--benchmark-disable`` run (one call each, no timing) is a correctness test.

Measure: ``pytest tests/benchmarks --benchmark-enable --benchmark-only -p no:xdist
--benchmark-json reports/out/benchmarks.json``.
"""

from __future__ import annotations

import pytest

from adapters.base import Unsupported
from tests import layers
from tests.benchmarks import common

PARAMS = [
    pytest.param(shape, name, direction, id=f"{shape.layer}-{shape.id}-{name}-{direction}")
    for info in layers.all_layers()
    for shape in info.bench
    for name in common.names()
    if common.supports(name, shape.layer)
    for direction in common.DIRECTIONS
]


@pytest.mark.parametrize(("shape", "name", "direction"), PARAMS)
def test_layer_benchmark(benchmark, shape, name, direction):
    adapter = common.load(name)
    benchmark.group = shape.group(direction)
    try:
        run = common.prepared_run(adapter, shape, direction)
        benchmark.extra_info.update(
            common.extra_info(name, adapter, shape, direction, run.execution)
        )
        if not benchmark.disabled:
            run.call()  # warm-up: first-call allocations and kernel selection, untimed
        result = benchmark(run.call)
    except Unsupported as exc:  # a candidate may refuse only when called
        pytest.skip(f"unsupported by {name} {direction}: {exc}")
    common.check(run.to_reference(result), shape, direction, name)
