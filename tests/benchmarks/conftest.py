"""Benchmark session setup: put the C allocator in a steady state before anything is timed.

See ``tests.benchmarks.common.settle_allocator``: without it, torch's CPU kernels
page-fault on every call in a fresh process (glibc trims the heap they just grew), and
their timings measure the VM's page-fault cost more than the op.
"""

from __future__ import annotations

import pytest

from tests.benchmarks.common import settle_allocator


@pytest.fixture(scope="session", autouse=True)
def _settled_allocator():
    settle_allocator()
