"""Whole networks in PyTorch: a ``torch.nn.Module`` built from a network spec (format in
tests/networks/models.py and tests/networks/graph.py), trained with ``torch.optim``.  Used
by tests/networks/test_networks.py and, layer by layer, by tests/networks/localize.py.

Every node is one ``torch.nn`` module, run in the spec's order (``GraphModule``): Conv2d
(depthwise through ``groups``), ConvTranspose2d, Upsample (bilinear with
``align_corners=False``: the reference's linear ``pytorch_half_pixel`` resize), BatchNorm2d
(``train()`` or ``eval()`` from the spec's ``mode``), ReLU, ReLU6, MaxPool2d, AvgPool2d
(``AdaptiveAvgPool2d(1)`` for a global pool), Flatten, Linear; the residual sum and the
channel concatenation are two one-line modules (``Add``: ``a + b``; ``Concat``:
``torch.cat(dim=1)``), so that a forward hook or a direct call reaches every node.

Weights arrive in the reference's layout and move through ``adapters.layout``
(``Linear.weight`` is (out, in)); gradients and parameters leave in the reference's layout.
Padding strings resolve to torch's symmetric integer padding (``adapters._geometry``);
a spec that needs asymmetric padding is refused with a ValueError.

Dropout: torch cannot take an injected mask, so the model multiplies by ``mask / (1 - p)``
(the inverted-dropout scale ``torch.nn.Dropout`` documents: "outputs are scaled by a factor
of 1/(1-p) during training") -- the only way to make every framework drop the same units.

``overrides`` (``{node name: {...}}``) build one node the way a porting user might have
written it instead (tests/networks/test_localization.py injects conventions with them):
``{"kernel": "flipped"}`` for a convolution whose kernel was taken from a true convolution
(scipy.signal.convolve2d) without the 180 degree turn; ``{"rows": "hwc"}`` for a Linear
after a Flatten whose weight rows stayed in Keras' (H, W, C) order; ``{"eps": 1e-3}`` for a
BatchNorm2d given Keras' default epsilon (a port from a Keras model).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from adapters import layout
from adapters._geometry import is_symmetric, padding_pairs
from adapters.base import FrameworkMissing
from tests.networks import graph
from tests.networks.stages import Stage


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

    framework = "torch"

    def __init__(self, spec, params, input_shape, dtype, constants=None, overrides=None):
        torch = _torch()
        self.torch, self.spec = torch, spec
        self.dtype = getattr(torch, np.dtype(dtype).name)
        self.dtype_np = np.dtype(dtype)
        self.overrides = dict(overrides or {})
        self.constants = {k: np.asarray(v) for k, v in (constants or {}).items()}
        self.parameters: dict[str, object] = {}
        self.row_orders: dict[str, tuple] = {}  # linear weight name -> (C, H, W) when rows moved
        self.nodes = graph.nodes(spec, with_output=True)
        self.shapes = {graph.INPUT: tuple(input_shape[1:])}
        modules = {}
        for node in self.nodes:
            module, shape = self._module(node, params)
            modules[node["name"]] = module
            self.shapes[node["name"]] = shape
        unknown = set(self.overrides) - set(modules)
        if unknown:
            raise ValueError(f"overrides name no node of the network: {sorted(unknown)}")
        self.model = _graph_module(torch, self.nodes, modules)
        self.model.train(spec.get("mode", "train") == "train")
        loss = spec["loss"]
        reduction = loss["attrs"].get("reduction", "mean")
        if loss["op"] == "cross_entropy":
            self.loss_fn = torch.nn.CrossEntropyLoss(reduction=reduction)
        else:
            self.loss_fn = torch.nn.MSELoss(reduction=reduction)

    # -- building --------------------------------------------------------------------------

    def _module(self, node, params):
        nn, op, attrs = self.torch.nn, node["op"], node["attrs"]
        shape = self.shapes[node["inputs"][0]]
        override = self.overrides.get(node["name"], {})
        if op == "conv2d":
            w = np.asarray(params[node["params"]["w"]], dtype=self.dtype_np)
            stride, groups = attrs.get("stride", 1), attrs.get("groups", 1)
            padding = _symmetric(attrs.get("padding", 0), shape[1:], w.shape[2:], stride)
            conv = nn.Conv2d(
                w.shape[1] * groups,
                w.shape[0],
                w.shape[2:],
                stride=stride,
                padding=padding,
                groups=groups,
                bias="b" in node["params"],
                dtype=self.dtype,
            )
            if override.get("kernel") == "flipped":
                w = w[..., ::-1, ::-1]
            self._set(conv, "weight", node["params"]["w"], w)
            if "b" in node["params"]:
                self._set(conv, "bias", node["params"]["b"], params[node["params"]["b"]])
            sizes = zip(shape[1:], padding, w.shape[2:], strict=True)
            return conv, (w.shape[0], *((s + 2 * p - k) // stride + 1 for s, p, k in sizes))
        if op == "conv_transpose2d":
            return self._conv_transpose(node, params, shape)
        if op == "resize2d":
            return self._resize(node, shape)
        if op in ("maxpool2d", "avgpool2d"):
            return self._pool(node, shape)
        if op == "batchnorm2d":
            eps = override.get("eps", attrs.get("eps", 1e-5))
            bn = nn.BatchNorm2d(shape[0], eps=eps, dtype=self.dtype)
            self._set(bn, "weight", node["params"]["gamma"], params[node["params"]["gamma"]])
            self._set(bn, "bias", node["params"]["beta"], params[node["params"]["beta"]])
            for buffer, name in (("running_mean", "running_mean"), ("running_var", "running_var")):
                value = self.constants[node["stats"][name]]
                getattr(bn, buffer).copy_(self.torch.from_numpy(np.asarray(value, self.dtype_np)))
            return bn, shape
        simple = {"relu": nn.ReLU, "relu6": nn.ReLU6, "add": _Add, "concat": _Concat}
        if op in simple:
            module = simple[op]() if op in ("relu", "relu6") else simple[op](self.torch)
            if op == "concat":
                shape = (sum(self.shapes[s][0] for s in node["inputs"]), *shape[1:])
            return module, shape
        if op == "softmax":
            return nn.Softmax(dim=attrs.get("axis", -1)), shape
        if op == "flatten":
            return nn.Flatten(start_dim=attrs.get("start_dim", 1)), (int(np.prod(shape)),)
        if op == "linear":
            return self._linear(node, params, shape, override)
        if op == "dropout":
            return _InjectedDropout(self, node["mask"], float(attrs["p"])), shape
        raise ValueError(f"layer op {op!r} has no torch network module")

    def _conv_transpose(self, node, params, shape):
        """ConvTranspose2d: the reference's (C_in, C_out/groups, kh, kw) weight is torch's."""
        attrs = node["attrs"]
        w = np.asarray(params[node["params"]["w"]], dtype=self.dtype_np)
        stride, padding = attrs.get("stride", 1), attrs.get("padding", 0)
        groups, extra = attrs.get("groups", 1), attrs.get("output_padding", 0)
        if isinstance(padding, str) or isinstance(stride, (tuple, list)):
            raise ValueError(f"{node['name']}: the torch builder takes int stride and padding")
        conv = self.torch.nn.ConvTranspose2d(
            w.shape[0],
            w.shape[1] * groups,
            w.shape[2:],
            stride=stride,
            padding=padding,
            output_padding=extra,
            groups=groups,
            bias="b" in node["params"],
            dtype=self.dtype,
        )
        self._set(conv, "weight", node["params"]["w"], w)
        if "b" in node["params"]:
            self._set(conv, "bias", node["params"]["b"], params[node["params"]["b"]])
        sizes = zip(shape[1:], w.shape[2:], strict=True)
        out = [(s - 1) * stride + k - 2 * padding + extra for s, k in sizes]
        return conv, (w.shape[1] * groups, *out)

    def _resize(self, node, shape):
        """nn.Upsample for a scale-2 linear (bilinear, align_corners=False: ONNX's
        pytorch_half_pixel) or nearest resize; other resizes are refused."""
        attrs = node["attrs"]
        scale, mode = attrs.get("scale"), attrs.get("mode", "nearest")
        rule = attrs.get("coordinate_transformation_mode", "half_pixel")
        torch_mode = {"linear": "bilinear", "nearest": "nearest"}.get(mode)
        if scale is None or torch_mode is None or (mode == "linear" and rule == "align_corners"):
            raise ValueError(f"{node['name']}: the torch builder has no resize {attrs}")
        kwargs = {"align_corners": False} if mode == "linear" else {}
        up = self.torch.nn.Upsample(scale_factor=float(scale), mode=torch_mode, **kwargs)
        return up, (shape[0], *(int(s * scale) for s in shape[1:]))

    def _pool(self, node, shape):
        nn, attrs = self.torch.nn, node["attrs"]
        k = attrs["kernel_size"]
        if node.get("global"):
            return nn.AdaptiveAvgPool2d(1), (shape[0], 1, 1)
        stride = attrs.get("stride") or k
        padding = _symmetric(attrs.get("padding", 0), shape[1:], (k, k), stride)
        if node["op"] == "maxpool2d":
            pool = nn.MaxPool2d(k, stride=stride, padding=padding)
        else:
            include = attrs.get("count_include_pad", True)
            pool = nn.AvgPool2d(k, stride=stride, padding=padding, count_include_pad=include)
        out = [(s + 2 * p - k) // stride + 1 for s, p in zip(shape[1:], padding, strict=True)]
        return pool, (shape[0], *out)

    def _linear(self, node, params, shape, override):
        w = np.asarray(params[node["params"]["w"]], dtype=self.dtype_np)
        if override.get("rows") == "hwc":
            chw = self.shapes[self._flattened_from(node)]
            w = layout.dense_rows_chw_to_hwc(w, chw)
            self.row_orders[node["params"]["w"]] = chw
        linear = self.torch.nn.Linear(
            w.shape[0], w.shape[1], bias="b" in node["params"], dtype=self.dtype
        )
        self._set(linear, "weight", node["params"]["w"], layout.linear_to_torch(w))
        if "b" in node["params"]:
            self._set(linear, "bias", node["params"]["b"], params[node["params"]["b"]])
        return linear, (w.shape[1],)

    def _flattened_from(self, node) -> str:
        source = next(n for n in self.nodes if n["name"] == node["inputs"][0])
        if source["op"] != "flatten":
            raise ValueError(f"{node['name']}: rows='hwc' needs a Flatten right before")
        return source["inputs"][0]

    def _set(self, module, attr, name, value):
        tensor = self.torch.from_numpy(np.array(value, dtype=self.dtype_np))
        param = self.torch.nn.Parameter(tensor)
        setattr(module, attr, param)
        self.parameters[name] = param

    # -- running ---------------------------------------------------------------------------

    def set_masks(self, masks: Mapping[str, np.ndarray] | None) -> None:
        self.constants.update({k: np.asarray(v) for k, v in (masks or {}).items()})

    def reference_params(self) -> dict[str, np.ndarray]:
        return {
            name: self._to_reference(name, p.detach().numpy())
            for name, p in self.parameters.items()
        }

    def _to_reference(self, name, array):
        linear_names = {n["params"]["w"] for n in self.nodes if n["op"] == "linear"}
        if name not in linear_names:
            return array.copy()
        array = layout.linear_from_torch(array)
        if name in self.row_orders:
            array = layout.dense_rows_hwc_to_chw(array, self.row_orders[name])
        return array

    def _tensor(self, a):
        return self.torch.from_numpy(np.ascontiguousarray(a, dtype=self.dtype_np))

    def _logits(self, x):
        return self.model(self._tensor(x))

    def loss_and_grads(self, x, target) -> tuple[float, np.ndarray, dict[str, np.ndarray]]:
        """``(loss, model output, {parameter: gradient})``, all in the reference's layout."""
        for p in self.parameters.values():
            p.grad = None
        logits = self._logits(x)
        loss = self.loss_fn(logits, self._tensor(target))
        loss.backward()
        out = self.model.output(logits)
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
        xt, tt = self._tensor(x), self._tensor(target)
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

    # -- layer by layer (tests/networks/localize.py) ---------------------------------------

    def stages(self) -> list[Stage]:
        """One stage per node: the node's own module, called on reference-layout arrays."""
        out = []
        for node in self.nodes:
            module = self.model.nodes[node["name"]]
            label = _describe(node["name"], module)
            out.append(Stage((node["name"],), label, self._caller(module)))
        return out

    def _caller(self, module):
        def run(*arrays):
            with self.torch.no_grad():
                return module(*(self._tensor(a) for a in arrays)).numpy().copy()

        return run

    def activations(self, x) -> dict[str, np.ndarray]:
        """Every node's output in the model's own forward (the softmax output included)."""
        record: dict[str, object] = {}
        with self.torch.no_grad():
            self.model.output(self.model(self._tensor(x), record=record))
        return {k: v.numpy().copy() for k, v in record.items()}


