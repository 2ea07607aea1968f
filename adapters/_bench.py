"""Benchmark plans: each framework's setup done once, and a callable that runs only the op.

``prepare(adapter, layer, inputs, attrs, direction, grad_out=None)`` returns a
``Prepared``:

- ``run()`` is what a benchmark times.  It runs the layer (forward), or the forward pass
  that records the graph plus the backward pass (backward: what a framework needs to turn
  inputs and ``grad_out`` into gradients, which is also what ``reference.<layer>.backward``
  receives), and returns only once the numbers exist: CPU torch, eager TensorFlow and Keras
  on TensorFlow run synchronously and ``.numpy()`` is called on TF results anyway; JAX
  results are ``block_until_ready``-ed.
- ``to_reference(result)`` turns what ``run()`` returned into the reference's layout (the
  forward output, or ``{input name: gradient}``), outside the timed region, so that the
  benchmark can check its own result against the reference.
- ``execution`` says in words how the op runs, for the benchmark's ``extra_info``.

Done once, before timing: converting NumPy arrays to framework tensors (and to NHWC/HWIO
where the framework wants that), building Keras layers with the case's weights, reading
dropout's kept-unit scale, and compiling JAX functions (``jax.jit(...).lower(...).compile()``,
ahead of time, so the first timed call does not compile).

Each framework's op is the one its adapter runs (same plans, same padding rules), except
torch: ``adapters/torch.py`` builds a ``torch.nn`` module per call, so here the module's
forward is called through the ``torch.nn.functional`` op it dispatches to (``nn.Conv2d`` ->
``F.conv2d``, ``nn.MaxPool2d`` -> ``F.max_pool2d``, ...), with the adapter's own padding
rules and weight layout (``Linear.weight`` is (out, in)).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

DIRECTIONS = ("forward", "backward")


@dataclass(frozen=True)
class Prepared:
    run: Callable[[], Any]
    to_reference: Callable[[Any], Any]
    execution: str


def prepare(
    adapter,
    layer: str,
    inputs: Mapping[str, np.ndarray],
    attrs: Mapping[str, Any],
    direction: str,
    grad_out: np.ndarray | None = None,
) -> Prepared:
    """The timed callable for ``adapter`` (a loaded adapter) on one layer and direction."""
    if direction not in DIRECTIONS:
        raise ValueError(f"direction must be 'forward' or 'backward', got {direction!r}")
    if direction == "backward" and grad_out is None:
        raise ValueError("grad_out is required for direction 'backward'")
    builder = _BUILDERS.get(adapter.name)
    if builder is None:
        raise ValueError(f"no benchmark plan for adapter {adapter.name!r}")
    return builder(adapter, layer, dict(inputs), dict(attrs), direction, grad_out)


def _float_dtype(inputs: Mapping[str, np.ndarray]) -> np.dtype:
    for value in inputs.values():
        if value is not None and np.issubdtype(np.asarray(value).dtype, np.floating):
            return np.asarray(value).dtype
    return np.dtype(np.float64)


# --------------------------------------------------------------------------------------
# torch


def _torch(adapter, layer, inputs, attrs, direction, grad_out) -> Prepared:
    from adapters import torch as torch_adapter

    torch = adapter._lib()
    op = _torch_op(adapter, torch, layer, inputs, attrs)
    tensors = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in inputs.items()}
    if layer == "linear":
        tensors["w"] = tensors["w"].T.contiguous()  # reference (in, out) -> torch (out, in)
    if direction == "forward":
        return Prepared(lambda: op(tensors), lambda out: out.numpy(), "eager (torch.nn.functional)")
    keys = [k for k in torch_adapter._GRAD_KEYS.get(layer, ("x",)) if k in tensors]
    for key in keys:
        tensors[key] = tensors[key].clone().requires_grad_(True)
    leaves = [tensors[k] for k in keys]
    dtype = tensors[keys[0]].dtype
    seed = torch.from_numpy(np.array(grad_out, order="C")).to(dtype)  # 0-d stays 0-d

    def run():
        return torch.autograd.grad(op(tensors), leaves, grad_outputs=seed)

    def to_reference(grads):
        out = {k: g.detach().numpy() for k, g in zip(keys, grads, strict=True)}
        if layer == "linear":
            out["w"] = out["w"].T
        return out

    return Prepared(run, to_reference, "eager (torch.nn.functional + torch.autograd.grad)")


def _torch_op(adapter, torch, layer, inputs, attrs) -> Callable[[dict], Any]:
    """``op(tensors)``: the functional call the adapter's ``torch.nn`` module makes."""
    from adapters import torch as torch_adapter
    from adapters._geometry import pair

    F = torch.nn.functional
    if layer == "conv2d":
        padding, _ = torch_adapter._conv_padding(inputs, attrs)
        stride, dilation = pair(attrs.get("stride", 1)), pair(attrs.get("dilation", 1))
        groups = attrs.get("groups", 1)
        return lambda t: F.conv2d(t["x"], t["w"], t.get("b"), stride, padding, dilation, groups)
    if layer in ("maxpool2d", "avgpool2d"):
        padding, _ = torch_adapter._pool_padding(layer, inputs, attrs)
        kernel = attrs["kernel_size"]
        stride = attrs.get("stride") or kernel
        ceil_mode = bool(attrs.get("ceil_mode", False))
        if layer == "maxpool2d":
            dilation = attrs.get("dilation", 1)
            return lambda t: F.max_pool2d(t["x"], kernel, stride, padding, dilation, ceil_mode)
        include = bool(attrs.get("count_include_pad", True))
        divisor = attrs.get("divisor_override")
        return lambda t: F.avg_pool2d(t["x"], kernel, stride, padding, ceil_mode, include, divisor)
    if layer in ("relu", "sigmoid", "tanh"):
        fn = getattr(torch, layer)
        return lambda t: fn(t["x"])
    if layer == "flatten":
        start = attrs.get("start_dim", 1)
        return lambda t: torch.flatten(t["x"], start_dim=start)
    if layer == "softmax":
        axis = attrs.get("axis", -1)
        return lambda t: F.softmax(t["x"], dim=axis)
    if layer == "linear":
        return lambda t: F.linear(t["x"], t["w"], t.get("b"))
    if layer == "cross_entropy":
        reduction = attrs.get("reduction", "mean")
        target = torch.from_numpy(np.ascontiguousarray(inputs["target"]))
        target = target if target.is_floating_point() else target.long()
        return lambda t: F.cross_entropy(t["logits"], target, reduction=reduction)
    if layer == "mse":
        reduction = attrs.get("reduction", "mean")
        return lambda t: F.mse_loss(t["pred"], t["target"], reduction=reduction)
    if layer == "batchnorm2d":
        training, eps = bool(attrs["training"]), attrs.get("eps", 1e-5)
        # Training updates these in place; the output does not read them then.
        running = [torch.from_numpy(inputs[k].copy()) for k in ("running_mean", "running_var")]
        return lambda t: F.batch_norm(t["x"], *running, t["gamma"], t["beta"], training, 0.1, eps)
    if layer == "dropout":
        p = float(attrs["p"])
        if not attrs.get("training", True):
            return lambda t: F.dropout(t["x"], p, training=False)
        dtype = torch.from_numpy(inputs["x"][:0]).dtype
        scale = adapter._dropout_kept_value(p, dtype)
        keep = torch.from_numpy(inputs["mask"]).to(dtype) * scale
        return lambda t: t["x"] * keep
    raise ValueError(f"no torch benchmark plan for layer {layer!r}")


