"""Hypothesis differential fuzzing: conv2d, maxpool2d, avgpool2d and batchnorm2d in every
framework against the reference, forward and backward.

Hypothesis draws a configuration (shapes, stride, padding in every form -- int, pair,
per-side pairs, "valid", "same" --, dilation, groups, ceil_mode, count_include_pad,
divisor_override, batch-norm mode and eps) and a value seed; ``fuzz_inputs`` turns the
seed into values (tie-free for max pooling: a permutation of distinct dyadic numbers).
A configuration the reference rejects, or the adapter reports unsupported forward, is
discarded with ``assume``; backward is compared wherever the adapter supports it.

Each example's reproduction snippet is attached with ``note()``, so a shrunk failure
prints the lines that rerun it.  Example counts come from the Hypothesis profile loaded
in tests/conftest.py ("ci": derandomized, bounded).
"""

from __future__ import annotations

import numpy as np
import pytest

import adapters
from tests.harness import compare, framework_version, jsonable, unsupported_reason

hypothesis = pytest.importorskip("hypothesis")
st = pytest.importorskip("hypothesis.strategies")
from hypothesis import assume, given, note  # noqa: E402

FUZZ_LAYERS = ("conv2d", "maxpool2d", "avgpool2d", "batchnorm2d")

small = st.integers(1, 3)


@st.composite
def paddings(draw, limit: int):
    """Every padding form the reference accepts, each side in [0, limit]."""
    side = st.integers(0, limit)
    return draw(
        st.one_of(
            side,
            st.tuples(side, side),
            st.tuples(st.tuples(side, side), st.tuples(side, side)),
            st.sampled_from(["valid", "same"]),
        )
    )


def pair_or_int(values):
    return st.one_of(values, st.tuples(values, values))


@st.composite
def configs(draw, layer: str) -> dict:
    """``{"shape": ..., "attrs": ..., "seed": ...}`` for one layer."""
    seed = draw(st.integers(0, 2**32 - 1))
    if layer == "conv2d":
        groups = draw(st.sampled_from([1, 1, 2, 3]))
        shape = {
            "n": draw(st.integers(1, 2)),
            "c": groups * draw(st.integers(1, 2)),
            "m": groups * draw(st.integers(1, 2)),
            "h": draw(st.integers(1, 9)),
            "w": draw(st.integers(1, 9)),
            "kh": draw(st.integers(1, 4)),
            "kw": draw(st.integers(1, 4)),
            "bias": draw(st.booleans()),
        }
        attrs = {
            "stride": draw(pair_or_int(small)),
            "padding": draw(paddings(2)),
            "dilation": draw(pair_or_int(st.integers(1, 2))),
            "groups": groups,
        }
    elif layer in ("maxpool2d", "avgpool2d"):
        shape = {
            "n": draw(st.integers(1, 2)),
            "c": draw(st.integers(1, 2)),
            "h": draw(st.integers(1, 9)),
            "w": draw(st.integers(1, 9)),
        }
        attrs = {
            "kernel_size": draw(pair_or_int(small)),
            "stride": draw(st.one_of(st.none(), pair_or_int(small))),
            "padding": draw(paddings(1)),
            "ceil_mode": draw(st.booleans()),
        }
        if layer == "maxpool2d":
            attrs["dilation"] = draw(pair_or_int(st.integers(1, 2)))
        else:
            attrs["count_include_pad"] = draw(st.booleans())
            attrs["divisor_override"] = draw(st.sampled_from([None, None, None, 3]))
    else:
        shape = {
            "n": draw(st.integers(1, 4)),
            "c": draw(st.integers(1, 3)),
            "h": draw(st.integers(1, 4)),
            "w": draw(st.integers(1, 4)),
            "offset": draw(st.sampled_from([0.0, 2.0, -5.0])),
            "scale": draw(st.sampled_from([0.5, 1.0, 3.0])),
        }
        attrs = {"training": draw(st.booleans()), "eps": draw(st.sampled_from([1e-5, 1e-3]))}
    return {"shape": shape, "attrs": attrs, "seed": seed}


def fuzz_inputs(layer: str, shape: dict, seed: int) -> dict[str, np.ndarray]:
    """The float64 inputs of one fuzz example (deterministic in ``seed``)."""
    rng = np.random.default_rng(seed)
    n, c, h, w = shape["n"], shape["c"], shape["h"], shape["w"]
    if layer == "conv2d":
        raise ValueError("conv2d inputs come from conv_inputs (they need groups)")
    if layer == "maxpool2d":
        size = n * c * h * w
        # Distinct dyadic values (exact in float32): every window has one winner.
        return {"x": (rng.permutation(size).reshape(n, c, h, w) - size / 2) * 0.25}
    if layer == "avgpool2d":
        return {"x": rng.standard_normal((n, c, h, w))}
    return {
        "x": shape["offset"] + shape["scale"] * rng.standard_normal((n, c, h, w)),
        "gamma": rng.uniform(0.5, 1.5, c),
        "beta": rng.standard_normal(c),
        "running_mean": rng.standard_normal(c),
        "running_var": rng.uniform(0.5, 2.0, c),
    }


