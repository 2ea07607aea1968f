"""PyTorch seen through the reference's contract: ``torch.nn`` modules and autograd.

Each layer method builds, once, the ``torch.nn`` module a user would write (Conv2d,
MaxPool2d, AvgPool2d, BatchNorm2d, Dropout, Linear, Flatten, CrossEntropyLoss, MSELoss,
ReLU, Sigmoid, Tanh, Softmax, LayerNorm, GroupNorm, BCELoss, BCEWithLogitsLoss) with the
case's weights copied in, and converts the NumPy inputs with ``torch.from_numpy``.  The
timed forward calls the module under ``torch.no_grad()``; the timed backward calls it
recording the graph and then ``torch.autograd.grad(out, leaves, grad_outputs=grad_out)``,
the leaves being the
differentiable inputs (fresh leaf tensors) and the module's parameters.  ``autograd.grad``
rather than ``.backward()`` so that nothing accumulates in ``.grad`` between calls.

Layout: the reference's linear weight is (in_features, out_features), torch's is
(out_features, in_features); the transpose happens here, both ways.  Everything else is
NCHW / OIHW in both.  ``nn.LayerNorm`` normalises the trailing axes only: for other axes
(ConvNeXt's channels of NCHW) the adapter permutes them to the end and back, as
torchvision's ConvNeXt ``LayerNorm2d`` does.

What is unsupported, and why (each reason quotes torch's own rule or error):

- dtypes other than float32 / float64: the adapter's own scope (the two dtypes the suite
  compares), not a torch rule.
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
- batchnorm2d training with one value per channel, and groupnorm with N * C / groups *
  H * W = 1: "Expected more than 1 value per channel when training".
- dropout with p = 1 (torch zeroes everything; there is no kept unit to read a scale from).
- binary_cross_entropy on probabilities in Keras' convention (clipped to [1e-7, 1 - 1e-7]):
  torch.nn.BCELoss clamps the logs at -100 instead.
- the layers torch.nn has no module for (categorical_crossentropy on probabilities, the
  scipy.signal functions): the adapter has no method for them.

None of these rules concerns gradients only, so every refusal comes from the layer method.

resize2d: ``torch.nn.Upsample`` (``F.interpolate`` for antialias=True) by ``size`` or by
``scale_factor``; adapters/_resize_rules.py picks 'nearest' / 'nearest-exact' /
'bilinear' / 'bicubic' and align_corners where torch computes the call's numbers, and
otherwise refuses quoting torch's rule (its coordinate and index formulas, A = -0.75,
antialias dropping the filter's outside taps).

Dropout: torch draws its own mask and cannot take an injected one.  So the adapter runs
``torch.nn.Dropout(p)`` in training mode on a tensor of ones (fixed seed, global RNG
state restored) to read the value torch gives kept units, checks that dropped units are
exactly 0 and kept units all equal, and the timed work is ``x * (mask * that_value)``
with torch ops, so that autograd gives the backward.  In eval mode ``torch.nn.Dropout``
runs on x.

Other adapters build on these modules: ``adapters/_onnx_export.py`` exports each
prepared call's ``module`` (unwrapped with ``inspect.unwrap``) with its ``inputs`` as
example arguments, so every layer this adapter has is exported without code of its own.

Determinism: ``load`` sets ``torch.backends.cudnn.allow_tf32 = False``,
``torch.backends.cuda.matmul.allow_tf32 = False`` and the deterministic-algorithms flag;
the thread count is left at torch's default and reported by ``determinism_flags``.

Activations (issue 17): torch.nn.LeakyReLU, ELU, GELU(approximate=), SiLU, ReLU6,
Hardsigmoid and Hardswish.  Hardsigmoid has no parameters, so a slope or offset other
than 1/6 and 1/2 is unsupported.  Its float64 backward multiplies by 1/6 rounded to
float32: that runs, and the parity tests judge it (the known divergence
torch-hardsigmoid-float64-grad-float32-sixth in tests/known_divergences.py).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from adapters import _resize_rules as resize_rules
from adapters._decoder_geometry import torch_transpose_padding, transpose_crops
from adapters._geometry import is_symmetric, padding_pairs, pair
from adapters.base import FrameworkMissing, Run, Unsupported, float_dtype
from adapters.layout import sorted_axes

_DROPOUT_PROBE_SIZE = 4096
_DROPOUT_PROBE_SEED = 0


@dataclass(frozen=True)
class _Prepared:
    """A module (or torch expression) and its input tensors, set up once.

    ``inputs`` are the module's positional arguments in call order (reference names);
    those named in ``differentiable`` become leaf tensors for backward, followed by the
    module's ``params`` (reference name -> ``torch.nn.Parameter``)."""

    torch: Any
    module: Callable
    inputs: Mapping[str, Any]
    differentiable: tuple[str, ...]
    execution: str
    params: Mapping[str, Any] = field(default_factory=dict)
    transposed: tuple[str, ...] = ()  # gradients to transpose back to the reference layout

    def forward(self) -> Run:
        torch, module, args = self.torch, self.module, tuple(self.inputs.values())

        def call():
            with torch.no_grad():
                return module(*args)

        return Run(call, lambda out: out.numpy(), f"eager ({self.execution})")

    def backward(self, grad_out) -> Run:
        torch, module = self.torch, self.module
        # detach() gives new leaves on the same storage, so forward's tensors stay as they are.
        args = tuple(
            t.detach().requires_grad_(True) if k in self.differentiable else t
            for k, t in self.inputs.items()
        )
        leaves = [a for k, a in zip(self.inputs, args, strict=True) if k in self.differentiable]
        keys = [k for k in self.inputs if k in self.differentiable]
        for key, param in self.params.items():
            keys.append(key)
            leaves.append(param)
        seed = torch.from_numpy(np.array(grad_out, order="C")).to(leaves[0].dtype)  # 0-d stays

        def call():
            return torch.autograd.grad(module(*args), leaves, grad_outputs=seed)

        def to_reference(grads):
            # Copies: autograd may hand back the seed itself (identity layers) or a view.
            return {
                k: (g.T if k in self.transposed else g).detach().numpy().copy()
                for k, g in zip(keys, grads, strict=True)
            }

        return Run(call, to_reference, f"eager ({self.execution} + torch.autograd.grad)")


