"""Seed 001 (001_295cba94ad14f8f9.txt): Affine, ReLU and BatchNormalization test values."""

from __future__ import annotations

import numpy as np

from tests.cases import Case, register
from tests.cases.seeds._common import EXACT, SEED, f

# Seed 001 (001_295cba94ad14f8f9.txt): Affine, ReLU and BatchNormalization test values.
# The seed prints no outputs; everything below is derived by hand.

_AFFINE_W = f([[1, 2, 3], [4, 5, 6]])
_AFFINE_B = f([7, 8, 9])
register(
    # y = x W + b = [1+4+7, 2+5+8, 3+6+9]; dx = dout W^T = [2+2-3, 8+5-6];
    # dW = x^T dout (both rows of x are 1); db = dout summed over the batch.
    Case(
        id="s001_affine",
        layer="linear",
        inputs={"x": f([[1, 1]]), "w": _AFFINE_W, "b": _AFFINE_B},
        expected=f([[12, 15, 18]]),
        grad_out=f([[2, 1, -1]]),
        expected_grads={
            "x": f([[1, 7]]),
            "w": f([[2, 1, -1], [2, 1, -1]]),
            "b": f([2, 1, -1]),
        },
        provenance="seed 001, Affine forward/backward test (inputs); expected derived "
        "by hand: y = xW + b, dx = dout W^T, dW = x^T dout, db = sum(dout, axis=0)",
        tags=EXACT,
    ),
    # Row 2: [2+12+7, 4+15+8, 6+18+9]; dx row 2 = [1+2+3, 4+5+6];
    # dW = [[1*2+2*1, 1*1+2*1, -1+2], [1*2+3*1, 1+3, -1+3]]; db = [2+1, 1+1, -1+1].
    Case(
        id="s001_affine_batch",
        layer="linear",
        inputs={"x": f([[1, 1], [2, 3]]), "w": _AFFINE_W, "b": _AFFINE_B},
        expected=f([[12, 15, 18], [21, 27, 33]]),
        grad_out=f([[2, 1, -1], [1, 1, 1]]),
        expected_grads={
            "x": f([[1, 7], [6, 15]]),
            "w": f([[4, 3, 1], [5, 4, 2]]),
            "b": f([3, 2, 0]),
        },
        provenance="seed 001, Affine batch test (inputs); expected derived by hand: "
        "y = xW + b, dx = dout W^T, dW = x^T dout, db = sum(dout, axis=0)",
        tags=EXACT,
    ),
    Case(
        id="s001_relu",
        layer="relu",
        inputs={"x": f([1, -2, 3, -4])},
        expected=f([1, 0, 3, 0]),
        grad_out=f([1, 2, -3, -4]),
        # The gradient passes where x > 0, whatever the sign of dout.
        expected_grads={"x": f([1, 0, -3, 0])},
        provenance="seed 001, Relu test (inputs); expected derived by hand: "
        "max(x, 0) and dout * (x > 0)",
        tags=EXACT,
    ),
)


def _s001_batchnorm() -> Case:
    """Seed 001's BatchNormalization test, derived in closed form.

    The seed normalises a 2-D (N=5, D=3) batch; batchnorm2d is NCHW, so it is stored as
    (5, 3, 1, 1): per-channel statistics over N*H*W = N values are the seed's
    per-feature statistics.  The seed writes eps as 10e-7, i.e. 1e-6.

    Per column the biased variances are 2, 2 and 6/5, and the seed picks gamma =
    [sqrt2, 2 sqrt2, sqrt30] so that gamma/std = [1, 2, 5] * sqrt(v/(v+eps)).
    """
    eps = 1e-6
    x = f([[1, -1, 1], [2, -2, 1], [3, -3, 2], [4, -4, 2], [5, -5, 4]])
    dout = f([[1, -1, 4], [-1, 1, -4], [1, -1, 4], [-1, 1, -4], [1, -1, 4]])
    gamma = f([np.sqrt(2), 2 * np.sqrt(2), np.sqrt(30)])
    beta = f([2, 4, 5])

    def shrink(v: float) -> float:
        return np.sqrt(v / (v + eps))

    # Deviations from the column means 3, -3 and 2.
    d0 = f([-2, -1, 0, 1, 2])
    d1 = f([2, 1, 0, -1, -2])
    d2 = f([-1, -1, 0, 0, 2])
    out = np.stack([2 + d0 * shrink(2), 4 + 2 * d1 * shrink(2), 5 + 5 * d2 * shrink(1.2)], axis=1)
    # dbeta = column sums of dout; dgamma = sum(dout * xhat): 0 for the first two
    # columns (dout is orthogonal to the deviations), 8/std for the third.
    dbeta = f([1, -1, 4])
    dgamma = f([0, 0, 8 / np.sqrt(1.2 + eps)])
    # dx = (gamma/std) * (dout - mean(dout) - xhat * mean(dout * xhat)) per column.
    dx = np.stack(
        [
            shrink(2) * (dout[:, 0] - 0.2),
            2 * shrink(2) * (dout[:, 1] + 0.2),
            5 * shrink(1.2) * (dout[:, 2] - 0.8 - 1.6 * d2 / (1.2 + eps)),
        ],
        axis=1,
    )

    def as_nchw(a: np.ndarray) -> np.ndarray:
        return a[:, :, None, None]

    return Case(
        id="s001_batchnorm",
        layer="batchnorm2d",
        inputs={
            "x": as_nchw(x),
            "gamma": gamma,
            "beta": beta,
            # Unused in training mode; the seed starts from zeros.
            "running_mean": np.zeros(3),
            "running_var": np.ones(3),
        },
        attrs={"training": True, "eps": eps},
        expected=as_nchw(out),
        grad_out=as_nchw(dout),
        expected_grads={"x": as_nchw(dx), "gamma": dgamma, "beta": dbeta},
        provenance="seed 001, BatchNormalization test (inputs, eps 1e-6 written 10e-7); "
        "expected derived by hand in closed form (see _s001_batchnorm)",
        note="(N, D) batch stored as (N, D, 1, 1). eps = 1e-6 as in the seed.",
        tags=SEED,
    )


register(_s001_batchnorm())
