"""Golden values for ``batchnorm2d.update_running_stats``, worked by hand.

Update rules (the sources cited in reference/batchnorm2d.py):

- torch.nn.BatchNorm2d docs (https://pytorch.org/docs/stable/generated/torch.nn.BatchNorm2d.html):
  ``x_new = (1 - momentum) * x_old + momentum * x_t``, momentum 0.1 by default, and
  "the value stored in the moving average of the standard-deviation is calculated via
  the unbiased estimator" (batch variance times n / (n - 1)).
- Keras BatchNormalization (keras-team/keras keras/src/layers/normalization/
  batch_normalization.py, ``call``; docs https://keras.io/api/layers/normalization_layers/
  batch_normalization/): ``moving = moving * momentum + batch * (1 - momentum)``,
  momentum 0.99 by default, with the biased variance of ``ops.moments``.

The batch: x (2, 2, 1, 2), channel 0 holds 1, 3 (image 0) and 5, 7 (image 1); channel 1
holds 2 four times.  n = N*H*W = 4 values per channel.
  channel 0: mean 4, biased variance (9 + 1 + 1 + 9) / 4 = 5, unbiased 20 / 3;
  channel 1: mean 2, variance 0 (a constant channel).
Old running statistics: mean [0, 1], variance [1, 2].
"""

from __future__ import annotations

import numpy as np
import pytest

from reference import batchnorm2d

pytestmark = pytest.mark.reference

X = np.array([[[[1.0, 3.0]], [[2.0, 2.0]]], [[[5.0, 7.0]], [[2.0, 2.0]]]])
OLD_MEAN = np.array([0.0, 1.0])
OLD_VAR = np.array([1.0, 2.0])
RTOL = 1e-14

# (convention, keyword arguments, new mean, new variance), each worked by hand:
GOLDEN = [
    # torch, momentum 0.1, unbiased: mean 0.9 * [0, 1] + 0.1 * [4, 2] = [0.4, 1.1];
    # variance 0.9 * [1, 2] + 0.1 * [20/3, 0] = [0.9 + 2/3, 1.8] = [47/30, 1.8].
    ("torch", {}, [0.4, 1.1], [47 / 30, 1.8]),
    # Keras, momentum 0.99, biased: mean 0.99 * [0, 1] + 0.01 * [4, 2] = [0.04, 1.01];
    # variance 0.99 * [1, 2] + 0.01 * [5, 0] = [1.04, 1.98].
    ("keras", {}, [0.04, 1.01], [1.04, 1.98]),
    # torch, momentum 0.5: mean [2, 1.5]; variance 0.5 * [1, 2] + 0.5 * [20/3, 0] = [23/6, 1].
    ("torch", {"momentum": 0.5}, [2.0, 1.5], [23 / 6, 1.0]),
    # torch with the biased estimator: variance 0.9 * [1, 2] + 0.1 * [5, 0] = [1.4, 1.8].
    ("torch", {"unbiased": False}, [0.4, 1.1], [1.4, 1.8]),
    # Keras 2's fused kernel (unbiased; tensorflow#55545): 0.99 + 0.01 * 20/3 = 0.99 + 1/15.
    ("keras", {"unbiased": True}, [0.04, 1.01], [0.99 + 1 / 15, 1.98]),
    # momentum 1 keeps only the batch (torch) or only the old value (Keras).
    ("torch", {"momentum": 1.0}, [4.0, 2.0], [20 / 3, 0.0]),
    ("keras", {"momentum": 1.0}, [0.0, 1.0], [1.0, 2.0]),
]


@pytest.mark.parametrize(
    ("convention", "kwargs", "mean", "var"),
    GOLDEN,
    ids=[
        f"{c}-{'-'.join(f'{k}={v}' for k, v in kw.items()) or 'defaults'}" for c, kw, *_ in GOLDEN
    ],
)
def test_running_stats_golden(convention, kwargs, mean, var):
    new_mean, new_var = batchnorm2d.update_running_stats(
        X, OLD_MEAN, OLD_VAR, convention=convention, **kwargs
    )
    np.testing.assert_allclose(new_mean, mean, rtol=RTOL, atol=1e-15)
    np.testing.assert_allclose(new_var, var, rtol=RTOL, atol=1e-15)


def test_running_stats_leave_their_inputs_alone():
    before = (X.copy(), OLD_MEAN.copy(), OLD_VAR.copy())
    batchnorm2d.update_running_stats(X, OLD_MEAN, OLD_VAR, convention="torch")
    for arr, copy in zip((X, OLD_MEAN, OLD_VAR), before, strict=True):
        np.testing.assert_array_equal(arr, copy)