def _describe(name: str, module) -> str:
    return f"{name}: {module!r}".replace("\n", " ")


def _graph_module(torch, nodes, modules):
    class GraphModule(torch.nn.Module):
        """The spec's nodes run in order, each reading its named inputs."""

        def __init__(self):
            super().__init__()
            self.order = [(n["name"], tuple(n["inputs"])) for n in nodes]
            self.output_name = graph.OUTPUT_SOFTMAX if graph.OUTPUT_SOFTMAX in modules else None
            self.nodes = torch.nn.ModuleDict(modules)

        def forward(self, x, record=None):
            acts = {graph.INPUT: x}
            for name, inputs in self.order:
                if name == self.output_name:
                    continue  # the loss takes logits; ``output`` applies it
                acts[name] = self.nodes[name](*(acts[s] for s in inputs))
                if record is not None:
                    record[name] = acts[name]
            self._last_record = record
            return acts[self.order[-2 if self.output_name else -1][0]]

        def output(self, logits):
            if self.output_name is None:
                return logits
            out = self.nodes[self.output_name](logits)
            if self._last_record is not None:
                self._last_record[self.output_name] = out
            return out

    return GraphModule()


def _Add(torch):  # a module class, defined once torch is imported
    class Add(torch.nn.Module):
        def forward(self, *xs):
            out = xs[0]
            for x in xs[1:]:
                out = out + x
            return out

    return Add()


