"""Example model pairs for ``compare_models`` (tests/networks/compare.py) and its command.

``example_pair()``: a small torch CNN and the Keras port a user typically writes for it,
``padding="same"`` everywhere.  Two of those "same"s are not torch's padding: at stride
1 the average pool's "same" does not count the padded zeros (torch's
``count_include_pad=True`` does), and at stride 2 the convolution's "same" pads (0, 1)
instead of torch's (1, 1).  Localization names the first, the average pool, with its
conventions row; ``faithful_pair()`` is the port that writes torch's padding as
``ZeroPadding2D`` + "valid" and matches layer for layer; ``mismatched_pair()`` forgets
the ReLU after the first convolution, so the pair does not map.

Weights come from ``torch.manual_seed(0)`` (torch's default initialisation); the input is
``default_rng(0)`` normal, (4, 1, 12, 12).
"""

from __future__ import annotations

import numpy as np


def _torch_model():
    import torch

    torch.manual_seed(0)
    nn = torch.nn
    model = nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1),
        nn.ReLU(),
        nn.AvgPool2d(3, stride=1, padding=1),
        nn.Conv2d(4, 8, 3, stride=2, padding=1),
        nn.BatchNorm2d(8),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(8, 10),
    )
    return model.eval()


def _input():
    return np.random.default_rng(0).standard_normal((4, 1, 12, 12)).astype(np.float32)


def _keras_model(*, faithful: bool, relu: bool = True):
    import keras

    L = keras.layers
    if faithful:
        pool = [L.ZeroPadding2D(1), L.AveragePooling2D(3, strides=1, padding="valid")]
        down = [L.ZeroPadding2D(1), L.Conv2D(8, 3, strides=2, padding="valid")]
    else:
        pool = [L.AveragePooling2D(3, strides=1, padding="same")]
        down = [L.Conv2D(8, 3, strides=2, padding="same")]
    return keras.Sequential(
        [
            keras.Input((12, 12, 1)),
            L.Conv2D(4, 3, padding="same", activation="relu" if relu else None),
            *pool,
            *down,
            L.BatchNormalization(epsilon=1e-5),
            L.ReLU(),
            L.GlobalAveragePooling2D(),
            L.Dense(10),
        ]
    )


def example_pair():
    """``(torch_model, keras_model, x)``: the port with Keras' "same" (module docstring)."""
    return _torch_model(), _keras_model(faithful=False), _input()


def faithful_pair():
    """The port that writes torch's padding explicitly: no divergence."""
    return _torch_model(), _keras_model(faithful=True), _input()


def mismatched_pair():
    """The port without the first ReLU: the pair does not map."""
    return _torch_model(), _keras_model(faithful=True, relu=False), _input()
