"""The Keras layers a porting user writes for each reference node (used by
tests/networks/keras_models.py), their weights in Keras' layout, and how each activation's
layout maps to and from the reference's.

Layouts of activations: ``"nchw"`` (a 4-D map, NHWC in Keras), ``("flat", (C, H, W))``
(features of a flattened map: (C, H, W) order in the reference, (H, W, C) in Keras), and
``"plain"`` (features that never were a map).

The choices, node by node:
- conv2d: ``Conv2D`` (HWIO kernel), or ``DepthwiseConv2D`` when ``groups`` equals the input
  channels (kernel (kh, kw, C, multiplier)); Keras pads "valid" or "same" only, so a
  symmetric integer padding is ``ZeroPadding2D(p)`` + ``padding="valid"`` (what Keras'
  own MobileNetV2 does before its stride-2 depthwise convolutions);
- conv_transpose2d: ``Conv2DTranspose(padding="valid")`` (kernel (kh, kw, C_out, C_in)),
  torch's padding 0 for stride <= kernel;
- resize2d: ``UpSampling2D(scale, interpolation="bilinear")`` for the linear half-pixel
  resize (torch's ``Upsample(mode="bilinear", align_corners=False)``);
- batchnorm2d: ``BatchNormalization(epsilon=eps, momentum=0.9)``: torch's eps and its
  momentum 0.1 in Keras' convention (conventions row ``batchnorm_running_stats``);
- maxpool2d / avgpool2d: ``MaxPooling2D`` / ``AveragePooling2D`` ("valid" or "same");
  an average pool padded by p with ``count_include_pad=True`` is ``ZeroPadding2D(p)`` +
  "valid" (the zeros are counted); a global one is ``GlobalAveragePooling2D()``, which
  also flattens, so it covers the flatten node that follows;
- relu: ``ReLU()``, or ``activation="relu"`` on the Conv2D/Dense right before it (the
  seeds' Keras style); relu6: ``ReLU(max_value=6.0)`` (Keras' own MobileNetV2);
- linear: ``Dense``; after a flatten of a map its kernel rows move from (C, H, W) to
  (H, W, C) order (``adapters.layout.dense_rows_chw_to_hwc``, conventions row
  ``flatten_order``); the model's output softmax is ``activation="softmax"``;
- add / concat: ``Add()`` / ``Concatenate(axis=-1)``.

``override`` (one node, ``{key: value}``) writes the node as a user who missed a
convention would: ``{"padding": "same"}`` (Keras' own SAME instead of the explicit
padding), ``{"epsilon": "default"}`` (``BatchNormalization()``'s 1e-3), ``{"rows":
"unpermuted"}`` (the Dense kernel rows left in (C, H, W) order), ``{"p": q}`` (the
dropout scale of rate q, e.g. a TF1 keep_prob taken for the rate).
"""

from __future__ import annotations

import numpy as np

from adapters import layout
from adapters._geometry import is_symmetric, padding_pairs


def to_keras(a: np.ndarray, where) -> np.ndarray:
    """A reference-layout activation in Keras' layout ``where`` (module docstring)."""
    if where == "nchw":
        return layout.nchw_to_nhwc(a)
    if isinstance(where, tuple):
        return layout.features_chw_to_hwc(a, where[1])
    return np.ascontiguousarray(a)


def from_keras(a: np.ndarray, where) -> np.ndarray:
    if where == "nchw":
        return layout.nhwc_to_nchw(a)
    if isinstance(where, tuple):
        return layout.features_hwc_to_chw(a, where[1])
    return np.ascontiguousarray(a)


def _same(a):
    return a


def describe(layer) -> str:
    """``name: Class(key=value, ...)`` with the attributes that decide the arithmetic."""
    keys = (
        "filters", "kernel_size", "strides", "padding", "depth_multiplier", "groups",
        "pool_size", "units", "activation", "use_bias", "epsilon", "momentum", "max_value",
        "keepdims", "axis", "rate",
    )  # fmt: skip
    config = layer.get_config()
    shown = []
    for key in keys:
        value = config.get(key)
        if value is None or (key == "activation" and value == "linear"):
            continue
        if key == "groups" and value == 1:
            continue
        shown.append(f"{key}={value!r}")
    return f"{layer.name}: {type(layer).__name__}({', '.join(shown)})"


