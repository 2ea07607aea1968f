"""A user's ``torch.nn.Sequential`` and ``keras.Sequential`` of the same architecture as
one reference network: the torch model's modules become the reference nodes (the torch
model is the one being ported: its weights and attributes are the truth), the Keras
layers are matched to them one to one in order, and the torch weights are written into
the Keras layers through ``adapters.layout`` (what a porting user does by hand).

Matching (torch module -> the Keras layer(s) that may compute it):

- Conv2d -> Conv2D, or DepthwiseConv2D when ``groups`` is the input channels; a
  ``ZeroPadding2D`` right before it belongs to it (Keras' idiom for torch's integer
  padding); ConvTranspose2d -> Conv2DTranspose;
- Linear -> Dense (kernel rows moved to Keras' (H, W, C) order after a Flatten of a map);
- BatchNorm2d -> BatchNormalization (gamma, beta, running mean and variance);
- MaxPool2d / AvgPool2d -> MaxPooling2D / AveragePooling2D (a ZeroPadding2D before
  belongs to it); AdaptiveAvgPool2d(1) -> GlobalAveragePooling2D, which also takes the
  Flatten after it when ``keepdims=False``;
- ReLU, ReLU6, LeakyReLU, GELU, Sigmoid, Tanh, Softmax -> the Keras layer of that name or
  ``Activation(<name>)``; a ReLU or Softmax right after a Conv2D/Dense whose
  ``activation`` is that function is folded into it;
- Flatten -> Flatten; Upsample -> UpSampling2D.

Geometry that decides the weights' shapes (filters, units, kernel size, strides, groups,
pool size) must agree, or the pair does not map and ``PairError`` names the first layer
that cannot be matched and why.  Conventions (padding mode, epsilon, negative slope,
count_include_pad, activation variants) may differ: that is what localization finds.
Dropout is refused in training mode (random); in eval mode a torch Dropout and a Keras
Dropout are both identities and are matched to each other without a reference node.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from adapters import layout

#: torch class -> reference op for modules with no weights.
_ACTIVATIONS = {
    "ReLU": "relu",
    "ReLU6": "relu6",
    "LeakyReLU": "leaky_relu",
    "GELU": "gelu",
    "Sigmoid": "sigmoid",
    "Tanh": "tanh",
    "Softmax": "softmax",
}
#: reference op -> Keras layer classes and ``Activation`` names that compute it.
_KERAS_ACTIVATIONS = {
    "relu": ("ReLU", "relu"),
    "relu6": ("ReLU", "relu6"),
    "leaky_relu": ("LeakyReLU", "leaky_relu"),
    "gelu": (None, "gelu"),
    "sigmoid": (None, "sigmoid"),
    "tanh": (None, "tanh"),
    "softmax": ("Softmax", "softmax"),
}


class PairError(ValueError):
    """The two models do not map one to one (the message names the first layer)."""


@dataclass
class Pair:
    """The reference network of a model pair and the Keras side's grouping."""

    spec: dict
    params: dict[str, np.ndarray]
    constants: dict[str, np.ndarray]
    #: (name, reference node or None for an eval-mode Dropout, torch module) in order.
    entries: list[tuple[str, dict | None, object]]
    #: (node names, Keras layers) in order: each group computes those nodes.
    keras_groups: list[tuple[tuple[str, ...], list]] = field(default_factory=list)
    #: node name -> activation layout ("nchw", ("flat", (C, H, W)) or "plain").
    where: dict[str, object] = field(default_factory=dict)


def _pair2(v):
    return tuple(int(a) for a in v) if isinstance(v, (tuple, list)) else (int(v), int(v))


def _leaves(torch, model):
    for module in model.children():
        if isinstance(module, torch.nn.Sequential):
            yield from _leaves(torch, module)
        else:
            yield module


