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
from collections import defaultdict
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from reports import conventions, coverage, formats, matrix, pagedata, tables
from reports.charts import colour_scale
from reports.files import write_text_atomic
from reports.outcomes import OUTCOME_LABELS, OUTCOMES

TEMPLATES = Path(__file__).with_name("templates")


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


def _absent(runs: list[dict]) -> dict[tuple[str, str], str]:
    """(layer, adapter) -> why the suite generated no tests for the pair."""
    found = {}
    for run in runs:
        for entry in run.get("absent") or []:
            if isinstance(entry, dict) and entry.get("layer") and entry.get("adapter"):
                key = (str(entry["layer"]), str(entry["adapter"]))
                found.setdefault(key, str(entry.get("reason") or "no tests for this pair"))
    return found


def _pytest_totals(runs: list[dict]) -> dict[str, int]:
    """pytest's own outcome counts of the tests in the run(s), summed over environments."""
    totals: dict[str, int] = {}
    for run in runs:
        for outcome, n in ((run.get("run") or {}).get("tests") or {}).items():
            if isinstance(n, int):
                totals[outcome] = totals.get(outcome, 0) + n
    return totals


def build_context(runs: list[dict], benchmarks: list[dict] | None = None) -> dict[str, Any]:
    env_names = _environment_names(runs)
    parity, convention_records, network_records = [], [], []
    for env, run in zip(env_names, runs, strict=True):
        for kind, into in (
            ("parity", parity),
            ("conventions", convention_records),
            ("networks", network_records),
        ):
            for record in run.get(kind, []) or []:
                into.append({**record, "env": env})
    absent = _absent(runs)
    layers = _ordered(
        [x for run in runs for x in run.get("layers", [])],
        [r.get("layer", "?") for r in parity] + [layer for layer, _ in absent],
    )
    adapter_names = _ordered(
        [x for run in runs for x in run.get("adapters", [])],
        [r.get("adapter", "?") for r in parity] + [adapter for _, adapter in absent],
    )
    all_bench = [b for run in runs for b in run.get("benchmarks", []) or []]
    all_bench += benchmarks or []
    totals = {o: 0 for o in OUTCOMES}
    for r in parity:
        totals[r.get("outcome") if r.get("outcome") in totals else "skipped"] += 1
    cases = tables.cases(parity, adapter_names, env_names, layers)
    multi_env = len(runs) > 1
    return {
        "title": "cnn-parity report",
        "generated": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "outcomes": OUTCOMES,
        "outcome_labels": OUTCOME_LABELS,
        "envs": [
            {"name": n, "run": run.get("run", {}), "environment": run.get("environment", {})}
            for n, run in zip(env_names, runs, strict=True)
        ],
        "multi_env": multi_env,
        "layers": layers,
        "adapters": adapter_names,
        "totals": totals,
        "compared": totals["pass"] + totals["fail"] + totals["xfail"],
        "pytest_totals": _pytest_totals(runs),
        "n_records": len(parity),
        "n_cases": len({(r.get("layer"), r.get("case")) for r in parity}),
        "matrix": matrix.summary(parity, layers, adapter_names, absent),
        "absent": [
            {"layer": layer, "adapter": adapter, "reason": reason}
            for (layer, adapter), reason in absent.items()
        ],
        "version_matrix": matrix.versions(parity, layers, adapter_names, env_names)
        if multi_env
        else None,
        "cases": cases,
        "page_data": pagedata.payload(cases, multi_env),
        "record_columns": pagedata.columns(multi_env),
        "conventions": conventions.rows(convention_records),
        "coverage": coverage.scoreboard(
            parity, coverage.merge_domains(runs), layers, adapter_names, absent
        ),
        "networks": tables.networks(network_records),
        "benchmarks": tables.benchmarks(all_bench),
        "scales": {"viridis": colour_scale(), "diverging": colour_scale(diverging=True)},
    }


def _environment():
    import jinja2
    import markupsafe

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["num"] = formats.num
    env.filters["ratio"] = formats.ratio
    env.filters["seconds"] = formats.seconds
    env.filters["show"] = conventions.show
    env.filters["call_args"] = formats.call_args
    # "cross_entropy.categorical_crossentropy" may wrap after its dot, and only there.
    env.filters["wbr"] = lambda text: markupsafe.escape(text).replace(
        ".", markupsafe.Markup(".<wbr>")
    )
    env.filters["script_json"] = pagedata.script_json
    return env


def render(runs: list[dict], benchmarks: list[dict] | None = None) -> str:
    context = build_context(runs, benchmarks)
    return _environment().get_template("report.html.j2").render(**context)


def localization_page(records: list[dict], *, title: str) -> str:
    """A self-contained page with one network's layer-by-layer localization section
    (``python -m tests.networks.compare``), drawn by the report's own templates."""
    from reports import localization

    scales = {"viridis": colour_scale(), "diverging": colour_scale(diverging=True)}
    return (
        _environment()
        .get_template("localization_page.html.j2")
        .render(title=title, loc=localization.section(records), name=title, scales=scales)
    )


def write_report(runs: list[dict], path, benchmarks: list[dict] | None = None) -> Path:
    path = Path(path)
    write_text_atomic(path, render(runs, benchmarks))
    return path
