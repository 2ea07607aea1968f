"""Which layer diverges?  Layer-by-layer localization of a whole network.

The reference runs the network in float64 (on float32-rounded weights and data) and keeps
every activation.  A framework network shows its stages (tests/networks/stages.py: one
framework layer, or an idiom of a few, computing one or more consecutive reference
nodes).  For every stage two comparisons are recorded:

- isolated (as nobuco validates a converted layer): the framework's own layer object is
  fed the reference's activation entering the stage, cast to float32, and its output is
  compared with the reference's on the same float32 values, under that layer's declared
  tolerance (``tests.layers.get(op).tolerance``; ``graph.tolerance`` for add/concat), the
  rigorous and the tight bound both, as the parity harness judges one layer.  A stage of
  several nodes carries the first node's bound through the later ones: ReLU, ReLU6,
  flatten and (scaled) dropout pass an elementwise error on unchanged (they are
  1-Lipschitz elementwise; dropout scales by 1/(1-p)); max and average pooling pass on the
  largest; softmax passes on half the largest (each softmax output moves by at most
  ``sum_j |J_ij| = 2 p_i (1 - p_i) <= 1/2`` times the largest input change).  Each node
  adds its own bound.  The error/bound ratio is the stage's.
- propagated (as CRADLE tracks a deviation through the graph): the framework's own
  activations from its own forward against the reference's, as ``max |diff| / max
  |reference|`` and as error/bound with the whole-network bound at that depth, ``SAFETY *
  eps32 * n * max |reference|``, n the summed reduction lengths on the longest path to the
  node (``graph.reduction_lengths``), the bound tests/networks/test_networks.py applies to
  the output.

The divergence is the first stage whose isolated comparison fails.  It is explained when a
conventions row's change to the reference call (tests/networks/explain.py) reproduces the
framework's output within the same bound; the message then names the row.  Otherwise the
message gives the stage, its attributes, the worst element and a reproduction.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from tests.harness import error_stats
from tests.networks import explain, graph
from tests.networks.stages import Stage
from tests.tolerances import SAFETY, eps

DTYPE = "float32"


class Reference:
    """The reference side of a localization: a spec (tests/networks/graph.py), float64
    parameters and constants, and the float64 input (all already float32-rounded)."""

    def __init__(self, name: str, spec: Mapping, params, constants, x):
        self.name, self.spec = name, spec
        self.params = {k: np.asarray(v, np.float64) for k, v in params.items()}
        self.constants = {k: np.asarray(v, np.float64) for k, v in (constants or {}).items()}
        self.x = np.asarray(x, np.float64)
        self.mode = spec.get("mode", "train")
        self.nodes = {n["name"]: n for n in graph.nodes(spec, with_output=True)}
        self.order = list(self.nodes)
        self.acts, tape = graph.run(spec, self.params, self.x, self.constants, with_output=True)
        self.path: dict[str, int] = {graph.INPUT: 0}
        for node, arrays, attrs in tape:
            own = graph.reduction_lengths(node, arrays, attrs, self.acts[node["name"]])[0]
            self.path[node["name"]] = max(self.path[s] for s in node["inputs"]) + own

    def stage(self, names: Sequence[str], inputs: Sequence[np.ndarray], change=None):
        """``(expected, bound, tight)`` of the nodes ``names`` run in order on float64
        ``inputs`` (module docstring); ``change = (node name, arrays, attrs)`` replaces
        that node's call (an explanation's alternative)."""
        bound = tight = None
        values = list(inputs)
        for name in names:
            node = self.nodes[name]
            arrays, attrs = graph.call(node, values, self.params, self.constants, self.mode)
            if change is not None and change[0] == name:
                arrays, attrs = change[1], change[2]
            y = graph.forward(node, arrays, attrs)
            policy = graph.tolerance(node, arrays, attrs, DTYPE)
            own = np.broadcast_to(np.asarray(policy.bounds["y"], np.float64), y.shape)
            own_tight = np.broadcast_to(np.asarray(policy.tight_bounds["y"], np.float64), y.shape)
            if bound is None:
                bound, tight = own, own_tight
            else:
                bound = _carry(node, attrs, bound, y.shape) + own
                tight = _carry(node, attrs, tight, y.shape) + own_tight
            values = [y]
        return values[0], bound, tight

    def call_of(self, name: str, inputs: Sequence[np.ndarray]):
        return graph.call(self.nodes[name], list(inputs), self.params, self.constants, self.mode)

    def input_map_shape(self, name: str):
        """(C, H, W) of the map flattened into a linear node's input, else None."""
        source = self.nodes[name]["inputs"][0]
        if source == graph.INPUT or self.nodes[source]["op"] != "flatten":
            return None
        before = self.acts[self.nodes[source]["inputs"][0]]
        return tuple(before.shape[1:]) if before.ndim == 4 else None


