"""What the ``onnxruntime`` and ``onnx_reference`` adapters share: each layer's torch module,
exported with ``torch.onnx.export`` as a user exports it.

There is no ONNX code per layer.  ``OnnxExportAdapter.__getattr__`` resolves a layer
method through ``adapters.torch.TorchAdapter``: the torch adapter builds the ``torch.nn``
module with the case's weights (and refuses, with torch's own rules, what torch cannot
express); this module exports that module with the case's input tensors as example
arguments; the subclass runs the graph (an ONNX Runtime session, ONNX's reference
evaluator).  So every layer the torch adapter has is exported and run, including layers
added after this file.

How it exports, and why:

- ``torch.onnx.export(module, args, input_names=..., dynamo=True)``: the torch.export-based
  exporter, torch's default since 2.9 (it needs ``onnxscript``), at its default opset;
  the weights are initializers of the graph, as in a user's file.
- Eval mode, as users export ("Calling model.eval() before export is recommended", the
  exporter's warning otherwise).  A module whose output changes in eval mode (batch norm
  or dropout in training mode) is refused: the graph the exporter writes for it does not
  compute the training-mode layer (conventions row ``onnx_export_training_mode``).
- A case the torch adapter computes with torch ops rather than a ``torch.nn`` module
  (dropout's injected mask) is refused: there is no module a user would export.
- An exporter error (``torch.onnx.errors.OnnxExporterError``) is ``Unsupported``, quoting
  it: the user cannot export that layer.
- The exported graph is checked before it runs (``adapters/_onnx_rules.py``):
  ``onnx.checker`` with full inference and float64 graphs holding float32-rounded
  constants.  A graph that computes a wrong value (an attribute the exporter drops, a
  runtime's pooling bug) runs: its comparison fails, or xfails as a declared bug's
  modelled output (tests/divergence_signatures_onnx_pool.py).  Where the runtime raises
  on the call, its error is a refusal only when it is a declared bug's own error on a
  configuration that bug touches (``_onnx_rules.declared_failure``,
  ``_onnx_conv_transpose.declared_failure``); any other error propagates.
- Backward: ONNX graphs exported for inference have no gradient; the adapters run
  forward only and say so.

Speed: each export takes about 0.4 s (torch.export tracing and decompositions), and the
public ``torch.onnx.export`` rebuilds its registry of ONNX Script translations (about
1 s) on every call.  Exports are cached per layer call (method, attributes, input
bytes), shared by both adapters; during an export the registry built for the same opset
is reused (``_reused_registry``), which changes no byte of the exported model
(tests/adapters/test_onnx_adapters.py checks this).
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import inspect
import logging
import warnings
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, ClassVar

import numpy as np

from adapters import _onnx_conv_transpose as conv_transpose
from adapters import _onnx_rules as rules
from adapters._onnx_rules import EXPORTER, INVALID_CE_MODEL, KnownInvalidModel
from adapters.base import FrameworkMissing, Run, Unsupported
from adapters.torch import TorchAdapter

#: Exports kept: the tests of one case (both adapters, both directions) run close together.
_CACHE_SIZE = 16
_PROTOCOL = frozenset({"name", "requires", "load", "version", "determinism_flags"})
_REFUSAL_LINES = 6


@dataclass(frozen=True)
class Exported:
    """One exported layer call: the ONNX model, the NumPy inputs by graph input name, and
    what was exported (``torch.nn.Conv2d``)."""

    model: Any  # onnx.ModelProto
    feeds: Mapping[str, np.ndarray]
    opset: int
    what: str


_CACHE: OrderedDict[tuple, Exported | Unsupported] = OrderedDict()
_REGISTRIES: dict[Any, Any] = {}


class OnnxExportAdapter:
    """Base of the adapters that run torch's exported graph; subclasses set ``name``,
    ``requires``, ``runtime`` and implement ``_runner``."""

    name = ""
    requires: tuple[str, ...] = ("torch", "onnx", "onnxscript")
    #: How the graph runs, for records ("ONNX Runtime CPUExecutionProvider").
    runtime = ""
    #: Why each layer call is slow to set up: the default pytest runs a sample of these
    #: adapters' cases, ``pytest --full`` all of them (tests/sampling.py).
    slow_setup = f"each case is a {EXPORTER}, about 0.4 s"
    #: Attribute values whose every float32 case is in that sample: pooling windows in
    #: ceil mode are where ONNX runtimes and PyTorch have disagreed
    #: (microsoft/onnxruntime#16203, onnx/onnx#4958, onnx/onnx#5276).
    always_sample: ClassVar[Mapping[str, Any]] = MappingProxyType({"ceil_mode": True})

    def __init__(self) -> None:
        self._torch_adapter = TorchAdapter()
        self._onnx = None

    # -- Protocol ------------------------------------------------------------------------

    def load(self) -> None:
        if self._onnx is not None:
            return
        try:
            self._torch_adapter.load()
        except FrameworkMissing as exc:
            raise FrameworkMissing(f"{exc} (the ONNX graphs are torch's exports)") from exc
        try:
            import onnx
            import onnxscript  # noqa: F401 (torch.onnx.export(dynamo=True) imports it)
        except ImportError as exc:
            raise FrameworkMissing(
                f"{exc.name} is not installed (torch.onnx.export needs onnx and onnxscript): "
                'pip install -e ".[onnx]"'
            ) from exc
        self._load_runtime()
        self._onnx = onnx

    def determinism_flags(self) -> dict[str, Any]:
        torch = self._torch_adapter._lib()
        constants = getattr(torch.onnx, "_constants", None)
        return {
            "exporter": EXPORTER,
            "opset": getattr(constants, "ONNX_DEFAULT_OPSET", "exporter default"),
            "torch": torch.__version__,
            "onnx": self._onnx.__version__,
            **self._runtime_flags(),
        }

    def __getattr__(self, method: str) -> Callable[..., _ExportedCall]:
        if method.startswith("_") or method in _PROTOCOL:
            raise AttributeError(method)
        if not callable(getattr(TorchAdapter, method, None)):
            raise AttributeError(f"{self.name} has no {method} (the torch adapter has none)")
        signature = inspect.signature(getattr(TorchAdapter, method))

        def prepare(*args: Any, **kwargs: Any) -> _ExportedCall:
            self.load()
            arguments = signature.bind(self._torch_adapter, *args, **kwargs).arguments
            arguments.pop("self")
            torch_call = getattr(self._torch_adapter, method)(*args, **kwargs)
            return _ExportedCall(self, _key(method, arguments), torch_call)

        prepare.__name__ = method
        return prepare

    def run_model(self, model: Any, feeds: Mapping[str, np.ndarray]) -> list:
        """The outputs of any ONNX ``model`` on ``feeds``, run as the layer calls run (for
        the conventions tests, which export modules the adapter refuses)."""
        self.load()
        return self._runner(Exported(model, dict(feeds), -1, "a given model"))()

    def _label(self) -> str:
        """The runtime and its version, as refusals name it."""
        raise NotImplementedError

    # -- for subclasses ------------------------------------------------------------------

    def _load_runtime(self) -> None:
        """Import the runtime or raise ``FrameworkMissing``."""

    def _runtime_flags(self) -> dict[str, Any]:
        return {}

    def _runner(self, exported: Exported) -> Callable[[], list]:
        """A callable running the graph on ``exported.feeds``; raises ``Unsupported`` where
        the runtime refuses the graph (quoting it)."""
        raise NotImplementedError


class _ExportedCall:
    """One layer call: the torch adapter's prepared module, exported on first use."""

    def __init__(self, adapter: OnnxExportAdapter, key: tuple, torch_call: Any) -> None:
        # The torch adapter wraps a call whose backward only it refuses (float64
        # Hardsigmoid: adapters.torch._BackwardRefused); the forward module is inside.
        torch_call = getattr(torch_call, "prepared", torch_call)
        self.adapter, self.key, self.torch_call = adapter, key, torch_call

    def forward(self) -> Run:
        try:
            exported = export(self.key, self.torch_call)
        except KnownInvalidModel as exc:
            key = INVALID_CE_MODEL.format(adapter=self.adapter.name)
            raise Unsupported(
                f"{exc} (known divergence {key!r} in tests/known_divergences.py)"
            ) from exc
        run = self._declared(lambda: self.adapter._runner(exported), exported)
        execution = (
            f"{self.adapter.runtime} on the {EXPORTER} graph (opset {exported.opset}) of "
            f"{exported.what}"
        )
        # The runtime's own error on this very call is what a refusal rests on; it
        # surfaces from forward(), as the adapter protocol places refusals.
        self._declared(run, exported)
        return Run(run, lambda outputs: np.asarray(outputs[0]), execution)

    def _declared(self, step: Callable[[], Any], exported: Exported) -> Any:
        """``step()``; a runtime error that is a declared bug's own error on this graph
        becomes ``Unsupported`` quoting it, any other error propagates."""
        try:
            return step()
        except Unsupported:
            raise
        except Exception as exc:
            name, label = self.adapter.name, self.adapter._label()
            for rule in (rules.declared_failure, conv_transpose.declared_failure):
                refusal = rule(name, label, exc, exported.model)
                if refusal is not None:
                    raise refusal from exc
            raise

    def backward(self, grad_out) -> Run:
        raise Unsupported(
            f"{self.adapter.name}: the graph {EXPORTER} writes computes the forward pass only "
            "(an inference graph has no gradient outputs); this adapter compares forward"
        )


