"""``python -m reports RESULTS.json [MORE.json ...] [-o report.html] [--benchmark bench.json]``

Renders the HTML report from one or more results JSONs written by the pytest plugin.  With
several (one per tox environment) the page merges them: every record of every input is
kept, tagged with its environment, and a version matrix shows each layer x adapter outcome
per environment.  ``--benchmark`` adds pytest-benchmark JSON files to the performance
section.

A file that is not a results JSON this checkout can read (not JSON, another schema
version, a field of the wrong type: ``reports/schema.py``) stops it with one line on
stderr, ``reports: <file>: <problem>``, and exit status 2.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from reports import environment, render, schema


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m reports",
        description="Render the cnn-parity HTML report from results JSON files.",
    )
    parser.add_argument("results", nargs="+", type=Path, help="results JSON file(s)")
    parser.add_argument(
        "-o",
        "--output",
        type=Path,
        default=Path("reports/out/report.html"),
        help="HTML output path (default: %(default)s)",
    )
    parser.add_argument(
        "--benchmark",
        action="append",
        type=Path,
        default=[],
        metavar="BENCH.json",
        help="pytest-benchmark JSON (repeatable)",
    )
    args = parser.parse_args(argv)
    try:
        runs = [_tagged(schema.load_results(path), path) for path in args.results]
        benchmarks = []
        for path in args.benchmark:
            benchmarks += environment.benchmark_entries(schema.load_benchmarks(path))
    except schema.ResultsError as exc:
        print(f"reports: {exc}", file=sys.stderr)
        return 2
    try:
        out = render.write_report(runs, args.output, benchmarks)
    except OSError as exc:
        print(f"reports: {args.output}: cannot be written ({exc.strerror or exc})", file=sys.stderr)
        return 2
    records = sum(len(run.get("parity", [])) for run in runs)
    print(
        f"wrote {out} ({len(runs)} environment{'s' if len(runs) != 1 else ''}, "
        f"{records} parity records)"
    )
    return 0


def _tagged(data: dict, path: Path) -> dict:
    """The run named after its file when it names no environment; its source file noted."""
    run = data.setdefault("run", {})
    run.setdefault("env_name", path.stem)
    run["source_file"] = str(path)
    return data


if __name__ == "__main__":
    sys.exit(main())
