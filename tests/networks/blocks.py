"""The blocks real CNNs are made of, as small seeded networks: a ResNet basic-block network
and a MobileNetV2 inverted-residual network, each with batch norm in training mode and
in eval mode (``<name>_train``, ``<name>_eval``).  Specs in the format of
tests/networks/models.py and tests/networks/graph.py.

- ``resnet_basic``: conv 3x3 (1->8) + BN + ReLU; a basic block (two conv 3x3 + BN, the
  identity skip, residual add, ReLU); a downsampling block (conv 3x3 stride 2 + BN + ReLU,
  conv 3x3 + BN, a 1x1 stride-2 projection + BN on the skip, residual add, ReLU); global
  average pooling; a linear head (16->10).  He et al., "Deep Residual Learning for Image
  Recognition" (2015), Fig. 2 and option B (projection shortcuts).
- ``mobilenetv2``: conv 3x3 (1->8) + BN + ReLU6; an inverted residual at stride 1
  (1x1 expand 8->24 + BN + ReLU6, depthwise 3x3 + BN + ReLU6, 1x1 project 24->8 + BN,
  residual add, no activation after it); one at stride 2 (expand 8->24, depthwise 3x3
  stride 2, project 24->16; no residual, as the paper has none where the stride is 2);
  global average pooling; linear 16->10.  Sandler et al., "MobileNetV2" (2018), Table 1
  and Fig. 4.

Padding is torch's (symmetric ``padding=1`` for every 3x3, stride 2 included): the
models are ported from torch.  Keras' ``padding="same"`` pads (0, 1) at stride 2 on an
even size (conventions row ``same_padding_stride2``), so the Keras builder writes what a
porting user writes, ``ZeroPadding2D(1)`` and ``padding="valid"``.

Global average pooling is the reference ``avgpool2d`` with the full 8x8 kernel (node flag
``global``); torch builds ``AdaptiveAvgPool2d(1)``, Keras ``GlobalAveragePooling2D()``
(which also flattens, so that one Keras layer covers the pooling and flatten nodes).

Data (nothing downloaded): the first 8 of scikit-learn's bundled 8x8 digits, scaled to
[0, 1] and upsampled 2x (np.kron) to 16x16, their labels one-hot.

Weights from ``default_rng(seed)``: He-normal convolutions (std sqrt(2 / fan_in), fan_in =
C/groups*kh*kw), torch's default U(-1/sqrt(in), +) linear layers; batch-norm gamma
U(0.5, 1.5) and beta N(0, 0.1) rather than the frameworks' 1 and 0, so that a swapped or
dropped affine parameter shows.  The running statistics (eval mode) are the batch
statistics a training-mode reference forward computes on the next 8 digits, as after
training: the running mean and the biased variance of each batch norm's input.
"""

from __future__ import annotations

import numpy as np

from tests.networks import graph

BATCH = 8
SIZE = 16


