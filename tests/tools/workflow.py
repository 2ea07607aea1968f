"""Generate the GitHub Actions workflow that runs tox.ini's version matrix; stdlib only.

``python tests/tools/workflow.py > .github/workflows/version-matrix.yml``
    Prints the workflow: one job per environment of tox.ini's ``env_list`` (each runs
    ``tox -e <env>`` and uploads ``reports/out/results-<env>.json``), and the ``report``
    job, which downloads them all and merges them with ``python -m reports`` into
    ``version-matrix.html``, uploaded as the ``version-matrix`` artifact.

``python tests/tools/workflow.py --check``
    Exits 1 when the committed workflow differs from what tox.ini generates.

GitHub's runners have no local wheel directory, so torch's pinned CPU build
(``torch==2.13.0+cpu`` in tox.ini) comes from PyTorch's CPU wheel index, given to every
pip that tox runs through ``PIP_EXTRA_INDEX_URL`` (tox passes ``PIP_*`` variables on).
"""

from __future__ import annotations

import argparse
import configparser
import itertools
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TOX_INI = ROOT / "tox.ini"
WORKFLOW = ROOT / ".github" / "workflows" / "version-matrix.yml"
#: The tox environment that merges the others' results (a job of its own here).
MERGE_ENV = "report"
TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"
RUNNER = "ubuntu-latest"
ENV_TIMEOUT_MIN = 90
_BRACES = re.compile(r"\{([^{}]*)\}")


def expand(pattern: str) -> list[str]:
    """tox's brace expansion: ``py311-tf{215,216}`` -> ``py311-tf215``, ``py311-tf216``."""
    parts = _BRACES.split(pattern)
    choices = [[p] if i % 2 == 0 else p.split(",") for i, p in enumerate(parts)]
    return ["".join(combo).strip() for combo in itertools.product(*choices)]


def _tox(path: Path = TOX_INI) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    parser.read(path, encoding="utf-8")
    return parser


def _lines(value: str) -> list[str]:
    lines = (line.split("#", 1)[0].strip() for line in value.splitlines())
    return [line for line in lines if line]


def env_list(path: Path = TOX_INI) -> list[str]:
    """tox.ini's ``env_list``, expanded, in order (what ``tox -l`` prints)."""
    return [env for line in _lines(_tox(path)["tox"]["env_list"]) for env in expand(line)]


def descriptions(path: Path = TOX_INI) -> dict[str, str]:
    """Each default environment's description from ``[testenv]``'s factor lines."""
    lines = _lines(_tox(path)["testenv"].get("description", ""))
    out = {}
    for env in env_list(path):
        factors = set(env.split("-"))
        texts = [
            text.strip()
            for factor, _, text in (line.partition(":") for line in lines)
            if factor.strip() in factors
        ]
        out[env] = "; ".join(texts)
    return out


def merge_deps(path: Path = TOX_INI) -> list[str]:
    """The merge environment's ``deps``."""
    return _lines(_tox(path)[f"testenv:{MERGE_ENV}"].get("deps", ""))


def _python(env: str) -> str:
    match = re.search(r"(?:^|-)py(\d)(\d+)(?:-|$)", env)
    if not match:
        raise ValueError(f"tox environment {env!r} names no Python (a pyXY factor)")
    return f"{match.group(1)}.{match.group(2)}"


def _q(text: str) -> str:
    """A YAML double-quoted scalar (a JSON string is one)."""
    return json.dumps(text)


def _setup(python: str) -> list[str]:
    return [
        "      - uses: actions/checkout@v4",
        "      - uses: actions/setup-python@v5",
        "        with:",
        f"          python-version: {_q(python)}",
    ]


def _env_job(env: str, description: str) -> list[str]:
    results = f"reports/out/results-{env}.json"
    return [
        f"  {env}:",
        f"    name: {_q(f'{env}: {description}' if description else env)}",
        f"    runs-on: {RUNNER}",
        f"    timeout-minutes: {ENV_TIMEOUT_MIN}",
        "    steps:",
        *_setup(_python(env)),
        "      - name: Install tox",
        '        run: python -m pip install "tox>=4.11"',
        "      - name: Run the suite",
        f"        run: tox -e {env}",
        "      - name: Upload its results",
        "        if: ${{ !cancelled() }}",
        "        uses: actions/upload-artifact@v4",
        "        with:",
        f"          name: results-{env}",
        f"          path: {results}",
        "          if-no-files-found: warn",
    ]


def _merge_job(envs: list[str], deps: list[str]) -> list[str]:
    python = _python(envs[0]) if envs else "3.11"
    install = " ".join(_q(d) for d in deps)
    return [
        f"  {MERGE_ENV}:",
        f"    name: {_q('report: merge every environment into the version matrix')}",
        f"    needs: [{', '.join(envs)}]",
        "    if: ${{ !cancelled() }}",
        f"    runs-on: {RUNNER}",
        "    timeout-minutes: 15",
        "    steps:",
        *_setup(python),
        "      - name: Install the report's dependencies (tox.ini's report environment)",
        f"        run: python -m pip install {install}",
        "      - uses: actions/download-artifact@v4",
        "        with:",
        "          pattern: results-*",
        "          path: reports/out",
        "          merge-multiple: true",
        "      - name: Merge into the version matrix",
        "        run: python -m reports reports/out/results-*.json"
        " -o reports/out/version-matrix.html",
        "      - name: Upload the version matrix",
        "        uses: actions/upload-artifact@v4",
        "        with:",
        "          name: version-matrix",
        "          path: reports/out/version-matrix.html",
    ]


def workflow(path: Path = TOX_INI) -> str:
    """The workflow's YAML text for the tox.ini at ``path``."""
    envs = [e for e in env_list(path) if e != MERGE_ENV]
    texts = descriptions(path)
    lines = [
        "# Generated by tests/tools/workflow.py from tox.ini; do not edit. Regenerate with",
        "#   python tests/tools/workflow.py > .github/workflows/version-matrix.yml",
        "# (tests/test_workflow.py fails when this file and tox.ini disagree).",
        "name: version matrix",
        "on:",
        "  workflow_dispatch:",
        "  push:",
        "    branches: [main]",
        "  schedule:",
        '    - cron: "23 4 * * 1"  # weekly: unpinned packages move on',
        "permissions:",
        "  contents: read",
        "concurrency:",
        "  group: version-matrix-${{ github.ref }}",
        "  cancel-in-progress: true",
        "env:",
        "  # tox.ini pins torch==2.13.0+cpu: on GitHub's runners it comes from PyTorch's CPU",
        "  # wheel index (tox passes PIP_* to pip), never a CUDA build from PyPI.",
        f"  PIP_EXTRA_INDEX_URL: {TORCH_CPU_INDEX}",
        '  PIP_DISABLE_PIP_VERSION_CHECK: "1"',
        "jobs:",
    ]
    for env in envs:
        lines += _env_job(env, texts.get(env, ""))
    lines += _merge_job(envs, merge_deps(path))
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python tests/tools/workflow.py", description=__doc__)
    parser.add_argument("--check", action="store_true", help="compare with the committed file")
    args = parser.parse_args(argv)
    text = workflow()
    if not args.check:
        sys.stdout.write(text)
        return 0
    committed = WORKFLOW.read_text(encoding="utf-8") if WORKFLOW.exists() else ""
    if committed != text:
        print(f"{WORKFLOW.relative_to(ROOT)} is out of date: regenerate it with", file=sys.stderr)
        print(
            "  python tests/tools/workflow.py > .github/workflows/version-matrix.yml",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
