"""Network specs as graphs: node names and inputs, the reference forward and backward of a
whole spec, each node's own reference call and tolerance, and the two structural nodes.

A spec's ``layers`` are nodes in order.  Besides the keys described in
tests/networks/models.py, a node may carry:
- ``name``: unique (default: its parameters' prefix, ``"fc1"`` for ``"fc1.w"``, else
  ``f"{op}{index}"``), used in messages and injections;
- ``inputs``: the names of the nodes it reads (default: the previous node; the first node
  reads ``INPUT``, the network's input);
- ``stats``: ``{"running_mean": constant name, "running_var": constant name}`` for
  ``batchnorm2d``, whose ``training`` attribute is the spec's ``mode`` ("train"/"eval");
- ``global``: True on an ``avgpool2d`` whose kernel is the whole feature map: the builders
  write it as the frameworks' global pooling layers.

Two nodes are structure, not reference layers: ``add`` (the residual sum of its inputs)
and ``concat`` (channel concatenation, axis 1), written here as reference compositions.
Their tolerances: ``add`` is one rounding per element (``elementwise`` on ``sum |inputs|``);
``concat`` copies (``exact``).

``constants`` hold what is not trained: dropout keep-masks (``mask``) and batch-norm
running statistics (``stats``).
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping, Sequence

import numpy as np

from tests import tolerances

INPUT = "input"
STRUCTURAL = ("add", "concat")
#: The last node of a spec whose ``output`` is "softmax": the model's output transform.
OUTPUT_SOFTMAX = "output_softmax"


def nodes(spec: Mapping, *, with_output: bool = False) -> list[dict]:
    """The spec's layers with ``name``, ``inputs`` and ``index`` filled in (a copy).  With
    ``with_output`` and ``spec["output"] == "softmax"`` a last ``softmax`` node is added
    (the probabilities a Keras ``Dense(..., activation="softmax")`` returns)."""
    out: list[dict] = []
    seen = {INPUT}
    previous = INPUT
    layers = list(spec["layers"])
    if with_output and spec.get("output") == "softmax":
        softmax = {"op": "softmax", "params": {}, "attrs": {"axis": -1}}
        layers.append(softmax | {"name": OUTPUT_SOFTMAX})
    for index, layer in enumerate(layers):
        name = layer.get("name") or _default_name(layer, index)
        if name in seen:
            raise ValueError(f"layer {index}: name {name!r} is used twice")
        inputs = list(layer.get("inputs") or [previous])
        unknown = [src for src in inputs if src not in seen]
        if unknown:
            raise ValueError(f"layer {index} ({name!r}) reads {unknown}, not an earlier layer")
        if layer["op"] in STRUCTURAL and len(inputs) < 2:
            raise ValueError(f"layer {index} ({name!r}): {layer['op']} needs two inputs or more")
        out.append({"params": {}, "attrs": {}, **layer, "name": name, "inputs": inputs})
        out[-1]["index"] = index
        seen.add(name)
        previous = name
    return out


def _default_name(layer: Mapping, index: int) -> str:
    params = list(layer.get("params", {}).values())
    return params[0].rpartition(".")[0] if params and "." in params[0] else f"{layer['op']}{index}"


def _module(op: str):
    return importlib.import_module(f"reference.{op}")


def call(node: Mapping, inputs: Sequence[np.ndarray], params, constants, mode: str):
    """``(arrays, attrs)`` of the node's reference call on ``inputs`` (its input
    activations in order), in the dtype of the activations."""
    dtype = np.asarray(inputs[0]).dtype
    if node["op"] in STRUCTURAL:
        return {f"x{i}": a for i, a in enumerate(inputs)}, {}
    arrays = {"x": inputs[0]}
    arrays |= {arg: np.asarray(params[name], dtype) for arg, name in node["params"].items()}
    stats = node.get("stats", {})
    arrays |= {arg: np.asarray(constants[name], dtype) for arg, name in stats.items()}
    attrs = dict(node["attrs"])
    if node["op"] == "dropout":
        attrs["mask"] = np.asarray(constants[node["mask"]], dtype)
    if node["op"] == "batchnorm2d":
        attrs["training"] = mode == "train"
    return arrays, attrs


def forward(node: Mapping, arrays: Mapping, attrs: Mapping) -> np.ndarray:
    op = node["op"]
    if op == "add":
        out = arrays["x0"]
        for i in range(1, len(arrays)):
            out = out + arrays[f"x{i}"]
        return out
    if op == "concat":
        return np.concatenate([arrays[f"x{i}"] for i in range(len(arrays))], axis=1)
    return _module(op).forward(**arrays, **attrs)


def backward(node: Mapping, grad: np.ndarray, arrays: Mapping, attrs: Mapping) -> dict:
    """Gradients keyed like ``arrays`` (the differentiable ones)."""
    op = node["op"]
    if op == "add":
        return {k: grad for k in arrays}
    if op == "concat":
        ends = np.cumsum([arrays[f"x{i}"].shape[1] for i in range(len(arrays))])[:-1]
        return {f"x{i}": g for i, g in enumerate(np.split(grad, ends, axis=1))}
    return _module(op).backward(grad, **arrays, **attrs)


def tolerance(node: Mapping, arrays: Mapping, attrs: Mapping, dtype) -> tolerances.Tolerance:
    """The forward tolerance of one node on float64 ``arrays``: the layer's declaration
    (tests/layers) for reference layers, the module docstring's rule for structure."""
    op = node["op"]
    if op == "add":
        magnitude = sum(np.abs(v) for v in arrays.values())
        return tolerances.elementwise(dtype, "y", magnitude, "sum of |inputs| (one rounding)")
    if op == "concat":
        return tolerances.exact(("y",), "concatenation copies")
    from tests import layers

    return layers.get(op).tolerance("forward", arrays, attrs, dtype, None)


