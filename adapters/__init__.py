"""The adapter registry: the built-in frameworks, plus whatever a run registers.

Each built-in entry names a module and class; nothing is imported until an adapter is
asked for, and a framework is imported only when its adapter's ``load`` runs.  A user's
own implementation joins the registry with ``register`` (``pytest --candidate`` /
``--adapter`` do this; see ``adapters.candidate``).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from functools import cache

from adapters.base import (
    DIRECTIONS,
    Adapter,
    FrameworkMissing,
    Prepared,
    Run,
    Unsupported,
    layer_method,
    prepare,
)

__all__ = [
    "ADAPTERS",
    "DIRECTIONS",
    "Adapter",
    "FrameworkMissing",
    "Prepared",
    "Run",
    "Unsupported",
    "get",
    "layer_method",
    "load",
    "missing_reason",
    "names",
    "origin",
    "prepare",
    "register",
    "register_spec",
    "supports",
]

#: Built-in adapter name -> "module:Class".  The order is the order of report columns.
ADAPTERS: dict[str, str] = {
    "torch": "adapters.torch:TorchAdapter",
    "keras": "adapters.keras:KerasAdapter",
    "tensorflow": "adapters.tensorflow:TfNnAdapter",
    "scipy": "adapters.scipy:ScipyAdapter",
    "jax": "adapters.jax:JaxAdapter",
    "onnxruntime": "adapters.onnxruntime:OnnxRuntimeAdapter",
    "onnx_reference": "adapters.onnx_reference:OnnxReferenceAdapter",
    "litert": "adapters.litert:LiteRtAdapter",
    "flax": "adapters.flax:FlaxAdapter",
}

#: Adapters registered at run time (candidates): name -> factory, and name -> the spec
#: it was registered from (what a reproduction snippet needs to register it again).
_REGISTERED: dict[str, Callable[[], Adapter]] = {}
_ORIGINS: dict[str, str] = {}
_LOADED: dict[str, Adapter | FrameworkMissing] = {}


def register_spec(spec: str, name: str | None = None) -> str:
    """Register a user's implementation and return its adapter name.

    ``spec`` is ``module:Class`` / ``path.py:Class`` (a class implementing the Protocol;
    its ``name`` attribute names it) or a module name / ``.py`` path / package directory
    shaped like ``reference/`` (named after its stem unless ``name`` is given)."""
    from pathlib import Path

    from adapters import candidate

    module_part, sep, class_part = spec.rpartition(":")
    if sep and module_part and class_part.isidentifier():
        instance = candidate.from_class(spec)
        origin = _absolute(module_part) + ":" + class_part
        register(name or instance.name, lambda: instance, origin=origin)
        return name or instance.name
    adapter = candidate.from_module(spec, name)
    is_path = spec.endswith(".py") or Path(spec).exists()
    register(adapter.name, lambda: adapter, origin=_absolute(spec) if is_path else spec)
    return adapter.name


def _absolute(spec: str) -> str:
    from pathlib import Path

    path = Path(spec)
    return str(path.resolve()) if spec.endswith(".py") or path.exists() else spec


def origin(name: str) -> str | None:
    """The spec a registered candidate came from (None for the built-ins)."""
    return _ORIGINS.get(name)


def names() -> list[str]:
    """Every adapter name: the built-ins, then registered ones in registration order."""
    return [*ADAPTERS, *_REGISTERED]


def register(name: str, factory: Callable[[], Adapter], *, origin: str | None = None) -> None:
    """Add an adapter under ``name`` (a test-id field, a marker and a report column);
    ``origin`` is the spec ``register_spec`` can rebuild it from."""
    if not name.isidentifier():
        raise ValueError(f"adapter name must be a Python identifier, got {name!r}")
    if name in ADAPTERS or name == "reference":
        raise ValueError(f"adapter name {name!r} is taken by the suite itself")
    _REGISTERED[name] = factory
    if origin is not None:
        _ORIGINS[name] = origin
    get.cache_clear()
    _LOADED.pop(name, None)


@cache
def get(name: str) -> Adapter:
    """The adapter instance for ``name`` (its framework not yet imported)."""
    if name in _REGISTERED:
        return _REGISTERED[name]()
    if name not in ADAPTERS:
        raise KeyError(f"no adapter named {name!r}; known: {', '.join(names())}")
    module_name, _, class_name = ADAPTERS[name].partition(":")
    return getattr(importlib.import_module(module_name), class_name)()


def load(name: str) -> Adapter:
    """The loaded adapter; raises ``FrameworkMissing`` (with the reason) when its
    framework cannot be imported.  Loading happens once per process."""
    if name not in _LOADED:
        adapter = get(name)
        try:
            adapter.load()
        except FrameworkMissing as exc:
            _LOADED[name] = exc
        else:
            _LOADED[name] = adapter
    loaded = _LOADED[name]
    if isinstance(loaded, FrameworkMissing):
        raise loaded
    return loaded


def missing_reason(name: str) -> str | None:
    """Why ``name`` cannot be loaded, or None when it can."""
    try:
        load(name)
    except FrameworkMissing as exc:
        return str(exc)
    return None


def supports(name: str, method: str) -> bool:
    """Whether adapter ``name`` has a method for the layer at all (no framework import)."""
    return layer_method(get(name), method) is not None
