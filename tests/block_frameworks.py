"""A pytest plugin that makes frameworks look uninstalled: ``-p tests.block_frameworks``
with ``CNN_PARITY_BLOCK=tensorflow,keras`` (top-level module names).

Blocking behaves like absence, not like a broken install: ``importlib.util.find_spec``
returns None for a blocked module (torch._dynamo, for one, probes
``find_spec("tensorflow")`` and must not see an error), importing it raises
``ModuleNotFoundError``, and ``importlib.metadata`` finds no distribution whose name
starts with a blocked name.  This is done by replacing the path-based finder with one
that does not see the blocked names.  Used by tests/adapters/test_missing_framework.py,
and by hand: ``CNN_PARITY_BLOCK=torch pytest -p tests.block_frameworks``.
"""

from __future__ import annotations

import os
import re
import sys
from importlib.machinery import PathFinder

BLOCKED = frozenset(filter(None, os.environ.get("CNN_PARITY_BLOCK", "").split(",")))


def _normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


def _blocked_distribution(name: str | None) -> bool:
    name = _normalized(name or "")
    return any(name == b or name.startswith(b + "_") for b in map(_normalized, BLOCKED))


class BlindPathFinder(PathFinder):
    """The standard path finder, blind to the blocked modules and distributions."""

    @classmethod
    def find_spec(cls, fullname, path=None, target=None):
        if fullname.partition(".")[0] in BLOCKED:
            return None
        return super().find_spec(fullname, path, target)

    @classmethod
    def find_distributions(cls, *args, **kwargs):
        for dist in super().find_distributions(*args, **kwargs):
            if not _blocked_distribution(dist.metadata["Name"]):
                yield dist


if BLOCKED:
    loaded = sorted(m for m in BLOCKED if m in sys.modules)
    if loaded:
        raise RuntimeError(f"CNN_PARITY_BLOCK: {loaded} already imported before the plugin")
    sys.meta_path[:] = [BlindPathFinder if f is PathFinder else f for f in sys.meta_path]
