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


def _run(candidate: str, marker: str, *extra: str) -> subprocess.CompletedProcess:
    command = [
        sys.executable,
        "-m",
        "pytest",
        "tests/parity/test_parity.py",
        *extra,
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


@pytest.mark.heavy
def test_seed_style_library_passes_what_it_implements():
    run = _run("tests/examples/seed_candidate.py", "seed_candidate")
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    summary = run.stdout.strip().splitlines()[-1]
    passed = int(re.search(r"(\d+) passed", summary).group(1))
    assert passed >= 100, summary  # conv2d, maxpool2d, linear, relu, sigmoid, cross_entropy


@pytest.fixture(scope="module")
def wrong_run() -> subprocess.CompletedProcess:
    """The wrong candidate's parity tests, and its conv2d fuzzing (which fails too)."""
    fuzz = ("tests/parity/test_fuzz.py", "-k", "test_parity or conv2d")
    return _run("tests/examples/seed_candidate_wrong.py", "seed_candidate_wrong", *fuzz)


def _failure_sections(stdout: str) -> dict[str, list[str]]:
    """Each failure's lines in the FAILURES section, by test name."""
    body = stdout.split(" FAILURES ", 1)[1].split(" short test summary info ", 1)[0]
    sections: dict[str, list[str]] = {}
    for line in body.splitlines()[1:-1]:
        header = re.fullmatch(r"_+ (\S+) _+", line)
        if header:
            current = sections.setdefault(header.group(1), [])
        else:
            current.append(line)
    return sections


@pytest.mark.heavy
def test_untransposed_dw_is_caught(wrong_run):
    run = wrong_run
    assert run.returncode == 1, run.stdout[-3000:] + run.stderr[-2000:]
    failed = re.findall(r"^FAILED \S+::test_parity\[(\S+)\]", run.stdout, flags=re.MULTILINE)
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


@pytest.mark.heavy
def test_a_parity_failure_reads_message_first_and_short(wrong_run):
    """The message, the case's attributes and shapes, the worst error, the bound, the rule
    and the reproduction; no test source, harness frames or argument dumps (94 lines per
    failure before, 16 now)."""
    sections = _failure_sections(wrong_run.stdout)
    parity = {name: lines for name, lines in sections.items() if name.startswith("test_parity[")}
    assert parity, wrong_run.stdout[-3000:]
    for name, lines in parity.items():
        text = "\n".join(lines)
        assert lines[0].startswith(f"ParityError: {name[len('test_parity[') : -1]} ["), text
        assert lines[1].startswith("  case: "), text
        assert "elements over that bound" in lines[2], text
        assert text.count("reproduce with:") == 1, text
        assert "def test_parity" not in text, text
        assert "tests/harness.py:" not in text, text
        assert len(lines) <= 20, text


@pytest.mark.heavy
def test_a_fuzz_failure_prints_its_reproduction_once(wrong_run):
    sections = _failure_sections(wrong_run.stdout)
    text = "\n".join(sections["test_fuzz[conv2d-seed_candidate_wrong]"])
    assert text.startswith("ParityError: fuzz conv2d-seed_candidate_wrong-"), text
    assert text.count("reproduce with:") == 1, text
    assert text.count("Failing test case:") == 1, text
    assert "@reproduce_failure" not in text, text
    assert "Explanation:" not in text, text
    assert len(text.splitlines()) <= 40, text
