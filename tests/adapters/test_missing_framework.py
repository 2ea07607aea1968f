"""A missing framework skips only its own adapter's tests, with the reason.

Each test runs a small pytest session in a subprocess with the framework made
unimportable (tests/block_frameworks.py) and checks that the blocked adapter's parity
tests skip as "not installed" while the same case still passes for an adapter that does
not need the blocked framework.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import adapters
from tests.child_runs import ChildRuns, selected_params
from tests.layers import all_cases

#: Top-level modules whose absence means "framework not installed", as each built-in
#: adapter declares them (``requires``).
FRAMEWORK_MODULES = {name: ",".join(adapters.get(name).requires) for name in adapters.ADAPTERS}
#: A case every adapter supports (scipy via scipy.special.expit).
_CASE = next(c.id for c in all_cases() if c.layer == "sigmoid")


def test_every_adapter_declares_its_framework_modules():
    assert all(FRAMEWORK_MODULES.values())


_ABSENCE_PROBE = """
import importlib.metadata as metadata, importlib.util, sys
import tests.block_frameworks
assert importlib.util.find_spec("tensorflow") is None, "find_spec must say: not installed"
try:
    import tensorflow
except ModuleNotFoundError as exc:
    assert exc.name == "tensorflow", exc.name
else:
    sys.exit("tensorflow imported although blocked")
try:
    metadata.version("tensorflow-cpu")
except metadata.PackageNotFoundError:
    pass
else:
    sys.exit("tensorflow-cpu metadata found although blocked")
import torch._dynamo  # probes find_spec("tensorflow") on import
print("absent")
"""


@pytest.mark.heavy
def test_blocking_behaves_like_absence():
    """find_spec returns None (torch._dynamo probes it and must not see an error), import
    raises ModuleNotFoundError, and no distribution metadata is found."""
    pytest.importorskip("torch")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env["CNN_PARITY_BLOCK"] = "tensorflow,keras"
    done = subprocess.run(
        [sys.executable, "-c", _ABSENCE_PROBE],
        cwd=Path(__file__).resolve().parents[2],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "absent" in done.stdout, done.stdout + done.stderr


def _blocked_command(adapter: str) -> tuple[list[str], dict[str, str]]:
    """A pytest session with ``adapter``'s framework blocked, selecting the case for
    ``adapter`` and its witness."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env["CNN_PARITY_BLOCK"] = FRAMEWORK_MODULES[adapter]
    selection = f"{_CASE} and float64 and forward and ({adapter} or {_witness(adapter)})"
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-p",
        "tests.block_frameworks",
        "-o",
        "addopts=",
        "-p",
        "no:cacheprovider",
        "--no-header",
        "--no-parity-report",
        "-rs",
        "-q",
        "tests/parity/test_parity.py",
        "-k",
        selection,
    ]
    return command, env


def _witness(adapter: str) -> str:
    # scipy needs none of the others, so it is the witness that the rest still runs
    # (for the scipy adapter itself the witness is the torch adapter).
    return "torch" if adapter == "scipy" else "scipy"


@pytest.fixture(scope="module")
def blocked_runs(request):
    runs = ChildRuns(_blocked_command, timeout=300)
    runs.prefetch(
        a
        for a in selected_params(request, "adapter")
        if adapters.missing_reason(_witness(a)) is None
    )
    yield runs
    runs.close()


@pytest.mark.heavy
@pytest.mark.parametrize("adapter", sorted(FRAMEWORK_MODULES))
def test_blocked_framework_skips_its_adapter_with_the_reason(adapter, blocked_runs):
    witness = _witness(adapter)
    if adapters.missing_reason(witness) is not None:
        pytest.skip(f"witness adapter {witness} is not installed here")
    done = blocked_runs.result(adapter)
    out = done.stdout + done.stderr
    assert done.returncode == 0, out
    assert "1 passed, 1 skipped" in out, out
    assert f"{adapter} not installed" in out, out