def _key(method: str, arguments: Mapping[str, Any]) -> tuple:
    """What determines an export: the method, the attributes, and every array's dtype,
    shape and bytes (the weights become initializers of the graph)."""
    parts: list[Any] = [method]
    for name, value in sorted(arguments.items()):
        if isinstance(value, np.ndarray):
            array = np.ascontiguousarray(value)
            digest = hashlib.sha256(array.tobytes()).hexdigest()
            parts.append((name, array.dtype.str, array.shape, digest))
        else:
            parts.append((name, repr(value)))
    return tuple(parts)


def export(key: tuple, torch_call: Any) -> Exported:
    """The export of one torch adapter prepared call (cached by ``key``); raises
    ``Unsupported`` (cached too) where a user cannot export the layer."""
    if key in _CACHE:
        _CACHE.move_to_end(key)
        cached = _CACHE[key]
        if isinstance(cached, Unsupported):
            raise type(cached)(str(cached))
        return cached
    try:
        result: Exported | Unsupported = _export(torch_call)
    except Unsupported as exc:
        result = exc
    _CACHE[key] = result
    while len(_CACHE) > _CACHE_SIZE:
        _CACHE.popitem(last=False)
    if isinstance(result, Unsupported):
        raise type(result)(str(result))
    return result


def _export(torch_call: Any) -> Exported:
    import torch

    module = inspect.unwrap(torch_call.module)
    if not isinstance(module, torch.nn.Module):
        raise Unsupported(
            f"the torch adapter computes this case as {torch_call.execution!r} with torch ops; "
            "no torch.nn module takes it, so there is nothing a user would export "
            f"({EXPORTER} exports a torch.nn.Module)"
        )
    inputs = dict(torch_call.inputs)
    args = tuple(inputs.values())
    what = torch_call.execution
    module = _eval_mode(module, args, what)
    try:
        model = export_module(module, inputs)
    except torch.onnx.errors.OnnxExporterError as exc:
        raise Unsupported(f"{EXPORTER} of {what} fails: {_first_lines(exc)}") from exc
    rules.check_model(model, what)
    names = [value.name for value in model.graph.input]
    feeds = {name: inputs[name].numpy() for name in names}
    if any(feed.dtype == np.float64 for feed in feeds.values()):
        rules.check_float_attributes(module, model, what)
        rules.check_float32_constants(model, what)
    return Exported(model, feeds, rules.opset_of(model), what)


