"""The default run's cases for adapters whose set-up is slow, and ``pytest --full``.

An adapter with a ``slow_setup`` attribute (why its set-up is slow; LiteRT converts every
call with the TFLite converter) is compared, in a default run, on a covering subset of
each layer's cases: the layer's first case, then, greedily, the case exercising the most
(attribute, value) pairs (``tests.layers.case_values``, the coverage scoreboard's
categories) that no chosen case has exercised yet, ties to the earlier case, until every
pair any of the layer's cases exercises is covered.  Its fuzz tests run only in a full
run.  ``pytest --full`` (or ``CNN_PARITY_FULL=1``) compares every case and fuzzes.
Adapters without ``slow_setup`` always run everything.
"""

from __future__ import annotations

import os
from functools import cache

import adapters
from tests import layers
from tests.layers import LayerInfo

_full = False


def configure(full: bool) -> None:
    """Called by tests/conftest.py with ``--full`` before any test module is collected."""
    global _full
    _full = full


def full() -> bool:
    """Whether this run compares every case in every adapter."""
    return _full or os.environ.get("CNN_PARITY_FULL", "") not in ("", "0")


def slow_setup(adapter_name: str) -> str | None:
    """The adapter's ``slow_setup`` reason, or None."""
    return getattr(adapters.get(adapter_name), "slow_setup", None)


def runs(adapter_name: str, info: LayerInfo, case_id: str) -> bool:
    """Whether this run compares ``case_id`` in ``adapter_name``."""
    return full() or slow_setup(adapter_name) is None or case_id in covering_cases(info)


def fuzzes(adapter_name: str) -> bool:
    """Whether this run fuzzes ``adapter_name``."""
    return full() or slow_setup(adapter_name) is None


@cache
def covering_cases(info: LayerInfo) -> tuple[str, ...]:
    """The first case, then greedily the cases that cover every (attribute, value) pair
    the layer's cases exercise."""
    if not info.cases:
        return ()
    pairs = {case.id: set(layers.case_values(info, case).items()) for case in info.cases}
    chosen = [info.cases[0].id]
    covered = set(pairs[chosen[0]])
    while True:
        best = max(info.cases, key=lambda case: len(pairs[case.id] - covered))
        if not pairs[best.id] - covered:
            return tuple(chosen)
        chosen.append(best.id)
        covered |= pairs[best.id]
