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
- An attribute the exporter drops without a word (``DROPPED_ATTRIBUTES``: AvgPool2d's
  ``divisor_override``) is refused, naming its known divergence.
- A case the torch adapter computes with torch ops rather than a ``torch.nn`` module
  (dropout's injected mask) is refused: there is no module a user would export.
- An exporter error (``torch.onnx.errors.OnnxExporterError``) is ``Unsupported``, quoting
  it: the user cannot export that layer.
- ``onnx.checker.check_model(full_check=True)`` runs on every export: an invalid model is
  an error (a finding), except the one declared in tests/known_divergences.py and ONNX's
  pre-opset-22 shape rule for a ceil-mode window starting in the padding (conventions row
  ``onnx_pool_ceil_window_in_padding``; the runtimes compute torch's windows).
- A float64 graph that holds a module constant as a FLOAT attribute (32-bit in ONNX:
  batch norm's eps 1e-5 becomes 9.99999974738e-06) is refused: it computes another layer
  (conventions row ``onnx_float32_attributes``).
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

from adapters.base import FrameworkMissing, Run, Unsupported
from adapters.torch import TorchAdapter

#: The exporter call, as the records and refusals name it.
EXPORTER = "torch.onnx.export(dynamo=True)"
#: Exports kept: the tests of one case (both adapters, both directions) run close together.
_CACHE_SIZE = 16
#: What the exporter drops without a word: (layer method, attribute, the known divergence
#: in tests/known_divergences.py that each adapter refuses it under, what happens).
DROPPED_ATTRIBUTES = (
    (
        "avgpool2d",
        "divisor_override",
        "{adapter}-export-drops-divisor-override",
        "the exported AveragePool divides by the window size (onnxscript's torch_lib "
        "aten_avg_pool2d never reads divisor_override; the TorchScript exporter raised "
        "'Unsupported: ONNX export of operator avg_pool2d, divisor_override')",
    ),
)
#: The known divergence (tests/known_divergences.py) under which each adapter refuses the
#: invalid model the exporter writes for cross-entropy on class probabilities.
INVALID_CE_MODEL = "{adapter}-ce-probabilities-invalid-model"
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


class KnownInvalidModel(Unsupported):
    """The declared invalid export; the adapter's refusal adds its entry's key."""


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
            _refuse_dropped(self.name, method, arguments)
            return _ExportedCall(self, _key(method, arguments), torch_call)

        prepare.__name__ = method
        return prepare

    def run_model(self, model: Any, feeds: Mapping[str, np.ndarray]) -> list:
        """The outputs of any ONNX ``model`` on ``feeds``, run as the layer calls run (for
        the conventions tests, which export modules the adapter refuses)."""
        self.load()
        return self._runner(Exported(model, dict(feeds), -1, "a given model"))()

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
        self.adapter, self.key, self.torch_call = adapter, key, torch_call

    def forward(self) -> Run:
        try:
            exported = export(self.key, self.torch_call)
        except KnownInvalidModel as exc:
            key = INVALID_CE_MODEL.format(adapter=self.adapter.name)
            raise Unsupported(
                f"{exc} (known divergence {key!r} in tests/known_divergences.py)"
            ) from exc
        run = self.adapter._runner(exported)
        execution = (
            f"{self.adapter.runtime} on the {EXPORTER} graph (opset {exported.opset}) of "
            f"{exported.what}"
        )
        return Run(run, lambda outputs: np.asarray(outputs[0]), execution)

    def backward(self, grad_out) -> Run:
        raise Unsupported(
            f"{self.adapter.name}: the graph {EXPORTER} writes computes the forward pass only "
            "(an inference graph has no gradient outputs); this adapter compares forward"
        )


def _refuse_dropped(adapter: str, method: str, arguments: Mapping[str, Any]) -> None:
    for layer, attribute, key, what in DROPPED_ATTRIBUTES:
        if method == layer and arguments.get(attribute) is not None:
            raise Unsupported(
                f"{EXPORTER} drops {attribute}={arguments[attribute]!r}: {what} (known "
                f"divergence {key.format(adapter=adapter)!r} in tests/known_divergences.py)"
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
    _check_model(model, what)
    names = [value.name for value in model.graph.input]
    feeds = {name: inputs[name].numpy() for name in names}
    if any(feed.dtype == np.float64 for feed in feeds.values()):
        _check_float_attributes(module, model, what)
    opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), -1)
    return Exported(model, feeds, opset, what)


def _check_model(model: Any, what: str) -> None:
    """``onnx.checker`` with type inference on the exported model.  A model it rejects is
    a failure, except the one invalid export declared in tests/known_divergences.py."""
    import onnx

    try:
        onnx.checker.check_model(model, full_check=True)
    except (onnx.checker.ValidationError, onnx.shape_inference.InferenceError) as exc:
        message = " ".join(str(exc).split())
        if "SoftmaxCrossEntropyLoss" in message and "labels typestr" in message:
            raise KnownInvalidModel(
                f"{EXPORTER} of {what} with class-probability targets writes an invalid "
                f"model (onnx.checker: {message}): ONNX SoftmaxCrossEntropyLoss takes integer "
                "labels only"
            ) from exc
        if "Inferred shape and existing shape differ" in message and ceil_windows_in_padding(model):
            return  # ONNX's opset < 22 pooling shape rule: conventions row, see below
        raise RuntimeError(f"{EXPORTER} of {what} wrote an invalid model: {message}") from exc


def ceil_windows_in_padding(model: Any) -> list[str]:
    """The ceil-mode pooling axes of ``model`` whose last window would start in the right
    padding, where the opset is below 22.  Torch drops that window, and so do the model's
    declared shapes, ONNX Runtime and onnx.reference; ONNX's shape inference for opsets
    below 22 keeps it (one more output), so ``onnx.checker`` with ``full_check`` rejects
    the model (conventions row ``onnx_pool_ceil_window_in_padding``).  [] otherwise."""
    import onnx

    opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 0)
    if opset >= 22:
        return []
    shapes = {
        value.name: [d.dim_value for d in value.type.tensor_type.shape.dim]
        for value in (*model.graph.input, *model.graph.value_info)
    }
    found = []
    for node in model.graph.node:
        if node.op_type not in ("MaxPool", "AveragePool"):
            continue
        attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
        shape = shapes.get(node.input[0])
        if not attrs.get("ceil_mode") or not shape:
            continue
        kernel = attrs["kernel_shape"]
        rank = len(kernel)
        strides = attrs.get("strides") or [1] * rank
        dilations = attrs.get("dilations") or [1] * rank
        pads = attrs.get("pads") or [0] * (2 * rank)
        for axis, size in enumerate(shape[2:]):
            span = dilations[axis] * (kernel[axis] - 1) + 1
            padded = size + pads[axis] + pads[axis + rank]
            outputs = -(-(padded - span) // strides[axis]) + 1
            if (outputs - 1) * strides[axis] >= size + pads[axis]:
                found.append(f"{node.op_type} axis {axis + 2}")
    return found


def _check_float_attributes(module: Any, model: Any, what: str) -> None:
    """A float64 graph whose FLOAT attribute holds a module constant rounded to float32
    (ONNX's ``AttributeProto.f`` is a 32-bit float) computes another layer: refused."""
    import onnx

    stored = {
        float(attribute.f): f"{node.op_type} attribute {attribute.name!r}"
        for node in model.graph.node
        for attribute in node.attribute
        if attribute.type == onnx.AttributeProto.FLOAT
    }
    for sub in module.modules():
        for name, value in vars(sub).items():
            if not isinstance(value, float):
                continue
            rounded = float(np.float32(value))
            if rounded != value and rounded in stored:
                raise Unsupported(
                    f"{what} in float64: ONNX stores the {stored[rounded]} as a 32-bit float "
                    f"(onnx.proto: AttributeProto 'float f'), so {type(sub).__name__}."
                    f"{name}={value!r} is {rounded!r} in the exported graph, which then "
                    "computes another layer (conventions row onnx_float32_attributes)"
                )


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
