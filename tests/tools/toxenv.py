"""Helpers for the tox version matrix (``tox.ini``); stdlib only.

``python tests/tools/toxenv.py check [--torch VERSION] [--allow-cuda]``
    Run in a tox environment before its tests: prints the framework versions pip installed,
    and fails when an NVIDIA/CUDA distribution is installed (the default environments must
    never download one) or when torch is not the pinned build.

``python tests/tools/toxenv.py report [-o OUT] [RESULTS_DIR]``
    Merges every ``results-<env>.json`` that the tox environments wrote under
    ``RESULTS_DIR`` (default ``reports/out``) into one HTML version matrix with
    ``python -m reports`` (tox does not expand globs in commands).  An environment with
    only a partial run (``tox -e <env> -- -k ...`` writes ``results-<env>-partial.json``)
    is shown from that; otherwise its partial results are left out.
"""

from __future__ import annotations

import argparse
import sys
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))  # the suite runs from its checkout (it installs no packages)

from reports.environment import project_distributions  # noqa: E402

#: Shown besides the project's own extras (``project_distributions``).
ALSO_SHOWN = ("numpy", "tensorflow", "jaxlib", "ml-dtypes")


def check(torch_version: str | None, allow_cuda: bool) -> int:
    names = sorted({(dist.metadata["Name"] or "").lower() for dist in metadata.distributions()})
    versions = []
    for name in dict.fromkeys((*project_distributions(), *ALSO_SHOWN)):
        try:
            versions.append(f"{name}=={metadata.version(name)}")
        except metadata.PackageNotFoundError:
            continue
    print("installed:", " ".join(versions))
    problems = []
    cuda = [n for n in names if n.startswith("nvidia") or n.startswith("cuda-")]
    if cuda and not allow_cuda:
        problems.append(f"CUDA packages installed in a default environment: {', '.join(cuda)}")
    if torch_version is not None:
        try:
            found = metadata.version("torch")
        except metadata.PackageNotFoundError:
            found = None
        if found != torch_version:
            problems.append(f"torch is {found!r}, the matrix pins {torch_version!r}")
    for problem in problems:
        print("toxenv check:", problem, file=sys.stderr)
    return 1 if problems else 0


def report(results_dir: Path, output: Path) -> int:
    paths = _complete_first(sorted(results_dir.glob("results-*.json")))
    if not paths:
        print(
            f"no results-<env>.json under {results_dir}: run the tox environments first",
            file=sys.stderr,
        )
        return 1
    from reports.__main__ import main

    return main([*map(str, paths), "-o", str(output)])


def _complete_first(paths: list[Path]) -> list[Path]:
    """Each environment's complete results, or its partial ones (a subset run,
    ``results-<env>-partial.json``) where it has no complete ones."""
    complete = {p.name for p in paths if not p.stem.endswith("-partial")}
    return [
        p
        for p in paths
        if not p.stem.endswith("-partial")
        or f"{p.stem.removesuffix('-partial')}.json" not in complete
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python tests/tools/toxenv.py")
    sub = parser.add_subparsers(dest="command", required=True)
    check_args = sub.add_parser("check", help="versions; no CUDA packages; torch pin")
    check_args.add_argument("--torch", metavar="VERSION", default=None)
    check_args.add_argument("--allow-cuda", action="store_true")
    report_args = sub.add_parser("report", help="merge results-*.json into one HTML page")
    report_args.add_argument("results_dir", nargs="?", type=Path, default=Path("reports/out"))
    report_args.add_argument(
        "-o", "--output", type=Path, default=Path("reports/out/version-matrix.html")
    )
    args = parser.parse_args(argv)
    if args.command == "check":
        return check(args.torch, args.allow_cuda)
    return report(args.results_dir, args.output)


if __name__ == "__main__":
    sys.exit(main())
