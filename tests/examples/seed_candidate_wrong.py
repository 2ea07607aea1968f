"""The example candidate with one classic mistake, which the suite must catch: the
convolution's weight gradient is folded back into filters without transposing first,
so dW has the right shape and the wrong values.

    pytest --candidate tests/examples/seed_candidate_wrong.py -m seed_candidate_wrong

fails exactly the conv2d backward comparisons (tests/examples/test_examples.py checks
this)."""

from __future__ import annotations

from adapters.candidate import StatefulLayer
from tests.examples import seed_layers
from tests.examples.seed_candidate import (  # noqa: F401  (the layers it shares)
    _convolution,
    cross_entropy,
    linear,
    maxpool2d,
    relu,
    sigmoid,
)


class UntransposedDW(seed_layers.Convolution):
    def backward(self, dout):
        dx = super().backward(dout)
        fn, c, fh, fw = self.W.shape
        dout_rows = dout.transpose(0, 2, 3, 1).reshape(-1, fn)
        self.dW = (self.cols.T @ dout_rows).reshape(fn, c, fh, fw)  # the missing .T
        return dx


def _wrong_convolution(x, w, b=None, **attrs):
    right = _convolution(x, w, b, **attrs)
    return UntransposedDW(right.W, right.b, right.stride, right.pad)


conv2d = StatefulLayer(_wrong_convolution, grads={"w": "dW", "b": "db"})
