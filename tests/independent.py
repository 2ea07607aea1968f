"""A second implementation of the reduction layers, written from their definitions.

``Independent`` is an adapter (``adapters.base`` Protocol, without ``load``) whose conv2d,
linear, avgpool2d and signal methods compute with ``tests/layers/_magnitudes.py`` in
float64 and round the result to the dtype under test: never the reference's code, so it
can judge the reference (tests/parity/test_sign_flip.py) and stand in for a framework
where none is installed (tests/parity/test_tight_criterion.py).
"""

from __future__ import annotations

import numpy as np

from adapters.base import Run
from tests.layers import _magnitudes


class _Call:
    def __init__(self, forward, backward, dtype):
        self._forward, self._backward, self._dtype = forward, backward, dtype

    def forward(self) -> Run:
        return Run(self._forward, lambda y: np.asarray(y).astype(self._dtype))

    def backward(self, grad_out) -> Run:
        def grads():
            return self._backward(np.asarray(grad_out, np.float64))

        return Run(grads, lambda g: {k: np.asarray(v).astype(self._dtype) for k, v in g.items()})


class Independent:
    """conv2d, linear, avgpool2d and the signal view from ``tests/layers/_magnitudes.py``."""

    name = "independent"

    def load(self) -> None:
        """NumPy only: always there."""

    def version(self) -> str:
        return f"numpy {np.__version__}"

    def determinism_flags(self) -> dict:
        return {}

    def conv2d(self, x, w, b=None, **attrs):
        return _Call(
            lambda: _magnitudes.conv2d_forward(x, w, b, attrs),
            lambda g: _magnitudes.conv2d_backward(g, x, w, b is not None, attrs),
            x.dtype,
        )

    def linear(self, x, w, b=None):
        return _Call(
            lambda: _magnitudes.linear_forward(x, w, b),
            lambda g: _magnitudes.linear_backward(g, x, w, b is not None),
            x.dtype,
        )

    def avgpool2d(self, x, **attrs):
        divisor = _magnitudes.avgpool_divisor(x.shape, attrs)
        if attrs.get("divisor_override") is not None and attrs["divisor_override"] < 0:
            divisor = -divisor
        return _Call(
            lambda: _magnitudes.avgpool_sums(x, attrs) / divisor,
            lambda g: {"x": _magnitudes.avgpool_spread(g / divisor, x.shape, attrs)},
            x.dtype,
        )

    def _signal(self, function, in1, in2, mode):
        start = (lambda k: k // 2) if function == "correlate2d" else (lambda k: (k - 1) // 2)
        flip = function.startswith("convolve")
        return _Call(
            lambda: _magnitudes.signal_forward(in1, in2, mode, start, flip),
            lambda g: _magnitudes.signal_backward(g, in1, in2, mode, start, flip),
            np.result_type(in1, in2),
        )

    def correlate(self, in1, in2, mode="full"):
        return self._signal("correlate", in1, in2, mode)

    def convolve(self, in1, in2, mode="full"):
        return self._signal("convolve", in1, in2, mode)

    def correlate2d(self, in1, in2, mode="full"):
        return self._signal("correlate2d", in1, in2, mode)

    def convolve2d(self, in1, in2, mode="full"):
        return self._signal("convolve2d", in1, in2, mode)
