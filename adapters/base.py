"""The adapter Protocol: any implementation of the layers, seen through the reference's
contract.

An adapter has one method per layer it implements, named after the reference's function
(``conv2d``, ``maxpool2d``, ..., ``correlate2d`` for ``reference.signal.correlate2d``,
``categorical_crossentropy`` for ``reference.cross_entropy.categorical_crossentropy``) and
taking exactly the reference's ``forward`` arguments: the arrays, then the keyword
attributes.  A layer an adapter has no method for is unsupported by default.

The method sets the layer up (tensors converted, layers built, functions compiled) and
returns a ``Prepared`` call, whose ``forward()`` / ``backward(grad_out)`` each give a
``Run``: ``run.call()`` is the work a benchmark times, ``run.to_reference(result)`` turns
its result into the reference's layout, outside the timer.  When the framework cannot
express the configuration exactly, the method (or ``backward``, for a rule that only
concerns gradients) raises ``Unsupported`` quoting the framework's own rule.

Adapters speak the reference's language at this boundary: NumPy arrays, activations in
NCHW, conv weights (M, C/groups, kh, kw), linear weights (in_features, out_features).
Every layout conversion to and from the framework happens inside the adapter.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np

#: The two directions a layer is compared in.  ``backward`` is the vector-Jacobian
#: product: ``grad_out`` in, the gradients of the differentiable inputs out.
DIRECTIONS = ("forward", "backward")


class FrameworkMissing(RuntimeError):
    """Raised by ``Adapter.load`` when the framework cannot be imported."""


class Unsupported(Exception):
    """The adapter cannot run this configuration exactly.

    The message quotes the framework's own rule (its error, its documentation), e.g.
    "torch.nn.MaxPool2d: pad should be at most half of effective kernel size".  This is
    for what a framework documents it cannot do; a framework that runs and gives a wrong
    number has diverged, which is a failure (or a declared known divergence)."""


@dataclass(frozen=True)
class Run:
    """One direction of one prepared layer call.

    ``call()`` does only the work being measured and returns once the numbers exist
    (results read back to host memory, compiled functions blocked on).  ``to_reference``
    turns that result into the reference's layout: the forward output as one NumPy array,
    or for backward a dict from each differentiable input's name to its gradient.
    ``execution`` says in words how the op runs (for benchmark metadata)."""

    call: Callable[[], Any]
    to_reference: Callable[[Any], Any]
    execution: str = "eager"

    def result(self) -> Any:
        """``to_reference(call())``: the result in the reference's layout."""
        return self.to_reference(self.call())


@runtime_checkable
class Prepared(Protocol):
    """What a layer method returns: the layer, set up once, in both directions."""

    def forward(self) -> Run:
        """The forward pass; ``Run.result()`` is the output array."""

    def backward(self, grad_out: np.ndarray) -> Run:
        """The vector-Jacobian product for ``grad_out`` (the forward output's shape, in the
        reference's layout); ``Run.result()`` maps the keys ``reference.<layer>.backward``
        returns to gradients.  Raises ``Unsupported`` when only the gradient is out of
        reach."""


@runtime_checkable
class Adapter(Protocol):
    """A framework, or a user's own implementation, seen through the reference's contract.

    Besides these four members, one method per supported layer, with the reference's
    ``forward`` signature, returning a ``Prepared`` (see the module docstring)."""

    #: Short id used in test ids, markers and report columns ("torch", "keras", ...).
    name: str

    def load(self) -> None:
        """Import the framework (lazily, once) or raise ``FrameworkMissing`` with a reason."""

    def version(self) -> str:
        """The framework's version string, e.g. ``"2.13.0+cpu"``."""

    def determinism_flags(self) -> Mapping[str, Any]:
        """The settings that change numbers (TF32, thread counts, x64, ...), for the pytest
        header and the report; empty when there are none."""


def layer_method(adapter: Any, method: str) -> Callable[..., Prepared] | None:
    """The adapter's method for a layer, or None when it has none (unsupported)."""
    if method.startswith("_") or method in ("name", "load", "version", "determinism_flags"):
        return None
    found = getattr(adapter, method, None)
    return found if callable(found) else None


def prepare(
    adapter: Any, method: str, inputs: Mapping[str, Any], attrs: Mapping[str, Any]
) -> Prepared:
    """Set one layer call up: ``adapter.<method>(**inputs, **attrs)``.

    Raises ``Unsupported`` when the adapter has no such method ("<name> has no <method>")
    or refuses the configuration."""
    found = layer_method(adapter, method)
    if found is None:
        raise Unsupported(f"{adapter.name} has no {method}")
    return found(**inputs, **attrs)


def float_dtype(inputs: Mapping[str, Any]) -> np.dtype:
    """The floating dtype of a call (the first floating array's), float64 if none."""
    for value in inputs.values():
        if value is not None and np.issubdtype(np.asarray(value).dtype, np.floating):
            return np.asarray(value).dtype
    return np.dtype(np.float64)