# --------------------------------------------------------------------------------------
# JAX


def _jax(adapter, layer, inputs, attrs, direction, grad_out) -> Prepared:
    jax = adapter._lib()
    with jax.default_device(adapter._cpu):
        fn, primals = adapter._build(layer, inputs, attrs)
        args = tuple(primals.values())
        if direction == "forward":
            compiled = jax.jit(fn).lower(*args).compile()
            return Prepared(
                lambda: compiled(*args).block_until_ready(),
                np.asarray,
                "jax.jit, compiled before timing",
            )
        out = jax.eval_shape(fn, *args)
        seed = jax.numpy.asarray(grad_out, dtype=out.dtype).reshape(out.shape)

        def gradients(cotangent, *values):
            return jax.vjp(fn, *values)[1](cotangent)

        compiled = jax.jit(gradients).lower(seed, *args).compile()
    keys = list(primals)
    return Prepared(
        lambda: jax.block_until_ready(compiled(seed, *args)),
        lambda grads: {k: np.asarray(g) for k, g in zip(keys, grads, strict=True)},
        "jax.jit of jax.vjp, compiled before timing",
    )


# --------------------------------------------------------------------------------------
# tf.nn


def _tensorflow(adapter, layer, inputs, attrs, direction, grad_out) -> Prepared:
    adapter.load()
    tf = adapter.tf
    arrays, fn, to_ref, to_tf = getattr(adapter, f"_build_{layer}")(inputs, attrs)
    tensors = {k: tf.constant(v) for k, v in arrays.items()}
    if direction == "forward":
        return Prepared(lambda: fn(tensors).numpy(), to_ref, "eager")
    seed = tf.constant(to_tf(np.asarray(grad_out)), dtype=_float_dtype(inputs).name)
    keys = list(tensors)
    values = list(tensors.values())

    def run():
        with tf.GradientTape() as tape:
            for value in values:
                tape.watch(value)
            out = fn(tensors)
        return [g.numpy() for g in tape.gradient(out, values, output_gradients=seed)]

    layouts = adapter._grad_layouts(layer, inputs)

    def to_reference(grads):
        return {k: layouts.get(k, _same)(g) for k, g in zip(keys, grads, strict=True)}

    return Prepared(run, to_reference, "eager, tf.GradientTape")


