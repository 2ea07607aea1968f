"""Every layer, declared once, as data (in the manner of PyTorch's OpInfo).

Each module of this package declares the layers of one ``reference`` module in a
``DECLARED`` tuple of ``LayerInfo``: the reference functions (by name), the tolerance
policy, the shared cases, the bad inputs, the fuzz strategy, the benchmark shapes, the
attribute domain the coverage scoreboard reads, and declared skips.  Parity tests,
gradient checks, bad-input tests, fuzzing, benchmarks and the report are generic loops
over ``all_layers()``; adding a layer means adding its reference module, one module
here and one method per adapter that supports it.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import numpy as np

from tests.cases import Case

#: The dtypes every layer is compared in unless its declaration says otherwise.
DTYPES = ("float32", "float64")


@dataclass(frozen=True)
class ErrorInput:
    """A bad input the reference must reject with ``ValueError`` whose message matches
    ``match`` (a regex naming the parameter and the offending value).

    ``direction="backward"`` calls ``backward(grad_out, **inputs, **attrs)``.  Inputs are
    used as given (they may be ragged lists, strings, ...)."""

    id: str
    inputs: Mapping[str, Any]
    match: str
    attrs: Mapping[str, Any] = field(default_factory=dict)
    direction: str = "forward"
    grad_out: Any = None


@dataclass(frozen=True)
class Fuzz:
    """Hypothesis fuzzing of one layer.  ``configs()`` is a strategy of JSON-able
    configurations ``{"attrs": ..., "seed": ..., ...}``; ``inputs(config)`` turns one into
    float64 arrays, deterministically (so a failure's reproduction is its config).
    ``share`` scales the Hypothesis profile's example count for this layer (a layer whose
    configurations are few, e.g. an elementwise activation's, needs fewer)."""

    configs: Callable[[], Any]
    inputs: Callable[[Mapping[str, Any]], dict]
    share: float = 1.0


@dataclass(frozen=True, eq=False)  # hashed by identity: declarations are module constants
class LayerInfo:
    """One layer's declaration.

    - ``name``: the case layer key: a ``reference`` module (``"conv2d"``) or
      ``"<module>.<function>"`` for a module with several operations
      (``"signal.correlate2d"``, whose backward is ``correlate2d_backward``).
    - ``tolerance(direction, inputs, attrs, dtype, grad_out) -> tests.tolerances.Tolerance``:
      the bound for one comparison, computed without the code under judgement.
    - ``cases``: the shared fixtures, seed cases included.
    - ``attributes``: attribute -> the values (or categories, see ``attribute_value``)
      the suite means to exercise; the coverage scoreboard lists what no case reached.
    - ``skips``: adapter name -> reason, for a declared reason not to generate that
      column's tests (a framework limitation that is not a per-case refusal).
    """

    name: str
    tolerance: Callable[..., Any]
    cases: tuple[Case, ...] = ()
    error_inputs: tuple[ErrorInput, ...] = ()
    fuzz: Fuzz | None = None
    bench: tuple[Any, ...] = ()
    attributes: Mapping[str, tuple[Any, ...]] = field(default_factory=dict)
    dtypes: tuple[str, ...] = DTYPES
    skips: Mapping[str, str] = field(default_factory=dict)
    #: attribute -> how to name a case's value in the attribute's domain, where
    #: ``attribute_value`` / ``input_value`` cannot (e.g. hard or soft targets).
    categories: Mapping[str, Callable[[Any], str]] = field(default_factory=dict)

    @property
    def method(self) -> str:
        """The adapter method for this layer (the reference function's name)."""
        return self.name.rpartition(".")[2]

    @property
    def forward(self) -> Callable[..., Any]:
        return reference_functions(self.name)[0]

    @property
    def backward(self) -> Callable[..., Any]:
        return reference_functions(self.name)[1]

    @property
    def input_names(self) -> tuple[str, ...]:
        """The reference forward's array parameters, in signature order."""
        params = inspect.signature(self.forward).parameters.values()
        return tuple(
            p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        )


@cache
def reference_functions(name: str) -> tuple[Callable[..., Any], Callable[..., Any]]:
    """``(forward, backward)`` of the reference for a layer key."""
    module_name, _, function = name.partition(".")
    module = importlib.import_module(f"reference.{module_name}")
    if function:
        return getattr(module, function), getattr(module, f"{function}_backward")
    return module.forward, module.backward


@cache
def _declared() -> dict[str, LayerInfo]:
    found: dict[str, LayerInfo] = {}
    for module in pkgutil.iter_modules(__path__):
        if module.name.startswith("_"):
            continue
        for info in importlib.import_module(f"{__name__}.{module.name}").DECLARED:
            if info.name in found:
                raise ValueError(f"layer {info.name!r} is declared twice")
            found[info.name] = info
    return found


def all_layers() -> list[LayerInfo]:
    """Every declared layer, in declaration-module order."""
    return list(_declared().values())


def get(name: str) -> LayerInfo:
    """The declaration of one layer (``KeyError`` naming the known ones otherwise)."""
    try:
        return _declared()[name]
    except KeyError:
        raise KeyError(f"no layer {name!r} declared; known: {', '.join(_declared())}") from None


def by_method(method: str) -> LayerInfo:
    """The declaration whose adapter method is ``method``."""
    for info in all_layers():
        if info.method == method:
            return info
    raise KeyError(f"no layer declares the adapter method {method!r}")


def all_cases() -> list[Case]:
    """Every shared case of every layer."""
    return [case for info in all_layers() for case in info.cases]


@cache
def _cases_by_id() -> dict[str, Case]:
    cases: dict[str, Case] = {}
    for case in all_cases():
        if case.id in cases:
            raise ValueError(f"duplicate case id {case.id!r}")
        cases[case.id] = case
    return cases


def case(case_id: str) -> Case:
    """One shared case by id."""
    return _cases_by_id()[case_id]


def bench_shape(label: str) -> Any:
    """One declared benchmark shape by its label, ``<layer>-<shape id>``."""
    for info in all_layers():
        for shape in info.bench:
            if shape.label == label:
                return shape
    raise KeyError(f"no benchmark shape {label!r}")


def attribute_value(value: Any) -> str:
    """How the coverage scoreboard names an attribute value: ints, strings, bools and
    None as themselves; a pair of equal ints as the int; an unequal pair as "(h, w)"; a
    per-side padding as "per-side"."""
    if isinstance(value, (tuple, list)):
        if value and all(isinstance(v, (tuple, list)) for v in value):
            return "per-side"
        if len(set(value)) == 1:
            return attribute_value(value[0])
        return "(h, w)"
    if isinstance(value, int) and not isinstance(value, bool) and value > 1:
        return ">1"
    return str(value)


def input_value(value: Any, domain: tuple[str, ...]) -> str:
    """How the coverage scoreboard names an array input that the attribute domain lists
    (conv2d's bias ``b``, cross_entropy's ``target``): "None" when absent; "indices" for an
    integer array when the domain names indices; otherwise "given", or the domain's one
    other category when it has no "given" (cross_entropy's "probabilities")."""
    if value is None:
        return "None"
    if "indices" in domain and np.issubdtype(np.asarray(value).dtype, np.integer):
        return "indices"
    if "given" in domain:
        return "given"
    others = [v for v in domain if v not in ("None", "indices")]
    if len(others) != 1:
        raise ValueError(f"cannot name an input in the domain {domain!r}: add 'given'")
    return others[0]


def case_values(info: LayerInfo, case: Case) -> dict[str, str]:
    """The category of every declared attribute that ``case`` exercises: its own attribute
    value, else the input (``input_value``), else the reference forward's default (a case
    without ``stride`` runs stride 1).  An attribute with no default that the case does
    not give is left out."""
    params = inspect.signature(info.forward).parameters
    values = {}
    for name, domain in info.attributes.items():
        if name in info.categories:
            value = case.attrs.get(name, case.inputs.get(name))
            values[name] = info.categories[name](value)
        elif name in case.attrs:
            values[name] = attribute_value(case.attrs[name])
        elif name in info.input_names:
            values[name] = input_value(case.inputs.get(name), domain)
        elif name in params and params[name].default is not inspect.Parameter.empty:
            values[name] = attribute_value(params[name].default)
    return values


def coverage_domains() -> dict[str, dict]:
    """For the report's coverage scoreboard (plain JSON): per layer, its attribute domain
    and the categories each of its cases exercises."""
    return {
        info.name: {
            "attributes": {name: list(domain) for name, domain in info.attributes.items()},
            "cases": {case.id: case_values(info, case) for case in info.cases},
        }
        for info in all_layers()
        if info.attributes
    }
