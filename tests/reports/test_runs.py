"""Partial, interrupted, concurrent and killed runs never cost a complete report its
records (reports/runs.py): each reproduces a way the results JSON used to be lost."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from reports import runs
from reports.files import remove_stale_temps

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parents[2]

#: Four tests, one record each; a test waits where $GATE_<NAME> names a gate file prefix
#: (it writes <gate>.started, then waits for <gate>.go), so a test can interrupt a run or
#: make two runs overlap at a known point.
GENERATED = """
import os, pathlib, time
import pytest


@pytest.mark.parametrize("name", ["alpha", "beta", "gamma", "delta"])
def test_layer(request, name):
    request.node.user_properties.append(
        ("parity", {"layer": name, "case": name + "_basic", "adapter": "a", "dtype": "float32",
                    "direction": "forward", "err_to_bound": 0.5}))
    gate = os.environ.get("GATE_" + name.upper())
    if gate:
        pathlib.Path(gate + ".started").write_text("")
        deadline = time.monotonic() + 60
        while not pathlib.Path(gate + ".go").exists() and time.monotonic() < deadline:
            time.sleep(0.02)
"""


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "CNN_PARITY"))}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return {**env, **extra}


def _options(*args: str) -> list[str]:
    """Write the results JSON only (rendering the page costs seconds), unless the
    arguments ask for the HTML report."""
    html = "--html" in args
    args = tuple(a for a in args if a != "--html")
    quiet = [] if html else ["--no-parity-report", "--parity-json", "reports/out/results.json"]
    return ["-p", "no:cacheprovider", "-p", "reports.plugin", *quiet, *args]


def _run(project: pytest.Pytester, *args: str) -> pytest.RunResult:
    """A run in this process (fast)."""
    return project.runpytest(*_options(*args))


def _start(project: pytest.Pytester, *args: str, **gates: str) -> subprocess.Popen:
    """A run in a child process, which a test can interrupt or overlap with another."""
    return subprocess.Popen(
        [sys.executable, "-m", "pytest", *_options(*args)],
        cwd=project.path,
        env=_env(**gates),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # A shell's background job starts with SIGINT ignored, and Python then installs no
        # KeyboardInterrupt handler: restore the default so the child can be interrupted.
        preexec_fn=_default_sigint,
    )


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _wait_for(path: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.02)


def _layers(path: Path) -> list[str]:
    return sorted(r["layer"] for r in json.loads(path.read_text())["parity"])


@pytest.fixture
def project(pytester) -> pytest.Pytester:
    pytester.makepyfile(test_generated=GENERATED)
    return pytester


@pytest.fixture(autouse=True)
def _no_parity_environment(monkeypatch):
    """In-process runs read the environment: tox's CNN_PARITY_ENV would rename the files."""
    for name in [n for n in os.environ if n.startswith("CNN_PARITY")]:
        monkeypatch.delenv(name)


@pytest.fixture
def complete(project) -> tuple[Path, dict[str, bytes]]:
    """A project with a complete run's results and report already written."""
    assert _run(project, "--html").ret == 0
    out = project.path / "reports" / "out"
    assert _layers(out / "results.json") == ["alpha", "beta", "delta", "gamma"]
    return out, {p.name: p.read_bytes() for p in out.glob("*.*")}


def _unchanged(out: Path, before: dict[str, bytes]) -> None:
    for name, content in before.items():
        assert (out / name).read_bytes() == content, f"{name} was replaced"


def test_a_subset_run_never_replaces_the_complete_report(project, complete):
    out, before = complete
    done = _run(project, "--html", "-k", "alpha")
    assert done.ret == 0
    _unchanged(out, before)
    partial = json.loads((out / "results-partial.json").read_text())
    assert [r["layer"] for r in partial["parity"]] == ["alpha"]
    assert partial["run"]["complete"] is False
    assert partial["run"]["partial"] == ["-k 'alpha'", "3 tests deselected"]
    assert "partial run" in (out / "report-partial.html").read_text()
    assert "cnn-parity: partial run (-k 'alpha'; 3 tests deselected)" in done.stdout.str()


def test_a_complete_run_replaces_the_complete_report(project, complete):
    out, before = complete
    assert json.loads(before["results.json"])["run"]["complete"] is True
    assert _run(project, ".").ret == 0  # a path covering the whole suite
    after = json.loads((out / "results.json").read_text())
    assert after["run"]["id"] != json.loads(before["results.json"])["run"]["id"]
    assert not (out / "results-partial.json").exists()


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        (["test_generated.py::test_layer"], "paths test_generated.py::test_layer"),
        (["--deselect", "test_generated.py::test_layer[beta]"], "--deselect"),
        (["-k", "not nothing"], "-k 'not nothing'"),
        (["-m", "not slow"], "-m 'not slow'"),
    ],
)
def test_a_narrowed_selection_is_partial(pytester, args, problem):
    pytester.makepyfile(test_generated=GENERATED)
    result = pytester.runpytest("-p", "no:cacheprovider", "-p", "reports.plugin", *args)
    result.stdout.fnmatch_lines([f"cnn-parity: partial run (*{problem}*"])
    assert (pytester.path / "reports" / "out" / "results-partial.json").exists()
    assert not (pytester.path / "reports" / "out" / "results.json").exists()


