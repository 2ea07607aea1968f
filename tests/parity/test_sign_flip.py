"""A sign error in any reference forward or backward fails parity on its own.

For every declared layer, the reference's forward is negated (and, separately, each of
its backward outputs), and that wrong oracle is compared through ``tests.harness.compare``
with implementations that are right: every installed framework adapter that has the
layer, and ``tests.independent.Independent``, a second implementation written from the
definitions for the reduction layers whose bounds once came from the reference itself.
Every case whose reference output is not all zero, in the first implementation that can
run it without a declared divergence, must fail; each (layer, output) must have at least
one such case.  This holds only because no bound moves with the oracle: conv2d's bound
was once ``conv2d.forward(|x|, |w|)``, so a negated reference gave a negative bound and
a negative error/bound that passed.
"""

from __future__ import annotations

import dataclasses
from functools import cache

import numpy as np
import pytest

import adapters
from adapters.base import Unsupported
from tests import known_divergences, layers
from tests.harness import ParityError, as_float64, cast, compare
from tests.independent import Independent
from tests.layers import LayerInfo

#: Lighter frameworks first: one implementation that runs a case is enough.
_ORDER = ("torch", "scipy", "jax", "tensorflow", "keras")


@dataclasses.dataclass(frozen=True, eq=False)
class _Negated(LayerInfo):
    """``info`` whose reference returns ``-value`` for one output key ("y" or a gradient)."""

    negate: str = "y"

    @property
    def forward(self):
        forward = layers.reference_functions(self.name)[0]
        if self.negate != "y":
            return forward
        return lambda *a, **k: -np.asarray(forward(*a, **k))

    @property
    def backward(self):
        backward = layers.reference_functions(self.name)[1]

        def negated(*a, **k):
            grads = dict(backward(*a, **k))
            if self.negate in grads:
                grads[self.negate] = -np.asarray(grads[self.negate])
            return grads

        return backward if self.negate == "y" else negated


def negated(info: LayerInfo, key: str) -> _Negated:
    fields = {f.name: getattr(info, f.name) for f in dataclasses.fields(LayerInfo)}
    return _Negated(**fields, negate=key)


# ------------------------------------------------------------------------------------------


@cache
def _installed() -> tuple:
    found = []
    for name in sorted(adapters.names(), key=lambda n: (*_ORDER, n).index(n)):
        try:
            found.append((name, adapters.load(name)))
        except adapters.FrameworkMissing:
            continue
    return tuple(found)


def _implementations(info: LayerInfo):
    if hasattr(Independent, info.method):
        yield "independent", Independent()
    for name, adapter in _installed():
        if adapters.supports(name, info.method) and name not in info.skips:
            yield name, adapter


def _outputs(info: LayerInfo, case, direction: str) -> dict:
    ref = as_float64(cast(case.inputs, "float64"))
    y = info.forward(**ref, **case.attrs)
    if direction == "forward":
        return {"y": y}
    return info.backward(np.ones_like(y), **ref, **case.attrs)


def _keys():
    for info in layers.all_layers():
        yield pytest.param(info, "forward", "y", id=f"{info.name}-forward")
        keys = sorted({k for case in info.cases for k in _outputs(info, case, "backward")})
        for key in keys:
            yield pytest.param(info, "backward", key, id=f"{info.name}-backward-{key}")


@pytest.mark.parametrize(("info", "direction", "key"), list(_keys()))
def test_a_negated_reference_fails_parity(info, direction, key):
    wrong = negated(info, key)
    # float64 first; float32 where no installed implementation computes the layer in
    # float64 (Keras 3.3's losses take no dtype and compute in floatx).
    for dtype in ("float64", "float32"):
        judged, passed = _judge(info, wrong, direction, key, dtype)
        if judged:
            break
    if judged == 0 and next(_implementations(info), None) is None:
        pytest.skip(f"no implementation of {info.name} is installed")
    assert judged > 0, f"no case of {info.name} shows a negated {direction} [{key}]"
    assert not passed, f"a negated reference passed parity: {passed}"


def _judge(info, wrong, direction: str, key: str, dtype: str) -> tuple[int, list[str]]:
    """How many cases an implementation judged with ``wrong`` as the reference, and the
    labels of those it passed."""
    judged, passed = 0, []
    for case in info.cases:
        if key not in _outputs(info, case, direction):
            continue
        for name, implementation in _implementations(info):
            if known_divergences.find(info.name, case.id, name, dtype, direction):
                continue
            label = f"{info.name}-{case.id}-{name}-{dtype}-{direction}-negated-{key}"
            try:
                stats, failure = compare(
                    implementation, wrong, direction, case.inputs, case.attrs, dtype,
                    label=label, repro="",
                )  # fmt: skip
            except Unsupported:
                continue
            value = stats["outputs"].get(key)
            if value is None or value["err_to_bound"] is None:
                # No gradient here, or no ratio (the comparison failed on its dtype, as
                # Keras' demoted float64 does): this implementation cannot show it.
                continue
            if stats["outputs"][key]["max_abs_err"] == 0.0:
                break  # the reference's value is zero there: negation does not show
            judged += 1
            if not isinstance(failure, ParityError) or value["err_to_bound"] <= 1.0:
                passed.append(label)
            break  # one implementation per case is enough
    return judged, passed
