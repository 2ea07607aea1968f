"""The explicit adapter registry.

Each entry names a module and class; nothing is imported until an adapter is asked for,
and a framework is imported only when its adapter's ``load`` runs.
"""

from __future__ import annotations

import importlib
from functools import cache

from adapters.base import LAYERS, Adapter, FrameworkMissing

__all__ = ["ADAPTERS", "LAYERS", "Adapter", "FrameworkMissing", "get", "load", "names"]

#: adapter name -> "module:Class".  The order is the order of columns in reports.
ADAPTERS: dict[str, str] = {
    "torch": "adapters.torch:TorchAdapter",
    "keras": "adapters.keras:KerasAdapter",
    "tensorflow": "adapters.tensorflow:TfNnAdapter",
    "scipy": "adapters.scipy:ScipyAdapter",
    "jax": "adapters.jax:JaxAdapter",
}


def names() -> list[str]:
    return list(ADAPTERS)


@cache
def get(name: str) -> Adapter:
    """The adapter instance for ``name`` (framework not yet imported)."""
    module_name, _, class_name = ADAPTERS[name].partition(":")
    return getattr(importlib.import_module(module_name), class_name)()


@cache
def load(name: str) -> Adapter | str:
    """The loaded adapter, or the reason it cannot be loaded (framework missing)."""
    adapter = get(name)
    try:
        adapter.load()
    except FrameworkMissing as exc:
        return str(exc)
    return adapter