def _carry(node, attrs, bound, shape):
    """An earlier node's bound after ``node`` (module docstring)."""
    op = node["op"]
    if op in ("relu", "relu6"):
        return bound
    if op == "flatten":
        return np.reshape(bound, shape)
    if op == "dropout":
        return bound * attrs["mask"] / (1.0 - attrs["p"])
    if op in ("maxpool2d", "avgpool2d"):
        return np.full(shape, np.max(bound))
    if op == "softmax":
        return np.full(shape, 0.5 * np.max(bound))
    raise ValueError(f"a stage folds {op!r} after another node: no error carry-over for it")


@dataclass
class LayerResult:
    """One stage's two comparisons (module docstring)."""

    index: int  # the reference index (depth) of the stage's last node
    nodes: tuple[str, ...]
    ops: str
    label: str
    isolated: float
    isolated_tight: float
    passed: bool
    propagated: float
    propagated_rel: float
    worst: dict = field(default_factory=dict)
    problem: str = ""
    explanation: dict | None = None

    def describe(self) -> str:
        head = f"layer {self.index} ({self.label})"
        if self.problem:
            return f"{head}: {self.problem}"
        if self.explanation:
            e = self.explanation
            return f"{head}: {e['detail']}, see conventions row {e['row']}"
        w = self.worst
        return (
            f"{head}: isolated error/bound {self.isolated:.3g} (tight {self.isolated_tight:.3g}); "
            f"worst at {w.get('index')}: framework {w.get('actual')!r}, reference "
            f"{w.get('expected')!r}, bound {w.get('bound'):.3g}; reference {self.ops} "
            f"attributes {w.get('attrs')}"
        )


@dataclass
class Localization:
    network: str
    framework: str
    layers: list[LayerResult]
    repro: str = ""

    @property
    def divergence(self) -> LayerResult | None:
        return next((layer for layer in self.layers if not layer.passed), None)

    @property
    def failures(self) -> list[LayerResult]:
        return [layer for layer in self.layers if not layer.passed]

    def message(self) -> str:
        first = self.divergence
        if first is None:
            return f"{self.network} ({self.framework}): every layer within its own bound"
        text = f"{self.network} ({self.framework}): the divergence is {first.describe()}"
        if not first.explanation and self.repro:
            text += f"\n  reproduce with:\n    {self.repro}"
        return text

    def record(self) -> dict:
        """The ``localization`` field of a network record (reports/tables.py draws it)."""
        first = self.divergence
        return {
            "layers": [
                {
                    "index": r.index,
                    "nodes": list(r.nodes),
                    "ops": r.ops,
                    "label": r.label,
                    "isolated": r.isolated,
                    "isolated_tight": r.isolated_tight,
                    "propagated": r.propagated,
                    "propagated_rel": r.propagated_rel,
                    "passed": r.passed,
                }
                for r in self.layers
            ],
            "divergence": None
            if first is None
            else {
                "index": first.index,
                "label": first.label,
                "row": (first.explanation or {}).get("row"),
                "message": self.message(),
            },
        }


def localize(
    ref: Reference, framework: str, stages: Sequence[Stage], activations: Callable, repro=""
) -> Localization:
    """Both comparisons for every stage; ``activations(x float32)`` is the framework's own
    forward, ``{node name: output in the reference layout}`` for the stages' last nodes."""
    own = activations(ref.x.astype(DTYPE))
    results = []
    for stage in stages:
        result = _isolated(ref, stage)
        _propagated(ref, stage, own, result)
        results.append(result)
    return Localization(ref.name, framework, results, repro)


def _isolated(ref: Reference, stage: Stage) -> LayerResult:
    first, last = ref.nodes[stage.nodes[0]], stage.nodes[-1]
    cast = [ref.acts[s].astype(DTYPE) for s in first["inputs"]]
    inputs = [c.astype(np.float64) for c in cast]
    expected, bound, tight = ref.stage(stage.nodes, inputs)
    result = LayerResult(
        index=ref.order.index(last),
        nodes=tuple(stage.nodes),
        ops="+".join(ref.nodes[n]["op"] for n in stage.nodes),
        label=stage.label,
        isolated=np.inf,
        isolated_tight=np.inf,
        passed=False,
        propagated=np.nan,
        propagated_rel=np.nan,
    )
    try:
        got = np.asarray(stage.call(*cast))
    except Exception as exc:  # the framework layer refuses the reference's activation
        result.problem = f"the framework layer raised {type(exc).__name__}: {exc}"
        return result
    if got.shape != expected.shape or got.dtype != np.dtype(DTYPE):
        result.problem = (
            f"output shape {got.shape} dtype {got.dtype}, reference shape {expected.shape} "
            f"dtype {DTYPE}"
        )
        return result
    stats = error_stats(got, expected, bound, DTYPE, tight)
    result.isolated, result.isolated_tight = stats["err_to_bound"], stats["err_to_tight"]
    result.passed = bool(stats["err_to_bound"] <= 1.0 and stats["err_to_tight"] <= 1.0)
    if not result.passed:
        at = "worst" if stats["err_to_bound"] > 1.0 else "tight"
        index = stats["worst_index"] if at == "worst" else stats["tight_index"]
        _, attrs = ref.call_of(stage.nodes[0], inputs)
        result.worst = {
            "index": tuple(int(i) for i in index),
            "actual": stats[f"{at}_actual"],
            "expected": stats[f"{at}_expected"],
            "bound": stats[f"{at}_bound"],
            "attrs": {k: v for k, v in attrs.items() if not isinstance(v, np.ndarray)},
        }
        result.explanation = _explain(ref, stage, inputs, got)
    return result


