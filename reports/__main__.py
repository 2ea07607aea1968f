"""``python -m reports RESULTS.json [MORE.json ...] [-o report.html] [--benchmark bench.json]``

Renders the HTML report from one or more results JSONs written by the pytest plugin.  With
several (one per tox environment) the page merges them: every record of every input is
kept, tagged with its environment, and a version matrix shows each layer x adapter outcome
per environment.  ``--benchmark`` adds pytest-benchmark JSON files to the performance
section.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from reports import environment, render


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
        runs = render.load(args.results)
        benchmarks = []
        for path in args.benchmark:
            benchmarks += environment.benchmark_entries(json.loads(path.read_text()))
    except (OSError, ValueError) as exc:
        parser.error(str(exc))
    out = render.write_report(runs, args.output, benchmarks)
    records = sum(len(run.get("parity", [])) for run in runs)
    print(
        f"wrote {out} ({len(runs)} environment{'s' if len(runs) != 1 else ''}, "
        f"{records} parity records)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
