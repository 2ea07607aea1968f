"""Your own implementation as an adapter: a module shaped like ``reference/``, or a class
implementing the adapter Protocol.

Two ways in (``pytest --candidate`` and ``pytest --adapter`` call these):

- ``from_module(spec)``: ``spec`` is a module name (``mylayers``) or a path to a ``.py``
  file or a package directory.  For each layer the suite asks about, the candidate
  provides either ``<layer>.forward`` / ``<layer>.backward`` (a submodule or any object
  with those attributes: ``mylayers.conv2d.forward``), or the functions
  ``<layer>_forward`` / ``<layer>_backward``, or, for the operations that share a
  reference module, the reference's own names (``signal.correlate2d`` and
  ``signal.correlate2d_backward``).  Signatures are the reference's.  A layer it lacks
  is unsupported ("mylayers has no conv2d"); a configuration it raises
  ``NotImplementedError`` for is unsupported with its message.
- ``from_class("module:Class")``: an instance of a class with ``name``, ``load``,
  ``version``, ``determinism_flags`` and one method per layer (``adapters/base.py``).

``StatefulLayer`` wraps a class with ``forward(x)`` / ``backward(dout)`` methods, the
seeds' style (``Convolution(W, b, stride, pad)``), into that shape in a few lines.
"""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from adapters.base import Run, Unsupported

#: The suite's own top-level packages: a candidate may not be imported under these names.
_SUITE_PACKAGES = frozenset({"reference", "adapters", "reports", "tests"})


class ModuleAdapter:
    """A reference-shaped module seen through the adapter Protocol."""

    def __init__(self, name: str, module: ModuleType, *, origin: str = "") -> None:
        self.name = name
        self.module = module
        self.origin = origin or getattr(module, "__file__", "") or module.__name__

    def load(self) -> None:
        """Nothing to import: the module was imported when the adapter was made."""

    def version(self) -> str:
        version = getattr(self.module, "__version__", None)
        return f"{self.module.__name__} {version}" if version else self.origin

    def determinism_flags(self) -> dict[str, Any]:
        return {}

    def __getattr__(self, method: str) -> Callable[..., _Call]:
        if method.startswith("_"):
            raise AttributeError(method)
        functions = _find(self.module, method)
        if functions is None:
            raise AttributeError(f"{self.name} has no {method}")
        forward, backward = functions
        label = f"{self.name}.{method}"

        def prepare(*args: Any, **kwargs: Any) -> _Call:
            return _Call(label, forward, backward, args, kwargs)

        prepare.__name__ = method
        return prepare


class _Call:
    """A candidate's layer call: the candidate's functions run on the arrays as given
    (NumPy in, NumPy out), so there is nothing to set up."""

    def __init__(self, label, forward, backward, args, kwargs) -> None:
        self.label, self._forward, self._backward = label, forward, backward
        self.args, self.kwargs = args, kwargs

    def forward(self) -> Run:
        def call():
            return _refusing(self.label, lambda: self._forward(*self.args, **self.kwargs))

        return Run(call, np.asarray, "NumPy (candidate)")

    def backward(self, grad_out: np.ndarray) -> Run:
        if self._backward is None:
            raise Unsupported(f"{self.label} has no backward")

        def call():
            return _refusing(
                self.label, lambda: self._backward(grad_out, *self.args, **self.kwargs)
            )

        return Run(call, _grads, "NumPy (candidate)")


def _refusing(label: str, call: Callable[[], Any]) -> Any:
    try:
        return call()
    except NotImplementedError as exc:
        raise Unsupported(f"{label}: {exc or 'NotImplementedError'}") from exc


def _grads(result: Any) -> dict[str, np.ndarray]:
    if not isinstance(result, Mapping):
        raise TypeError(
            f"backward must return a dict from input name to gradient, got {type(result)}"
        )
    return {str(k): np.asarray(v) for k, v in result.items()}


def _find(module: ModuleType, method: str) -> tuple[Callable, Callable | None] | None:
    """The candidate's (forward, backward) for one layer, by the rules in the module
    docstring, or None."""
    holder = getattr(module, method, None)
    if holder is None and hasattr(module, "__path__"):
        holder = _submodule(module, method)
    if holder is not None and callable(getattr(holder, "forward", None)):
        return holder.forward, getattr(holder, "backward", None)
    forward = getattr(module, f"{method}_forward", None)
    if callable(forward):
        return forward, getattr(module, f"{method}_backward", None)
    if callable(holder) and callable(getattr(module, f"{method}_backward", None)):
        return holder, getattr(module, f"{method}_backward")
    if hasattr(module, "__path__"):  # reference-style: signal.correlate2d in a submodule
        for info in pkgutil.iter_modules(module.__path__):
            if info.name.startswith("_"):
                continue
            sub = _submodule(module, info.name)
            function = getattr(sub, method, None) if sub is not None else None
            if callable(function) and callable(getattr(sub, f"{method}_backward", None)):
                return function, getattr(sub, f"{method}_backward")
    return None


