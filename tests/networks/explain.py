"""Which convention explains a layer's divergence: a small declared table from the layer
kind to the conventions rows (tests/conventions/table.py) that can make it differ, each
with the change to the reference call that reproduces the other side of the row.

A row explains a divergence when the reference, rerun with that change on the same input
activation, matches the framework's output within the layer's own tolerance
(tests/networks/localize.py).  So an explanation is a measurement, not a guess from the
framework's attribute names: ``AveragePooling2D(padding="same")`` against a torch
``AvgPool2d(3, 1, 1)`` is explained by ``avgpool_count_include_pad`` because the
reference with ``count_include_pad=False`` reproduces it.

Each candidate's ``alternatives(node, arrays, attrs, context)`` lists ``(arrays, attrs,
detail)``: the changed reference call and what changed, in words.  ``context`` has
``input_map_shape``: the (C, H, W) of the map a linear layer's input was flattened from
(None when it was not).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from adapters import layout


@dataclass(frozen=True)
class Candidate:
    row: str
    #: What differs, in the words of the message ("padding", "count_include_pad", ...).
    what: str
    alternatives: Callable[..., list]


def _padding(node, arrays, attrs, context):
    stride, padding = attrs.get("stride", 1), attrs.get("padding", 0)
    if stride == 1:
        return []  # SAME at stride 1 pads symmetrically for odd kernels: nothing to tell
    if isinstance(padding, str):
        k = arrays["w"].shape[2]
        other = (k - 1) // 2
        return [(arrays, attrs | {"padding": other}, f"padding={other} instead of {padding!r}")]
    return [(arrays, attrs | {"padding": "same"}, f"padding='same' instead of {padding!r}")]


def _flipped(node, arrays, attrs, context):
    flipped = arrays | {"w": np.ascontiguousarray(arrays["w"][..., ::-1, ::-1])}
    return [(flipped, attrs, "the kernel turned 180 degrees (a true convolution's kernel)")]


def _count_include_pad(node, arrays, attrs, context):
    include = attrs.get("count_include_pad", True)
    out = [(arrays, attrs | {"count_include_pad": not include}, f"count_include_pad={not include}")]
    if not isinstance(attrs.get("padding", 0), str) and attrs.get("padding", 0):
        same = attrs | {"count_include_pad": not include, "padding": "same"}
        out.append((arrays, same, f"padding='same' and count_include_pad={not include}"))
    return out


def _swap(key: str, values: tuple):
    """The other documented value(s) of ``key`` (two frameworks' defaults)."""

    def alternatives(node, arrays, attrs, context):
        current = attrs.get(key, values[0])
        return [
            (arrays, attrs | {key: v}, f"{key}={v!r} instead of {current!r}")
            for v in values
            if v != current
        ]

    return alternatives


def _rate(node, arrays, attrs, context):
    p = attrs["p"]
    return [(arrays, attrs | {"p": 1.0 - p}, f"p={1.0 - p:g} (the keep probability) for {p:g}")]


def _feature_order(node, arrays, attrs, context):
    chw = context.get("input_map_shape")
    if chw is None or chw[1] * chw[2] == 1:
        return []
    x = arrays["x"]
    hwc_features = arrays | {"x": layout.features_chw_to_hwc(x, chw)}
    hwc_rows = arrays | {"x": layout.features_hwc_to_chw(x, chw)}
    return [
        (hwc_features, attrs, f"features in Keras' (H, W, C) order of the {chw} map"),
        (hwc_rows, attrs, f"weight rows in Keras' (H, W, C) order of the {chw} map"),
    ]


CANDIDATES: dict[str, tuple[Candidate, ...]] = {
    "conv2d": (
        Candidate("same_padding_stride2", "padding", _padding),
        Candidate("conv_cross_correlation", "kernel orientation", _flipped),
    ),
    "avgpool2d": (Candidate("avgpool_count_include_pad", "count_include_pad", _count_include_pad),),
    "batchnorm2d": (Candidate("batchnorm_eps_default", "eps", _swap("eps", (1e-5, 1e-3))),),
    "layernorm": (Candidate("layernorm_eps_default", "eps", _swap("eps", (1e-5, 1e-3))),),
    "groupnorm": (Candidate("groupnorm_eps_default", "eps", _swap("eps", (1e-5, 1e-3))),),
    "gelu": (
        Candidate(
            "gelu_default_approximation", "approximate", _swap("approximate", ("none", "tanh"))
        ),
    ),
    "leaky_relu": (
        Candidate(
            "leaky_relu_default_slope", "negative_slope", _swap("negative_slope", (0.01, 0.2, 0.3))
        ),
    ),
    "hardsigmoid": (Candidate("hardsigmoid_definition", "slope", _swap("slope", (1 / 6, 0.2))),),
    "dropout": (Candidate("dropout_rate_meaning", "p", _rate),),
    "linear": (Candidate("flatten_order", "flatten order", _feature_order),),
}


def candidates(op: str) -> tuple[Candidate, ...]:
    return CANDIDATES.get(op, ())
