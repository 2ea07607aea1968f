"""Benchmarks: every layer x adapter (the reference included), forward and backward, float32.

Group ``<layer>-<fwd|bwd>-<shape>`` (pytest-benchmark's ``benchmark.group``); ``extra_info``
holds the adapter, framework version, NumPy version, how the op runs and the shape's
provenance.  Setup (tensor conversion, layer building, JAX compilation) happens in
``adapters._bench.prepare``, outside the timed callable; when timing is on, one untimed
warm-up call precedes it.  Every benchmark then checks the result of its own timed
callable against the float64 reference, so the default ``--benchmark-disable`` run (one
call each, no timing) is a correctness test.

Measure: ``pytest tests/benchmarks --benchmark-enable --benchmark-only -p no:xdist
--benchmark-json reports/out/benchmarks.json``.
"""

from __future__ import annotations

import pytest

from adapters._bench import prepare
from tests.benchmarks import common
from tests.benchmarks.shapes import SHAPES
from tests.harness import unsupported_reason

PARAMS = [
    pytest.param(shape, name, direction, id=f"{shape.layer}-{shape.id}-{name}-{direction}")
    for shape in SHAPES
    for name in common.ADAPTERS
    for direction in common.DIRECTIONS
]


@pytest.mark.parametrize(("shape", "name", "direction"), PARAMS)
def test_layer_benchmark(benchmark, shape, name, direction):
    adapter = common.load(name)
    inputs = common.inputs_of(shape)
    if adapter is None:
        prepared = common.prepare_reference(shape, direction)
    else:
        reason = unsupported_reason(
            adapter, shape.layer, direction, inputs, shape.attrs, common.DTYPE
        )
        if reason:
            pytest.skip(f"{name} {direction}: {reason}")
        grad_out = common.grad_out_of(shape) if direction == "backward" else None
        prepared = prepare(adapter, shape.layer, inputs, shape.attrs, direction, grad_out)
    if not benchmark.disabled:
        prepared.run()  # warm-up: first-call allocations and kernel selection, untimed
    benchmark.group = shape.group(direction)
    benchmark.extra_info.update(
        common.extra_info(name, adapter, shape, direction, prepared.execution)
    )
    result = benchmark(prepared.run)
    common.check(prepared.to_reference(result), shape, direction, name)
