"""Calibrate and check the tight criterion (tests/tolerances.py, TIGHT_LAMBDA).

    python tests/tools/tight_calibration.py calibrate   # lambda each real comparison needs
    python tests/tools/tight_calibration.py detect      # error/bound against TF32, bf16, fp16
    python tests/tools/tight_calibration.py calibrate keras   # only the adapters named

``calibrate`` runs every installed adapter on every declared conv2d and linear case and
on the fixtures of ``tests/reduced_precision.py`` (reduction lengths 64 ... 4608 in each
direction, normal and same-sign inputs), in float32 and float64, and prints per adapter
and dtype the largest lambda any comparison needed: ``max (err - floor) / (u sqrt(s)
scale)`` over the elements, the tight bound being ``lambda u sqrt(s) scale + floor``.
``detect`` prints error/rigorous bound and error/tight bound at the lambda in force for
real float32 in each adapter and for the emulated TF32 / bf16 / fp16 runs.
Run from the checkout's root.
"""

from __future__ import annotations

import pathlib
import sys
from collections import defaultdict

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2]))

import adapters
from tests import layers, tolerances
from tests.harness import as_float64, cast, compare, run_adapter, seed_for
from tests.reduced_precision import (
    MODES,
    Emulated,
    conv2d_shapes,
    inputs_for,
    linear_shapes,
)

SIZES = (64, 576, 1152, 4608)
FIXTURE_DIRECTIONS = ("forward", "dx", "dw")
SHAPES = {"conv2d": conv2d_shapes, "linear": linear_shapes}


def fixtures(layer: str):
    """(label, inputs, attrs, keys judged): the declared cases, then the sized ones."""
    for case in layers.get(layer).cases:
        yield case.id, dict(case.inputs), dict(case.attrs), None
    for n in SIZES:
        for which in FIXTURE_DIRECTIONS:
            shapes, attrs = SHAPES[layer](n, which)
            for positive in (False, True):
                seed = seed_for(f"{layer}-{n}-{which}-{positive}")
                label = f"{which}-n{n}-{'positive' if positive else 'normal'}"
                keys = None if which == "forward" else ({"dx": "x", "dw": "w"}[which],)
                yield label, inputs_for(shapes, seed, positive), attrs, keys


def lambda_needed(adapter, layer, inputs, attrs, dtype, direction, label):
    """Per output key, the smallest lambda that passes this comparison."""
    info = layers.get(layer)
    under = cast(inputs, dtype)
    ref = as_float64(under)
    y = info.forward(**ref, **attrs)
    grad_out = None
    if direction == "forward":
        actual, expected = {"y": run_adapter(adapter, info, direction, under, attrs)}, {"y": y}
    else:
        rng = np.random.default_rng(seed_for(label))
        grad_out = rng.standard_normal(np.shape(y)).astype(dtype).astype(np.float64)
        actual = run_adapter(adapter, info, direction, under, attrs, grad_out.astype(dtype))
        expected = info.backward(grad_out, **ref, **attrs)
    saved = tolerances.TIGHT_LAMBDA
    try:
        tolerances.TIGHT_LAMBDA = 0.0
        floor = info.tolerance(direction, ref, attrs, dtype, grad_out).tight_bounds
        tolerances.TIGHT_LAMBDA = 1.0
        unit = info.tolerance(direction, ref, attrs, dtype, grad_out).tight_bounds
    finally:
        tolerances.TIGHT_LAMBDA = saved
    needed = {}
    for key, want in expected.items():
        err = np.abs(np.asarray(actual[key], np.float64) - want)
        base = np.broadcast_to(floor[key], err.shape)
        step = np.broadcast_to(unit[key], err.shape) - base
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(err > base, (err - base) / step, 0.0)
        needed[key] = float(np.max(ratio)) if ratio.size else 0.0
    return needed


def calibrate(only: list[str]) -> None:
    worst: dict[tuple, tuple[float, str]] = defaultdict(lambda: (0.0, ""))
    for name in adapters.names():
        if only and name not in only:
            continue
        try:
            adapter = adapters.load(name)
        except adapters.FrameworkMissing:
            continue
        for layer in ("conv2d", "linear"):
            if not adapters.supports(name, layer):
                continue
            for label, inputs, attrs, keys in fixtures(layer):
                for dtype in ("float32", "float64"):
                    directions = ("forward", "backward") if keys is None else ("backward",)
                    for direction in directions:
                        full = f"{layer}-{label}-{name}-{dtype}-{direction}"
                        try:
                            needed = lambda_needed(
                                adapter, layer, inputs, attrs, dtype, direction, full
                            )
                        except adapters.Unsupported:
                            continue
                        for key, value in needed.items():
                            if keys is not None and key not in keys:
                                continue
                            kind = "sized" if "-n" in label else "declared"
                            slot = (name, dtype, layer, kind)
                            if value > worst[slot][0]:
                                worst[slot] = (value, f"{label} [{key}] {direction}")
    print("adapter     dtype    layer   cases     max lambda needed  (where)")
    for (name, dtype, layer, kind), (value, where) in sorted(worst.items()):
        print(f"{name:11} {dtype:8} {layer:7} {kind:9} {value:8.3f}  ({where})")


def detect(only: list[str]) -> None:
    rows = []
    runs = []
    for name in adapters.names():
        if only and name not in only and name != "torch":
            continue
        try:
            runs.append((name, adapters.load(name)))
        except adapters.FrameworkMissing:
            continue
    torch = dict(runs).get("torch")
    if torch is not None:
        runs += [(f"torch {mode}", Emulated(torch, mode)) for mode in MODES]
    for layer in ("conv2d", "linear"):
        for which in FIXTURE_DIRECTIONS:
            for n in SIZES:
                shapes, attrs = SHAPES[layer](n, which)
                inputs = inputs_for(shapes, seed_for(f"detect-{layer}-{n}-{which}"))
                direction = "forward" if which == "forward" else "backward"
                key = {"forward": "y", "dx": "x", "dw": "w"}[which]
                for run_name, adapter in runs:
                    if not adapters.supports(run_name.split()[0], layer):
                        continue
                    label = f"{layer}-{which}-n{n}-{run_name}"
                    try:
                        stats, _ = compare(
                            adapter, layer, direction, inputs, attrs, "float32", label=label,
                            repro="",
                        )  # fmt: skip
                    except adapters.Unsupported:
                        continue
                    out = stats["outputs"][key]
                    rows.append(
                        (layer, which, n, run_name, out["err_to_bound"], out["err_to_tight"])
                    )
    print(f"lambda = {tolerances.TIGHT_LAMBDA:g}; ratios are error / bound (> 1: detected)")
    print("layer   dir      n     run          rigorous     tight")
    for layer, which, n, run_name, rig, tight in rows:
        print(f"{layer:7} {which:7} {n:5d} {run_name:12} {rig:9.3g} {tight:9.3g}")


if __name__ == "__main__":
    command = sys.argv[1] if len(sys.argv) > 1 else "calibrate"
    {"calibrate": calibrate, "detect": detect}[command](sys.argv[2:])
