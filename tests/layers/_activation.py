"""What the activation declarations of issue 17 share (leaky_relu, elu, gelu, silu,
relu6, hardsigmoid, hardswish): input makers for their cases, the benchmark shapes and
the fuzz strategy of the layers with an attribute family (negative_slope, alpha,
approximate, slope / offset).

Every case is small (at most 128 values): these layers are elementwise, so size adds
nothing but time.  Cases tagged "kink" put exact kink values (0, 6, +-3, -0.0) among
random ones; the others keep every value at least 0.05 away from the layer's kinks, so
central differences (step 1e-6) never straddle one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from tests.cases import generated
from tests.layers import ErrorInput, Fuzz
from tests.layers._bench import per_batch

KINK = frozenset({"kink"})
NCHW = (2, 3, 4, 4)


def away_from(kinks: Sequence[float], low: float, high: float, shape=NCHW, gap: float = 0.05):
    """Uniform values in [low, high), each moved to at least ``gap`` from every kink."""

    def make(rng: np.random.Generator) -> dict[str, np.ndarray]:
        x = rng.uniform(low, high, shape)
        for kink in kinks:
            near = np.abs(x - kink) < gap
            x[near] = kink + np.where(x[near] >= kink, gap, -gap)
        return {"x": x}

    return make


def with_kinks(kinks: Sequence[float], low: float, high: float, shape=(3, 8)):
    """Uniform values in [low, high) with the kinks (and -0.0 when 0 is one) written over
    the first entries, so every kink appears exactly."""

    def make(rng: np.random.Generator) -> dict[str, np.ndarray]:
        x = rng.uniform(low, high, shape)
        exact = [*kinks, *([-0.0] if 0.0 in kinks else [])]
        x.flat[: len(exact)] = exact
        return {"x": x}

    return make


def large(low: float = 20.0, high: float = 1e4, shape=(2, 8)):
    """|x| log-uniform in [low, high], both signs: where exp(|x|) overflows float32 (88.7)
    and float64 (709.8), and where every saturating activation is flat."""

    def make(rng: np.random.Generator) -> dict[str, np.ndarray]:
        size = np.exp(rng.uniform(np.log(low), np.log(high), shape))
        return {"x": size * rng.choice([-1.0, 1.0], shape)}

    return make


def flushed(value, dtype):
    """CPU kernels flush subnormal intermediates to zero (FTZ/DAZ): a factor below
    tiny(dtype) may become 0, an absolute error of up to tiny, i.e. tiny/eps in the
    elementwise bound's units (ULPS * eps * magnitude)."""
    info = np.finfo(np.dtype(dtype))
    return np.where(value < info.tiny, float(info.tiny) / float(info.eps), 0.0)


def joined(*makers, shape=(2, 4, 4, 4)):
    """The makers' values side by side, reshaped to ``shape``: one case covers several
    value ranges (every extra case costs a compilation per dtype and direction in JAX)."""

    def make(rng: np.random.Generator) -> dict[str, np.ndarray]:
        return {"x": np.concatenate([m(rng)["x"].ravel() for m in makers]).reshape(shape)}

    return make


def case(case_id: str, layer: str, seed: int, make, note: str = "", kink: bool = False, **attrs):
    return generated(
        case_id, layer, seed, make, note=note, tags=KINK if kink else frozenset(), **attrs
    )


def bench(layer: str, attrs: Mapping[str, Any] | None = None):
    """MNIST-sized (n, 1, 28, 28) inputs at batch 32 and 128, as relu/sigmoid/tanh."""
    return per_batch(layer, lambda n: {"x": ((n, 1, 28, 28), "normal")}, attrs)


def fuzz(attrs: Callable[[], Any] | None = None) -> Fuzz:
    """Shapes of 1 to 4 dimensions (at most 4 per axis), values N(0, 1) scaled by 10^k,
    k in [-3, 4], and the layer's attributes from ``attrs()`` (a strategy of dicts; none
    when omitted).  Random values never hit a kink exactly (in float32 either)."""

    def configs():
        from hypothesis import strategies as st

        from tests.layers._fuzz import seeds

        return st.fixed_dictionaries(
            {
                "shape": st.lists(st.integers(1, 4), min_size=1, max_size=4),
                "scale": st.integers(-3, 4),
                "seed": seeds(),
                "attrs": attrs() if attrs is not None else st.just({}),
            }
        )

    def inputs(config):
        rng = np.random.default_rng(config["seed"])
        x = rng.standard_normal(tuple(config["shape"])) * 10.0 ** config["scale"]
        return {"x": x}

    # An elementwise layer's configurations are a slope or a form, not a geometry: 40 %
    # of the profile's examples (6 of ci's 15), each compiled afresh by JAX.
    return Fuzz(configs, inputs, share=0.4)


def grad_shape_error(layer: str, **attrs) -> ErrorInput:
    """A grad_out whose shape is not the output's, which every elementwise layer rejects."""
    return ErrorInput(
        f"{layer}_grad_shape",
        {"x": np.zeros(4)},
        r"grad_out shape \(3,\).*\(4,\)",
        attrs,
        direction="backward",
        grad_out=np.zeros(3),
    )


def string_dtype_error(layer: str, **attrs) -> ErrorInput:
    """x that is not a real numeric array."""
    return ErrorInput(f"{layer}_string_dtype", {"x": np.array(["a"])}, r"x .*dtype <U1", attrs)