def _submodule(package: ModuleType, name: str) -> ModuleType | None:
    try:
        return importlib.import_module(f"{package.__name__}.{name}")
    except ModuleNotFoundError as exc:
        if exc.name == f"{package.__name__}.{name}":
            return None
        raise


def import_candidate(spec: str) -> ModuleType:
    """Import a module by name, or a ``.py`` file / package directory by path.

    A path is imported under a private name (``cnn_parity_candidate_<stem>``), so it can
    neither shadow nor be shadowed by the suite's own ``reference``, ``reports``, ...
    A module name that is one of the suite's packages is refused."""
    path = Path(spec)
    if spec.endswith(".py") or path.is_dir() or path.is_file():
        return _import_path(path.resolve())
    top = spec.partition(".")[0]
    if top in _SUITE_PACKAGES:
        raise ValueError(
            f"candidate {spec!r}: {top!r} is one of the suite's own packages; "
            "pass the candidate's path instead of its module name"
        )
    return importlib.import_module(spec)


def _import_path(path: Path) -> ModuleType:
    if not path.exists():
        raise ValueError(f"candidate path {str(path)!r} does not exist")
    if path.is_dir():
        init = path / "__init__.py"
        if not init.exists():
            raise ValueError(f"candidate directory {str(path)!r} has no __init__.py")
        location, search = init, [str(path)]
    else:
        location, search = path, None
    stem = path.name if path.is_dir() else path.stem
    name = f"cnn_parity_candidate_{stem}"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, location, submodule_search_locations=search)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # before exec: the package's own submodule imports need it
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


def candidate_name(spec: str) -> str:
    """The column name for a ``--candidate`` spec: the module's or file's stem."""
    path = Path(spec)
    stem = path.stem if spec.endswith(".py") else path.name
    stem = stem.rpartition(".")[2] or stem
    return "".join(c if c.isalnum() or c == "_" else "_" for c in stem)


def from_module(spec: str, name: str | None = None) -> ModuleAdapter:
    """The adapter for a reference-shaped module (see the module docstring)."""
    module = import_candidate(spec)
    return ModuleAdapter(name or candidate_name(spec), module, origin=spec)


def from_class(spec: str) -> Any:
    """An instance of ``module:Class`` (a module name or a ``path.py``, then the class)."""
    module_spec, sep, class_name = spec.rpartition(":")
    if not sep or not module_spec or not class_name:
        raise ValueError(
            f"adapter must be given as 'module:Class' or 'path.py:Class', got {spec!r}"
        )
    module = import_candidate(module_spec)
    try:
        cls = getattr(module, class_name)
    except AttributeError:
        raise ValueError(f"adapter {spec!r}: {module_spec} has no {class_name!r}") from None
    adapter = cls()
    for member in ("name", "load", "version", "determinism_flags"):
        if not hasattr(adapter, member):
            raise ValueError(f"adapter {spec!r} lacks the Protocol member {member!r}")
    return adapter


class StatefulLayer:
    """A seed-style layer class as a reference-shaped ``forward``/``backward`` pair.

    ``build(**arguments)`` gets the reference's forward arguments by name (the arrays
    too, so it can refuse shapes) and returns a fresh instance, or raises
    ``NotImplementedError`` for a configuration the class does not have.  ``inputs`` are
    the arrays fed to the instance's ``forward``, in order.
    ``grads`` maps reference gradient names other than the inputs' to the instance
    attributes its ``backward`` fills (``{"w": "dW", "b": "db"}``).  ``backward`` runs
    forward first, as the class needs, then ``instance.backward(grad_out)``, whose
    result is the first input's gradient."""

    def __init__(
        self,
        build: Callable[..., Any],
        *,
        inputs: tuple[str, ...] = ("x",),
        grads: Mapping[str, str] | None = None,
    ) -> None:
        self.build, self.inputs, self.grads = build, inputs, dict(grads or {})

    def _instance(self, args, kwargs):
        values = dict(zip(self.inputs, args, strict=False))
        values.update(kwargs)
        arrays = [values[name] for name in self.inputs]
        return self.build(**values), arrays, values

    def forward(self, *args: Any, **kwargs: Any) -> np.ndarray:
        instance, arrays, _ = self._instance(args, kwargs)
        return instance.forward(*arrays)

    def backward(self, grad_out: np.ndarray, *args: Any, **kwargs: Any) -> dict[str, np.ndarray]:
        instance, arrays, values = self._instance(args, kwargs)
        instance.forward(*arrays)
        grads = {self.inputs[0]: instance.backward(grad_out)}
        for key, attribute in self.grads.items():
            if values.get(key) is not None:
                grads[key] = getattr(instance, attribute)
        return grads
