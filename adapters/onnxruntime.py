"""ONNX Runtime seen through the reference's contract: each layer's torch module, exported
with ``torch.onnx.export`` (``adapters/_onnx_export.py``), run in an
``onnxruntime.InferenceSession`` on the CPU execution provider.

Every layer the torch adapter has is here, with no code of its own: the layer method is
the torch adapter's (same signature, same refusals), the graph is what the exporter
writes for that module, and the timed call is ``session.run``.  The session uses ONNX
Runtime's defaults (all graph optimizations, its own thread pool), as a user's does;
only its log level is raised so that graph-optimizer notes stay off the terminal.

What is unsupported, and why:

- everything the torch adapter refuses, with torch's reason;
- what a user cannot export: an exporter error, quoted; a training-mode module whose
  exported graph computes something else (``adapters/_onnx_export.py``);
- a graph ONNX Runtime has no CPU kernel for, in its own words: for example float64
  ``Conv`` ("NOT_IMPLEMENTED : Could not find an implementation for Conv(11) node");
- backward: an exported inference graph has no gradients.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from adapters._onnx_export import Exported, OnnxExportAdapter
from adapters.base import FrameworkMissing, Unsupported

PROVIDER = "CPUExecutionProvider"
#: ONNX Runtime's severity levels: 0 verbose, 1 info, 2 warning, 3 error.
_LOG_ERRORS_ONLY = 3


class OnnxRuntimeAdapter(OnnxExportAdapter):
    name = "onnxruntime"
    requires = ("torch", "onnx", "onnxscript", "onnxruntime")
    runtime = f"onnxruntime.InferenceSession ({PROVIDER})"

    def __init__(self) -> None:
        super().__init__()
        self._ort = None

    def version(self) -> str:
        return self._lib().__version__

    def _load_runtime(self) -> None:
        try:
            import onnxruntime
        except ImportError as exc:
            raise FrameworkMissing(
                'onnxruntime is not installed: pip install -e ".[onnx]"'
            ) from exc
        if PROVIDER not in onnxruntime.get_available_providers():
            raise FrameworkMissing(
                f"onnxruntime {onnxruntime.__version__} has no {PROVIDER} "
                f"(it has {onnxruntime.get_available_providers()})"
            )
        self._ort = onnxruntime

    def _lib(self):
        if self._ort is None:
            self.load()
        return self._ort

    def _label(self) -> str:
        return f"ONNX Runtime {self.version()} ({PROVIDER})"

    def _runtime_flags(self) -> dict[str, Any]:
        options = self._lib().SessionOptions()
        return {
            "provider": PROVIDER,
            "graph_optimization_level": str(options.graph_optimization_level).rpartition(".")[2],
            "intra_op_num_threads": options.intra_op_num_threads or "default",
        }

    def _runner(self, exported: Exported) -> Callable[[], list]:
        ort = self._lib()
        options = ort.SessionOptions()
        options.log_severity_level = _LOG_ERRORS_ONLY
        try:
            session = ort.InferenceSession(
                exported.model.SerializeToString(), options, providers=[PROVIDER]
            )
        except Exception as exc:
            if "NOT_IMPLEMENTED" not in str(exc):
                raise  # a graph ONNX Runtime fails to load is a finding, not a refusal
            raise Unsupported(
                f"ONNX Runtime {ort.__version__} ({PROVIDER}): {str(exc).strip()}"
            ) from exc
        feeds = dict(exported.feeds)
        return lambda: session.run(None, feeds)
