"""The per-layer localization section of a network (records written by
tests/networks/test_localization.py, or by ``python -m tests.networks.compare``): per
framework, error/bound along depth, isolated (each layer fed the reference's input,
against its own bound) and propagated (the framework's own activations, against the
whole-network bound at that depth), the divergence marked; and a table per layer.

A record's ``localization`` is ``{"layers": [{index, nodes, ops, label, isolated,
isolated_tight, propagated, propagated_rel, passed}], "divergence": None | {index, label,
row, message}}`` (tests/networks/localize.py ``Localization.record``).
"""

from __future__ import annotations

import math

from reports import charts
from reports.charts import as_float

#: The log-scale chart's floor: an exact layer (error 0) is drawn here.
FLOOR = 1e-4


def _floored(value) -> float:
    v = as_float(value)
    if math.isnan(v):
        return v
    return max(v, FLOOR) if math.isfinite(v) else 1e6


def section(records: list[dict]) -> dict | None:
    """``{"chart", "tables", "divergences"}`` for one network's localization records
    (one per framework), or None when there are none."""
    found = [r for r in records if isinstance(r.get("localization"), dict)]
    if not found:
        return None
    series: dict[str, list] = {}
    markers, tables, divergences = [], [], []
    depth = max(
        (int(layer.get("index", 0)) for r in found for layer in r["localization"]["layers"]),
        default=0,
    )
    for r in found:
        framework = str(r.get("adapter") or r.get("framework") or "?")
        loc = r["localization"]
        isolated, propagated = [math.nan] * (depth + 1), [math.nan] * (depth + 1)
        for layer in loc.get("layers", []):
            i = int(layer.get("index", 0))
            isolated[i] = _floored(layer.get("isolated"))
            propagated[i] = _floored(layer.get("propagated"))
        series[f"{framework} isolated"] = isolated
        series[f"{framework} propagated"] = propagated
        first = loc.get("divergence")
        if first:
            markers.append(
                {"x": int(first["index"]), "label": f"{framework}: layer {first['index']}"}
            )
            divergences.append({"framework": framework, **first})
        tables.append({"framework": framework, "layers": loc.get("layers", [])})
    chart = charts.line_chart(
        series,
        log_y=True,
        x_label="depth (reference node index)",
        y_label="error / bound",
        markers=markers,
        level=1.0,
    )
    return {"chart": chart, "tables": tables, "divergences": divergences, "floor": FLOOR}
