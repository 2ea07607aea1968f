"""Child Python processes that a test module needs, started together so that they overlap.

Some tests must run in a fresh interpreter (a framework made unimportable, another
``KERAS_BACKEND``).  Each child spends seconds importing frameworks, mostly on one core,
so a serial ``pytest`` starts all of a module's selected children at once and each test
then waits for its own.  Under pytest-xdist every worker sees the whole collection, so
there each child starts only when its test asks for it (the workers already overlap).
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: key -> (argv, env) of the child process for that key.
Launch = Callable[[str], tuple[list[str], dict[str, str]]]


class ChildRuns:
    """Start children by key, collect each one's ``CompletedProcess`` once."""

    def __init__(self, launch: Launch, *, timeout: float) -> None:
        self._launch = launch
        self._timeout = timeout
        self._running: dict[str, subprocess.Popen] = {}
        self._done: dict[str, subprocess.CompletedProcess] = {}

    def prefetch(self, keys: Iterable[str]) -> None:
        if os.environ.get("PYTEST_XDIST_WORKER"):
            return
        for key in keys:
            self._start(key)

    def result(self, key: str) -> subprocess.CompletedProcess:
        if key not in self._done:
            self._start(key)
            child = self._running.pop(key)
            try:
                out, err = child.communicate(timeout=self._timeout)
            except subprocess.TimeoutExpired:
                child.kill()
                out, err = child.communicate()
                pytest.fail(f"child run {key!r} timed out after {self._timeout} s:\n{err[-2000:]}")
            self._done[key] = subprocess.CompletedProcess(child.args, child.returncode, out, err)
        return self._done[key]

    def close(self) -> None:
        for child in self._running.values():
            child.kill()
            child.communicate()
        self._running.clear()

    def _start(self, key: str) -> None:
        if key in self._running or key in self._done:
            return
        argv, env = self._launch(key)
        self._running[key] = subprocess.Popen(
            argv,
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )


def selected_params(request: pytest.FixtureRequest, name: str) -> list[str]:
    """Values of parameter ``name`` over the selected tests of the requesting module."""
    module = request.module
    values = {
        item.callspec.params[name]
        for item in request.session.items
        if getattr(item, "module", None) is module
        and name in getattr(getattr(item, "callspec", None), "params", {})
    }
    return sorted(values)
