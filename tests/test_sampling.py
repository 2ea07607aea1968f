"""The default sample of the built-in adapters (tests/sampling.py): it reaches every
layer in every dtype, every attribute category in float32, every ceil-mode case and
every declared divergence; everything else skips with the reason, and --full runs it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

import adapters
from tests import known_divergences, layers, sampling

SLOW = [name for name in adapters.ADAPTERS if sampling.slow_setup(name)]
SAMPLED = [name for name in adapters.ADAPTERS if sampling.sampled(name)]


def _onnx_layers(name):
    return [info for info in layers.all_layers() if adapters.supports(name, info.method)]


@pytest.mark.parametrize("name", SLOW)
def test_a_slow_adapter_samples_each_layers_first_case(name):
    for info in _onnx_layers(name):
        for dtype in info.dtypes:
            assert info.cases[0].id in sampling.default_cases(info.name, dtype, name)


def test_the_onnx_adapters_are_sampled():
    assert {"onnxruntime", "onnx_reference"} <= set(SLOW)
    assert sampling.slow_setup("torch") is None


@pytest.mark.parametrize("name", [n for n in SAMPLED if n not in SLOW])
def test_sample_reaches_every_layer_dtype_and_attribute_category(name):
    for info in _onnx_layers(name):
        for dtype in info.dtypes:
            chosen = sampling.default_cases(info.name, dtype, name)
            assert info.cases[0].id in chosen, (info.name, dtype)
        chosen = sampling.default_cases(info.name, info.dtypes[0], name)
        every = {item for case in info.cases for item in layers.case_values(info, case).items()}
        reached = {
            item
            for case in info.cases
            if case.id in chosen
            for item in layers.case_values(info, case).items()
        }
        assert reached == every, info.name


@pytest.mark.parametrize("name", SAMPLED)
def test_sample_holds_every_always_sampled_case_and_declared_divergence(name):
    # The ONNX adapters always sample ceil_mode=True; LiteRT names no attribute.
    always = getattr(type(adapters.get(name)), "always_sample", {})
    for info in _onnx_layers(name):
        first = sampling.default_cases(info.name, info.dtypes[0], name)
        for case in info.cases:
            if any(case.attrs.get(k, object()) == v for k, v in always.items()):
                assert case.id in first, case.id
            for dtype in info.dtypes:
                if known_divergences.find(info.name, case.id, name, dtype, "forward"):
                    assert case.id in sampling.default_cases(info.name, dtype, name)


@dataclass
class _CallSpec:
    params: dict[str, Any]


@dataclass
class _Item:
    originalname: str
    callspec: _CallSpec
    markers: list = field(default_factory=list)

    def add_marker(self, marker) -> None:
        self.markers.append(marker)


class _Config:
    def __init__(self, full: bool) -> None:
        self.full = full

    def getoption(self, name, default=None):
        return self.full if name == "full" else default


def _items():
    info = layers.get("conv2d")
    inside = sorted(sampling.default_cases("conv2d", "float32", "onnxruntime"))[0]
    outside = next(c.id for c in info.cases if c.id not in sampling.default_cases(
        "conv2d", "float32", "onnxruntime"
    ))  # fmt: skip
    parity = {"dtype": "float32", "direction": "forward"}
    return {
        "inside": _Item("test_parity", _CallSpec({**parity, "case_id": inside,
                                                  "adapter_name": "onnxruntime"})),
        "outside": _Item("test_parity", _CallSpec({**parity, "case_id": outside,
                                                   "adapter_name": "onnxruntime"})),
        "torch": _Item("test_parity", _CallSpec({**parity, "case_id": outside,
                                                 "adapter_name": "torch"})),
        "torch_fuzz": _Item("test_fuzz", _CallSpec({"layer": "conv2d", "adapter_name": "torch"})),
        "jax_fuzz": _Item("test_fuzz", _CallSpec({"layer": "conv2d", "adapter_name": "jax"})),
        "candidate": _Item("test_parity", _CallSpec({**parity, "case_id": outside,
                                                     "adapter_name": "my_layers"})),
        "fuzz": _Item("test_fuzz", _CallSpec({"layer": "conv2d",
                                              "adapter_name": "onnx_reference"})),
        "bench": _Item("test_layer_benchmark", _CallSpec({"name": "onnxruntime"})),
        "other": _Item("test_blocked_framework_skips_its_adapter_with_the_reason",
                       _CallSpec({"adapter": "onnxruntime"})),
    }  # fmt: skip


def test_outside_the_sample_skips_with_the_reason(monkeypatch):
    monkeypatch.delenv("CNN_PARITY_FULL", raising=False)
    items = _items()
    sampling.skip_outside_sample(_Config(full=False), list(items.values()))
    skipped = {key for key, item in items.items() if item.markers}
    # Every built-in adapter's cases are sampled; a candidate runs every case, and only
    # the slow adapters leave fuzzing and benchmarks to --full, as JAX (slow_fuzz) leaves
    # its fuzzing.
    assert skipped == {"outside", "torch", "fuzz", "jax_fuzz", "bench"}
    reason = items["outside"].markers[0].kwargs["reason"]
    assert reason.startswith("onnxruntime: outside the default sample (each case is a")
    assert "pytest --full runs it" in reason
    reason = items["torch"].markers[0].kwargs["reason"]
    assert reason == "torch: outside the default sample; pytest --full runs it"
    reason = items["jax_fuzz"].markers[0].kwargs["reason"]
    assert reason == (
        "jax: outside the default sample (XLA compiles every fuzz example's new shapes);"
        " pytest --full runs it"
    )


def test_only_the_slow_adapters_leave_fuzzing_to_full():
    slow = {n for n in adapters.ADAPTERS if sampling.slow_setup(n) or sampling.slow_fuzz(n)}
    assert slow == {"onnxruntime", "onnx_reference", "litert", "jax", "flax"}


@pytest.mark.parametrize("how", ["option", "environment"])
def test_full_runs_everything(monkeypatch, how):
    monkeypatch.setenv("CNN_PARITY_FULL", "1" if how == "environment" else "0")
    items = _items()
    sampling.skip_outside_sample(_Config(full=how == "option"), list(items.values()))
    assert not any(item.markers for item in items.values())


def test_full_benchmarks_carry_the_layer_wide_divergences(monkeypatch):
    from tests.layers import bench_shape

    monkeypatch.delenv("CNN_PARITY_FULL", raising=False)
    shape = next(s for s in layers.get("sigmoid").bench)
    assert bench_shape(shape.label) is shape
    params = {"shape": shape, "direction": "forward"}
    ort = _Item("test_layer_benchmark", _CallSpec({**params, "name": "onnxruntime"}))
    ref = _Item("test_layer_benchmark", _CallSpec({**params, "name": "onnx_reference"}))
    sampling.skip_outside_sample(_Config(full=True), [ort, ref])
    assert [m.name for m in ort.markers] == ["xfail"]
    assert ort.markers[0].kwargs["strict"] is True
    assert ref.markers == []
