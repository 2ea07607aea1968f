"""Report sections built from records: per-case drill-down, networks, benchmarks (the
matrices: ``reports/matrix.py``; conventions: ``reports/conventions.py``)."""

from __future__ import annotations

import math
import re
from collections import defaultdict

from reports import charts, formats, localization, matrix
from reports.charts import as_float
from reports.conventions import show
from reports.outcomes import worst

_DTYPE_ORDER = {"float32": 0, "float64": 1}
_DIRECTION_ORDER = {"forward": 0, "backward": 1}
_META = {"test_id", "index", "outcome", "reason", "duration", "traceback", "env"}


def _max_ratio(records) -> float | None:
    values = [as_float(r.get("err_to_bound")) for r in records]
    values = [v for v in values if not math.isnan(v)]
    return max(values) if values else None


def _row(r: dict) -> dict:
    """A record as a row of its case's table: every record key (so a new statistic needs
    only a column in ``reports.pagedata.RECORD_COLUMNS``) plus the shown names."""
    outputs = r.get("outputs") or {}
    return {
        **r,
        "adapter": r.get("adapter", "?"),
        "outcome": r.get("outcome", "skipped"),
        "rule": r.get("tolerance_rule"),
        "tight_rule": r.get("tight_rule"),
        "version": r.get("framework_version"),
        "reason": r.get("reason") or r.get("unsupported") or r.get("missing"),
        "test_id": r.get("test_id", ""),
        "outputs": [(k, v) for k, v in outputs.items() if isinstance(v, dict)]
        if len(outputs) > 1
        else [],
    }


def cases(
    parity: list[dict],
    adapter_names: list[str],
    env_names: list[str],
    layer_names: list[str] = (),
) -> list[dict]:
    """One entry per (layer, case), in layer order (fuzz last within a layer): its records
    sorted by adapter, dtype, direction and environment, their outcome counts, and the
    heatmaps of its 2-D forward records."""
    layer_rank = {name: i for i, name in enumerate(layer_names)}
    adapter_rank = {a: i for i, a in enumerate(adapter_names)}
    env_rank = {e: i for i, e in enumerate(env_names)}
    grouped: dict[tuple, list[dict]] = defaultdict(list)
    for r in parity:
        grouped[(r.get("layer", "?"), r.get("case", "?"))].append(r)
    out = []
    ordered = sorted(
        grouped.items(),
        key=lambda item: (layer_rank.get(item[0][0], len(layer_rank)), item[0][1] == "fuzz"),
    )
    for (layer, case), records in ordered:
        records.sort(
            key=lambda r: (
                adapter_rank.get(r.get("adapter"), 99),
                _DTYPE_ORDER.get(r.get("dtype"), 9),
                _DIRECTION_ORDER.get(r.get("direction"), 9),
                env_rank.get(r.get("env"), 99),
            )
        )
        first = records[0]
        out.append(
            {
                "layer": layer,
                "case": case,
                "anchor": "case-" + re.sub(r"[^\w.-]", "_", f"{layer}-{case}"),
                "provenance": next((r["provenance"] for r in records if r.get("provenance")), None),
                "attrs": first.get("attrs"),
                "shapes": first.get("shapes"),
                "tally": matrix.cell(records),
                "outcome": worst(r.get("outcome") for r in records),
                "ratio": _max_ratio(records),
                "outcomes": " ".join(sorted({r.get("outcome", "skipped") for r in records})),
                "adapters": " ".join(sorted({r.get("adapter", "?") for r in records})),
                "rows": [_row(r) for r in records],
                "heatmaps": _heatmaps(records),
            }
        )
    return out


def _heatmaps(records: list[dict]) -> dict | None:
    """Input, reference, every framework's output and its difference, for one dtype (float32
    when present: that is where frameworks differ) and one environment."""
    with_arrays = [
        r
        for r in records
        if isinstance(r.get("arrays"), dict) and r.get("direction", "forward") == "forward"
    ]
    if not with_arrays:
        return None
    dtypes = sorted({r.get("dtype") for r in with_arrays}, key=lambda d: _DTYPE_ORDER.get(d, 9))
    dtype = dtypes[0]
    env = with_arrays[0].get("env")
    chosen = [r for r in with_arrays if r.get("dtype") == dtype and r.get("env") == env]
    arrays = chosen[0]["arrays"]
    reference = arrays.get("reference")
    ref_map = _map(reference) if reference else None
    limits = (ref_map["low"], ref_map["high"]) if ref_map else None
    frameworks = []
    for r in chosen:
        got = r["arrays"].get("framework")
        if not got:
            continue
        diff = charts.difference(got, reference) if reference else None
        frameworks.append(
            {
                "adapter": r.get("adapter", "?"),
                "output": _map(got, limits=limits),
                "diff": _map(diff, diverging=True) if diff else None,
            }
        )
    return {
        "dtype": dtype,
        "env": env,
        "input": _map(arrays["input"]) if arrays.get("input") else None,
        "reference": ref_map,
        "frameworks": frameworks,
    }


def _map(grid, **options) -> dict | None:
    """A heatmap with the labels of its colour scale's ends, as the page writes numbers."""
    hm = charts.heatmap(grid, **options)
    if hm is not None:
        hm.update(low_label=formats.num(hm["low"]), high_label=formats.num(hm["high"]))
    return hm