def _Concat(torch):
    class Concat(torch.nn.Module):
        def forward(self, *xs):
            return torch.cat(xs, dim=1)

    return Concat()


class _InjectedDropout:
    """Constructs a torch Module that multiplies by the injected mask (the class is defined
    on construction because it subclasses ``torch.nn.Module``, and torch is imported lazily)."""

    def __new__(cls, network: TorchNetwork, mask_name: str, p: float):
        torch = network.torch

        class InjectedDropout(torch.nn.Module):
            def forward(self, x):
                mask = network.constants[mask_name]
                return x * (network._tensor(mask) / (1.0 - p))

            def extra_repr(self):
                return f"p={p}, mask={mask_name!r}"

        return InjectedDropout()


def _symmetric(padding, size_hw, kernel_hw, stride) -> tuple[int, int]:
    pads = padding_pairs(padding, tuple(size_hw), tuple(kernel_hw), (stride, stride))
    if not is_symmetric(pads):
        raise ValueError(f"padding {padding!r} is asymmetric here ({pads}); torch pads both sides")
    return pads[0][0], pads[1][0]


def build(
    spec: Mapping,
    params: Mapping[str, np.ndarray],
    input_shape,
    dtype="float32",
    constants: Mapping[str, np.ndarray] | None = None,
    overrides: Mapping[str, Mapping] | None = None,
) -> TorchNetwork:
    return TorchNetwork(spec, params, input_shape, dtype, constants, overrides)
