"""The Keras parity cases on Keras' torch and jax backends, as child pytest runs.

Keras reads KERAS_BACKEND once, when it is imported, and the default suite runs Keras on
tensorflow.  So tests/parity/test_parity.py's Keras cases run again in one child process
per other backend (``python -m pytest tests/parity/test_parity.py -m keras ...`` with
KERAS_BACKEND set).  tests/conftest.py starts the children when collection ends and
moves tests/parity/test_keras_backends.py, which reads their results, to the end of the
run, so the children overlap the rest of the suite (one core does the suite, the other
the children).  Under pytest-xdist each child starts when its test asks for it.

What each child runs (``selection(backend)``):

- torch: every Keras parity case (``-m keras``): both dtypes, both directions, about 400
  tests, ~15 s of CPU.
- jax: float32, both directions, every case of the layers whose pooling or normalization
  each Keras backend implements itself (``FULL_ON_JAX``) and the first declared case of
  every other layer, plus float64 of the first case of the layers whose float64 Keras on
  jax computes in float32 (``FLOAT64_ON_JAX``, a declared bug): about 85 tests.  Keras on
  jax compiles each op for each new shape, about 0.2 s of CPU per test, so all 400 (~75 s
  of CPU) do not fit the default suite's budget; the rest runs in tox's py311-kerasjax.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import shutil
import sys
import tempfile
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

from tests.child_runs import ChildRuns

ROOT = Path(__file__).resolve().parents[1]
#: The test module that reads the children's results (run last).
MODULE = "tests/parity/test_keras_backends.py"
BACKENDS = ("torch", "jax")
FULL_ON_JAX = ("avgpool2d", "maxpool2d", "batchnorm2d")
FLOAT64_ON_JAX = ("batchnorm2d", "tanh", "mse")
TIMEOUT_S = 900


def selection(backend: str) -> list[str]:
    """The child's pytest arguments that select its tests (see the module docstring)."""
    if backend != "jax":
        return ["tests/parity/test_parity.py", "-m", "keras"]
    import adapters
    from tests import layers
    from tests.harness import DIRECTIONS, label_for

    ids = []
    for info in layers.all_layers():
        if not adapters.supports("keras", info.method) or "keras" in info.skips:
            continue
        cases = info.cases if info.name in FULL_ON_JAX else info.cases[:1]
        dtypes = ["float32", *(["float64"] if info.name in FLOAT64_ON_JAX else [])]
        for case in cases:
            for dtype in dtypes:
                if dtype == "float64" and case is not info.cases[0]:
                    continue
                for direction in DIRECTIONS:
                    label = label_for(info.name, case.id, "keras", dtype, direction)
                    ids.append(f"tests/parity/test_parity.py::test_parity[{label}]")
    return ids


_state: dict = {}


def _junit_path(backend: str) -> Path:
    if "dir" not in _state:
        _state["dir"] = Path(tempfile.mkdtemp(prefix="cnn-parity-keras-"))
    return _state["dir"] / f"{backend}.xml"


def _command(backend: str) -> tuple[list[str], dict[str, str]]:
    argv = [
        sys.executable,
        "-m",
        "pytest",
        *selection(backend),
        "-q",
        "-p",
        "no:cacheprovider",
        "--no-parity-report",
        f"--junitxml={_junit_path(backend)}",
    ]
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)
    env = {**os.environ, "KERAS_BACKEND": backend, "PYTHONPATH": path}
    env.pop("PYTEST_XDIST_WORKER", None)
    return argv, env


def unavailable(backend: str) -> str | None:
    """Why the child for ``backend`` cannot run here, or None."""
    if importlib.util.find_spec("keras") is None:
        return "keras is not installed"
    if importlib.util.find_spec(backend) is None:
        return f"KERAS_BACKEND={backend}: {backend} is not installed"
    try:
        version = importlib.metadata.version("keras")
    except importlib.metadata.PackageNotFoundError:
        version = "2 (bundled with TensorFlow)"
    if version.startswith("2"):
        return f"Keras {version} (tf.keras) has only the tensorflow backend"
    return None


def runs() -> ChildRuns:
    if "runs" not in _state:
        _state["runs"] = ChildRuns(_command, timeout=TIMEOUT_S)
    return _state["runs"]


def start(items) -> None:
    """Start the children of the selected backend tests (tests/conftest.py, at the end of
    collection)."""
    backends = {
        item.callspec.params["backend"]
        for item in items
        if item.nodeid.startswith(MODULE) and hasattr(item, "callspec")
    }
    if backends:
        runs().prefetch(b for b in BACKENDS if b in backends and not unavailable(b))


def close() -> None:
    if "runs" in _state:
        _state.pop("runs").close()
    if "dir" in _state:
        shutil.rmtree(_state.pop("dir"), ignore_errors=True)


@dataclass
class ChildResults:
    """A child run's outcomes by test id (``failed`` with the first lines of each
    message)."""

    passed: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    xfailed: dict[str, str] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)


def results(backend: str) -> tuple[int, ChildResults, str]:
    """``(returncode, outcomes, output tail)`` of the child for ``backend``."""
    done = runs().result(backend)
    tail = (done.stdout + done.stderr)[-3000:]
    path = _junit_path(backend)
    if not path.is_file():
        return done.returncode, ChildResults(), tail
    return done.returncode, parse_junit(path.read_text()), tail


def parse_junit(text: str) -> ChildResults:
    out = ChildResults()
    for case in ET.fromstring(text).iter("testcase"):
        name = case.get("name", "")
        problem = case.find("failure")
        if problem is None:
            problem = case.find("error")
        skipped = case.find("skipped")
        if problem is not None:
            message = problem.get("message") or (problem.text or "")
            lines = [line for line in message.splitlines() if line.strip()]
            out.failed[name] = "\n".join(lines[:3])
        elif skipped is not None and skipped.get("type") == "pytest.xfail":
            out.xfailed[name] = skipped.get("message", "")
        elif skipped is not None:
            out.skipped[name] = skipped.get("message", "")
        else:
            out.passed.append(name)
    return out
