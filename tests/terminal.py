"""What the terminal shows (a pytest plugin loaded by tests/conftest.py).

- A parity failure (``tests.harness.ParityError``) reads like
  ``torch.testing.assert_close``: its message alone -- what failed, the case's attributes
  and shapes, the worst error and its index, the bound, the tolerance rule, the lines that
  reproduce it -- plus Hypothesis' falsifying example when there is one, instead of
  pytest's listing of test source, harness frames and arguments.  ``--full-trace`` shows
  the whole traceback.  The exception itself is unchanged (xfail's ``raises`` matches it;
  its ``.stats`` stay reachable); only the report's text is shorter.
- Skips: pyproject's ``-rfEX`` lists failures, errors and unexpected passes only.  A
  comparison a framework cannot express ("unsupported by <adapter>: <its rule>") is
  coverage, counted on one line (the report lists each with its reason); any other skip
  ("not installed", a missing browser) is listed with its reason on one line, cut to the
  terminal's width.  ``pytest -rs`` (or ``-ra``) lists every skip as pytest does.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import pytest

UNSUPPORTED = "unsupported by "
SKIP_LINES_SHOWN = 20


@dataclass(frozen=True)
class _Crash:
    """What pytest's summary line and the report plugin read from a failure."""

    path: str
    lineno: int
    message: str


class ShortFailure:
    """A failure report's text: the exception's message and notes, nothing else."""

    def __init__(self, text: str, crash: _Crash) -> None:
        self.text = text
        self.reprcrash = crash

    def toterminal(self, tw) -> None:
        for line in self.text.splitlines():
            tw.line(line)

    def __str__(self) -> str:
        return self.text


def short_text(exc: BaseException) -> str:
    """The message, then the exception's notes (Hypothesis' falsifying example)."""
    notes = [str(n) for n in getattr(exc, "__notes__", ()) or ()]
    return "\n".join([f"{type(exc).__name__}: {exc}", *notes])


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    excinfo = call.excinfo
    if (
        report.failed
        and excinfo is not None
        and _is_parity_error(excinfo.value)
        and not item.config.getoption("fulltrace", False)
    ):
        text = short_text(excinfo.value)
        path, lineno = item.location[0], (item.location[1] or 0) + 1
        report.longrepr = ShortFailure(text, _Crash(path, lineno, text))
    return report


def _is_parity_error(exc: BaseException) -> bool:
    from tests.harness import ParityError

    return isinstance(exc, ParityError)


class SkipSummary:
    """Counts the by-design skips and lists the others at the end of the run."""

    def __init__(self) -> None:
        self.unsupported = 0
        self.others: Counter[str] = Counter()

    def pytest_runtest_logreport(self, report) -> None:
        if not report.skipped or hasattr(report, "wasxfail"):
            return
        reason = _skip_reason(report)
        if reason.startswith(UNSUPPORTED):
            self.unsupported += 1
        else:
            self.others[reason] += 1

    def pytest_terminal_summary(self, terminalreporter) -> None:
        if terminalreporter.hasopt("s") or not (self.unsupported or self.others):
            return
        width = terminalreporter.config.get_terminal_writer().fullwidth
        terminalreporter.section("skips", sep="-")
        if self.unsupported:
            terminalreporter.write_line(
                f"{self.unsupported} comparisons unsupported by design "
                "(reasons: the report's coverage, or pytest -rs)"
            )
        for reason, count in self.others.most_common(SKIP_LINES_SHOWN):
            terminalreporter.write_line(one_line(f"SKIPPED [{count}] {reason}", width))
        hidden = len(self.others) - SKIP_LINES_SHOWN
        if hidden > 0:
            terminalreporter.write_line(f"... and {hidden} more skip reasons (pytest -rs)")


def one_line(text: str, width: int) -> str:
    """``text`` on one line, cut to ``width`` characters with an ellipsis."""
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: max(width - 1, 1)] + "\u2026"


def _skip_reason(report) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr or "")


def pytest_configure(config) -> None:
    if not hasattr(config, "workerinput"):  # xdist workers forward their reports
        config.pluginmanager.register(SkipSummary(), "cnn_parity_skip_summary")
