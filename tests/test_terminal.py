"""The terminal after a run (tests/terminal.py, with pyproject's addopts): a green run's
summary is a few short lines, however many comparisons are unsupported by design."""

from __future__ import annotations

from pathlib import Path

import tomllib

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parents[1]

GENERATED = """
import pytest

LONG = "keras.layers.AveragePooling2D documents `padding` " + "and more " * 70


@pytest.mark.parametrize("n", range(30))
def test_unsupported(n):
    pytest.skip(f"unsupported by keras: {LONG}")


def test_missing():
    pytest.skip("torch not installed: No module named 'torch'\\nand a second line")


def test_passes():
    pass
"""


def _addopts() -> list[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    options = config["tool"]["pytest"]["ini_options"]["addopts"]
    return [o for o in options if o.startswith("-r")]


def _summary(pytester, monkeypatch, *args: str) -> list[str]:
    monkeypatch.setenv("COLUMNS", "100")
    pytester.makepyfile(test_generated=GENERATED)
    pytester.makeconftest('pytest_plugins = ["tests.terminal"]\n')
    result = pytester.runpytest("-p", "no:cacheprovider", *args)
    result.assert_outcomes(passed=1, skipped=31)
    lines = result.stdout.lines
    marks = (" skips ", " short test summary info ", " passed")
    start = next(i for i, line in enumerate(lines) if any(m in line for m in marks))
    return lines[start:]


def test_a_green_run_prints_a_short_summary(pytester, monkeypatch):
    summary = _summary(pytester, monkeypatch, *_addopts())
    assert len(summary) <= 5, summary  # -ra printed 33 lines of up to 650 characters here
    assert max(len(line) for line in summary) <= 100, summary
    assert any(line.startswith("30 comparisons unsupported by design") for line in summary)
    assert "SKIPPED [1] torch not installed: No module named 'torch' and a second line" in summary


def test_rs_still_lists_every_skip(pytester, monkeypatch):
    summary = _summary(pytester, monkeypatch, *_addopts(), "-rs")
    assert not any("comparisons unsupported by design" in line for line in summary)
    assert sum(line.startswith("SKIPPED") for line in summary) == 2  # grouped by reason