def torch_nodes(torch, model, input_shape) -> Pair:
    """The reference nodes of a ``torch.nn.Sequential`` (module docstring)."""
    layers, params, constants, entries, where = [], {}, {}, [], {}
    shape, training = tuple(input_shape[1:]), model.training
    previous = "input"
    where[previous] = "nchw" if len(shape) == 3 else "plain"
    probe = torch.zeros((1, *shape), dtype=torch.float64)
    for index, module in enumerate(_leaves(torch, model)):
        kind = type(module).__name__
        name = f"{index}_{kind.lower()}"
        node = {"name": name, "op": None, "params": {}, "attrs": {}, "torch": kind}

        def param(arg, value, name=name, node=node):
            params[f"{name}.{arg}"] = value.detach().double().numpy().copy()
            node["params"][arg] = f"{name}.{arg}"

        if kind == "Conv2d":
            if module.padding_mode != "zeros":
                raise PairError(f"torch layer {index} ({module!r}): padding_mode must be zeros")
            padding = module.padding if isinstance(module.padding, str) else _pair2(module.padding)
            node["op"] = "conv2d"
            node["attrs"] = {
                "stride": _pair2(module.stride),
                "padding": padding,
                "dilation": _pair2(module.dilation),
                "groups": module.groups,
            }
            param("w", module.weight)
            if module.bias is not None:
                param("b", module.bias)
        elif kind == "ConvTranspose2d":
            node["op"] = "conv_transpose2d"
            node["attrs"] = {
                "stride": _pair2(module.stride),
                "padding": _pair2(module.padding),
                "output_padding": _pair2(module.output_padding),
                "groups": module.groups,
            }
            param("w", module.weight)
            if module.bias is not None:
                param("b", module.bias)
        elif kind == "Linear":
            node["op"] = "linear"
            params[f"{name}.w"] = layout.linear_from_torch(module.weight.detach().double().numpy())
            node["params"]["w"] = f"{name}.w"
            if module.bias is not None:
                param("b", module.bias)
        elif kind == "BatchNorm2d":
            node["op"] = "batchnorm2d"
            node["attrs"] = {"eps": float(module.eps)}
            param("gamma", module.weight)
            param("beta", module.bias)
            node["stats"] = {}
            for stat in ("running_mean", "running_var"):
                constants[f"{name}.{stat}"] = getattr(module, stat).double().numpy().copy()
                node["stats"][stat] = f"{name}.{stat}"
        elif kind in ("MaxPool2d", "AvgPool2d"):
            if kind == "MaxPool2d" and (module.ceil_mode or _pair2(module.dilation) != (1, 1)):
                raise PairError(f"torch layer {index} ({module!r}): no Keras pool has it")
            node["op"] = "maxpool2d" if kind == "MaxPool2d" else "avgpool2d"
            node["attrs"] = {
                "kernel_size": _pair2(module.kernel_size),
                "stride": _pair2(module.stride or module.kernel_size),
                "padding": _pair2(module.padding),
            }
            if kind == "AvgPool2d":
                node["attrs"]["count_include_pad"] = bool(module.count_include_pad)
        elif kind == "AdaptiveAvgPool2d" and _pair2(module.output_size) == (1, 1):
            node["op"], node["global"] = "avgpool2d", True
            node["attrs"] = {"kernel_size": tuple(int(s) for s in probe.shape[2:])}
        elif kind == "Flatten":
            node["op"], node["attrs"] = "flatten", {"start_dim": module.start_dim}
        elif kind == "Upsample" and module.mode in ("bilinear", "nearest"):
            if module.scale_factor is None or module.align_corners:
                raise PairError(f"torch layer {index} ({module!r}): give scale_factor, no corners")
            node["op"] = "resize2d"
            linear = module.mode == "bilinear"
            node["attrs"] = {
                "scale": tuple(float(s) for s in _scales(module.scale_factor)),
                "mode": "linear" if linear else "nearest",
                "coordinate_transformation_mode": "pytorch_half_pixel" if linear else "asymmetric",
                **({} if linear else {"nearest_mode": "floor"}),
            }
        elif kind in _ACTIVATIONS:
            node["op"] = _ACTIVATIONS[kind]
            if kind == "LeakyReLU":
                node["attrs"] = {"negative_slope": float(module.negative_slope)}
            if kind == "GELU":
                node["attrs"] = {"approximate": module.approximate}
            if kind == "Softmax":
                node["attrs"] = {"axis": -1 if module.dim is None else module.dim}
        elif kind == "Dropout":
            if training:
                raise PairError(f"torch layer {index} ({module!r}): dropout in training mode")
            node["op"] = "identity"
        else:
            raise PairError(f"torch layer {index} ({module!r}): no reference layer for {kind}")
        out = module.double()(probe) if node["op"] != "identity" else probe
        module.float()
        if node["op"] != "identity":
            node["inputs"] = [previous]
            layers.append(node)
            where[name] = _where(node, where[previous], tuple(probe.shape[1:]))
            previous = name
        entries.append((name, node if node["op"] != "identity" else None, module))
        probe = out
    mode = "train" if training else "eval"
    spec = {"layers": layers, "mode": mode, "output": "identity", "source": "model pair"}
    return Pair(spec, params, constants, entries, where=where)


