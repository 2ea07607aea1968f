"""PyTorch seen through the reference's contract: ``torch.nn`` modules and autograd.

Every layer runs as the ``torch.nn`` module a user would write (Conv2d, MaxPool2d,
AvgPool2d, BatchNorm2d, Dropout, Linear, Flatten, CrossEntropyLoss, MSELoss, ReLU,
Sigmoid, Tanh, Softmax) with the case's weights copied in.  Backward is autograd:
``(out * grad_out).sum().backward()``; parameter gradients are read from the module.

Layout: the reference's linear weight is (in_features, out_features), torch's is
(out_features, in_features); the transpose happens here, both ways.  Everything else is
NCHW / OIHW in both.

What is unsupported, and why (each reason quotes torch's own rule or error):

- conv2d padding that is asymmetric: torch.nn.Conv2d docs say an int or tuple padding is
  "the amount of implicit padding applied on both sides".  ``"same"`` at stride 1 goes to
  torch as ``padding='same'``; at a stride > 1 torch raises "padding='same' is not
  supported for strided convolutions", so SAME is resolved to integers (what a user would
  type) and runs only when those are symmetric.
- max/avg pooling padding that is asymmetric (torch's pooling takes no padding string and
  an int or pair padding pads "on both sides"), or larger than half the kernel: "pad
  should be at most half of effective kernel size" / "pad should be smaller than or equal
  to half of kernel size" (aten pooling shape checks).  ``"valid"``/``"same"`` are
  resolved to integers and run when they fit these rules.
- batchnorm2d training with one value per channel: "Expected more than 1 value per
  channel when training".
- dropout with p = 1 (torch zeroes everything; there is no kept unit to read a scale from).

Dropout: torch draws its own mask and cannot take an injected one.  So the adapter runs
``torch.nn.Dropout(p)`` in training mode on a tensor of ones (fixed seed, global RNG
state restored) to read the value torch gives kept units, checks that dropped units are
exactly 0 and kept units all equal, then computes ``x * mask * that_value`` with torch
ops so that autograd gives the backward.  In eval mode ``torch.nn.Dropout`` runs on x.

Determinism: ``load`` sets ``torch.backends.cudnn.allow_tf32 = False``,
``torch.backends.cuda.matmul.allow_tf32 = False`` and
``torch.use_deterministic_algorithms(True)``; the thread count is left at torch's default
and reported by ``determinism_flags``.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from adapters._geometry import is_symmetric, padding_pairs, pair
from adapters.base import FrameworkMissing

_ATTRS: dict[str, frozenset[str]] = {
    "conv2d": frozenset({"stride", "padding", "dilation", "groups"}),
    "maxpool2d": frozenset({"kernel_size", "stride", "padding", "dilation", "ceil_mode"}),
    "avgpool2d": frozenset(
        {"kernel_size", "stride", "padding", "ceil_mode", "count_include_pad", "divisor_override"}
    ),
    "relu": frozenset(),
    "sigmoid": frozenset(),
    "tanh": frozenset(),
    "linear": frozenset(),
    "flatten": frozenset({"start_dim"}),
    "softmax": frozenset({"axis"}),
    "cross_entropy": frozenset({"reduction"}),
    "mse": frozenset({"reduction"}),
    "batchnorm2d": frozenset({"training", "eps"}),
    "dropout": frozenset({"p", "training"}),
}

#: Inputs that are differentiated (the keys reference.<layer>.backward returns).
_GRAD_KEYS: dict[str, tuple[str, ...]] = {
    "conv2d": ("x", "w", "b"),
    "linear": ("x", "w", "b"),
    "batchnorm2d": ("x", "gamma", "beta"),
    "cross_entropy": ("logits",),
    "mse": ("pred",),
}

_DROPOUT_PROBE_SIZE = 4096
_DROPOUT_PROBE_SEED = 0


class TorchAdapter:
    name = "torch"

    def __init__(self) -> None:
        self._torch = None

    # -- Protocol ------------------------------------------------------------------------

    def load(self) -> None:
        if self._torch is not None:
            return
        try:
            import torch
        except ImportError as exc:
            raise FrameworkMissing("torch is not installed: pip install torch==2.13.0") from exc
        torch.backends.cudnn.allow_tf32 = False
        torch.backends.cuda.matmul.allow_tf32 = False
        # Only affects ops with a nondeterministic CUDA kernel; on CPU it is a no-op guard.
        # torch.use_deterministic_algorithms(True) also imports torch._inductor to set
        # inductor's own flag (torch/__init__.py), ~4 s per process for a compiler this
        # adapter never uses; the eager flag it sets is this one (read back by
        # torch.are_deterministic_algorithms_enabled() in determinism_flags).
        set_eager_flag = getattr(torch._C, "_set_deterministic_algorithms", None)
        if set_eager_flag is None:
            torch.use_deterministic_algorithms(True)
        else:
            set_eager_flag(True)
        self._torch = torch

    def version(self) -> str:
        return self._lib().__version__

    def determinism_flags(self) -> dict[str, Any]:
        """The settings that matter for reproducibility, for the pytest header and reports."""
        torch = self._lib()
        return {
            "cudnn.allow_tf32": torch.backends.cudnn.allow_tf32,
            "cuda.matmul.allow_tf32": torch.backends.cuda.matmul.allow_tf32,
            "deterministic_algorithms": torch.are_deterministic_algorithms_enabled(),
            "num_threads": torch.get_num_threads(),
            "mkldnn": torch.backends.mkldnn.is_available(),
        }

    def unsupported(
        self,
        layer: str,
        inputs: Mapping[str, np.ndarray],
        attrs: Mapping[str, Any],
        dtype,
        direction: str | None = None,
    ) -> str | None:
        """``direction`` ("forward" / "backward", a Protocol extension) is accepted for
        symmetry with the JAX adapter; no torch rule here depends on it."""
        del direction
        if layer not in _ATTRS:
            return f"torch adapter: no torch.nn module for layer {layer!r}"
        if np.dtype(dtype) not in (np.float32, np.float64):
            return f"torch adapter: runs float32 and float64 only, not {np.dtype(dtype)}"
        unknown = set(attrs) - _ATTRS[layer]
        if unknown:
            return f"torch adapter: no torch.nn.{layer} argument for {sorted(unknown)}"
        if layer == "conv2d":
            return _conv_padding(inputs, attrs)[1]
        if layer in ("maxpool2d", "avgpool2d"):
            return _pool_padding(layer, inputs, attrs)[1]
        if layer == "batchnorm2d" and attrs.get("training"):
            x = inputs["x"]
            if x.shape[0] * x.shape[2] * x.shape[3] == 1:
                return (
                    "torch.nn.BatchNorm2d: Expected more than 1 value per channel when "
                    f"training, got input size torch.Size({list(x.shape)})"
                )
        if layer == "dropout" and attrs.get("training", True) and float(attrs["p"]) >= 1.0:
            return (
                "torch.nn.Dropout(p=1) zeroes every unit, so there is no kept-unit value to "
                "read and apply to an injected mask"
            )
        return None

    def forward(self, layer, inputs, attrs) -> np.ndarray:
        reason = self.unsupported(layer, inputs, attrs, _float_dtype(inputs))
        if reason:
            raise ValueError(reason)
        torch = self._lib()
        tensors = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in inputs.items()}
        with torch.no_grad():
            out, _ = self._run(layer, tensors, attrs)
        return out.numpy()

    def backward(self, layer, grad_out, inputs, attrs) -> dict[str, np.ndarray]:
        reason = self.unsupported(layer, inputs, attrs, _float_dtype(inputs))
        if reason:
            raise ValueError(reason)
        torch = self._lib()
        keys = _GRAD_KEYS.get(layer, ("x",))
        tensors = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in inputs.items()}
        leaves = {}
        for key in keys:
            if key in tensors and key not in ("w", "b", "gamma", "beta"):
                tensors[key] = tensors[key].clone().requires_grad_(True)
                leaves[key] = tensors[key]
        out, params = self._run(layer, tensors, attrs)
        grad = torch.from_numpy(np.ascontiguousarray(grad_out)).to(out.dtype)
        (out * grad).sum().backward()
        grads = {key: leaf.grad for key, leaf in leaves.items()}
        grads.update({key: param.grad for key, param in params.items()})
        if layer == "linear":
            grads["w"] = grads["w"].T
        return {key: grads[key].detach().numpy().copy() for key in keys if key in grads}

    # -- layers ----------------------------------------------------------------------------

    def _lib(self):
        if self._torch is None:
            self.load()
        return self._torch

    def _run(self, layer: str, t: dict, attrs: Mapping[str, Any]):
        """The layer's output and its parameters (name -> torch Parameter with .grad)."""
        torch = self._torch
        nn = torch.nn
        handlers: dict[str, Callable] = {
            "conv2d": self._conv2d,
            "linear": self._linear,
            "batchnorm2d": self._batchnorm2d,
            "dropout": self._dropout,
        }
        if layer in handlers:
            return handlers[layer](t, attrs)
        if layer == "maxpool2d":
            padding, _ = _pool_padding(layer, {"x": t["x"]}, attrs)
            module = nn.MaxPool2d(
                attrs["kernel_size"],
                stride=attrs.get("stride"),
                padding=padding,
                dilation=attrs.get("dilation", 1),
                ceil_mode=bool(attrs.get("ceil_mode", False)),
            )
            return module(t["x"]), {}
        if layer == "avgpool2d":
            padding, _ = _pool_padding(layer, {"x": t["x"]}, attrs)
            module = nn.AvgPool2d(
                attrs["kernel_size"],
                stride=attrs.get("stride"),
                padding=padding,
                ceil_mode=bool(attrs.get("ceil_mode", False)),
                count_include_pad=bool(attrs.get("count_include_pad", True)),
                divisor_override=attrs.get("divisor_override"),
            )
            return module(t["x"]), {}
        if layer in ("relu", "sigmoid", "tanh"):
            module = {"relu": nn.ReLU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh}[layer]()
            return module(t["x"]), {}
        if layer == "flatten":
            return nn.Flatten(start_dim=attrs.get("start_dim", 1))(t["x"]), {}
        if layer == "softmax":
            return nn.Softmax(dim=attrs.get("axis", -1))(t["x"]), {}
        if layer == "cross_entropy":
            target = t["target"]
            # Integer targets are class indices (torch wants int64); floating ones are
            # class probabilities, which CrossEntropyLoss accepts since torch 1.10.
            target = target.long() if not target.is_floating_point() else target
            loss = nn.CrossEntropyLoss(reduction=attrs.get("reduction", "mean"))
            return loss(t["logits"], target), {}
        if layer == "mse":
            loss = nn.MSELoss(reduction=attrs.get("reduction", "mean"))
            return loss(t["pred"], t["target"]), {}
        raise ValueError(f"torch adapter: no torch.nn module for layer {layer!r}")

    def _conv2d(self, t, attrs):
        torch = self._torch
        x, w, b = t["x"], t["w"], t.get("b")
        padding, _ = _conv_padding({"x": x, "w": w}, attrs)
        groups = attrs.get("groups", 1)
        conv = torch.nn.Conv2d(
            x.shape[1],
            w.shape[0],
            kernel_size=tuple(w.shape[2:]),
            stride=pair(attrs.get("stride", 1)),
            padding=padding,
            dilation=pair(attrs.get("dilation", 1)),
            groups=groups,
            bias=b is not None,
            dtype=w.dtype,
        )
        params = {"w": conv.weight}
        with torch.no_grad():
            conv.weight.copy_(w)
            if b is not None:
                conv.bias.copy_(b)
                params["b"] = conv.bias
        with warnings.catch_warnings():
            # torch warns that SAME with an even kernel may copy the input; a performance
            # note, not a numerical one.
            warnings.filterwarnings("ignore", message="Using padding='same'", category=UserWarning)
            return conv(x), params

    def _linear(self, t, attrs):
        torch = self._torch
        x, w, b = t["x"], t["w"], t.get("b")
        linear = torch.nn.Linear(w.shape[0], w.shape[1], bias=b is not None, dtype=w.dtype)
        params = {"w": linear.weight}
        with torch.no_grad():
            linear.weight.copy_(w.T)  # reference (in, out) -> torch (out, in)
            if b is not None:
                linear.bias.copy_(b)
                params["b"] = linear.bias
        return linear(x), params

    def _batchnorm2d(self, t, attrs):
        torch = self._torch
        x = t["x"]
        bn = torch.nn.BatchNorm2d(x.shape[1], eps=attrs.get("eps", 1e-5), dtype=x.dtype)
        with torch.no_grad():
            bn.weight.copy_(t["gamma"])
            bn.bias.copy_(t["beta"])
            bn.running_mean.copy_(t["running_mean"])
            bn.running_var.copy_(t["running_var"])
        bn.train(bool(attrs["training"]))
        return bn(x), {"gamma": bn.weight, "beta": bn.bias}

    def _dropout(self, t, attrs):
        torch = self._torch
        x, p = t["x"], float(attrs["p"])
        dropout = torch.nn.Dropout(p)
        if not attrs.get("training", True):
            return dropout.eval()(x), {}
        kept_value = self._dropout_kept_value(p, x.dtype)
        return x * t["mask"].to(x.dtype) * kept_value, {}

    def _dropout_kept_value(self, p: float, dtype) -> float:
        """The value ``torch.nn.Dropout(p)`` (training) gives a kept unit of a ones tensor."""
        torch = self._torch
        with torch.random.fork_rng(devices=[]), torch.no_grad():
            torch.manual_seed(_DROPOUT_PROBE_SEED)
            probe = torch.nn.Dropout(p).train()(torch.ones(_DROPOUT_PROBE_SIZE, dtype=dtype))
        kept = probe[probe != 0]
        if kept.numel() == 0 or not bool((kept == kept[0]).all()):
            raise RuntimeError(
                f"torch.nn.Dropout({p}) on ones gave kept values {kept.unique().tolist()}: "
                "not one common scale, so an injected mask cannot reproduce it"
            )
        return float(kept[0])


