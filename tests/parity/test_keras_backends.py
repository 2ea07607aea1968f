"""test_parity.py's Keras cases on Keras' torch and jax backends (child runs, see
tests/keras_backend_runs.py for what each runs): every case there must pass, skip as
unsupported with Keras' own rule, or xfail as a declared bug's own wrong value
(tests/known_divergences.py).  This module runs last; its children ran meanwhile."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests import keras_backend_runs

_SAMPLE = """
import pytest

def test_passes():
    pass

def test_fails():
    assert 1 == 2, "one is not two"

def test_xfails():
    pytest.xfail("a declared bug")

def test_skips():
    pytest.skip("unsupported by keras: a rule")

@pytest.fixture
def broken():
    raise RuntimeError("setup breaks")

def test_errors(broken):
    pass
"""


def test_child_outcomes_are_read_from_pytests_own_junit(tmp_path):
    """The outcomes the backend tests judge come from a real pytest junit file."""
    (tmp_path / "test_sample.py").write_text(_SAMPLE)
    junit = tmp_path / "out.xml"
    subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={junit}"],
        cwd=tmp_path,
        capture_output=True,
        timeout=120,
    )
    found = keras_backend_runs.parse_junit(junit.read_text())
    assert found.passed == ["test_passes"]
    assert set(found.failed) == {"test_fails", "test_errors"}
    assert "one is not two" in found.failed["test_fails"]
    assert "setup breaks" in found.failed["test_errors"]
    assert list(found.xfailed) == ["test_xfails"]
    assert "a declared bug" in found.xfailed["test_xfails"]
    assert list(found.skipped) == ["test_skips"]


@pytest.mark.keras
@pytest.mark.parametrize("backend", keras_backend_runs.BACKENDS)
def test_keras_parity_on_backend(backend):
    reason = keras_backend_runs.unavailable(backend)
    if reason:
        pytest.skip(reason)
    returncode, found, tail = keras_backend_runs.results(backend)
    ran = len(found.passed) + len(found.failed) + len(found.xfailed) + len(found.skipped)
    assert ran > 0, f"the KERAS_BACKEND={backend} child ran no test (exit {returncode}):\n{tail}"
    missing = {k: v for k, v in found.skipped.items() if "not installed" in v}
    # Keras unavailable on that backend (not installed, or it does not import there, as
    # Keras 3.15 on JAX 0.4.20): every case it ran skipped, those outside the sample too.
    if missing and not (found.passed or found.failed or found.xfailed):
        pytest.skip(f"KERAS_BACKEND={backend}: {next(iter(missing.values()))}")
    failures = "\n".join(f"{name}:\n  {text}" for name, text in sorted(found.failed.items()))
    assert not found.failed, (
        f"{len(found.failed)} Keras parity test(s) failed with KERAS_BACKEND={backend} "
        f"(rerun one with KERAS_BACKEND={backend} pytest tests/parity/test_parity.py -k "
        f"'<id>'):\n{failures}"
    )
    assert found.passed, f"KERAS_BACKEND={backend}: no Keras parity test passed"
    assert returncode == 0, f"the child exited {returncode}:\n{tail}"