class TorchAdapter:
    name = "torch"
    #: Top-level modules whose absence means the framework is not installed.
    requires = ("torch",)

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

    # -- layers ----------------------------------------------------------------------------

    def conv2d(self, x, w, b=None, *, stride=1, padding=0, dilation=1, groups=1):
        t = self._tensors(x=x, w=w, b=b)
        torch_padding = _conv_padding(np.shape(x), np.shape(w), stride, padding, dilation)
        x, w, b = t["x"], t["w"], t["b"]
        conv = self._torch.nn.Conv2d(
            x.shape[1],
            w.shape[0],
            kernel_size=tuple(w.shape[2:]),
            stride=pair(stride),
            padding=torch_padding,
            dilation=pair(dilation),
            groups=groups,
            bias=b is not None,
            dtype=w.dtype,
        )
        params = {"w": conv.weight}
        with self._torch.no_grad():
            conv.weight.copy_(w)
            if b is not None:
                conv.bias.copy_(b)
                params["b"] = conv.bias
        module = _quiet_same(conv) if isinstance(torch_padding, str) else conv
        return self._prepared(module, {"x": x}, "torch.nn.Conv2d", params=params)

    def maxpool2d(self, x, *, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
        t = self._tensors(x=x)
        name = "torch.nn.MaxPool2d"
        pads = _pool_padding(name, np.shape(x), kernel_size, stride, padding, dilation)
        pool = self._torch.nn.MaxPool2d(
            kernel_size, stride=stride, padding=pads, dilation=dilation, ceil_mode=bool(ceil_mode)
        )
        return self._prepared(pool, t, name)

    def avgpool2d(
        self,
        x,
        *,
        kernel_size,
        stride=None,
        padding=0,
        ceil_mode=False,
        count_include_pad=True,
        divisor_override=None,
    ):
        t = self._tensors(x=x)
        name = "torch.nn.AvgPool2d"
        pads = _pool_padding(name, np.shape(x), kernel_size, stride, padding, 1)
        pool = self._torch.nn.AvgPool2d(
            kernel_size,
            stride=stride,
            padding=pads,
            ceil_mode=bool(ceil_mode),
            count_include_pad=bool(count_include_pad),
            divisor_override=divisor_override,
        )
        return self._prepared(pool, t, name)

    def relu(self, x):
        return self._prepared(self._lib().nn.ReLU(), self._tensors(x=x), "torch.nn.ReLU")

    def sigmoid(self, x):
        return self._prepared(self._lib().nn.Sigmoid(), self._tensors(x=x), "torch.nn.Sigmoid")

    def tanh(self, x):
        return self._prepared(self._lib().nn.Tanh(), self._tensors(x=x), "torch.nn.Tanh")

    def linear(self, x, w, b=None):
        t = self._tensors(x=x, w=w, b=b)
        w, b = t["w"], t["b"]
        linear = self._torch.nn.Linear(w.shape[0], w.shape[1], bias=b is not None, dtype=w.dtype)
        params = {"w": linear.weight}
        with self._torch.no_grad():
            linear.weight.copy_(w.T)  # reference (in, out) -> torch (out, in)
            if b is not None:
                linear.bias.copy_(b)
                params["b"] = linear.bias
        return self._prepared(
            linear, {"x": t["x"]}, "torch.nn.Linear", params=params, transposed=("w",)
        )

    def flatten(self, x, *, start_dim=1):
        flat = self._lib().nn.Flatten(start_dim=start_dim)
        return self._prepared(flat, self._tensors(x=x), "torch.nn.Flatten")

    def softmax(self, x, *, axis=-1):
        softmax = self._lib().nn.Softmax(dim=axis)
        return self._prepared(softmax, self._tensors(x=x), "torch.nn.Softmax")

    def cross_entropy(self, logits, target, *, reduction="mean", label_smoothing=0.0):
        t = self._tensors(logits=logits, target=target)
        # Integer targets are class indices (torch wants int64); floating ones are class
        # probabilities, which CrossEntropyLoss accepts since torch 1.10.
        if not t["target"].is_floating_point():
            t["target"] = t["target"].long()
        loss = self._torch.nn.CrossEntropyLoss(
            reduction=reduction, label_smoothing=float(label_smoothing)
        )
        return self._prepared(loss, t, "torch.nn.CrossEntropyLoss", differentiable=("logits",))

    def mse(self, pred, target, *, reduction="mean"):
        t = self._tensors(pred=pred, target=target)
        loss = self._torch.nn.MSELoss(reduction=reduction)
        return self._prepared(loss, t, "torch.nn.MSELoss", differentiable=("pred",))

    def batchnorm2d(self, x, gamma, beta, running_mean, running_var, *, training, eps=1e-5):
        t = self._tensors(
            x=x, gamma=gamma, beta=beta, running_mean=running_mean, running_var=running_var
        )
        x = t["x"]
        if training and x.shape[0] * x.shape[2] * x.shape[3] == 1:
            raise Unsupported(
                "torch.nn.BatchNorm2d: Expected more than 1 value per channel when "
                f"training, got input size torch.Size({list(x.shape)})"
            )
        bn = self._torch.nn.BatchNorm2d(x.shape[1], eps=eps, dtype=x.dtype)
        with self._torch.no_grad():
            bn.weight.copy_(t["gamma"])
            bn.bias.copy_(t["beta"])
            # Copies: training updates these buffers in place (the output does not read
            # them then), and the caller's arrays must stay as they were.
            bn.running_mean.copy_(t["running_mean"])
            bn.running_var.copy_(t["running_var"])
        bn.train(bool(training))
        params = {"gamma": bn.weight, "beta": bn.bias}
        return self._prepared(bn, {"x": x}, "torch.nn.BatchNorm2d", params=params)

    def dropout(self, x, *, p, mask, training=True):
        t = self._tensors(x=x)
        p = float(p)
        if not training:
            return self._prepared(self._torch.nn.Dropout(p).eval(), t, "torch.nn.Dropout, eval")
        if p >= 1.0:
            raise Unsupported(
                "torch.nn.Dropout(p=1) zeroes every unit, so there is no kept-unit value to "
                "read and apply to an injected mask"
            )
        dtype = t["x"].dtype
        # mask is 0/1, so mask * kept_value is exact and x * it rounds as torch's x * scale.
        keep = self._torch.from_numpy(np.asarray(mask)).to(dtype) * self._dropout_kept_value(
            p, dtype
        )
        return self._prepared(
            lambda x: x * keep, t, "torch.nn.Dropout's kept-unit value on the injected mask"
        )

    # -- normalizations and losses (issue 17) ----------------------------------------------

    def layernorm(self, x, gamma, beta, *, axes, eps=1e-5):
        """torch.nn.LayerNorm over the trailing axes; other axes are permuted to the end
        first and back after, as torchvision's ConvNeXt LayerNorm2d does for channels."""
        t = self._tensors(x=x, gamma=gamma, beta=beta)
        ndim = t["x"].dim()
        normalized = sorted_axes(axes, ndim)
        order = [a for a in range(ndim) if a not in normalized] + list(normalized)
        inverse = [order.index(a) for a in range(ndim)]
        shape = tuple(t["x"].shape[a] for a in normalized)
        ln = self._torch.nn.LayerNorm(shape, eps=float(eps), dtype=t["x"].dtype)
        with self._torch.no_grad():
            ln.weight.copy_(t["gamma"])
            ln.bias.copy_(t["beta"])
        params = {"gamma": ln.weight, "beta": ln.bias}
        if order == list(range(ndim)):
            return self._prepared(ln, {"x": t["x"]}, "torch.nn.LayerNorm", params=params)
        return self._prepared(
            lambda x: ln(x.permute(order)).permute(inverse),
            {"x": t["x"]},
            f"torch.nn.LayerNorm after permute{tuple(order)}",
            params=params,
        )

    def groupnorm(self, x, gamma, beta, *, groups, eps=1e-5):
        t = self._tensors(x=x, gamma=gamma, beta=beta)
        n, c, h, w = t["x"].shape
        if n * (c // int(groups)) * h * w == 1:
            # torch.nn.functional.group_norm's _verify_batch_size on [N*C/G, G, H, W].
            raise Unsupported(
                "torch.nn.GroupNorm: Expected more than 1 value per channel when training, "
                f"got input size {[n * c // int(groups), int(groups), h, w]}"
            )
        gn = self._torch.nn.GroupNorm(
            int(groups), t["x"].shape[1], eps=float(eps), dtype=t["x"].dtype
        )
        with self._torch.no_grad():
            gn.weight.copy_(t["gamma"])
            gn.bias.copy_(t["beta"])
        params = {"gamma": gn.weight, "beta": gn.bias}
        return self._prepared(gn, {"x": t["x"]}, "torch.nn.GroupNorm", params=params)

    def binary_cross_entropy(
        self, input, target, *, from_logits, reduction="mean", convention="torch"
    ):
        """torch.nn.BCEWithLogitsLoss on logits; torch.nn.BCELoss (log clamped at -100) on
        probabilities, which is the "torch" convention only."""
        t = self._tensors(input=input, target=target)
        if from_logits:
            loss, name = self._torch.nn.BCEWithLogitsLoss(reduction=reduction), "BCEWithLogitsLoss"
        elif convention != "torch":
            raise Unsupported(
                "torch.nn.BCELoss 'clamps its log function outputs to be greater than or "
                "equal to -100' (torch.nn.BCELoss docs) and does not clip probabilities "
                f"to [1e-7, 1 - 1e-7]: convention {convention!r} is not torch's"
            )
        else:
            loss, name = self._torch.nn.BCELoss(reduction=reduction), "BCELoss"
        return self._prepared(loss, t, f"torch.nn.{name}", differentiable=("input",))

    # -- resize (issue 16) ---------------------------------------------------------------

    def resize2d(
        self,
        x,
        *,
        size=None,
        scale=None,
        mode="nearest",
        coordinate_transformation_mode="half_pixel",
        nearest_mode="round_prefer_floor",
        cubic_coeff_a=-0.75,
        antialias=False,
    ):
        """torch.nn.Upsample (F.interpolate with antialias=True), by ``size`` or by
        ``scale_factor``; mode and align_corners from adapters._resize_rules."""
        t = self._tensors(x=x)
        request = resize_rules.Request.of(
            np.asarray(x),
            size,
            scale,
            mode,
            coordinate_transformation_mode,
            nearest_mode,
            cubic_coeff_a,
            antialias,
        )
        plan = resize_rules.torch_plan(request, given_scale=scale is not None)
        if scale is None:
            geometry = {"size": request.sizes}
        else:
            geometry = {"scale_factor": tuple(float(s) for s in resize_rules.pair(scale))}
        if antialias:
            F = self._torch.nn.functional

            def interpolate(x):
                return F.interpolate(x, **geometry, **plan, antialias=True)

            return self._prepared(interpolate, t, "torch.nn.functional.interpolate")
        return self._prepared(self._torch.nn.Upsample(**geometry, **plan), t, "torch.nn.Upsample")

    # -- helpers ---------------------------------------------------------------------------

    def _lib(self):
        if self._torch is None:
            self.load()
        return self._torch

    def _tensors(self, **arrays) -> dict[str, Any]:
        """The arrays as torch tensors (sharing memory where NumPy allows); None stays."""
        dtype = float_dtype(arrays)
        if dtype not in (np.float32, np.float64):
            raise Unsupported(f"torch adapter: runs float32 and float64 only, not {dtype}")
        torch = self._lib()
        return {
            k: None if v is None else torch.from_numpy(np.ascontiguousarray(v))
            for k, v in arrays.items()
        }

    def _prepared(self, module, inputs, execution, *, differentiable=("x",), **kw):
        return _Prepared(self._torch, module, inputs, differentiable, execution, **kw)

    def _dropout_kept_value(self, p: float, dtype) -> float:
        """The value ``torch.nn.Dropout(p)`` (training) gives a kept unit of a ones tensor."""
        torch = self._lib()
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

    # -- activations (issue 17) ---------------------------------------------------------

    def leaky_relu(self, x, *, negative_slope):
        module = self._lib().nn.LeakyReLU(negative_slope=float(negative_slope))
        return self._prepared(module, self._tensors(x=x), "torch.nn.LeakyReLU")

    def elu(self, x, *, alpha=1.0):
        module = self._lib().nn.ELU(alpha=float(alpha))
        return self._prepared(module, self._tensors(x=x), "torch.nn.ELU")

    def gelu(self, x, *, approximate="none"):
        module = self._lib().nn.GELU(approximate=approximate)
        return self._prepared(module, self._tensors(x=x), "torch.nn.GELU")

    def silu(self, x):
        return self._prepared(self._lib().nn.SiLU(), self._tensors(x=x), "torch.nn.SiLU")

    def relu6(self, x):
        return self._prepared(self._lib().nn.ReLU6(), self._tensors(x=x), "torch.nn.ReLU6")

    def hardsigmoid(self, x, *, slope=1 / 6, offset=0.5):
        if (float(slope), float(offset)) != (1 / 6, 0.5):
            raise Unsupported(
                "torch.nn.Hardsigmoid has no parameters: it computes relu6(x + 3) / 6 "
                f"(slope 1/6, offset 1/2), not slope={slope!r}, offset={offset!r}"
            )
        module = self._lib().nn.Hardsigmoid()
        return self._prepared(module, self._tensors(x=x), "torch.nn.Hardsigmoid")

    def hardswish(self, x):
        module = self._lib().nn.Hardswish()
        return self._prepared(module, self._tensors(x=x), "torch.nn.Hardswish")

    def conv_transpose2d(
        self, x, w, b=None, *, stride=1, padding=0, output_padding=0, dilation=1, groups=1
    ):
        t = self._tensors(x=x, w=w, b=b)
        name = "torch.nn.ConvTranspose2d"
        pads, extras = transpose_crops(
            np.shape(x)[2:], np.shape(w)[2:], stride, padding, output_padding, dilation
        )
        torch_args = torch_transpose_padding(pads, extras)
        if torch_args is None:
            said = ""
            if isinstance(padding, str):
                refused = self._transpose_refusal(name, np.shape(x), np.shape(w), padding=padding)
                said = f"it takes no padding string ({refused}); "
            raise Unsupported(
                f"{name}: {said}'padding controls the amount of implicit zero padding on both "
                "sides for dilation * (kernel_size - 1) - padding number of points' and "
                "'output_padding controls the additional size added to one side of the output "
                f"shape' ({name} docs), so it cannot crop {pads}: more cells from the "
                "bottom/right than from the top/left"
            )
        torch_padding, torch_output_padding = torch_args
        shapes = np.shape(x), np.shape(w)
        x, w, b = t["x"], t["w"], t["b"]
        kwargs = {
            "stride": pair(stride),
            "padding": torch_padding,
            "output_padding": torch_output_padding,
            "dilation": pair(dilation),
            "groups": groups,
        }
        limits = [max(s, d) for s, d in zip(kwargs["stride"], kwargs["dilation"], strict=True)]
        if any(op >= limit for op, limit in zip(torch_output_padding, limits, strict=True)):
            raise Unsupported(f"{name}: {self._transpose_refusal(name, *shapes, **kwargs)}")
        conv = self._torch.nn.ConvTranspose2d(
            w.shape[0],
            w.shape[1] * groups,
            kernel_size=tuple(w.shape[2:]),
            bias=b is not None,
            dtype=w.dtype,
            **kwargs,
        )
        params = {"w": conv.weight}
        with self._torch.no_grad():
            conv.weight.copy_(w)
            if b is not None:
                conv.bias.copy_(b)
                params["b"] = conv.bias
        return self._prepared(conv, {"x": x}, name, params=params)

    def adaptive_avgpool2d(self, x, *, output_size):
        pool = self._lib().nn.AdaptiveAvgPool2d(pair(output_size))
        return self._prepared(pool, self._tensors(x=x), "torch.nn.AdaptiveAvgPool2d")

    def adaptive_maxpool2d(self, x, *, output_size):
        pool = self._lib().nn.AdaptiveMaxPool2d(pair(output_size))
        return self._prepared(pool, self._tensors(x=x), "torch.nn.AdaptiveMaxPool2d")

    def pad2d(self, x, *, padding, mode="constant", value=0.0):
        t = self._tensors(x=x)
        functional = self._torch.nn.functional
        (top, bottom), (left, right) = padding_pairs(padding, (0, 0), (1, 1), (1, 1))
        pads = (left, right, top, bottom)  # F.pad starts from the last axis
        if mode not in ("constant", "reflect", "replicate", "circular"):
            # The modes F.pad documents; ask torch about any other (a release that adds
            # the mode lifts the refusal by itself).
            try:
                functional.pad(self._torch.zeros(1, 1, 2, 2), (1, 1, 1, 1), mode=mode)
            except Exception as exc:  # torch's own refusal, whatever its type
                raise Unsupported(
                    "torch.nn.functional.pad has the modes 'constant', 'reflect', 'replicate' "
                    f"and 'circular'; mode {mode!r}: {type(exc).__name__}: {exc}"
                ) from None
        # torch refuses a value in the other modes ('Padding mode ... doesn't take in value').
        fill = float(value) if mode == "constant" else None
        pad = lambda x: functional.pad(x, pads, mode=mode, value=fill)  # noqa: E731
        return self._prepared(pad, t, f"torch.nn.functional.pad(mode={mode!r})")

    def _transpose_refusal(self, name: str, x_shape, w_shape, **kwargs) -> str:
        """torch's own error for a ConvTranspose2d call with these shapes and arguments."""
        torch = self._lib()
        groups = kwargs.get("groups", 1)
        channels = (w_shape[0], w_shape[1] * groups, tuple(w_shape[2:]))
        try:
            torch.nn.ConvTranspose2d(*channels, **kwargs)(torch.zeros(tuple(x_shape)))
        except Exception as exc:  # torch's own refusal, whatever its type
            return f"{type(exc).__name__}: {exc}"
        raise AssertionError(f"{name} accepted {kwargs}, which this adapter reports as refused")


def _quiet_same(conv):
    """``conv`` without torch's note that SAME with an even kernel may copy the input (a
    performance note, not a numerical one).  ``__wrapped__`` (``inspect.unwrap``) is the
    module itself, which the ONNX adapters export."""

    def call(x):
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Using padding='same'", category=UserWarning)
            return conv(x)

    call.__wrapped__ = conv
    return call


def _conv_padding(x_shape, w_shape, stride, padding, dilation):
    """The torch.nn.Conv2d ``padding`` argument, or ``Unsupported``."""
    stride = pair(stride)
    if isinstance(padding, str):
        if padding.lower() == "valid":
            return "valid"
        if padding.lower() == "same" and stride == (1, 1):
            return "same"
    pads = padding_pairs(padding, tuple(x_shape[2:]), tuple(w_shape[2:]), stride, pair(dilation))
    if is_symmetric(pads):
        return pads[0][0], pads[1][0]
    if isinstance(padding, str):
        raise Unsupported(
            "torch.nn.Conv2d: padding='same' is not supported for strided convolutions, "
            f"and SAME here needs asymmetric padding {pads}, while an int/tuple padding is "
            "'the amount of implicit padding applied on both sides' (torch.nn.Conv2d docs)"
        )
    raise Unsupported(
        f"torch.nn.Conv2d: padding {pads} is asymmetric; an int/tuple padding is "
        "'the amount of implicit padding applied on both sides' (torch.nn.Conv2d docs)"
    )


def _pool_padding(module, x_shape, kernel_size, stride, padding, dilation):
    """The torch pooling ``padding`` argument (a symmetric pair), or ``Unsupported``."""
    functional = "max_pool2d" if module == "torch.nn.MaxPool2d" else "avg_pool2d"
    kernel = pair(kernel_size)
    dilation = pair(dilation)
    pads = padding_pairs(padding, tuple(x_shape[2:]), kernel, pair(stride or kernel), dilation)
    if not is_symmetric(pads):
        prefix = (
            f"{module}: {functional}(): argument 'padding' (position 4) must be tuple of "
            f"ints, not str; SAME here is the asymmetric padding {pads}"
            if isinstance(padding, str)
            else f"{module}: padding {pads} is asymmetric"
        )
        raise Unsupported(
            f"{prefix}, while torch pads 'implicitly ... on both sides' (torch.nn pooling docs)"
        )
    sym = (pads[0][0], pads[1][0])
    for pad, k, d in zip(sym, kernel, dilation, strict=True):
        effective = (k - 1) * d + 1
        if pad > effective // 2:
            raise Unsupported(
                f"{module}: pad should be at most half of effective kernel size, but got "
                f"pad={pad}, kernel_size={k} and dilation={d}"
            )
    if any(pad > k // 2 for pad, k in zip(sym, kernel, strict=True)):
        raise Unsupported(
            f"{module}: pad should be smaller than or equal to half of kernel size, but got "
            f"padW = {sym[1]}, padH = {sym[0]}, kW = {kernel[1]}, kH = {kernel[0]}"
        )
    return sym