def _scales(scale):
    return scale if isinstance(scale, (tuple, list)) else (scale, scale)


def _where(node, before, in_shape):
    if node["op"] == "flatten":
        return ("flat", in_shape) if before == "nchw" and len(in_shape) == 3 else "plain"
    if node["op"] == "avgpool2d" and node.get("global"):
        return before
    if node["op"] in ("linear",):
        return "plain"
    return before


# -- the Keras side ---------------------------------------------------------------------------


def _describe_keras(index, layer) -> str:
    return f"Keras layer {index} ({layer.name}: {type(layer).__name__})"


def _activation(layer) -> str:
    return str(layer.get_config().get("activation") or "linear")


def _keras_op(layer) -> str | None:
    """The reference op a weightless Keras layer computes (None: not an activation)."""
    cls = type(layer).__name__
    if cls == "Activation":
        return {v[1]: op for op, v in _KERAS_ACTIVATIONS.items()}.get(_activation(layer))
    if cls == "ReLU":
        return "relu6" if layer.get_config().get("max_value") == 6.0 else "relu"
    return {"LeakyReLU": "leaky_relu", "Softmax": "softmax"}.get(cls)


_WEIGHTED = {
    "conv2d": ("Conv2D", "DepthwiseConv2D"),
    "conv_transpose2d": ("Conv2DTranspose",),
    "linear": ("Dense",),
    "batchnorm2d": ("BatchNormalization",),
    "maxpool2d": ("MaxPooling2D",),
    "avgpool2d": ("AveragePooling2D",),
    "flatten": ("Flatten",),
    "resize2d": ("UpSampling2D",),
}


def match_keras(pair: Pair, keras_model) -> None:
    """Fill ``pair.keras_groups``: each torch entry with the Keras layer(s) computing it,
    in order; ``PairError`` names the first layer that cannot be matched."""
    layers = [la for la in keras_model.layers if type(la).__name__ != "InputLayer"]
    position, skip_next = 0, False
    entries = pair.entries
    for i, (name, node, module) in enumerate(entries):
        if skip_next:
            skip_next = False
            continue
        if position >= len(layers):
            raise PairError(f"torch layer {i} ({module!r}): the Keras model has no layer left")
        group = []
        layer = layers[position]
        cls = type(layer).__name__
        op = node["op"] if node else "identity"
        padded = op in ("conv2d", "maxpool2d", "avgpool2d") and cls == "ZeroPadding2D"
        if padded and position + 1 < len(layers):
            group.append(layer)
            position += 1
            layer, cls = layers[position], type(layers[position]).__name__
        where = _describe_keras(position, layer)
        if op == "identity":
            if cls != "Dropout":
                raise PairError(f"torch layer {i} ({module!r}): {where} is not a Dropout")
        elif op in _WEIGHTED or (op == "avgpool2d" and node.get("global")):
            wanted = ("GlobalAveragePooling2D",) if node.get("global") else _WEIGHTED[op]
            if cls not in wanted:
                raise PairError(f"torch layer {i} ({module!r}): {where} is not a {wanted[0]}")
            _check_geometry(i, module, node, layer, where)
        else:
            if _keras_op(layer) != op:
                raise PairError(f"torch layer {i} ({module!r}): {where} does not compute {op}")
        group.append(layer)
        position += 1
        names = (name,) if node else ()
        following = entries[i + 1] if i + 1 < len(entries) else None
        if following and following[1] and _folds(layer, node, following[1]):
            names, skip_next = (*names, following[0]), True
        if names:
            pair.keras_groups.append((names, group))
        elif group:  # an eval-mode Dropout pair: both identities, nothing to compare
            pass
    if position < len(layers):
        layer = layers[position]
        raise PairError(f"{_describe_keras(position, layer)}: the torch model has no layer left")


