"""pytest plugin: record every parity comparison and render the HTML report at the end.

A test hands records to the report through ``request.node.user_properties``:
``("parity", dict)``, ``("convention", dict)`` or ``("network", dict)``.  pytest-xdist ships
``user_properties`` with each test report to the controller, so recording happens in
``pytest_runtest_logreport`` there and a ``-n 2`` run records what a serial run records.

At session end the controller writes one results JSON (``reports/out/results.json``, or
``results-<env>.json`` when ``--parity-env`` / ``CNN_PARITY_ENV`` names the environment)
atomically, then renders ``reports/out/report.html`` (``report-<env>.html``) from it.  A
partial run (a subset, an interrupted run: ``reports/runs.py``) writes
``results-partial.json`` / ``report-partial.html`` instead and never replaces a complete
report; concurrent runs merge their records under a lock.
"""

from __future__ import annotations

import json
import os
import re
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from reports import environment, runs
from reports.files import jsonable, remove_stale_temps, write_json_atomic

RECORD_KINDS = {"parity": "parity", "convention": "conventions", "network": "networks"}

#: What the suite under test declares, set by its conftest (the plugin itself knows no
#: layers or adapters): ``{"layers": [...], "adapters": [...], "absent": [{"layer",
#: "adapter", "reason"}, ...], "domains": {layer: {"attributes": {attr: [value, ...]},
#: "cases": {case: {attr: value}}}}}``, ``absent`` listing the layer x adapter pairs that
#: have no tests because the adapter has no method for the layer, ``domains`` what the
#: coverage scoreboard needs (``reports/coverage.py``).
SUITE = pytest.StashKey[dict]()
SCHEMA = "cnn-parity-results/1"
_TRACEBACK_CHARS = 6000
_SANITIZED = pytest.StashKey[int]()
_XDIST_HEADER = re.compile(r"\A\[gw\d+\] [^\n]*\n\n?")


def pytest_addoption(parser):
    group = parser.getgroup("cnn-parity", "cnn-parity HTML report")
    group.addoption(
        "--no-parity-report",
        action="store_true",
        default=False,
        help="write neither the HTML parity report nor the results JSON "
        "(unless --parity-json names one)",
    )
    group.addoption(
        "--parity-report",
        metavar="PATH",
        default=None,
        help="HTML report path (default reports/out/report.html, or report-<env>.html)",
    )
    group.addoption(
        "--parity-json",
        metavar="PATH",
        default=None,
        help="results JSON path (default reports/out/results.json, or results-<env>.json)",
    )
    group.addoption(
        "--parity-env",
        metavar="NAME",
        default=None,
        help="environment name stored in the results and used in the default file names "
        "(default: $CNN_PARITY_ENV)",
    )


def pytest_configure(config):
    # One recorder per config (pytester's in-process runs nest configs in one process).
    config.pluginmanager.register(Recorder(config), "cnn_parity_recorder")


