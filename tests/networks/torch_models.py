"""Whole networks in PyTorch: a ``torch.nn.Sequential`` built from a network spec (see
tests/networks/models.py for the format), trained with ``torch.optim``.  Used by
tests/networks/test_networks.py, which compares it with the reference network.

Weights arrive in the reference's layout and move through ``adapters.layout``
(``Linear.weight`` is (out, in)); gradients and parameters leave in the reference's layout.
Padding strings resolve to torch's symmetric integer padding (``adapters._geometry``);
a spec that needs asymmetric padding is refused with a ValueError.

Dropout: torch cannot take an injected mask, so the model multiplies by ``mask / (1 - p)``
(the inverted-dropout scale ``torch.nn.Dropout`` documents: "outputs are scaled by a factor
of 1/(1-p) during training") -- the only way to make every framework drop the same units.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from adapters import layout
from adapters._geometry import is_symmetric, padding_pairs
from adapters.base import FrameworkMissing


def _torch():
    try:
        import torch
    except ImportError as exc:
        raise FrameworkMissing("torch is not installed: pip install torch==2.13.0") from exc
    return torch


def version() -> str:
    return _torch().__version__


class TorchNetwork:
    """A spec's network as torch modules, with its parameters set from reference arrays."""

    def __init__(self, spec: Mapping, params: Mapping[str, np.ndarray], input_shape, dtype):
        torch = _torch()
        self.torch, self.spec = torch, spec
        self.dtype = getattr(torch, np.dtype(dtype).name)
        self.masks: dict[str, object] = {}
        self.parameters: dict[str, object] = {}
        modules = []
        shape = tuple(input_shape[1:])  # (C, H, W) or (features,)
        for layer in spec["layers"]:
            module, shape = self._module(layer, params, shape)
            modules.append(module)
        self.model = torch.nn.Sequential(*modules)
        loss = spec["loss"]
        reduction = loss["attrs"].get("reduction", "mean")
        if loss["op"] == "cross_entropy":
            self.loss_fn = torch.nn.CrossEntropyLoss(reduction=reduction)
        else:
            self.loss_fn = torch.nn.MSELoss(reduction=reduction)

    # -- building --------------------------------------------------------------------------

    def _module(self, layer, params, shape):
        nn, op, attrs = self.torch.nn, layer["op"], layer["attrs"]
        if op == "conv2d":
            w = np.asarray(params[layer["params"]["w"]], dtype=self.dtype_np)
            padding = _symmetric(attrs.get("padding", 0), shape[1:], w.shape[2:], attrs)
            conv = nn.Conv2d(
                w.shape[1],
                w.shape[0],
                w.shape[2:],
                stride=attrs.get("stride", 1),
                padding=padding,
                bias="b" in layer["params"],
                dtype=self.dtype,
            )
            self._set(conv, "weight", layer["params"]["w"], w)
            if "b" in layer["params"]:
                self._set(conv, "bias", layer["params"]["b"], params[layer["params"]["b"]])
            out = [
                (s + 2 * p - k) // attrs.get("stride", 1) + 1
                for s, p, k in zip(shape[1:], padding, w.shape[2:], strict=True)
            ]
            return conv, (w.shape[0], *out)
        if op == "maxpool2d":
            k, stride = attrs["kernel_size"], attrs.get("stride") or attrs["kernel_size"]
            padding = _symmetric(attrs.get("padding", 0), shape[1:], (k, k), {"stride": stride})
            pool = nn.MaxPool2d(k, stride=stride, padding=padding)
            out = [(s + 2 * p - k) // stride + 1 for s, p in zip(shape[1:], padding, strict=True)]
            return pool, (shape[0], *out)
        if op == "relu":
            return nn.ReLU(), shape
        if op == "flatten":
            return nn.Flatten(start_dim=attrs.get("start_dim", 1)), (int(np.prod(shape)),)
        if op == "linear":
            w = np.asarray(params[layer["params"]["w"]], dtype=self.dtype_np)
            linear = nn.Linear(
                w.shape[0], w.shape[1], bias="b" in layer["params"], dtype=self.dtype
            )
            self._set(linear, "weight", layer["params"]["w"], layout.linear_to_torch(w))
            if "b" in layer["params"]:
                self._set(linear, "bias", layer["params"]["b"], params[layer["params"]["b"]])
            return linear, (w.shape[1],)
        if op == "dropout":
            return _InjectedDropout(self, layer["mask"], float(attrs["p"])), shape
        raise ValueError(f"layer op {op!r} has no torch network module")

    @property
    def dtype_np(self):
        return np.dtype(str(self.dtype).removeprefix("torch."))

    def _set(self, module, attr, name, value):
        tensor = self.torch.from_numpy(np.array(value, dtype=self.dtype_np))
        param = self.torch.nn.Parameter(tensor)
        setattr(module, attr, param)
        self.parameters[name] = param

    # -- running ---------------------------------------------------------------------------

    def set_masks(self, masks: Mapping[str, np.ndarray] | None) -> None:
        self.masks = {
            k: self.torch.from_numpy(np.asarray(v, self.dtype_np)) for k, v in (masks or {}).items()
        }

    def reference_params(self) -> dict[str, np.ndarray]:
        return {
            name: self._to_reference(name, p.detach().numpy())
            for name, p in self.parameters.items()
        }

    def _to_reference(self, name, array):
        linear_names = {
            layer["params"]["w"] for layer in self.spec["layers"] if layer["op"] == "linear"
        }
        return layout.linear_from_torch(array) if name in linear_names else array.copy()

    def loss_and_grads(self, x, target) -> tuple[float, np.ndarray, dict[str, np.ndarray]]:
        """``(loss, model output, {parameter: gradient})``, all in the reference's layout."""
        torch = self.torch
        for p in self.parameters.values():
            p.grad = None
        logits = self.model(torch.from_numpy(np.asarray(x, self.dtype_np)))
        loss = self.loss_fn(logits, torch.from_numpy(np.asarray(target, self.dtype_np)))
        loss.backward()
        out = logits
        if self.spec["output"] == "softmax":
            out = torch.nn.functional.softmax(logits, dim=-1)
        grads = {
            name: self._to_reference(name, p.grad.numpy()) for name, p in self.parameters.items()
        }
        return float(loss.detach()), out.detach().numpy().copy(), grads

    def train(
        self, x, target, *, optimizer: str, steps: int, record_params: bool = True
    ) -> dict[str, list]:
        """``steps`` full-batch updates with ``torch.optim.SGD``/``Adam`` (default betas and
        eps).  Returns per-step ``loss`` (before each update) and ``params`` (after)."""
        torch = self.torch
        kwargs = self.spec["optimizers"][optimizer]
        cls = torch.optim.SGD if optimizer == "sgd" else torch.optim.Adam
        opt = cls(list(self.parameters.values()), lr=kwargs["lr"])
        xt = torch.from_numpy(np.asarray(x, self.dtype_np))
        tt = torch.from_numpy(np.asarray(target, self.dtype_np))
        history: dict[str, list] = {"loss": [], "params": []}
        for _ in range(steps):
            opt.zero_grad()
            loss = self.loss_fn(self.model(xt), tt)
            loss.backward()
            opt.step()
            history["loss"].append(float(loss.detach()))
            if record_params:
                history["params"].append(self.reference_params())
        return history


class _InjectedDropout:
    """Constructs a torch Module that multiplies by the injected mask (the class is defined
    on construction because it subclasses ``torch.nn.Module``, and torch is imported lazily)."""

    def __new__(cls, network: TorchNetwork, mask_name: str, p: float):
        torch = network.torch

        class InjectedDropout(torch.nn.Module):
            def forward(self, x):
                return x * (network.masks[mask_name] / (1.0 - p))

        return InjectedDropout()


def _symmetric(padding, size_hw, kernel_hw, attrs) -> tuple[int, int]:
    stride = attrs.get("stride", 1)
    pads = padding_pairs(padding, tuple(size_hw), tuple(kernel_hw), (stride, stride))
    if not is_symmetric(pads):
        raise ValueError(f"padding {padding!r} is asymmetric here ({pads}); torch pads both sides")
    return pads[0][0], pads[1][0]


def build(
    spec: Mapping,
    params: Mapping[str, np.ndarray],
    input_shape,
    dtype="float32",
    masks: Mapping[str, np.ndarray] | None = None,
) -> TorchNetwork:
    network = TorchNetwork(spec, params, input_shape, dtype)
    network.set_masks(masks)
    return network
