"""A results JSON shaped like a full default run's, made without running any framework, for
the report's size and load-time budgets (a real run takes minutes; the budgets must be
checked by every ``pytest``).

Every declared case x every adapter that has the layer x dtype x direction gets one
record with the real test id, provenance, attributes, shapes and reproduction snippet
(``tests.harness.repro_case``), and forward records of 2-D cases carry the heatmap arrays
the harness would store (``tests.harness._arrays`` of the reference's own output).  The
outcomes and statistics are seeded random: about one comparison in ten unsupported with
a framework-length reason, a few known divergences and failures with tracebacks of the
plugin's maximum length.  A real run (2,077 comparisons on 2026-11-30) rendered to 1.51 MB
where this stand-in renders to about the same; see the report's size test.
"""

from __future__ import annotations

import copy

import numpy as np

import adapters
from tests import layers
from tests.conventions.table import ROWS
from tests.harness import DIRECTIONS, _arrays, label_for, repro_case

_REASONS = (
    'keras.layers.MaxPooling2D documents `padding: string, either `"valid"` or `"same"` '
    "(case-insensitive)` and has no ceil_mode (ValueError: Unrecognized keyword arguments "
    "passed to MaxPooling2D: {'ceil_mode': True}); neither 'valid' nor 'same' gives the "
    "reference's windows for kernel_size=3, stride=2, padding=1, dilation=1, ceil_mode=True",
    "stride 2: scipy.signal has no strided correlation; the SciPy backward (full convolution "
    "of grad_out) is written for stride 1",
    "torch.nn.MaxPool2d: padding ((0, 1), (1, 1)) is asymmetric, while torch pads "
    "'implicitly ... on both sides' (torch.nn pooling docs)",
)
_TRACEBACK_LINE = (
    "E   tests.harness.ParityError: {label}: max |error| 3.1e-05 at (0, 1, 2, 3) > bound\n"
)


def _parity(rng: np.random.Generator) -> list[dict]:
    records = []
    for info in layers.all_layers():
        columns = [
            name
            for name in adapters.names()
            if adapters.supports(name, info.method) and name not in info.skips
        ]
        for case in info.cases:
            arrays = None
            if case.is_2d_image:
                expected = info.forward(**case.inputs, **case.attrs)
                arrays = _arrays(case.inputs, {"y": expected}, {"y": expected * (1 + 1e-7)})
            for adapter in columns:
                for dtype in info.dtypes:
                    for direction in DIRECTIONS:
                        records.append(_record(rng, info, case, adapter, dtype, direction, arrays))
    return records


def _record(rng, info, case, adapter, dtype, direction, arrays) -> dict:
    label = label_for(info.name, case.id, adapter, dtype, direction)
    draw = rng.random()
    outcome = (
        "unsupported"
        if draw < 0.1
        else "xfail"
        if draw < 0.11
        else "fail"
        if draw < 0.113
        else "pass"
    )
    ratio = float(10 ** rng.uniform(-3, 0)) * (4.0 if outcome in ("fail", "xfail") else 1.0)
    tolerance = float(10 ** rng.uniform(-8, -4))
    record = {
        "layer": info.name,
        "case": case.id,
        "adapter": adapter,
        "framework_version": f"{adapter} 1.0",
        "dtype": dtype,
        "direction": direction,
        "max_abs_err": ratio * tolerance,
        "max_rel_err": ratio * tolerance * float(rng.uniform(0.5, 20)),
        "err_to_bound": ratio,
        "tolerance": tolerance,
        "kind": "reduction",
        "tolerance_rule": "reduction: 4 * eps(float32) * (n + 2) * magnitude; n[y]=27; "
        f"magnitude = {info.name} forward on |inputs|",
        "provenance": case.provenance,
        "attrs": {k: list(v) if isinstance(v, tuple) else v for k, v in case.attrs.items()},
        "shapes": {k: list(np.shape(v)) for k, v in case.inputs.items()},
        "repro": repro_case(case.id, adapter, dtype, direction),
        "unsupported": None,
        "outputs": {"y": {"max_abs_err": ratio * tolerance, "err_to_bound": ratio}},
        "test_id": f"tests/parity/test_parity.py::test_parity[{label}]",
        "index": 0,
        "outcome": outcome,
        "reason": None,
        "duration": float(rng.uniform(1e-3, 0.2)),
    }
    if direction == "forward" and arrays is not None:
        record["arrays"] = arrays
    if outcome == "unsupported":
        reason = _REASONS[int(rng.integers(len(_REASONS)))]
        record.update(unsupported=reason, reason=f"unsupported by {adapter}: {reason}")
        for key in ("max_abs_err", "max_rel_err", "err_to_bound", "tolerance", "outputs"):
            record[key] = None
        record.pop("arrays", None)
    elif outcome in ("fail", "xfail"):
        record["reason"] = f"ParityError: {label}: error over bound"
        # The plugin keeps the last 6000 characters of a traceback.
        record["traceback"] = (_TRACEBACK_LINE.format(label=label) * 60)[-6000:]
    return record


def _conventions() -> list[dict]:
    return [
        {
            "row": row.id,
            "frameworks": row.frameworks(),
            "difference": row.difference,
            "versions": row.versions,
            "max_abs_diff_between_sides": 0.5,
            "reference_matches": "torch: err/bound 0.0056; keras: err/bound 0.0092",
            "title": row.title,
            "side_a": f"{row.a.api}  ->  {row.a.reference}",
            "side_b": f"{row.b.api}  ->  {row.b.reference}",
            "source": list(row.sources),
            "notes": row.notes or None,
            "observed_versions": {"torch": "2.13.0+cpu", "keras": "3.15.1"},
            "fixture": "x (1,2,6,6), w (3,2,3,3), float32",
            "test_id": f"tests/conventions/test_conventions.py::test_{row.id}",
            "index": 0,
            "outcome": "pass",
            "reason": None,
            "duration": 0.5,
        }
        for row in ROWS
    ]


def results(env_name: str = "local", seed: int = 0) -> dict:
    """One environment's results; ``seed`` varies the statistics between environments."""
    parity = _parity(np.random.default_rng(seed))
    return {
        "schema": "cnn-parity-results/1",
        "run": {
            "env_name": env_name,
            "created": "2026-11-30T14:07:21+00:00",
            "duration_s": 130.0,
            "exitstatus": 0,
            "args": ["-q", "-p", "no:cacheprovider"],
            "xdist_workers": None,
            "tests": {"pass": 3345, "skipped": 200},
        },
        "environment": {
            "python": "3.11.7",
            "os": "Linux",
            "cpu": "synthetic",
            "cpu_count": 2,
            "versions": {"numpy": "2.0.0", "torch": "2.13.0"},
            "determinism": {"env": {"OMP_NUM_THREADS": "1"}, "adapters": {}},
        },
        "layers": [info.name for info in layers.all_layers()],
        "adapters": adapters.names(),
        "absent": [],
        "domains": layers.coverage_domains(),
        "parity": parity,
        "conventions": _conventions(),
        "networks": [],
        "benchmarks": [],
    }


def environments(count: int = 9) -> list[dict]:
    """``count`` environments of the same suite with different names, framework versions
    and statistics (a tox matrix)."""
    runs = []
    for i in range(count):
        run = results(f"py311-matrix-{i}", seed=i)
        for record in run["parity"]:
            record["framework_version"] = f"{record['adapter']} 1.{i}"
        runs.append(copy.deepcopy(run) if i == 0 else run)
    return runs
