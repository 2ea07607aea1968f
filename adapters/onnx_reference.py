"""ONNX's own NumPy oracle seen through the reference's contract: the graph
``torch.onnx.export`` writes for each layer's torch module (``adapters/_onnx_export.py``),
run by ``onnx.reference.ReferenceEvaluator``.

The evaluator implements every ONNX operator in NumPy, from the operator specifications,
independently of ONNX Runtime and of this project's reference: where it and
``reference/`` disagree, one of them is wrong, and the README's ONNX section records
which.  The graph is the one the ``onnxruntime`` adapter runs (the export is shared), so
the two adapters differ only in who evaluates it.

What is unsupported: what the torch adapter refuses, what a user cannot export (see
``adapters/_onnx_export.py``), and backward (an exported inference graph has no
gradients).  The evaluator computes in the graph's dtypes, float64 included.
"""

from __future__ import annotations

from collections.abc import Callable

from adapters._onnx_export import Exported, OnnxExportAdapter


class OnnxReferenceAdapter(OnnxExportAdapter):
    name = "onnx_reference"
    requires = ("torch", "onnx", "onnxscript")
    runtime = "onnx.reference.ReferenceEvaluator"

    def version(self) -> str:
        self.load()
        return self._onnx.__version__

    def _label(self) -> str:
        return f"onnx {self.version()}'s ReferenceEvaluator"

    def _runner(self, exported: Exported) -> Callable[[], list]:
        from onnx.reference import ReferenceEvaluator

        evaluator = ReferenceEvaluator(exported.model)
        feeds = dict(exported.feeds)
        return lambda: evaluator.run(None, feeds)
