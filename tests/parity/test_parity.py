"""Every declared layer's cases x every adapter that has the layer x dtype x direction,
against the NumPy reference.

Test ids are ``<layer>-<case>-<adapter>-<dtype>-<direction>``, e.g.
``test_parity[conv2d-guide_5x5-torch-float32-forward]``; select with ``-k torch``,
``-k conv2d`` or ``-m torch``.  A test is generated only where the adapter has a method
for the layer (the report's coverage lists the rest); an adapter with a slow set-up
(litert) gets a covering subset of the cases unless ``--full`` (tests/subset.py).  Outcomes:

- pass: the implementation at the dtype under test agrees with the float64 reference on
  the same inputs within the layer's bound;
- skip "not installed": the framework is missing (the rest of the suite runs);
- skip "unsupported by <adapter>: <reason>": the adapter cannot express the case and says
  why in the framework's own terms;
- xfail (strict): a divergence declared in ``tests/known_divergences.py``;
- fail: anything else, with the worst error, its index, the bound and a reproduction.

Each test appends ``("parity", record)`` to ``user_properties`` for the HTML report.
"""

from __future__ import annotations

import numpy as np
import pytest

import adapters
from tests import known_divergences, layers, subset
from tests.harness import (
    DIRECTIONS,
    Unsupported,
    compare,
    framework_version,
    jsonable,
    label_for,
    repro_case,
)


def _params():
    for info in layers.all_layers():
        columns = [
            name
            for name in adapters.names()
            if adapters.supports(name, info.method) and name not in info.skips
        ]
        for case in info.cases:
            for adapter in (a for a in columns if subset.runs(a, info, case.id)):
                for dtype in info.dtypes:
                    for direction in DIRECTIONS:
                        yield pytest.param(
                            case.id,
                            adapter,
                            dtype,
                            direction,
                            id=label_for(info.name, case.id, adapter, dtype, direction),
                            marks=known_divergences.marks(
                                info.name, case.id, adapter, dtype, direction
                            ),
                        )


@pytest.mark.parametrize(("case_id", "adapter_name", "dtype", "direction"), list(_params()))
def test_parity(request, case_id, adapter_name, dtype, direction):
    case = layers.case(case_id)
    repro = repro_case(case_id, adapter_name, dtype, direction)
    record = {
        "layer": case.layer,
        "case": case_id,
        "adapter": adapter_name,
        "framework_version": None,
        "dtype": dtype,
        "direction": direction,
        "max_abs_err": None,
        "max_rel_err": None,
        "err_to_bound": None,
        "err_to_tight": None,
        "tolerance": None,
        "kind": None,
        "provenance": case.provenance,
        "attrs": jsonable(case.attrs),
        "shapes": {k: list(np.shape(v)) for k, v in case.inputs.items()},
        "repro": repro,
        "unsupported": None,
    }
    properties = request.node.user_properties
    try:
        adapter = adapters.load(adapter_name)
    except adapters.FrameworkMissing as exc:
        record["missing"] = str(exc)
        properties.append(("parity", record))
        pytest.skip(f"{adapter_name} not installed: {exc}")
    record["framework_version"] = framework_version(adapter)
    label = label_for(case.layer, case_id, adapter_name, dtype, direction)
    try:
        stats, failure = compare(
            adapter,
            case.layer,
            direction,
            case.inputs,
            case.attrs,
            dtype,
            label=label,
            repro=repro,
        )
    except Unsupported as exc:
        record["unsupported"] = str(exc)
        properties.append(("parity", record))
        pytest.skip(f"unsupported by {adapter_name}: {exc}")
    except Exception as exc:
        record["error"] = f"{type(exc).__name__}: {exc}"
        properties.append(("parity", record))
        raise
    record.update(stats)
    if record.get("arrays") is None:
        record.pop("arrays", None)
    properties.append(("parity", record))
    if failure is not None:
        raise failure