def _float_dtype(inputs: Mapping[str, np.ndarray]):
    for value in inputs.values():
        if np.issubdtype(np.asarray(value).dtype, np.floating):
            return np.asarray(value).dtype
    return np.dtype(np.float64)


def _conv_padding(inputs, attrs) -> tuple[Any, str | None]:
    """(torch Conv2d padding argument, None) or (None, reason)."""
    padding = attrs.get("padding", 0)
    stride = pair(attrs.get("stride", 1))
    if isinstance(padding, str):
        if padding.lower() == "valid":
            return "valid", None
        if padding.lower() == "same" and stride == (1, 1):
            return "same", None
    kernel = tuple(inputs["w"].shape[2:])
    pads = padding_pairs(
        padding, inputs["x"].shape[2:], kernel, stride, pair(attrs.get("dilation", 1))
    )
    if is_symmetric(pads):
        return (pads[0][0], pads[1][0]), None
    if isinstance(padding, str):
        return None, (
            "torch.nn.Conv2d: padding='same' is not supported for strided convolutions, "
            f"and SAME here needs asymmetric padding {pads}, while an int/tuple padding is "
            "'the amount of implicit padding applied on both sides' (torch.nn.Conv2d docs)"
        )
    return None, (
        f"torch.nn.Conv2d: padding {pads} is asymmetric; an int/tuple padding is "
        "'the amount of implicit padding applied on both sides' (torch.nn.Conv2d docs)"
    )