def test_a_run_stopped_by_maxfail_is_partial(pytester):
    pytester.makepyfile(test_generated="def test_first_fails():\n    assert False\n" + GENERATED)
    result = pytester.runpytest("-p", "no:cacheprovider", "-p", "reports.plugin", "-x")
    result.stdout.fnmatch_lines(
        ["cnn-parity: partial run (4 of 5 collected tests did not run (stopping after 1 *"]
    )


def test_an_interrupted_run_never_replaces_the_complete_report(project, complete):
    out, before = complete
    gate = project.path / "gamma"
    child = _start(project, GATE_GAMMA=str(gate))
    _wait_for(gate.with_suffix(".started"))
    child.send_signal(signal.SIGINT)
    stdout, stderr = child.communicate(timeout=120)
    assert child.returncode == 2, stdout + stderr  # pytest's exit status for an interrupt
    _unchanged(out, before)
    partial = json.loads((out / "results-partial.json").read_text())
    assert "interrupted" in partial["run"]["partial"]
    assert _layers(out / "results-partial.json") == ["alpha", "beta"]


def test_concurrent_runs_keep_each_others_records(project):
    """Two partial runs in one checkout, both running when either finishes."""
    children = []
    for name in ("alpha", "beta"):
        gate = project.path / name
        children.append((gate, _start(project, "-k", name, **{f"GATE_{name.upper()}": str(gate)})))
    for gate, _child in children:
        _wait_for(gate.with_suffix(".started"))
    for gate, _child in children:
        gate.with_suffix(".go").write_text("")
    for _gate, child in children:
        stdout, stderr = child.communicate(timeout=120)
        assert child.returncode == 0, stdout + stderr
    out = project.path / "reports" / "out"
    merged = json.loads((out / "results-partial.json").read_text())
    assert _layers(out / "results-partial.json") == ["alpha", "beta"]
    assert len(merged["run"]["concurrent_runs"]) == 1
    assert len({r["run_id"] for r in merged["parity"]}) == 2


def test_a_later_partial_run_replaces_an_earlier_one(project):
    assert _run(project, "-k", "alpha").ret == 0
    assert _run(project, "-k", "beta").ret == 0
    assert _layers(project.path / "reports" / "out" / "results-partial.json") == ["beta"]


def test_the_lock_excludes_other_processes(tmp_path):
    probe = (
        "import sys; from reports import runs\n"
        "try:\n"
        f"    with runs.locked({str(tmp_path)!r}, timeout=0.3): pass\n"
        "except TimeoutError: sys.exit(3)\n"
    )

    def other_process() -> int:
        command = [sys.executable, "-c", probe]
        return subprocess.run(command, env=_env(), timeout=60, check=False).returncode

    with runs.locked(tmp_path):
        assert other_process() == 3
    assert other_process() == 0


_SLOW_WRITER = """
import os, sys, time
from pathlib import Path
from reports import files
os.fsync = lambda fd: time.sleep(60)  # a disk slow enough to be killed mid-write
files.write_json_atomic(Path(sys.argv[1]), {"records": list(range(100000))})
"""


def _temps(directory: Path) -> list[Path]:
    return sorted(directory.glob(".results.json.*.tmp"))


def test_killed_writers_leave_at_most_one_temp_file(tmp_path):
    target = tmp_path / "results.json"
    for _ in range(3):
        writer = subprocess.Popen([sys.executable, "-c", _SLOW_WRITER, str(target)], env=_env())
        deadline = time.monotonic() + 60
        while f".{writer.pid}." not in "".join(p.name for p in _temps(tmp_path)):
            assert time.monotonic() < deadline, "the writer never started its temp file"
            time.sleep(0.02)
        writer.kill()
        writer.wait()
        assert len(_temps(tmp_path)) == 1, _temps(tmp_path)
    from reports.files import write_json_atomic

    write_json_atomic(target, {"ok": True})
    assert _temps(tmp_path) == []
    assert json.loads(target.read_text()) == {"ok": True}


def test_a_run_removes_temp_files_of_dead_writers_at_start(pytester):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    out = pytester.path / "reports" / "out"
    out.mkdir(parents=True)
    stale = [out / f".results.json.{dead.pid}.tmp", out / f".report-partial.html.{dead.pid}.tmp"]
    alive = out / f".results.json.{os.getpid()}.tmp"
    for path in [*stale, alive]:
        path.write_text("half a file")
    pytester.makepyfile(test_one="def test_one():\n    pass\n")
    pytester.runpytest("-p", "no:cacheprovider", "-p", "reports.plugin", "--collect-only")
    assert not any(p.exists() for p in stale)
    assert alive.exists()  # a live process may still be writing it
    assert remove_stale_temps(out) == []
