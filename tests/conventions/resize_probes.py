"""Resize calls the conventions rows need beyond the resize2d adapters: each framework's
resize with its own defaults or options that no reference parameter reproduces (torch's
and TensorFlow's antialias, TensorFlow's bicubic, jax.image.resize's default antialias),
and ONNX's own reference evaluator.  NumPy NCHW in and out; frameworks loaded through
their adapters (x64 on, CPU pinned), a missing one raising ``adapters.FrameworkMissing``.
"""

from __future__ import annotations

import numpy as np

import adapters
from adapters.layout import nchw_to_nhwc, nhwc_to_nchw


def torch_interpolate(x: np.ndarray, **kwargs) -> np.ndarray:
    """``torch.nn.functional.interpolate(x, **kwargs)``."""
    torch = adapters.load("torch")._lib()
    with torch.no_grad():
        return torch.nn.functional.interpolate(torch.from_numpy(x), **kwargs).numpy()


def tf_image_resize(x: np.ndarray, size, **kwargs) -> np.ndarray:
    """``tf.image.resize`` on the NHWC view of ``x``."""
    tf = adapters.load("tensorflow").tf
    return nhwc_to_nchw(tf.image.resize(nchw_to_nhwc(x), size, **kwargs).numpy())


def jax_image_resize(x: np.ndarray, size, method: str, **kwargs) -> np.ndarray:
    """``jax.image.resize(x, (N, C, *size), method, **kwargs)``: its defaults unless given."""
    jax = adapters.load("jax")._lib()
    return np.asarray(jax.image.resize(x, (*x.shape[:2], *size), method, **kwargs))


def onnx_resize(x: np.ndarray, size, **attrs) -> np.ndarray:
    """One ONNX Resize node (opset 18) by sizes on H, W, run by onnx.reference's
    ReferenceEvaluator.  Raises ``adapters.FrameworkMissing`` without the onnx package."""
    try:
        from onnx import TensorProto, helper
        from onnx.reference import ReferenceEvaluator
    except ImportError as exc:
        raise adapters.FrameworkMissing(f"onnx is not installed ({exc})") from exc
    kind = TensorProto.DOUBLE if x.dtype == np.float64 else TensorProto.FLOAT
    node = helper.make_node("Resize", ["X", "", "", "sizes"], ["Y"], **attrs)
    graph = helper.make_graph(
        [node],
        "resize",
        [
            helper.make_tensor_value_info("X", kind, x.shape),
            helper.make_tensor_value_info("sizes", TensorProto.INT64, [4]),
        ],
        [helper.make_tensor_value_info("Y", kind, None)],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    sizes = np.array([*x.shape[:2], *size], dtype=np.int64)
    return ReferenceEvaluator(model).run(None, {"X": x, "sizes": sizes})[0]