def export_module(module: Any, inputs: Mapping[str, Any]) -> Any:
    """``torch.onnx.export(module, args, input_names=..., dynamo=True)`` as a user calls it
    (the module exported in whatever mode it is in), quietly and reusing the exporter's
    registry; returns the ``onnx.ModelProto``.  ``inputs``: graph input name -> tensor,
    in the module's argument order."""
    import torch

    with _quiet(), _reused_registry():
        program = torch.onnx.export(
            module, tuple(inputs.values()), input_names=list(inputs), dynamo=True, verbose=False
        )
    return program.model_proto


def _eval_mode(module: Any, args: tuple, what: str) -> Any:
    """``module`` in eval mode, as a user exports it; ``Unsupported`` when eval mode
    computes something else (the training-mode layer cannot be exported)."""
    import torch

    if not any(m.training for m in module.modules()):
        return module
    evaluated = copy.deepcopy(module).eval()
    with torch.no_grad():
        trained, inferred = module(*args), evaluated(*args)
    if torch.equal(trained, inferred):
        return evaluated
    raise Unsupported(
        f"{what} in training mode: {EXPORTER} warns 'Exporting a model while it is in "
        "training mode ... Calling model.eval() before export is recommended', and what it "
        "writes for this module does not compute the training-mode layer (BatchNorm2d "
        "becomes inference BatchNormalization on the running statistics, Dropout an ONNX "
        "Dropout that draws its own mask): conventions row onnx_export_training_mode"
    )


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """The exporter's progress logging and torch-internal deprecation notes, silenced."""
    logger = logging.getLogger("torch.onnx")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            warnings.simplefilter("ignore", DeprecationWarning)
            yield
    finally:
        logger.setLevel(level)


@contextlib.contextmanager
def _reused_registry() -> Iterator[None]:
    """During one export, ``ONNXRegistry.from_torchlib`` returns the registry an earlier
    export built for the same opset instead of rebuilding it (it parses about 500 ONNX
    Script functions each time).  Nothing changes where torch's internals differ."""
    try:
        from torch.onnx._internal.exporter import _registration

        original = _registration.ONNXRegistry.__dict__["from_torchlib"]
    except (ImportError, KeyError):
        yield
        return
    build = original.__func__

    def reused(cls, *args, **kwargs):
        key = (cls, args, tuple(sorted(kwargs.items())))
        if key not in _REGISTRIES:
            _REGISTRIES[key] = build(cls, *args, **kwargs)
        return _REGISTRIES[key]

    _registration.ONNXRegistry.from_torchlib = classmethod(reused)
    try:
        yield
    finally:
        _registration.ONNXRegistry.from_torchlib = original


def _first_lines(exc: BaseException) -> str:
    lines = [line for line in str(exc).splitlines() if line.strip()]
    text = " ".join(lines[:_REFUSAL_LINES])
    return f"{type(exc).__name__}: {text}"