def input_arg(node: Mapping, position: int) -> str:
    """The reference argument that carries input ``position`` of a node."""
    return f"x{position}" if node["op"] in STRUCTURAL else "x"


def run(
    spec: Mapping,
    params: Mapping[str, np.ndarray],
    x: np.ndarray,
    constants: Mapping[str, np.ndarray] | None = None,
    *,
    with_output: bool = False,
) -> tuple[dict[str, np.ndarray], list]:
    """The reference forward: ``({node name: activation}, tape)`` with ``INPUT`` -> ``x``;
    the tape holds ``(node, arrays, attrs)`` per node for ``gradients``."""
    constants = constants or {}
    mode = spec.get("mode", "train")
    acts: dict[str, np.ndarray] = {INPUT: x}
    tape = []
    for node in nodes(spec, with_output=with_output):
        arrays, attrs = call(node, [acts[s] for s in node["inputs"]], params, constants, mode)
        acts[node["name"]] = forward(node, arrays, attrs)
        tape.append((node, arrays, attrs))
    return acts, tape


def gradients(tape: list, grad_out: np.ndarray, upstream: dict | None = None) -> dict:
    """Every parameter's gradient, back through ``tape`` from ``grad_out`` at its last
    node; a node read by several others (a residual's skip) sums their gradients.
    ``upstream``, when given, receives each node's output gradient by node name."""
    pending = {tape[-1][0]["name"]: grad_out}
    grads: dict[str, np.ndarray] = {}
    for node, arrays, attrs in reversed(tape):
        grad = pending.pop(node["name"], None)
        if grad is None:
            continue  # the node does not reach the output
        if upstream is not None:
            upstream[node["name"]] = grad
        got = backward(node, grad, arrays, attrs)
        for arg, name in node["params"].items():
            grads[name] = got[arg]
        for position, source in enumerate(node["inputs"]):
            if source == INPUT:
                continue
            g = got[input_arg(node, position)]
            pending[source] = pending[source] + g if source in pending else g
    return grads


def gradient_terms(tape: list, upstream: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Per parameter, the sum of |terms| of its gradient's last reduction: a conv's or
    linear's backward on absolute values (``sum |g| |x|``), batch norm's ``sum |g xhat|``
    (gamma) and ``sum |g|`` (beta).  A gradient that cancels to ~0 (beta before a 1x1
    conv and a training-mode batch norm, which removes any per-channel shift) is judged
    against these, the size of what was summed, not against its own ~0 value."""
    terms: dict[str, np.ndarray] = {}
    for node, arrays, attrs in tape:
        if not node["params"] or node["name"] not in upstream:
            continue
        g = np.abs(upstream[node["name"]])
        if node["op"] == "batchnorm2d":
            x = arrays["x"]
            eps = attrs.get("eps", 1e-5)
            if attrs["training"]:
                mean, var = x.mean(axis=(0, 2, 3)), x.var(axis=(0, 2, 3))
            else:
                mean, var = arrays["running_mean"], arrays["running_var"]
            xhat = (x - mean[None, :, None, None]) / np.sqrt(var + eps)[None, :, None, None]
            sums = {"gamma": np.sum(g * np.abs(xhat), axis=(0, 2, 3)), "beta": g.sum((0, 2, 3))}
        else:
            sums = backward(node, g, {k: np.abs(v) for k, v in arrays.items()}, attrs)
        for arg, name in node["params"].items():
            terms[name] = sums[arg]
    return terms


def reduction_lengths(node: Mapping, arrays: Mapping, attrs: Mapping, output) -> tuple:
    """``(forward, input-gradient, weight-gradient)`` reduction lengths of one node: a
    conv's C/groups*kh*kw, M/groups*kh*kw and N*Ho*Wo; a linear's in, out and N; batch norm's
    N*H*W statistics in training (3 ops in eval); an average pool's window; a transposed
    conv's C_in/groups*kh*kw, C_out/groups*kh*kw and N*H*W; a resize's taps per axis."""
    op, x = node["op"], arrays.get("x")
    if op == "conv2d":
        w = arrays["w"]
        groups = int(attrs.get("groups", 1))
        positions = output.shape[0] * output.shape[2] * output.shape[3]
        taps = w.shape[2] * w.shape[3]
        return w.shape[1] * taps, w.shape[0] // groups * taps, positions
    if op == "conv_transpose2d":
        # Forward: each output cell gathers at most C_in/groups * kh*kw taps (fewer at a
        # stride); the input gradient is a conv over C_out/groups * kh*kw; dw sums N*H*W.
        w = arrays["w"]
        groups = int(attrs.get("groups", 1))
        taps = w.shape[2] * w.shape[3]
        return w.shape[0] // groups * taps, w.shape[1] * taps, x.shape[0] * x.shape[2] * x.shape[3]
    if op == "resize2d":
        # Separable: one weighted sum per axis (2 taps each for linear, 4 for cubic).
        taps = {"linear": 2, "cubic": 4}.get(attrs.get("mode", "nearest"), 1)
        return 2 * taps, 2 * taps, 0
    if op == "linear":
        return x.shape[-1], arrays["w"].shape[1], int(np.prod(x.shape[:-1]))
    if op == "batchnorm2d":
        n = x.shape[0] * x.shape[2] * x.shape[3]
        return (n, n, n) if attrs.get("training") else (3, 3, n)
    if op == "avgpool2d":
        k = attrs["kernel_size"]
        taps = int(np.prod(k if isinstance(k, (tuple, list)) else (k, k)))
        return taps, taps, 0
    if op == "add":
        return 1, 0, 0
    return 0, 0, 0