def _short(value, limit: int = 300) -> str:
    """A value as the page writes it (``reports.conventions.show``: no raw JSON), cut."""
    text = show(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def networks(records: list[dict]) -> list[dict]:
    grouped: dict[str, list[dict]] = defaultdict(list)
    for r in records:
        grouped[str(r.get("network") or r.get("name") or r.get("test_id", "?"))].append(r)
    out = []
    for name, recs in grouped.items():
        multi_env = len({r.get("env") for r in recs}) > 1

        def label(r, multi_env=multi_env):
            base = str(r.get("adapter") or r.get("framework") or r.get("test_id", "?"))
            extra = [str(r[k]) for k in ("optimizer", "dtype") if r.get(k)]
            if multi_env:
                extra.append(str(r.get("env")))
            return base + (f" ({', '.join(extra)})" if extra else "")

        # One loss plot and one divergence plot per optimizer (or one when none is named).
        losses: dict[str, dict[str, list]] = defaultdict(dict)
        divergence: dict[str, dict[str, list]] = defaultdict(dict)
        grads: dict[str, dict[str, dict]] = defaultdict(dict)
        for r in recs:
            run = str(r.get("optimizer") or "")
            if isinstance(r.get("loss_curves"), dict):
                losses[run].update(
                    {str(k): v for k, v in r["loss_curves"].items() if isinstance(v, list)}
                )
            if isinstance(r.get("reference_loss_curve"), list):
                losses[run].setdefault("reference", r["reference_loss_curve"])
            if isinstance(r.get("loss_curve"), list):
                losses[run][label(r)] = r["loss_curve"]
            if isinstance(r.get("divergence"), list):
                divergence[run][label(r)] = r["divergence"]
            for param, stats in (r.get("grad_errors") or {}).items():
                stats = stats if isinstance(stats, dict) else {"max_abs_err": stats}
                grads[str(param)][label(r)] = stats
        charts_by_run = [
            {
                "run": run,
                "loss": charts.line_chart(
                    losses.get(run, {}), log_y=_positive(losses.get(run, {})), y_label="loss"
                ),
                "divergence": charts.line_chart(
                    divergence.get(run, {}),
                    log_y=_positive(divergence.get(run, {})),
                    y_label="distance from reference",
                ),
            }
            for run in dict.fromkeys([*losses, *divergence])
        ]
        grad_columns = list(dict.fromkeys(c for per in grads.values() for c in per))
        known = {
            "network",
            "name",
            "adapter",
            "framework",
            "loss_curves",
            "loss_curve",
            "reference_loss_curve",
            "divergence",
            "grad_errors",
            "localization",
        }
        out.append(
            {
                "name": name,
                "source": next((r.get("source") for r in recs if r.get("source")), None),
                "outcome": worst(r.get("outcome") for r in recs),
                "outcomes": " ".join(sorted({r.get("outcome", "skipped") for r in recs})),
                "adapters": " ".join(sorted({label(r).split(" ")[0] for r in recs})),
                "grad_columns": grad_columns,
                "grad_rows": [(p, [per.get(c) for c in grad_columns]) for p, per in grads.items()],
                "charts": charts_by_run,
                "localization": localization.section(recs),
                "records": [
                    {
                        "test_id": r.get("test_id", ""),
                        "outcome": r.get("outcome", "skipped"),
                        "reason": r.get("reason"),
                        "traceback": r.get("traceback"),
                        "label": label(r),
                        "extra": [
                            (k, _short(v))
                            for k, v in r.items()
                            if k not in known and k not in _META
                        ],
                    }
                    for r in recs
                ],
            }
        )
    return out


def _positive(series: dict[str, list]) -> bool:
    values = [as_float(v) for ys in series.values() for v in ys]
    finite = [v for v in values if math.isfinite(v)]
    return bool(finite) and min(finite) > 0 and max(finite) / min(finite) > 30


_GROUP = re.compile(r"^(?P<layer>.+?)-(?P<direction>fwd|bwd)-(?P<shape>.+)$")


def benchmarks(entries: list[dict]) -> list[dict]:
    """Per layer: a table (rows = group, columns = adapter, median time) and a bar chart."""
    layers: dict[str, dict[str, dict[str, dict]]] = defaultdict(lambda: defaultdict(dict))
    adapters_seen: dict[str, list[str]] = defaultdict(list)
    for e in entries:
        group = str(e.get("group") or e.get("name") or "?")
        match = _GROUP.match(group)
        layer = match["layer"] if match else group
        info = e.get("extra_info") or {}
        adapter = str(info.get("adapter") or _adapter_from_name(e.get("name", "")) or "?")
        stats = e.get("stats") or {}
        layers[layer][group][adapter] = {
            "median": as_float(stats.get("median")),
            "rounds": stats.get("rounds"),
            "version": info.get("version"),
            "name": e.get("name"),
            "iqr": as_float(stats.get("iqr")),
        }
        if adapter not in adapters_seen[layer]:
            adapters_seen[layer].append(adapter)
    out = []
    for layer, groups in layers.items():
        names = adapters_seen[layer]
        rows = []
        for group, per in sorted(groups.items()):
            base = per.get("reference", {}).get("median")
            cells = []
            for a in names:
                cell = dict(per.get(a) or {})
                if cell and base and math.isfinite(base) and base > 0:
                    cell["vs_reference"] = cell["median"] / base
                cells.append(cell or None)
            rows.append({"group": group, "cells": cells})
        chart = charts.bar_chart(
            [
                (g, [(a, per[a]["median"] * 1e3) for a in names if a in per])
                for g, per in sorted(groups.items())
            ],
            unit="ms",
        )
        out.append({"layer": layer, "adapters": names, "rows": rows, "chart": chart})
    return out


def _adapter_from_name(name: str) -> str | None:
    match = re.search(r"\[([^\]-]+)", name or "")
    return match.group(1) if match else None