class LayerMaker:
    """Keras layers for one node at a time; ``weights`` collects (layer, [(reference
    name, keras value, keras -> reference conversion)]) for after the model is built."""

    def __init__(self, keras, dtype: str, params, constants):
        self.L, self.dtype = keras.layers, dtype
        self.params, self.constants = params, constants
        self.weights: list[tuple[object, list]] = []

    def _param(self, node, arg):
        return np.asarray(self.params[node["params"][arg]], self.dtype)

    def conv2d(self, node, shape, activation, override):
        L, attrs = self.L, node["attrs"]
        w = self._param(node, "w")
        stride, groups = attrs.get("stride", 1), attrs.get("groups", 1)
        padding = override.get("padding", attrs.get("padding", 0))
        layers = []
        if not isinstance(padding, str):
            pads = padding_pairs(padding, shape[1:], w.shape[2:], (stride, stride))
            if not is_symmetric(pads):
                raise ValueError(f"{node['name']}: padding {padding!r} is asymmetric {pads}")
            if pads != ((0, 0), (0, 0)):
                layers.append(L.ZeroPadding2D(pads, dtype=self.dtype, name=f"{node['name']}_pad"))
            padding = "valid"
        common = {
            "strides": stride,
            "padding": padding.lower(),
            "activation": activation,
            "use_bias": "b" in node["params"],
            "dtype": self.dtype,
            "name": node["name"],
        }
        if groups > 1 and groups == shape[0]:
            multiplier = w.shape[0] // groups
            conv = L.DepthwiseConv2D(w.shape[2:], depth_multiplier=multiplier, **common)
            kernel = w.reshape(groups, multiplier, *w.shape[2:]).transpose(2, 3, 0, 1)

            def back(k, full=w.shape):
                return np.ascontiguousarray(k.transpose(2, 3, 0, 1).reshape(full))
        else:
            conv = L.Conv2D(w.shape[0], w.shape[2:], groups=groups, **common)
            kernel, back = layout.oihw_to_hwio(w), layout.hwio_to_oihw
        values = [(node["params"]["w"], kernel, back)]
        if "b" in node["params"]:
            values.append((node["params"]["b"], self._param(node, "b"), _same))
        self.weights.append((conv, values))
        return [*layers, conv]

    def conv_transpose2d(self, node, shape):
        """Conv2DTranspose with padding "valid": torch's padding 0 when stride <= kernel
        (conventions row conv_transpose_valid_vs_torch); other geometries are refused."""
        attrs = node["attrs"]
        w = self._param(node, "w")  # (C_in, C_out, kh, kw)
        stride = attrs.get("stride", 1)
        plain = attrs.get("padding", 0) in (0, "valid") and not attrs.get("output_padding", 0)
        if not plain or attrs.get("groups", 1) != 1 or stride > min(w.shape[2:]):
            raise ValueError(f"{node['name']}: the Keras builder has no transposed conv {attrs}")
        conv = self.L.Conv2DTranspose(
            w.shape[1],
            w.shape[2:],
            strides=stride,
            padding="valid",
            use_bias="b" in node["params"],
            dtype=self.dtype,
            name=node["name"],
        )

        def back(k):  # Keras' (kh, kw, C_out, C_in) -> the reference's (C_in, C_out, kh, kw)
            return np.ascontiguousarray(k.transpose(3, 2, 0, 1))

        values = [(node["params"]["w"], w.transpose(2, 3, 1, 0), back)]
        if "b" in node["params"]:
            values.append((node["params"]["b"], self._param(node, "b"), _same))
        self.weights.append((conv, values))
        return [conv]

    def resize2d(self, node):
        """UpSampling2D for an integer scale: "bilinear" for the reference's linear resize
        with half-pixel centres (tf.image.resize's rule; equal to pytorch_half_pixel for
        outputs longer than 1), "nearest" for nearest."""
        attrs = node["attrs"]
        scale, mode = attrs.get("scale"), attrs.get("mode", "nearest")
        rule = attrs.get("coordinate_transformation_mode", "half_pixel")
        ok = mode == "linear" and rule in ("half_pixel", "pytorch_half_pixel")
        if not isinstance(scale, int) or not (ok or mode == "nearest"):
            raise ValueError(f"{node['name']}: the Keras builder has no resize {attrs}")
        interpolation = "bilinear" if mode == "linear" else "nearest"
        return [
            self.L.UpSampling2D(
                scale, interpolation=interpolation, dtype=self.dtype, name=node["name"]
            )
        ]

    def pool(self, node, shape, override, folds_flatten):
        L, attrs = self.L, node["attrs"]
        if node.get("global"):
            keep = not folds_flatten
            return [L.GlobalAveragePooling2D(keepdims=keep, dtype=self.dtype, name=node["name"])]
        k = attrs["kernel_size"]
        stride = attrs.get("stride") or k
        padding = override.get("padding", attrs.get("padding", 0))
        cls = L.MaxPooling2D if node["op"] == "maxpool2d" else L.AveragePooling2D
        layers = []
        if not isinstance(padding, str) and padding != 0:
            if node["op"] == "maxpool2d" or not attrs.get("count_include_pad", True):
                raise ValueError(
                    f"{node['name']}: {node['op']} padding {padding!r}: Keras pools take "
                    "'valid' or 'same' only"
                )
            pads = padding_pairs(padding, shape[1:], (k, k), (stride, stride))
            pad_name = f"{node['name']}_pad"
            layers.append(L.ZeroPadding2D(pads, dtype=self.dtype, name=pad_name))  # zeros count
        mode = padding.lower() if isinstance(padding, str) else "valid"
        pool = cls(k, strides=stride, padding=mode, dtype=self.dtype, name=node["name"])
        return [*layers, pool]

    def batchnorm2d(self, node, override):
        eps = node["attrs"].get("eps", 1e-5)
        kwargs = {} if override.get("epsilon") == "default" else {"epsilon": float(eps)}
        bn = self.L.BatchNormalization(
            axis=-1, momentum=0.9, dtype=self.dtype, name=node["name"], **kwargs
        )
        values = [(node["params"][k], self._param(node, k), _same) for k in ("gamma", "beta")]
        stats = [np.asarray(self.constants[node["stats"][k]], self.dtype) for k in node["stats"]]
        self.weights.append((bn, values + [(None, s, None) for s in stats]))
        return [bn]

    def linear(self, node, where, activation, override):
        w = self._param(node, "w")
        back = _same
        if isinstance(where, tuple) and override.get("rows") != "unpermuted":
            chw = where[1]
            w = layout.dense_rows_chw_to_hwc(w, chw)

            def back(g, chw=chw):
                return layout.dense_rows_hwc_to_chw(g, chw)

        dense = self.L.Dense(
            w.shape[1],
            activation=activation,
            use_bias="b" in node["params"],
            dtype=self.dtype,
            name=node["name"],
        )
        values = [(node["params"]["w"], w, back)]
        if "b" in node["params"]:
            values.append((node["params"]["b"], self._param(node, "b"), _same))
        self.weights.append((dense, values))
        return [dense]

    def simple(self, node):
        L, op = self.L, node["op"]
        made = {
            "relu": lambda **kw: L.ReLU(**kw),
            "relu6": lambda **kw: L.ReLU(max_value=6.0, **kw),
            "add": lambda **kw: L.Add(**kw),
            "concat": lambda **kw: L.Concatenate(axis=-1, **kw),
            "flatten": lambda **kw: L.Flatten(**kw),
            "softmax": lambda **kw: L.Softmax(axis=-1, **kw),
        }
        if op not in made:
            raise ValueError(f"layer op {op!r} has no Keras network layer")
        return [made[op](dtype=self.dtype, name=node["name"])]

    def assign(self) -> dict[str, tuple]:
        """Set every layer's weights; returns {reference name: (variable, back)}."""
        variables = {}
        for layer, values in self.weights:
            layer.set_weights([np.asarray(v, self.dtype) for _, v, _ in values])
            for variable, (name, _, back) in zip(layer.weights, values, strict=True):
                if name is not None:
                    variables[name] = (variable, back)
        return variables