def conv_inputs(shape: dict, groups: int, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    inputs = {
        "x": rng.standard_normal((shape["n"], shape["c"], shape["h"], shape["w"])),
        "w": rng.standard_normal((shape["m"], shape["c"] // groups, shape["kh"], shape["kw"])),
    }
    if shape["bias"]:
        inputs["b"] = rng.standard_normal(shape["m"])
    return inputs


def make_inputs(layer: str, config: dict) -> dict[str, np.ndarray]:
    if layer == "conv2d":
        return conv_inputs(config["shape"], config["attrs"]["groups"], config["seed"])
    return fuzz_inputs(layer, config["shape"], config["seed"])


def _repro(layer, adapter_name, dtype, direction, config) -> str:
    return (
        "import numpy as np; import adapters\n"
        "from tests.harness import compare\n"
        "from tests.parity.test_fuzz import make_inputs\n"
        f"config = {config!r}\n"
        f"inputs = make_inputs({layer!r}, config)\n"
        f"stats, failure = compare(adapters.load({adapter_name!r}), {layer!r}, "
        f"{direction!r}, inputs, config['attrs'], {dtype!r}, label='fuzz', repro='')\n"
        "print(stats); assert failure is None, failure"
    )


def _reference_accepts(layer, inputs, attrs) -> bool:
    from tests.harness import reference_functions

    try:
        reference_functions(layer)[0](**inputs, **attrs)
    except ValueError:
        return False
    return True


@pytest.mark.fuzz
@pytest.mark.parametrize(
    ("layer", "adapter_name"),
    [
        pytest.param(layer, name, id=f"{layer}-{name}")
        for layer in FUZZ_LAYERS
        for name in adapters.names()
    ],
)
def test_fuzz(request, layer, adapter_name):
    adapter = adapters.load(adapter_name)
    if isinstance(adapter, str):
        pytest.skip(f"{adapter_name} not installed: {adapter}")
    worst = {"forward": None, "backward": None}
    counts = {"forward": 0, "backward": 0}
    reasons: set[str] = set()

    @given(config=configs(layer), dtype=st.sampled_from(["float32", "float64"]))
    def check(config, dtype):
        inputs = make_inputs(layer, config)
        attrs = config["attrs"]
        assume(_reference_accepts(layer, inputs, attrs))
        if unsupported_reason(adapter, layer, "forward", inputs, attrs, dtype):
            reasons.add(unsupported_reason(adapter, layer, "forward", inputs, attrs, dtype))
            assume(False)
        for direction in ("forward", "backward"):
            if unsupported_reason(adapter, layer, direction, inputs, attrs, dtype):
                continue
            repro = _repro(layer, adapter_name, dtype, direction, config)
            note(f"reproduce with:\n{repro}")
            stats, failure = compare(
                adapter,
                layer,
                direction,
                inputs,
                attrs,
                dtype,
                label=f"fuzz {layer}-{adapter_name}-{dtype}-{direction}",
                repro=repro,
            )
            counts[direction] += 1
            best = worst[direction]
            if best is None or (stats["err_to_bound"] or 0) > (best["err_to_bound"] or 0):
                worst[direction] = {
                    **stats,
                    "attrs": jsonable(attrs),
                    "repro": repro,
                    "dtype": dtype,
                }
            if failure is not None:
                raise failure

    if _never_supported(adapter, layer):
        reason = _never_supported(adapter, layer)
        pytest.skip(f"unsupported by {adapter_name}: {reason}")
    try:
        check()
    finally:
        for direction, stats in worst.items():
            if stats is None:
                continue
            record = {
                "layer": layer,
                "case": "fuzz",
                "adapter": adapter_name,
                "framework_version": framework_version(adapter),
                "dtype": stats["dtype"],
                "direction": direction,
                "provenance": "hypothesis (tests/parity/test_fuzz.py)",
                "unsupported": None,
                "examples": counts[direction],
                **{
                    k: stats.get(k)
                    for k in (
                        "max_abs_err",
                        "max_rel_err",
                        "err_to_bound",
                        "tolerance",
                        "kind",
                        "attrs",
                        "shapes",
                        "repro",
                    )
                },
            }
            request.node.user_properties.append(("parity", record))


def _never_supported(adapter, layer) -> str | None:
    """The adapter's reason when it cannot run the layer's plainest configuration."""
    plain = {
        "conv2d": ({"x": np.zeros((1, 1, 3, 3)), "w": np.zeros((1, 1, 2, 2))}, {}),
        "maxpool2d": ({"x": np.zeros((1, 1, 4, 4))}, {"kernel_size": 2}),
        "avgpool2d": ({"x": np.zeros((1, 1, 4, 4))}, {"kernel_size": 2}),
        "batchnorm2d": (
            fuzz_inputs(
                "batchnorm2d", {"n": 2, "c": 1, "h": 2, "w": 2, "offset": 0.0, "scale": 1.0}, 0
            ),
            {"training": True},
        ),
    }[layer]
    return unsupported_reason(adapter, layer, "forward", plain[0], plain[1], "float32")
