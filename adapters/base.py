"""The one Protocol every framework adapter implements.

Adapters speak the reference's language at their boundary: NumPy arrays, activations in
NCHW, conv weights as (M, C/groups, kh, kw), linear weights as (in_features,
out_features), and the reference's parameter names and attributes.  Every layout
conversion to and from the framework happens inside the adapter.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol, runtime_checkable

import numpy as np

#: The layers every adapter is asked about (the ``reference`` module names).
LAYERS = (
    "conv2d",
    "maxpool2d",
    "avgpool2d",
    "relu",
    "sigmoid",
    "tanh",
    "linear",
    "flatten",
    "softmax",
    "cross_entropy",
    "mse",
    "batchnorm2d",
    "dropout",
)


class FrameworkMissing(RuntimeError):
    """Raised by ``Adapter.load`` when the framework cannot be imported."""


@runtime_checkable
class Adapter(Protocol):
    """A framework, seen through the reference's contract."""

    #: Short id used in test ids, markers and reports ("torch", "keras", ...).
    name: str

    def load(self) -> None:
        """Import the framework (lazily, once) or raise ``FrameworkMissing`` with a reason."""

    def version(self) -> str:
        """The framework's version string, e.g. ``"2.13.0+cpu"``."""

    def unsupported(
        self,
        layer: str,
        inputs: Mapping[str, np.ndarray],
        attrs: Mapping[str, Any],
        dtype: np.dtype,
    ) -> str | None:
        """``None`` when the case can be run exactly; otherwise the reason, quoting the
        framework's own rule (e.g. "torch max_pool2d: pad should be at most half of
        effective kernel size")."""

    def forward(
        self, layer: str, inputs: Mapping[str, np.ndarray], attrs: Mapping[str, Any]
    ) -> np.ndarray:
        """Run the layer forward; inputs and result in the reference's layout and dtype."""

    def backward(
        self,
        layer: str,
        grad_out: np.ndarray,
        inputs: Mapping[str, np.ndarray],
        attrs: Mapping[str, Any],
    ) -> dict[str, np.ndarray]:
        """Vector-Jacobian product through the framework's autodiff.

        Returns gradients for the same keys ``reference.<layer>.backward`` returns, in the
        reference's layout.
        """