def _pool_padding(layer, inputs, attrs) -> tuple[Any, str | None]:
    """(torch pooling padding argument, None) or (None, reason)."""
    module = "torch.nn.MaxPool2d" if layer == "maxpool2d" else "torch.nn.AvgPool2d"
    functional = "max_pool2d" if layer == "maxpool2d" else "avg_pool2d"
    padding = attrs.get("padding", 0)
    kernel = pair(attrs["kernel_size"])
    stride = pair(attrs.get("stride") or attrs["kernel_size"])
    dilation = pair(attrs.get("dilation", 1)) if layer == "maxpool2d" else (1, 1)
    pads = padding_pairs(padding, tuple(inputs["x"].shape[2:]), kernel, stride, dilation)
    if not is_symmetric(pads):
        prefix = (
            f"{module}: {functional}(): argument 'padding' (position 4) must be tuple of "
            f"ints, not str; SAME here is the asymmetric padding {pads}"
            if isinstance(padding, str)
            else f"{module}: padding {pads} is asymmetric"
        )
        return None, (
            f"{prefix}, while torch pads 'implicitly ... on both sides' (torch.nn pooling docs)"
        )
    sym = (pads[0][0], pads[1][0])
    for pad, k, d in zip(sym, kernel, dilation, strict=True):
        effective = (k - 1) * d + 1
        if pad > effective // 2:
            return None, (
                f"{module}: pad should be at most half of effective kernel size, but got "
                f"pad={pad}, kernel_size={k} and dilation={d}"
            )
    if any(pad > k // 2 for pad, k in zip(sym, kernel, strict=True)):
        return None, (
            f"{module}: pad should be smaller than or equal to half of kernel size, but got "
            f"padW = {sym[1]}, padH = {sym[0]}, kW = {kernel[1]}, kH = {kernel[0]}"
        )
    return sym, None
