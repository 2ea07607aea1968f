"""The wrapper that exposes ``tests/examples/seed_layers.py`` to the suite: a few lines
per layer, mapping the reference's signatures onto the classes' constructors.

    pytest --candidate tests/examples/seed_candidate.py

Configurations the classes do not have (dilation, groups, asymmetric or string padding,
ceil_mode, pooling padding: they pad with zeros, which can win a max) raise
``NotImplementedError``, which the suite reports as unsupported with the message.
"""

from __future__ import annotations

from adapters.candidate import StatefulLayer
from tests.examples import seed_layers


def _int(name, value, least):
    """The classes take one int for both axes."""
    if isinstance(value, (tuple, list)):
        if len(set(value)) != 1 or not all(isinstance(v, int) for v in value):
            raise NotImplementedError(f"one int {name} for both axes, got {value!r}")
        value = value[0]
    if not isinstance(value, int):
        raise NotImplementedError(f"an int {name}, got {value!r}")
    if value < least:
        raise ValueError(f"{name} must be at least {least}, got {value!r}")
    return value


def _convolution(x, w, b=None, *, stride=1, padding=0, dilation=1, groups=1):
    if dilation not in (1, (1, 1)) or groups != 1:
        raise NotImplementedError("Convolution has no dilation or groups")
    bias = b if b is not None else w.dtype.type(0)
    return seed_layers.Convolution(w, bias, _int("stride", stride, 1), _int("padding", padding, 0))


def _pooling(x, *, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
    if padding not in (0, (0, 0)):
        raise NotImplementedError("Pooling pads with zeros, which can win a window")
    if dilation not in (1, (1, 1)) or ceil_mode:
        raise NotImplementedError("Pooling has no dilation or ceil_mode")
    kh, kw = kernel_size if isinstance(kernel_size, (tuple, list)) else (kernel_size,) * 2
    stride = _int("stride", kernel_size if stride is None else stride, 1)
    return seed_layers.Pooling(_int("kernel_size", kh, 1), _int("kernel_size", kw, 1), stride)


def _affine(x, w, b=None):
    if x.ndim != 2:
        raise NotImplementedError(f"Affine takes (N, in) inputs, got shape {x.shape}")
    return seed_layers.Affine(w, b if b is not None else w.dtype.type(0))


class _SoftmaxLoss:
    """SoftmaxWithLoss for 2-D logits and reduction "mean" (all the class computes)."""

    @staticmethod
    def _check(logits, reduction, label_smoothing):
        if reduction != "mean" or logits.ndim != 2:
            raise NotImplementedError("SoftmaxWithLoss: 2-D logits, mean over the batch only")
        if label_smoothing:
            raise NotImplementedError("SoftmaxWithLoss: no label smoothing")

    def forward(self, logits, target, *, reduction="mean", label_smoothing=0.0):
        self._check(logits, reduction, label_smoothing)
        return seed_layers.SoftmaxWithLoss().forward(logits, target)

    def backward(self, grad_out, logits, target, *, reduction="mean", label_smoothing=0.0):
        self._check(logits, reduction, label_smoothing)
        layer = seed_layers.SoftmaxWithLoss()
        layer.forward(logits, target)
        return {"logits": layer.backward(grad_out)}


conv2d = StatefulLayer(_convolution, grads={"w": "dW", "b": "db"})
maxpool2d = StatefulLayer(_pooling)
linear = StatefulLayer(_affine, grads={"w": "dW", "b": "db"})
relu = StatefulLayer(lambda x: seed_layers.Relu())
sigmoid = StatefulLayer(lambda x: seed_layers.Sigmoid())
cross_entropy = _SoftmaxLoss()
