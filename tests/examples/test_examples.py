"""The shipped example candidate, run as a user runs it: the seed-style library passes
everything it implements, and the variant with an untransposed dW fails exactly the conv2d
backward comparisons whose dW a transpose changes."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _run(candidate: str, marker: str) -> subprocess.CompletedProcess:
    command = [
        sys.executable,
        "-m",
        "pytest",
        "tests/parity/test_parity.py",
        "--candidate",
        candidate,
        "-m",
        marker,
        "--no-header",
        "--no-parity-report",
        "-p",
        "no:cacheprovider",
        "-q",
        "-rf",
    ]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_seed_style_library_passes_what_it_implements():
    run = _run("tests/examples/seed_candidate.py", "seed_candidate")
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    summary = run.stdout.strip().splitlines()[-1]
    passed = int(re.search(r"(\d+) passed", summary).group(1))
    assert passed >= 100, summary  # conv2d, maxpool2d, linear, relu, sigmoid, cross_entropy


def test_untransposed_dw_is_caught():
    run = _run("tests/examples/seed_candidate_wrong.py", "seed_candidate_wrong")
    assert run.returncode == 1, run.stdout[-3000:] + run.stderr[-2000:]
    failed = re.findall(r"^FAILED \S+\[(\S+)\]", run.stdout, flags=re.MULTILINE)
    assert failed, run.stdout[-3000:]
    wrong = [
        t for t in failed if not re.fullmatch(r"conv2d-.+-seed_candidate_wrong-.+-backward", t)
    ]
    assert not wrong, f"only conv2d backward may fail, also failed: {wrong}"
    # Every conv2d case with more than one filter and channel-tap row runs into the bug.
    assert len(failed) >= 10, failed
    assert "[w]: reduction comparison failed" in run.stdout


@pytest.mark.parametrize("spec", ["reference", "tests.examples.seed_candidate"])
def test_suite_packages_cannot_be_candidates_by_name(spec, tmp_path, monkeypatch):
    from adapters.candidate import import_candidate

    monkeypatch.chdir(tmp_path)  # not a path here, so a module name
    with pytest.raises(ValueError, match="suite's own packages"):
        import_candidate(spec)