class Recorder:
    """Collects records per test id on the controller; writes JSON and HTML at the end."""

    def __init__(self, config):
        self.config = config
        self.is_worker = hasattr(config, "workerinput")
        self.started = time.time()
        self.tests: dict[str, dict[str, Any]] = {}
        self.order: list[str] = []
        self.worker_flags: list[dict] = []
        self.summary_lines: list[str] = []
        self.collected: int | None = None
        self.deselected = 0
        self.collection_errors = 0

    # -- hooks -----------------------------------------------------------------------------

    def pytest_sessionstart(self, session):
        self.started = time.time()
        if not self.is_worker:
            for directory, names in _targets_by_directory(self.config):
                remove_stale_temps(directory, names)

    def pytest_collection_finish(self, session):
        if not self.is_worker:
            self.collected = len(session.items)

    def pytest_deselected(self, items):
        self.deselected += len(items)

    def pytest_collectreport(self, report):
        if report.failed and not self.is_worker:
            self.collection_errors += 1

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node, ids):
        """xdist controller: every worker collects the same (deselected) items."""
        self.collected = len(ids)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item, call):
        """Make the records plain JSON before xdist ships them (a ``TorchVersion`` or a
        NumPy scalar in a record would otherwise crash the worker); once per record."""
        report = yield
        done = item.stash.get(_SANITIZED, 0)
        props = item.user_properties
        for i in range(done, len(props)):
            prop = props[i]
            if (
                isinstance(prop, tuple)
                and len(prop) == 2
                and prop[0] in RECORD_KINDS
                and isinstance(prop[1], dict)
            ):
                props[i] = (prop[0], jsonable(prop[1]))
        item.stash[_SANITIZED] = len(props)
        report.user_properties = list(props)
        return report

    def pytest_runtest_logreport(self, report):
        # xdist workers forward every report to the controller, which records it.
        if not self.is_worker:
            self.add(report)

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node, error):
        """xdist controller: a worker's determinism flags (read where the frameworks ran)."""
        output = getattr(node, "workeroutput", None) or {}
        if "cnn_parity_flags" in output:
            self.worker_flags.append(output["cnn_parity_flags"])
        # Each worker deselects from the whole collection: the same items on every worker.
        self.deselected = max(self.deselected, int(output.get("cnn_parity_deselected", 0)))

    def pytest_sessionfinish(self, session, exitstatus):
        if self.is_worker:
            self.config.workeroutput["cnn_parity_flags"] = environment.adapter_flags()
            self.config.workeroutput["cnn_parity_deselected"] = self.deselected
            return
        self.finish(session, int(exitstatus))

    def pytest_terminal_summary(self, terminalreporter):
        for line in self.summary_lines:
            terminalreporter.write_line(line)

    # -- recording -------------------------------------------------------------------------

    def add(self, report) -> None:
        entry = self.tests.get(report.nodeid)
        if entry is None:
            entry = {
                "outcome": None,
                "reason": None,
                "traceback": None,
                "duration": 0.0,
                "properties": [],
            }
            self.tests[report.nodeid] = entry
            self.order.append(report.nodeid)
        entry["duration"] += float(getattr(report, "duration", 0.0) or 0.0)
        entry["properties"] = list(getattr(report, "user_properties", ()) or ())
        outcome, reason, tb = _classify(report)
        if outcome is None or entry["outcome"] == "fail":
            return  # quiet phase, or the first failure (setup error, call failure) stands
        if report.when == "teardown" and outcome != "fail":
            return
        entry.update(outcome=outcome, reason=reason, traceback=tb, when=report.when)

    def records(self) -> dict[str, list[dict]]:
        out: dict[str, list[dict]] = {kind: [] for kind in RECORD_KINDS.values()}
        for nodeid in self.order:
            entry = self.tests[nodeid]
            for index, prop in enumerate(entry["properties"]):
                if not (isinstance(prop, (tuple, list)) and len(prop) == 2):
                    continue
                name, payload = prop
                if name not in RECORD_KINDS or not isinstance(payload, dict):
                    continue
                record = dict(payload)
                outcome = entry["outcome"] or "skipped"
                if outcome == "skipped" and record.get("unsupported"):
                    outcome = "unsupported"
                record.update(
                    test_id=nodeid,
                    index=index,
                    outcome=outcome,
                    reason=entry["reason"],
                    duration=round(entry["duration"], 6),
                )
                if entry["traceback"]:
                    record["traceback"] = entry["traceback"]
                out[RECORD_KINDS[name]].append(record)
        return out

    def totals(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for entry in self.tests.values():
            key = entry["outcome"] or "unknown"
            counts[key] = counts.get(key, 0) + 1
        return counts

    # -- writing ---------------------------------------------------------------------------

    def finish(self, session, exitstatus: int) -> None:
        config = self.config
        if config.option.collectonly:
            return
        targets = _targets(config)
        if targets is None:
            return
        json_path, html_path, env_name = targets
        problems = runs.selection_problems(config) + runs.run_problems(
            exitstatus=exitstatus,
            stopped=session.shouldstop or session.shouldfail or None,
            collected=self.collected,
            reported=len(self.tests),
            deselected=self.deselected,
            collection_errors=self.collection_errors,
        )
        if problems:
            complete_json = json_path
            json_path = runs.partial_path(json_path)
            html_path = runs.partial_path(html_path) if html_path else None
            kept = (
                "is left as it was"
                if complete_json.exists()
                else "is written by complete runs only"
            )
            self.summary_lines.append(
                f"cnn-parity: partial run ({'; '.join(problems)}): written apart from the "
                f"complete run's results ({complete_json.name} {kept})"
            )
        try:
            results = self.results(env_name, exitstatus, problems)
            with runs.locked(json_path.parent):
                for directory, names in _targets_by_directory(config):
                    remove_stale_temps(directory, names)
                previous = runs.read_existing(json_path, SCHEMA)
                results, kept = runs.merge_concurrent(results, previous)
                write_json_atomic(json_path, results)
                if kept:
                    concurrent = len(results["run"]["concurrent_runs"])
                    self.summary_lines.append(
                        f"cnn-parity: kept {kept} records of {concurrent} concurrent "
                        f"run{'s' if concurrent != 1 else ''} in {json_path.name}"
                    )
                self.summary_lines.append(f"cnn-parity results JSON: {json_path}")
                if html_path is not None:
                    from reports import render

                    t0 = time.perf_counter()
                    render.write_report([results], html_path)
                    self.summary_lines.append(
                        f"cnn-parity HTML report: {html_path.resolve()} "
                        f"({time.perf_counter() - t0:.1f} s to render)"
                    )
        except Exception as exc:  # the report must never turn a green run red
            self.summary_lines.append(f"cnn-parity report NOT written: {type(exc).__name__}: {exc}")

    def results(self, env_name: str | None, exitstatus: int, problems=()) -> dict[str, Any]:
        config = self.config
        flags = environment.determinism_flags(self.worker_flags)
        records = self.records()
        started = _iso(self.started)
        run_id = f"{started} pid {os.getpid()}"
        for kind in records.values():
            for record in kind:
                record["run_id"] = run_id
        finished = time.time()
        results = {
            "schema": SCHEMA,
            "run": {
                "id": run_id,
                "env_name": env_name or "local",
                "complete": not problems,
                "partial": list(problems),
                "started": started,
                "finished": _iso(finished),
                "created": _iso(finished, "seconds"),
                "duration_s": round(finished - self.started, 3),
                "exitstatus": exitstatus,
                "args": [str(a) for a in config.invocation_params.args],
                "xdist_workers": getattr(config.option, "numprocesses", None),
                "tests": self.totals(),
            },
            "environment": environment.describe(flags),
            "layers": list(config.stash.get(SUITE, {}).get("layers", [])),
            "adapters": list(config.stash.get(SUITE, {}).get("adapters", [])),
            "absent": list(config.stash.get(SUITE, {}).get("absent", [])),
            "domains": dict(config.stash.get(SUITE, {}).get("domains", {})),
            **records,
            "benchmarks": _benchmarks_of_this_run(config),
        }
        return results


def _targets(config) -> tuple[Path, Path | None, str | None] | None:
    """(results JSON, HTML report or None, environment name) of a complete run, or None
    when this run writes neither."""
    explicit_json = config.getoption("parity_json")
    html_on = not config.getoption("no_parity_report")
    if not html_on and not explicit_json:
        return None
    env_name = config.getoption("parity_env") or os.environ.get("CNN_PARITY_ENV") or None
    suffix = f"-{_safe(env_name)}" if env_name else ""
    out_dir = Path(config.rootpath) / "reports" / "out"
    json_path = Path(explicit_json) if explicit_json else out_dir / f"results{suffix}.json"
    html_path = Path(config.getoption("parity_report") or out_dir / f"report{suffix}.html")
    return json_path, html_path if html_on else None, env_name


def _targets_by_directory(config) -> list[tuple[Path, set[str]]]:
    """Every file this run may write (complete or partial), grouped by directory."""
    targets = _targets(config)
    if targets is None:
        return []
    by_directory: dict[Path, set[str]] = {}
    for path in targets[:2]:
        if path is not None:
            for each in (path, runs.partial_path(path)):
                by_directory.setdefault(each.parent, set()).add(each.name)
    return list(by_directory.items())


def _iso(epoch: float, timespec: str = "milliseconds") -> str:
    return datetime.fromtimestamp(epoch, timezone.utc).isoformat(timespec=timespec)


def _classify(report) -> tuple[str | None, str | None, str | None]:
    """(outcome, reason, traceback) of one phase's report, or (None, ...) for a quiet one."""
    wasxfail = getattr(report, "wasxfail", None)
    if report.skipped:
        if wasxfail is not None:
            return "xfail", str(wasxfail) or None, _longrepr_text(report)
        return "skipped", _skip_reason(report), None
    if report.failed:
        return "fail", _crash_message(report), _longrepr_text(report)
    if report.when == "call":
        if wasxfail is not None:  # non-strict XPASS
            return "pass", f"XPASS: {wasxfail}", None
        return "pass", None, None
    return None, None, None


def _skip_reason(report) -> str | None:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        reason = str(longrepr[2])
        return reason.removeprefix("Skipped: ")
    return str(longrepr) if longrepr else None


def _crash_message(report) -> str | None:
    crash = getattr(report.longrepr, "reprcrash", None)
    if crash is not None and getattr(crash, "message", None):
        return str(crash.message)[:_TRACEBACK_CHARS]
    text = _longrepr_text(report)
    if not text or not text.strip():
        return None
    lines = text.strip().splitlines()
    # A plain-text failure (a short one, as xdist ships it) leads with its message; a
    # traceback ends with it.
    return lines[0] if isinstance(report.longrepr, str) else lines[-1]


def _longrepr_text(report) -> str | None:
    text = getattr(report, "longreprtext", "") or ""
    # xdist heads a worker's traceback with "[gw0] linux -- Python ..."; the record is the
    # same comparison whichever process ran it.
    text = _XDIST_HEADER.sub("", text, count=1)
    if not text:
        return None
    if len(text) > _TRACEBACK_CHARS:
        text = "...\n" + text[-_TRACEBACK_CHARS:]
    return text


def _benchmarks_of_this_run(config) -> list[dict]:
    path = None
    try:
        path = config.getoption("benchmark_json")
    except ValueError:  # pytest-benchmark not installed
        return []
    if not path:
        return []
    try:
        return environment.benchmark_entries(json.loads(Path(path).read_text()))
    except (OSError, ValueError):
        return []


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)
