"""A small U-Net (Ronneberger et al., "U-Net", 2015, Fig. 1, at toy size) in two variants,
each with batch norm in training and in eval mode (``unet_<up>_<mode>``).  Specs in the
format of tests/networks/models.py and tests/networks/graph.py.

Encoder: conv 3x3 (1->4) + BN + ReLU at 16x16 (skip 1), max pool 2; conv 3x3 (4->8) + BN +
ReLU at 8x8 (skip 2), max pool 2; bottleneck conv 3x3 (8->16) + BN + ReLU at 4x4.
Decoder, two up levels, each an up step, the skip concatenated after it (channels: up
first, skip second, as torch.cat((up, skip), 1) in the common ports), conv 3x3 + BN + ReLU:

- ``transpose``: the up step is a transposed convolution, kernel 2 stride 2 (the paper's
  "up-convolution"; torch ``ConvTranspose2d(c, c/2, 2, stride=2)``, Keras
  ``Conv2DTranspose(c/2, 2, strides=2, padding="valid")``: for stride <= kernel Keras'
  "valid" is torch's padding 0, conventions row conv_transpose_valid_vs_torch);
- ``bilinear``: bilinear upsampling by 2 then conv 3x3 (c -> c/2), as torch ports with
  ``nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False)`` do; the reference
  is ``resize2d`` with ``mode="linear"`` and ``coordinate_transformation_mode=
  "pytorch_half_pixel"`` (ONNX's name for torch's rule), Keras ``UpSampling2D(2,
  interpolation="bilinear")`` (tf.image.resize, half-pixel centres, no antialias on an
  upsampling: the same weights).

Head: conv 1x1 (4->1) with bias, one logit per pixel; the loss is the per-pixel mean
squared error against the target mask.

Every 3x3 convolution pads 1 on each side (torch's ``padding=1``); the Keras builder
writes that as ``ZeroPadding2D(1)`` + ``padding="valid"`` (tests/networks/keras_layers.py),
identical to Keras' "same" at stride 1 for an odd kernel.  Nothing in the U-Net needs a
framework idiom beyond that.

Data (nothing downloaded): the first 8 of scikit-learn's digits, upsampled 2x to 16x16
(as tests/networks/blocks.py); the target mask is the pixel's ink above 0.5 (1.0/0.0).
Weights as in blocks.py (He-normal convolutions, transposed ones with fan_in =
C_in*kh*kw / stride^2 = C_in, the taps one output pixel receives; biases U(-1/sqrt(fan_in),
+); batch-norm gamma U(0.5, 1.5), beta N(0, 0.1)); running statistics from digits 8..15.
"""

from __future__ import annotations

import numpy as np

from tests.networks import blocks


class _UNetBuilder(blocks._Builder):
    def up_transpose(self, name, c_in, c_out, inputs=None):
        self.shapes[f"{name}.w"], self.shapes[f"{name}.b"] = (c_in, c_out, 2, 2), (c_out,)
        params = {"w": f"{name}.w", "b": f"{name}.b"}
        return self._add(name, "conv_transpose2d", inputs, params, attrs={"stride": 2})

    def up_bilinear(self, name, c_in, c_out, inputs=None):
        attrs = {
            "scale": 2,
            "mode": "linear",
            "coordinate_transformation_mode": "pytorch_half_pixel",
        }
        self._add(f"{name}_resize", "resize2d", inputs, attrs=attrs)
        return self.conv(name, c_in, c_out, 3, padding=1)

    def conv_bn_relu(self, name, c_in, c_out, inputs=None):
        self.conv(name, c_in, c_out, 3, padding=1, inputs=inputs)
        self.bn(f"{name}_bn", c_out)
        return self.op(f"{name}_relu", "relu")


def _unet(up: str):
    def make() -> _UNetBuilder:
        n = _UNetBuilder()
        skip1 = n.conv_bn_relu("enc1", 1, 4)
        n.op("pool1", "maxpool2d", kernel_size=2, stride=2)
        skip2 = n.conv_bn_relu("enc2", 4, 8)
        n.op("pool2", "maxpool2d", kernel_size=2, stride=2)
        n.conv_bn_relu("mid", 8, 16)
        for level, c_in, skip in (("2", 16, skip2), ("1", 8, skip1)):
            if up == "transpose":
                upped = n.up_transpose(f"up{level}", c_in, c_in // 2)
            else:
                upped = n.up_bilinear(f"up{level}", c_in, c_in // 2)
            n.op(f"cat{level}", "concat", [upped, skip])
            n.conv_bn_relu(f"dec{level}", c_in, c_in // 2)
        n.shapes["head.w"], n.shapes["head.b"] = (1, 4, 1, 1), (1,)
        n._add("head", "conv2d", None, {"w": "head.w", "b": "head.b"}, attrs={"stride": 1})
        return n

    return make


_VARIANTS = {
    "transpose": "transposed convolution (k2, s2)",
    "bilinear": "bilinear upsampling x2 + conv 3x3",
}


def _spec(up: str, mode: str) -> dict:
    built = _unet(up)()
    return {
        "source": f"small U-Net ({up} up path, {mode} mode batch norm)",
        "block": f"unet_{up}",
        "mode": mode,
        "description": "U-Net: two down levels (conv-BN-ReLU, max pool 2), bottleneck, two up"
        f" levels ({_VARIANTS[up]}, skip concatenation, conv-BN-ReLU), 1x1 head, per-pixel"
        f" MSE; batch norm in {mode} mode",
        "layers": built.layers,
        "shapes": built.shapes,
        "loss": {"op": "mse", "attrs": {"reduction": "mean"}},
        "output": "identity",
        "optimizers": {"sgd": {"lr": 0.1}, "adam": {"lr": 0.001}},
    }


NETWORKS: dict[str, dict] = {
    f"unet_{up}_{mode}": _spec(up, mode) for up in _VARIANTS for mode in ("train", "eval")
}


def data(name: str) -> tuple[np.ndarray, np.ndarray]:
    """``(x (8, 1, 16, 16), mask (8, 1, 16, 16))`` in float64."""
    x, _ = blocks._digits(0, blocks.BATCH)
    return x, (x > 0.5).astype(np.float64)


def init_params(name: str, seed: int = 0) -> dict[str, np.ndarray]:
    """Initial weights in the reference layout (module docstring)."""
    rng = np.random.default_rng(seed)
    shapes = NETWORKS[name]["shapes"]
    transposed = {
        n["params"]["w"] for n in NETWORKS[name]["layers"] if n["op"] == "conv_transpose2d"
    }
    params = {}
    for key, shape in shapes.items():
        if key.endswith(".gamma"):
            params[key] = rng.uniform(0.5, 1.5, shape)
        elif key.endswith(".beta"):
            params[key] = rng.normal(0.0, 0.1, shape)
        elif len(shape) == 4:
            fan_in = shape[0] if key in transposed else int(np.prod(shape[1:]))
            params[key] = rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)
        else:  # a bias: its layer's fan_in
            w = shapes[key[: -len(".b")] + ".w"]
            fan_in = w[0] if key[: -len(".b")] + ".w" in transposed else int(np.prod(w[1:]))
            params[key] = rng.uniform(-1, 1, shape) / np.sqrt(fan_in)
    return params


def constants(name: str, seed: int = 0) -> dict[str, np.ndarray]:
    """Running statistics from digits 8..15 (tests/networks/blocks.py)."""
    return blocks.running_stats(NETWORKS[name], init_params(name, seed))
