"""Which files a run's results go to, and how concurrent runs share them.

A run is *complete* when it ran the whole default selection: no ``-k``/``-m``, no paths
or test ids narrower than ``testpaths``, no ``--lf``/``--sw``/``--deselect``/``--ignore``,
nothing deselected, no collection error, and every collected test reported (not
interrupted, not stopped by ``-x``/``--maxfail``).  A complete run writes the results
JSON and the report it is given (``results.json``, ``report.html``); any other run is
*partial* and writes beside them with ``-partial`` before the extension
(``results-partial.json``, ``report-partial.html``), so it never replaces a complete
report.

Each file holds one run's records plus those of runs that were still running when that
run started (concurrent runs in one checkout): a run replaces what sequential earlier
runs wrote, and keeps what overlapping runs wrote, its own record winning for a test id
both ran.  Reading, merging and writing happen under an exclusive lock on the output
directory, so two runs finishing together both keep their records.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

try:
    import fcntl
except ImportError:  # Windows: no advisory locks; concurrent runs may then lose records
    fcntl = None

RECORD_KINDS = ("parity", "conventions", "networks")
LOCK_TIMEOUT_S = 600.0


def partial_path(path: Path) -> Path:
    """``reports/out/results.json`` -> ``reports/out/results-partial.json``."""
    path = Path(path)
    return path.with_name(f"{path.stem}-partial{path.suffix}")


def selection_problems(config) -> list[str]:
    """Why the command line selects less than the default selection (empty: it does not)."""
    problems = []
    for option, flag in (("keyword", "-k"), ("markexpr", "-m")):
        value = _option(config, option)
        if value:
            problems.append(f"{flag} {value!r}")
    for option, flag in (
        ("lf", "--lf"),
        ("stepwise", "--sw"),
        ("stepwise_skip", "--sw-skip"),
        ("deselect", "--deselect"),
        ("ignore", "--ignore"),
        ("ignore_glob", "--ignore-glob"),
    ):
        if _option(config, option):
            problems.append(flag)
    narrower = _narrower_paths(config)
    if narrower:
        problems.append("paths " + " ".join(narrower))
    return problems


def run_problems(
    *,
    exitstatus: int,
    stopped: str | None,
    collected: int | None,
    reported: int,
    deselected: int,
    collection_errors: int,
) -> list[str]:
    """Why a run that started from the default selection did not run all of it."""
    problems = []
    if deselected:
        problems.append(f"{deselected} tests deselected")
    if collection_errors:
        problems.append(f"{collection_errors} collection errors")
    if exitstatus == 2:
        problems.append("interrupted")
    elif exitstatus == 3:
        problems.append("internal error")
    elif exitstatus == 5:
        problems.append("no tests collected")
    if collected is not None and reported < collected:
        why = f" ({stopped})" if stopped else ""
        problems.append(f"{collected - reported} of {collected} collected tests did not run{why}")
    return problems


def _option(config, name: str):
    try:
        return config.getoption(name)
    except ValueError:  # the plugin defining it is not loaded (e.g. -p no:cacheprovider)
        return None


def _narrower_paths(config) -> list[str]:
    """Command-line paths that do not cover every ``testpaths`` entry."""
    if config.args_source != config.ArgsSource.ARGS:
        return []
    base = Path(config.invocation_params.dir)
    chosen = []
    for arg in config.args:
        if "::" in arg:
            return list(config.args)  # test ids: a subset by construction
        chosen.append((base / arg).resolve())
    root = Path(config.rootpath)
    wanted = [(root / p).resolve() for p in config.getini("testpaths")] or [root.resolve()]
    covered = all(any(c == w or c in w.parents for c in chosen) for w in wanted)
    return [] if covered else list(config.args)


# -- sharing a file between runs -------------------------------------------------------------


@contextlib.contextmanager
def locked(directory: Path, timeout: float = LOCK_TIMEOUT_S) -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``directory`` itself (no lock file is left behind);
    raises TimeoutError after ``timeout`` seconds."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    if fcntl is None:
        yield
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES):
                    raise
                if time.monotonic() > deadline:
                    held = f"another run held {directory} for {timeout:.0f} s"
                    raise TimeoutError(held) from None
                time.sleep(0.05)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def read_existing(path: Path, schema: str) -> dict | None:
    """The results already at ``path`` when they are this schema's, else None."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return None
    if not isinstance(data, dict) or data.get("schema") != schema:
        return None
    return data


def merge_concurrent(new: dict[str, Any], old: dict[str, Any] | None) -> tuple[dict, int]:
    """``new`` plus the records in ``old`` of runs still running when ``new``'s run started
    (their test ids only where ``new`` has none), those runs listed in
    ``run["concurrent_runs"]``.  Returns (merged, records kept)."""
    if not old:
        return new, 0
    started = _when(new["run"].get("started"))
    previous = old.get("run") if isinstance(old.get("run"), dict) else {}
    runs = [previous, *(previous.get("concurrent_runs") or [])]
    overlapping = {
        r["id"]: {k: v for k, v in r.items() if k != "concurrent_runs"}
        for r in runs
        if isinstance(r, dict) and r.get("id") and _when(r.get("finished")) >= started
    }
    if not overlapping:
        return new, 0
    ours = {r.get("test_id") for kind in RECORD_KINDS for r in new.get(kind, [])}
    kept_runs: set[str] = set()
    kept = 0
    merged = dict(new)
    for kind in RECORD_KINDS:
        theirs = [
            r
            for r in old.get(kind) or []
            if isinstance(r, dict)
            and r.get("run_id") in overlapping
            and r.get("test_id") not in ours
        ]
        kept_runs.update(r["run_id"] for r in theirs)
        kept += len(theirs)
        merged[kind] = [*new.get(kind, []), *theirs]
    if not kept:
        return new, 0
    for key in ("layers", "adapters"):
        merged[key] = list(dict.fromkeys([*new.get(key, []), *(old.get(key) or [])]))
    merged["run"] = {
        **new["run"],
        "concurrent_runs": [overlapping[i] for i in overlapping if i in kept_runs],
    }
    return merged, kept


def _when(stamp) -> float:
    try:
        return datetime.fromisoformat(str(stamp)).timestamp()
    except ValueError:
        return float("-inf")