def _explain(ref: Reference, stage: Stage, inputs, got) -> dict | None:
    """The first conventions row whose change reproduces ``got`` (explain.py)."""
    for position, name in enumerate(stage.nodes):
        node = ref.nodes[name]
        options = explain.candidates(node["op"])
        if not options:
            continue
        node_inputs = inputs
        if position:  # the inputs of a later node in the stage: the reference's own
            node_inputs = [ref.stage(stage.nodes[:position], inputs)[0]]
        arrays, attrs = ref.call_of(name, node_inputs)
        context = {"input_map_shape": ref.input_map_shape(name)}
        for candidate in options:
            for alt_arrays, alt_attrs, detail in candidate.alternatives(
                node, arrays, attrs, context
            ):
                try:
                    want, bound, tight = ref.stage(
                        stage.nodes, inputs, change=(name, alt_arrays, alt_attrs)
                    )
                except ValueError:
                    continue  # the alternative is not a valid call here
                if want.shape != got.shape:
                    continue
                stats = error_stats(got, want, bound, DTYPE, tight)
                if stats["err_to_bound"] <= 1.0 and stats["err_to_tight"] <= 1.0:
                    return {"row": candidate.row, "what": candidate.what, "detail": detail}
        return None
    return None


def _propagated(ref: Reference, stage: Stage, own: Mapping, result: LayerResult) -> None:
    last = stage.nodes[-1]
    want = ref.acts[last]
    got = own.get(last)
    if got is None or np.shape(got) != want.shape:
        result.propagated = result.propagated_rel = np.inf
        return
    diff = float(np.max(np.abs(np.asarray(got, np.float64) - want)))
    scale = float(np.max(np.abs(want))) if want.size else 0.0
    bound = SAFETY[DTYPE] * eps(DTYPE) * max(ref.path[last], 1) * scale
    result.propagated_rel = diff / scale if scale > 0 else (0.0 if diff == 0 else np.inf)
    result.propagated = diff / bound if bound > 0 else (0.0 if diff == 0 else np.inf)


# -- the shipped networks -----------------------------------------------------------------


def network_reference(name: str) -> Reference:
    """The reference of network ``name`` (tests/networks/models.py), float32-rounded."""
    from tests.networks import models

    def rounded(arrays):
        return {k: np.asarray(v, DTYPE).astype(np.float64) for k, v in arrays.items()}

    x, _ = models.data(name)
    spec = models.NETWORKS[name]
    params, constants = rounded(models.init_params(name)), rounded(models.constants(name))
    return Reference(name, spec, params, constants, np.asarray(x, DTYPE).astype(np.float64))


def builder(framework: str):
    """The network builder module of ``framework`` ("torch" or "keras")."""
    if framework == "torch":
        from tests.networks import torch_models as module
    elif framework == "keras":
        from tests.networks import keras_models as module
    else:
        raise ValueError(f"framework must be 'torch' or 'keras', got {framework!r}")
    return module


def localize_network(name: str, framework: str, overrides: Mapping | None = None):
    """Localize network ``name`` built in ``framework`` (with ``overrides``: a porting
    user's variant of some nodes, see the builders' docstrings)."""
    ref = network_reference(name)
    f32 = {k: v.astype(DTYPE) for k, v in ref.params.items()}
    consts = {k: v.astype(DTYPE) for k, v in ref.constants.items()}
    net = builder(framework).build(ref.spec, f32, ref.x.shape, DTYPE, consts, overrides)
    repro = (
        'python -c "from tests.networks.localize import localize_network; '
        f'print(localize_network({name!r}, {framework!r}, {dict(overrides or {})!r}).message())"'
    )
    return localize(ref, framework, net.stages(), net.activations, repro)