def _folds(layer, node, following) -> bool:
    cls = type(layer).__name__
    if cls in ("Conv2D", "DepthwiseConv2D", "Dense", "Conv2DTranspose"):
        act = _activation(layer)
        if act == "linear":
            return False
        if act != following["op"]:
            raise PairError(
                f"{layer.name}: activation={act!r}, the torch model has {following['torch']} next"
            )
        return True
    if cls == "GlobalAveragePooling2D" and not layer.get_config().get("keepdims"):
        if following["op"] != "flatten":
            raise PairError(f"{layer.name}: flattens, the torch model has {following['torch']}")
        return True
    return False


def _check_geometry(i, module, node, layer, where) -> None:
    """Shapes that decide the weights must agree (module docstring)."""
    config, op, attrs = layer.get_config(), node["op"], node["attrs"]
    checks = []
    if op in ("conv2d", "conv_transpose2d"):
        w = module.weight
        depthwise = type(layer).__name__ == "DepthwiseConv2D"
        out = w.shape[0] * config.get("depth_multiplier", 1) if depthwise else config["filters"]
        torch_out = w.shape[0] if op == "conv2d" else w.shape[1] * attrs["groups"]
        checks += [
            ("output channels", out if not depthwise else torch_out, torch_out),
            ("kernel_size", tuple(config["kernel_size"]), tuple(w.shape[2:])),
            ("strides", tuple(config["strides"]), attrs["stride"]),
            ("use_bias", bool(config["use_bias"]), module.bias is not None),
        ]
        if op == "conv2d" and not depthwise:
            checks.append(("groups", config.get("groups", 1), attrs["groups"]))
        if depthwise and attrs["groups"] != w.shape[0] // config.get("depth_multiplier", 1):
            checks.append(("groups", "depthwise", attrs["groups"]))
    elif op == "linear":
        checks += [
            ("units", config["units"], module.out_features),
            ("use_bias", bool(config["use_bias"]), module.bias is not None),
        ]
    elif op in ("maxpool2d", "avgpool2d") and not node.get("global"):
        checks += [
            ("pool_size", tuple(config["pool_size"]), attrs["kernel_size"]),
            ("strides", tuple(config["strides"]), attrs["stride"]),
        ]
    for what, keras_value, torch_value in checks:
        if keras_value != torch_value:
            raise PairError(
                f"torch layer {i} ({module!r}): {where} has {what} {keras_value!r}, "
                f"torch {torch_value!r}"
            )


def port_weights(pair: Pair, dtype="float32") -> None:
    """Write the torch weights (reference layout in ``pair.params``) into the Keras
    layers: conv kernels OIHW -> HWIO (depthwise (kh, kw, C, multiplier)), transposed
    (C_in, C_out, kh, kw) -> (kh, kw, C_out, C_in), Dense rows to (H, W, C) order after a
    Flatten of a map, batch norm [gamma, beta, mean, var]."""
    nodes = {n["name"]: n for n in pair.spec["layers"]}
    for names, group in pair.keras_groups:
        node, layer = nodes[names[0]], group[-1]
        get = {arg: pair.params[key] for arg, key in node["params"].items()}
        cls = type(layer).__name__
        if node["op"] == "conv2d":
            w = get["w"]
            if cls == "DepthwiseConv2D":
                groups = node["attrs"]["groups"]
                kernel = w.reshape(groups, w.shape[0] // groups, *w.shape[2:]).transpose(2, 3, 0, 1)
            else:
                kernel = layout.oihw_to_hwio(w)
            values = [kernel, *([get["b"]] if "b" in get else [])]
        elif node["op"] == "conv_transpose2d":
            values = [get["w"].transpose(2, 3, 1, 0), *([get["b"]] if "b" in get else [])]
        elif node["op"] == "linear":
            w, before = get["w"], pair.where[node["inputs"][0]]
            if isinstance(before, tuple):
                w = layout.dense_rows_chw_to_hwc(w, before[1])
            values = [w, *([get["b"]] if "b" in get else [])]
        elif node["op"] == "batchnorm2d":
            stats = [pair.constants[node["stats"][k]] for k in ("running_mean", "running_var")]
            values = [get["gamma"], get["beta"], *stats]
        else:
            continue
        layer.set_weights([np.asarray(v, dtype) for v in values])
