"""What every benchmark shares: the adapters under benchmark (the reference included, as
``reference``: the reference package seen through the same Protocol as a candidate),
their versions for ``extra_info``, the timed ``Run``, and the check that a benchmark's
result matches the reference.

The timed callable is the adapter's own prepared call (``Run.call`` of
``adapter.<layer>(...)``); setup happened when the layer method ran.  The check is the
parity suite's (``tests.harness.assert_parity`` under the layer's tolerance policy):
float32 result against the reference in float64 on the same float32 inputs.  Expected
values and bounds depend only on the shape and direction, so they are computed once per
process and shared by the adapters.
"""

from __future__ import annotations

import platform
from functools import cache

import numpy as np
import pytest

import adapters
import reference
from adapters.base import Run, prepare
from adapters.candidate import ModuleAdapter
from tests.harness import as_float64, assert_parity, seed_for
from tests.layers import get as declaration
from tests.layers._bench import BenchShape

DTYPE = "float32"
DIRECTIONS = ("forward", "backward")
#: The reference first: the column every other is read against.
REFERENCE = ModuleAdapter("reference", reference, origin="reference/ (NumPy)")


#: Below glibc's cap on its dynamic mmap threshold (DEFAULT_MMAP_THRESHOLD_MAX, 32 MiB on
#: 64-bit; man mallopt): freeing an mmapped chunk up to that size raises the threshold.
_SETTLE_BYTES = 24 * 1024 * 1024


def settle_allocator() -> None:
    """Allocate and free one 24 MiB buffer, raising glibc's dynamic mmap threshold.

    glibc serves a large ``malloc`` with a fresh ``mmap`` (page faults on first touch)
    until a chunk that large has been freed, and trims the heap above twice that
    threshold (man mallopt, M_MMAP_THRESHOLD / M_TRIM_THRESHOLD).  torch's CPU convolution
    allocates reorder buffers and its output on every call; in a process that has not
    freed a large buffer yet it page-faults about 2000 times per call, which on this VM
    costs it several times its compute.  Raising the threshold first gives torch its
    best, fault-free time: the strict baseline for the ratios.  The reference's conv2d
    showed no per-call page faults either way (``resource.getrusage().ru_minflt``).
    Without glibc this is one harmless allocation.
    """
    buffer = np.ones(_SETTLE_BYTES // 8, dtype=np.float64)
    del buffer


def names() -> list[str]:
    return ["reference", *adapters.names()]


def supports(name: str, layer: str) -> bool:
    method = declaration(layer).method
    return name == "reference" or adapters.supports(name, method)


def load(name: str):
    """The loaded adapter, or ``pytest.skip`` with the reason it is missing."""
    if name == "reference":
        return REFERENCE
    try:
        return adapters.load(name)
    except adapters.FrameworkMissing as exc:
        pytest.skip(f"{name}: {exc}")


def prepared_run(adapter, shape: BenchShape, direction: str) -> Run:
    """The adapter's timed ``Run`` for one shape and direction (raises ``Unsupported``)."""
    prepared = prepare(adapter, declaration(shape.layer).method, inputs_of(shape), shape.attrs)
    if direction == "forward":
        return prepared.forward()
    return prepared.backward(grad_out_of(shape))


def extra_info(name: str, adapter, shape: BenchShape, direction: str, execution: str) -> dict:
    """``extra_info`` of one benchmark: adapter, framework + version, NumPy, and the case."""
    if adapter is REFERENCE:
        framework, version = "reference (NumPy)", np.__version__
    else:
        framework, version = name, adapter.version()
    return {
        "adapter": name,
        "framework": framework,
        "version": str(version),
        "numpy": np.__version__,
        "python": platform.python_version(),
        "layer": shape.layer,
        "shape": shape.id,
        "direction": direction,
        "dtype": DTYPE,
        "execution": execution,
        "provenance": shape.provenance,
        "input_shapes": {k: list(v) for k, (v, _) in shape.inputs.items()},
    }


@cache
def inputs_of(shape: BenchShape) -> dict[str, np.ndarray]:
    return shape.make_inputs()


@cache
def grad_out_of(shape: BenchShape) -> np.ndarray:
    """float32 cotangent with the forward output's shape (seeded by the shape's label)."""
    out_shape = np.shape(declaration(shape.layer).forward(**inputs_of(shape), **shape.attrs))
    rng = np.random.default_rng(seed_for(shape.label + "-grad_out"))
    return np.asarray(rng.standard_normal(out_shape)).astype(DTYPE)


@cache
def _expected(shape: BenchShape, direction: str):
    """``(expected outputs, tolerance)``: float64 reference on the float32 inputs."""
    info = declaration(shape.layer)
    ref_inputs = as_float64(inputs_of(shape))
    if direction == "forward":
        expected = {"y": info.forward(**ref_inputs, **shape.attrs)}
        grad_out = None
    else:
        grad_out = grad_out_of(shape).astype(np.float64)
        expected = info.backward(grad_out, **ref_inputs, **shape.attrs)
    policy = info.tolerance(direction, ref_inputs, shape.attrs, DTYPE, grad_out)
    return expected, policy


def check(result, shape: BenchShape, direction: str, name: str) -> None:
    """Assert a benchmark's result (reference layout) matches the float64 reference."""
    expected, policy = _expected(shape, direction)
    actual = {"y": result} if direction == "forward" else dict(result)
    missing = sorted(set(expected) - set(actual))
    assert not missing, f"{name} returned no gradient for {missing}"
    for key, want in expected.items():
        assert_parity(
            actual[key],
            want,
            bound=policy.bounds[key],
            kind=policy.kind,
            dtype=DTYPE,
            label=f"benchmark {shape.group(direction)} {name} [{key}]",
            repro=f"pytest tests/benchmarks -k '{shape.layer} and {shape.id} and {name}'",
            rule=policy.rule,
            tight=policy.tight_bounds[key],
            tight_rule=policy.tight_rule,
        )
