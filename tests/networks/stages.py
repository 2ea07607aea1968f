"""What a framework network shows the layer-by-layer localization
(tests/networks/localize.py): its stages, each one framework layer (or a framework idiom of
a few layers) that computes one or more consecutive reference nodes.

A torch module is one node.  A Keras ``Conv2D(..., activation="relu")`` is two (conv,
relu); ``GlobalAveragePooling2D()`` is the pooling and the flatten; ``ZeroPadding2D`` +
``Conv2D(padding="valid")`` is one padded convolution.  ``call`` takes the reference's
input activation(s) of the stage's first node, in the reference layout (NCHW, features in
(C, H, W) order) and cast to the framework's dtype, runs the framework's own layer
objects (moving to and from the framework's layout itself) and returns the stage's output
in the reference layout.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Stage:
    #: Reference node names the stage computes, in order; the last one is its output.
    nodes: tuple[str, ...]
    #: The framework layer(s): class and attributes, as the framework prints them.
    label: str
    call: Callable[..., np.ndarray]
