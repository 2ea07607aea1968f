"""Render one or more results JSONs (see ``reports/plugin.py``) as one self-contained page.

Inline CSS and JS, PNG heatmaps as data URIs, SVG charts drawn in the template: the page
makes no network request.  Jinja2 autoescapes every value, so test ids, reasons and
tracebacks are shown as text, never parsed as markup.

Several inputs (one per tox environment) are merged: every record keeps its environment's
name, and a version matrix shows every layer x adapter outcome per environment.

Network records (``("network", dict)``) are drawn from these keys, each optional:
``network`` (name), ``adapter``, ``source``, ``grad_errors`` ({param: {max_abs_err,
max_rel_err, err_to_bound}}), ``loss_curve`` (this framework's loss per step),
``reference_loss_curve``, ``loss_curves`` ({label: [loss per step]}), ``divergence``
([per-step distance from the reference]); other keys are listed as they are.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from reports import tables
from reports.charts import as_float
from reports.files import write_text_atomic
from reports.outcomes import OUTCOME_LABELS, OUTCOMES, worst

TEMPLATES = Path(__file__).with_name("templates")
NO_VALUE = "\u2013"  # en dash
INF = "\u221e"


def load(paths) -> list[dict]:
    runs = []
    for path in paths:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        if not isinstance(data, dict) or "parity" not in data:
            raise ValueError(f"results file {str(path)!r} is not a cnn-parity results JSON")
        data.setdefault("run", {}).setdefault("env_name", Path(path).stem)
        data["run"]["source_file"] = str(path)
        runs.append(data)
    return runs


def _environment_names(runs: list[dict]) -> list[str]:
    names, seen = [], defaultdict(int)
    for run in runs:
        name = str(run.get("run", {}).get("env_name") or "local")
        seen[name] += 1
        names.append(name if seen[name] == 1 else f"{name} #{seen[name]}")
    return names


def _ordered(declared: list[str], found: list[str]) -> list[str]:
    out = list(dict.fromkeys(declared))
    out += [x for x in dict.fromkeys(found) if x not in out]
    return out


def _ratio(record) -> float:
    return as_float(record.get("err_to_bound"))


def _cell(records: list[dict]) -> dict:
    counts = {o: 0 for o in OUTCOMES}
    for r in records:
        counts[r.get("outcome", "skipped") if r.get("outcome") in counts else "skipped"] += 1
    ratios = [_ratio(r) for r in records if not math.isnan(_ratio(r))]
    return {
        "outcome": worst(r.get("outcome") for r in records) if records else "none",
        "ratio": max(ratios) if ratios else None,
        "cases": len({r.get("case") for r in records}),
        "n": len(records),
        "counts": {o: n for o, n in counts.items() if n},
        "outcomes": " ".join(o for o in OUTCOMES if counts[o]),
        # Share of each outcome, for the small bar under the cell's numbers.
        "segments": [(o, round(100 * counts[o] / len(records), 2)) for o in OUTCOMES if counts[o]]
        if records
        else [],
    }


def build_context(runs: list[dict], benchmarks: list[dict] | None = None) -> dict[str, Any]:
    env_names = _environment_names(runs)
    parity, conventions, networks = [], [], []
    for env, run in zip(env_names, runs, strict=True):
        for kind, into in (
            ("parity", parity),
            ("conventions", conventions),
            ("networks", networks),
        ):
            for record in run.get(kind, []) or []:
                into.append({**record, "env": env})
    layers = _ordered(
        [x for run in runs for x in run.get("layers", [])], [r.get("layer", "?") for r in parity]
    )
    adapter_names = _ordered(
        [x for run in runs for x in run.get("adapters", [])],
        [r.get("adapter", "?") for r in parity],
    )
    by_cell: dict[tuple, list[dict]] = defaultdict(list)
    for r in parity:
        by_cell[(r.get("layer", "?"), r.get("adapter", "?"))].append(r)
    matrix = [
        {
            "layer": layer,
            "cells": [dict(_cell(by_cell[(layer, a)]), adapter=a) for a in adapter_names],
        }
        for layer in layers
    ]
    all_bench = [b for run in runs for b in run.get("benchmarks", []) or []]
    all_bench += benchmarks or []
    totals = {o: 0 for o in OUTCOMES}
    for r in parity:
        totals[r.get("outcome") if r.get("outcome") in totals else "skipped"] += 1
    return {
        "title": "cnn-parity report",
        "generated": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "outcomes": OUTCOMES,
        "outcome_labels": OUTCOME_LABELS,
        "envs": [
            {"name": n, "run": run.get("run", {}), "environment": run.get("environment", {})}
            for n, run in zip(env_names, runs, strict=True)
        ],
        "multi_env": len(runs) > 1,
        "layers": layers,
        "adapters": adapter_names,
        "totals": totals,
        "n_records": len(parity),
        "n_cases": len({(r.get("layer"), r.get("case")) for r in parity}),
        "matrix": matrix,
        "version_matrix": _version_matrix(parity, layers, adapter_names, env_names)
        if len(runs) > 1
        else None,
        "cases": tables.cases(parity, adapter_names, env_names),
        "conventions": tables.generic_table(conventions),
        "networks": tables.networks(networks),
        "benchmarks": tables.benchmarks(all_bench),
    }


def _version_matrix(parity, layers, adapter_names, env_names) -> list[dict]:
    grouped: dict[tuple, list[dict]] = defaultdict(list)
    for r in parity:
        grouped[(r.get("layer", "?"), r.get("adapter", "?"), r["env"])].append(r)
    rows = []
    for layer in layers:
        for adapter in adapter_names:
            cells = [dict(_cell(grouped[(layer, adapter, env)]), env=env) for env in env_names]
            if not any(c["n"] for c in cells):
                continue
            # A cell stands out when its outcome counts differ from the most common ones.
            # An environment without the framework (every record "missing") is shown as
            # "not installed" and left out of that comparison: it says nothing about versions.
            for cell in cells:
                records = grouped[(layer, adapter, cell["env"])]
                cell["missing"] = bool(records) and all(r.get("missing") for r in records)
            keys = [tuple(sorted(c["counts"].items())) for c in cells]
            present = [k for k, c in zip(keys, cells, strict=True) if not c["missing"]]
            common = max(set(present), key=present.count) if present else None
            for cell, key in zip(cells, keys, strict=True):
                cell["differs"] = not cell["missing"] and key != common
            versions = sorted(
                {
                    str(r.get("framework_version"))
                    for env in env_names
                    for r in grouped[(layer, adapter, env)]
                }
            )
            rows.append(
                {
                    "layer": layer,
                    "adapter": adapter,
                    "cells": cells,
                    "differs": any(c["differs"] for c in cells),
                    "versions": versions,
                    "outcomes": " ".join(sorted({o for c in cells for o in c["counts"]})),
                }
            )
    return rows


def _environment():
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["num"] = _fmt_num
    env.filters["ratio"] = _fmt_ratio
    env.filters["seconds"] = _fmt_seconds
    env.filters["tojson_text"] = lambda v: json.dumps(v, sort_keys=False, default=str)
    return env


def _fmt_num(value) -> str:
    if value is None:
        return NO_VALUE
    v = as_float(value)
    if math.isnan(v):
        return "NaN" if value not in (None, "") else NO_VALUE
    if math.isinf(v):
        return INF if v > 0 else "\u2212" + INF
    if v == 0:
        return "0"
    return f"{v:.2e}" if abs(v) < 1e-3 or abs(v) >= 1e4 else f"{v:.4g}"


def _fmt_ratio(value) -> str:
    if value is None:
        return NO_VALUE
    v = as_float(value)
    if math.isnan(v):
        return NO_VALUE
    if math.isinf(v):
        return INF
    return f"{v:.2g}" if v < 10 else f"{v:.3g}"


def _fmt_seconds(value) -> str:
    v = as_float(value)
    if math.isnan(v):
        return NO_VALUE
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if v >= scale:
            return f"{v / scale:.3g} {unit}"
    return f"{v * 1e9:.3g} ns"


def render(runs: list[dict], benchmarks: list[dict] | None = None) -> str:
    context = build_context(runs, benchmarks)
    return _environment().get_template("report.html.j2").render(**context)


def write_report(runs: list[dict], path, benchmarks: list[dict] | None = None) -> Path:
    path = Path(path)
    write_text_atomic(path, render(runs, benchmarks))
    return path
