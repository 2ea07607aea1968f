"""Mean squared error, as torch.nn.MSELoss: ``(pred - target)**2`` elementwise, then
``reduction``: "mean" over every element (Keras MeanSquaredError averages over the
last axis and then over the batch, which is the same number when every sample has the
same size), "sum", or "none" (the elementwise array).

``pred`` and ``target`` must have the same shape (no broadcasting: torch only warns).
Only ``pred`` is differentiated.
"""

from __future__ import annotations

import numpy as np

from reference._checks import float_array, grad_out_array, same_shape
from reference._checks import reduction as check_reduction


def _prepare(pred, target, reduction):
    pred = float_array("pred", pred)
    target = float_array("target", target)
    same_shape("target", target, "pred", pred)
    check_reduction(reduction)
    dtype = np.result_type(pred, target)
    return pred.astype(dtype, copy=False), target.astype(dtype, copy=False), dtype


def forward(pred, target, *, reduction="mean") -> np.ndarray:
    """A 0-d array for "mean"/"sum"; ``pred``'s shape for "none"."""
    pred, target, dtype = _prepare(pred, target, reduction)
    d = pred - target
    loss = d * d
    if reduction == "none":
        return loss
    total = np.sum(loss)
    if reduction == "mean" and loss.size == 0:
        return np.asarray(np.nan, dtype=dtype)  # torch: the mean of no element is NaN
    return np.asarray(total / loss.size if reduction == "mean" else total, dtype=dtype)


def backward(grad_out, pred, target, *, reduction="mean") -> dict[str, np.ndarray]:
    """``{"pred": 2 (pred - target) * grad_out}``, divided by the element count for
    "mean"."""
    pred_in = pred
    pred, target, dtype = _prepare(pred, target, reduction)
    g = grad_out_array(grad_out, pred.shape if reduction == "none" else (), dtype)
    count = pred.size if reduction == "mean" and pred.size else 1  # no element: empty grad
    scale = g * dtype.type(2) if reduction != "mean" else g * dtype.type(2) / count
    grad = (pred - target) * scale
    pred_dtype = np.asarray(pred_in).dtype
    if np.issubdtype(pred_dtype, np.floating):
        grad = grad.astype(pred_dtype, copy=False)
    return {"pred": grad}