# --------------------------------------------------------------------------------------
# Keras


def _keras(adapter, layer, inputs, attrs, direction, grad_out) -> Prepared:
    from adapters.layout import NCHW_TO_NHWC, NHWC_TO_NCHW

    adapter.load()
    api = adapter.api
    plan = adapter._plan(layer, inputs, attrs)
    tensors = {k: api.tensor(v) for k, v in plan.tensors.items()}
    execution = f"eager (backend {api.backend})"
    if direction == "forward":

        def run():
            return api.numpy(plan.run(tensors, lambda x, **kw: plan.layer(x, **kw)))

        def to_reference(out):
            return out.transpose(NHWC_TO_NCHW) if plan.nhwc else out

        return Prepared(run, to_reference, execution)
    seed = np.asarray(grad_out, dtype=_float_dtype(inputs))
    seed = api.tensor(seed.transpose(NCHW_TO_NHWC) if plan.nhwc else seed)
    names = [*plan.tensors, *plan.weight_names]

    def run():
        return [api.numpy(g) for g in api.vjp(plan, tensors, seed)]

    def to_reference(grads):
        return {
            name: plan.grad_layouts.get(name, _same)(g)
            for name, g in zip(names, grads, strict=True)
        }

    return Prepared(run, to_reference, execution)


# --------------------------------------------------------------------------------------
# SciPy (NumPy in and out: nothing to convert)


def _scipy(adapter, layer, inputs, attrs, direction, grad_out) -> Prepared:
    adapter.load()
    if direction == "forward":
        fn = getattr(adapter, f"_{layer}_forward")
        return Prepared(lambda: fn(**inputs, **attrs), _same, "NumPy in, NumPy out")
    fn = getattr(adapter, f"_{layer}_backward")
    return Prepared(lambda: fn(grad_out, **inputs, **attrs), _same, "NumPy in, NumPy out")


def _same(value):
    return value


_BUILDERS: dict[str, Callable[..., Prepared]] = {
    "torch": _torch,
    "jax": _jax,
    "tensorflow": _tensorflow,
    "keras": _keras,
    "scipy": _scipy,
}