class _Builder:
    """Collects nodes and parameter shapes; each method returns the node's name."""

    def __init__(self):
        self.layers: list[dict] = []
        self.shapes: dict[str, tuple] = {}

    def _add(self, name, op, inputs, params=None, **extra):
        node = {"op": op, "params": params or {}, "attrs": extra.pop("attrs", {}), "name": name}
        if inputs is not None:
            node["inputs"] = list(inputs)
        self.layers.append(node | extra)
        return name

    def conv(self, name, c_in, c_out, k, *, stride=1, padding=0, groups=1, inputs=None):
        self.shapes[f"{name}.w"] = (c_out, c_in // groups, k, k)
        attrs = {"stride": stride, "padding": padding}
        if groups != 1:
            attrs["groups"] = groups
        return self._add(name, "conv2d", inputs, {"w": f"{name}.w"}, attrs=attrs)

    def bn(self, name, channels, inputs=None):
        self.shapes[f"{name}.gamma"] = self.shapes[f"{name}.beta"] = (channels,)
        return self._add(
            name,
            "batchnorm2d",
            inputs,
            {"gamma": f"{name}.gamma", "beta": f"{name}.beta"},
            attrs={"eps": 1e-5},
            stats={"running_mean": f"{name}.mean", "running_var": f"{name}.var"},
        )

    def op(self, name, op, inputs=None, **attrs):
        return self._add(name, op, inputs, attrs=attrs)

    def head(self, channels, classes=10, size=SIZE // 2):
        self._add("gap", "avgpool2d", None, attrs={"kernel_size": size}, **{"global": True})
        self.op("flat", "flatten", start_dim=1)
        self.shapes["fc.w"], self.shapes["fc.b"] = (channels, classes), (classes,)
        return self._add("fc", "linear", None, {"w": "fc.w", "b": "fc.b"})


def _resnet() -> _Builder:
    n = _Builder()
    n.conv("stem", 1, 8, 3, padding=1)
    n.bn("stem_bn", 8)
    skip = n.op("stem_relu", "relu")
    n.conv("b1_conv1", 8, 8, 3, padding=1)
    n.bn("b1_bn1", 8)
    n.op("b1_relu1", "relu")
    n.conv("b1_conv2", 8, 8, 3, padding=1)
    main = n.bn("b1_bn2", 8)
    n.op("b1_add", "add", [main, skip])
    skip = n.op("b1_out", "relu")
    n.conv("b2_conv1", 8, 16, 3, stride=2, padding=1)
    n.bn("b2_bn1", 16)
    n.op("b2_relu1", "relu")
    n.conv("b2_conv2", 16, 16, 3, padding=1)
    main = n.bn("b2_bn2", 16)
    n.conv("b2_proj", 8, 16, 1, stride=2, inputs=[skip])
    proj = n.bn("b2_proj_bn", 16)
    n.op("b2_add", "add", [main, proj])
    n.op("b2_out", "relu")
    n.head(16)
    return n


def _mobilenetv2() -> _Builder:
    n = _Builder()
    n.conv("stem", 1, 8, 3, padding=1)
    n.bn("stem_bn", 8)
    skip = n.op("stem_relu6", "relu6")
    for block, stride, c_out in (("b1", 1, 8), ("b2", 2, 16)):
        n.conv(f"{block}_expand", 8, 24, 1)
        n.bn(f"{block}_expand_bn", 24)
        n.op(f"{block}_expand_relu6", "relu6")
        n.conv(f"{block}_dw", 24, 24, 3, stride=stride, padding=1, groups=24)
        n.bn(f"{block}_dw_bn", 24)
        n.op(f"{block}_dw_relu6", "relu6")
        n.conv(f"{block}_project", 24, c_out, 1)
        main = n.bn(f"{block}_project_bn", c_out)
        if stride == 1:
            skip = n.op(f"{block}_add", "add", [main, skip])
    n.head(16)
    return n


_BLOCKS = {
    "resnet_basic": (
        _resnet,
        "ResNet basic blocks: conv-BN-ReLU stem, a basic block, a stride-2 block with a"
        " 1x1 projection, global average pooling, linear head",
    ),
    "mobilenetv2": (
        _mobilenetv2,
        "MobileNetV2 inverted residuals: 1x1 expand, depthwise 3x3 (stride 1 with the"
        " residual, stride 2 without), ReLU6, 1x1 project, global average pooling, linear",
    ),
}


def _spec(base: str, mode: str) -> dict:
    make, description = _BLOCKS[base]
    built = make()
    return {
        "source": f"{base} block ({mode} mode batch norm)",
        "block": base,
        "mode": mode,
        "description": f"{description}; batch norm in {mode} mode",
        "layers": built.layers,
        "shapes": built.shapes,
        "loss": {"op": "cross_entropy", "attrs": {"reduction": "mean"}},
        "output": "identity",
        "optimizers": {"sgd": {"lr": 0.01}, "adam": {"lr": 0.001}},
    }


NETWORKS: dict[str, dict] = {
    f"{base}_{mode}": _spec(base, mode) for base in _BLOCKS for mode in ("train", "eval")
}


def _digits(start: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits  # ships its data; nothing is downloaded

    digits = load_digits()
    images = digits.images[start : start + n] / 16.0
    x = np.stack([np.kron(img, np.ones((2, 2))) for img in images])[:, None]
    return x, np.eye(10)[digits.target[start : start + n]]


def data(name: str) -> tuple[np.ndarray, np.ndarray]:
    """``(x (8, 1, 16, 16), one-hot target (8, 10))`` in float64."""
    return _digits(0, BATCH)


def init_params(name: str, seed: int = 0) -> dict[str, np.ndarray]:
    """Initial weights in the reference layout (module docstring)."""
    rng = np.random.default_rng(seed)
    params = {}
    for key, shape in NETWORKS[name]["shapes"].items():
        if key.endswith(".gamma"):
            params[key] = rng.uniform(0.5, 1.5, shape)
        elif key.endswith(".beta"):
            params[key] = rng.normal(0.0, 0.1, shape)
        elif len(shape) == 4:
            params[key] = rng.standard_normal(shape) * np.sqrt(2.0 / np.prod(shape[1:]))
        else:
            fan_in = NETWORKS[name]["shapes"]["fc.w"][0]
            params[key] = rng.uniform(-1, 1, shape) / np.sqrt(fan_in)
    return params


def constants(name: str, seed: int = 0) -> dict[str, np.ndarray]:
    """Running statistics: each batch norm's input mean and biased variance in a
    training-mode reference forward on digits 8..15 (module docstring)."""
    return running_stats(NETWORKS[name], init_params(name, seed))


def running_stats(spec: dict, params: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Each batch norm's input mean and biased variance in a training-mode reference
    forward of ``spec`` on digits 8..15 (the held-out batch)."""
    spec = dict(spec)
    spec["mode"] = "train"
    held_out, _ = _digits(BATCH, BATCH)
    stats = {}
    for node in graph.nodes(spec):
        if node["op"] == "batchnorm2d":
            channels = spec["shapes"][f"{node['name']}.gamma"]
            stats[node["stats"]["running_mean"]] = np.zeros(channels)
            stats[node["stats"]["running_var"]] = np.ones(channels)
    _, tape = graph.run(spec, params, held_out, stats)
    for node, arrays, _ in tape:
        if node["op"] == "batchnorm2d":
            x = arrays["x"]
            stats[node["stats"]["running_mean"]] = x.mean(axis=(0, 2, 3))
            stats[node["stats"]["running_var"]] = x.var(axis=(0, 2, 3))
    return stats
