"""A pytest plugin that makes frameworks look uninstalled: ``-p tests.block_frameworks``
with ``CNN_PARITY_BLOCK=tensorflow,keras`` (top-level module names).

Importing a blocked module raises ``ModuleNotFoundError`` exactly as if the package were
not installed, so the suite's "framework missing" path can be exercised without
uninstalling anything.  Used by tests/adapters/test_missing_framework.py, and by hand:
``CNN_PARITY_BLOCK=torch pytest -p tests.block_frameworks``.
"""

from __future__ import annotations

import importlib.abc
import os
import sys

BLOCKED = frozenset(filter(None, os.environ.get("CNN_PARITY_BLOCK", "").split(",")))


class _BlockingFinder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path=None, target=None):
        if fullname.partition(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {fullname!r}", name=fullname)
        return None


if BLOCKED:
    loaded = sorted(m for m in BLOCKED if m in sys.modules)
    if loaded:
        raise RuntimeError(f"CNN_PARITY_BLOCK: {loaded} already imported before the plugin")
    sys.meta_path.insert(0, _BlockingFinder())
