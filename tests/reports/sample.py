"""Synthetic results JSONs (the plugin's schema) for the report tests: small, every section
populated, and with hostile strings where a person's text ends up on the page."""

from __future__ import annotations

import copy

HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'

_LAYERS = ["conv2d", "maxpool2d", "relu"]
_ADAPTERS = ["torch", "keras", "scipy"]
#: A layer only scipy implements: torch and keras have no method, so no tests.
ABSENT_LAYER = "signal.correlate"
ABSENT = [
    {"layer": ABSENT_LAYER, "adapter": a, "reason": f"{a} has no correlate"}
    for a in ("torch", "keras")
]
#: The suite's attribute domains (tests.layers.coverage_domains) for two layers.
DOMAINS = {
    "conv2d": {
        "attributes": {"stride": ["1", ">1"], "b": ["given", "None"]},
        "cases": {"conv2d_basic": {"stride": "1", "b": "given"}},
    },
    "maxpool2d": {
        "attributes": {"dilation": ["1", ">1"], "padding": ["0", "valid", "same"]},
        "cases": {"maxpool2d_basic": {"dilation": "1", "padding": "0"}},
    },
}
#: A conventions record as tests/conventions/support.py writes it (start_record + extras).
CONVENTION = {
    "row": "same_padding_stride2",
    "frameworks": "torch vs keras / tensorflow / jax",
    "difference": "when total is odd torch = F[0::2, 0::2] and SAME = F[1::2, 1::2]",
    "versions": "torch 2.13.0; keras 3.15 (TF backend), tensorflow 2.21",
    "max_abs_diff_between_sides": 0.8312,
    "reference_matches": "torch: err/bound 0.012; keras: err/bound 0.031",
    "title": "SAME padding vs symmetric padding at stride 2",
    "side_a": "torch.nn.Conv2d(k=3, stride=2, padding=1)  ->  "
    "conv2d.forward(x, w, stride=2, padding=1)",
    "side_b": "keras Conv2D(3, strides=2, padding='same')  ->  "
    "conv2d.forward(x, w, stride=2, padding='same')",
    "source": ["PyTorch docs, torch.nn.Conv2d", "TensorFlow docs, tf.nn.convolution"],
    "notes": None,
    "observed_versions": {"torch": "2.13.0", "keras": "3.15.0"},
    "fixture": "x (1,2,6,6), w (3,2,3,3), float32",
    "same_pads_before_after": [0, 1],
    "test_id": "tests/conventions/test_conventions.py::test_same_padding_stride2[odd]",
    "index": 0,
    "outcome": "pass",
    "reason": None,
    "duration": 0.1,
}


def _record(layer, case, adapter, dtype, direction, outcome, ratio, **extra):
    record = {
        "layer": layer,
        "case": case,
        "adapter": adapter,
        "framework_version": f"{adapter} 1.0",
        "dtype": dtype,
        "direction": direction,
        "max_abs_err": 1e-7 * ratio,
        "max_rel_err": 2e-7 * ratio,
        "err_to_bound": ratio,
        "err_to_tight": 40.0 * ratio,
        "tolerance": 1e-7,
        "kind": "accumulating",
        "provenance": f"seed 001 ({case})",
        "attrs": {"stride": 1},
        "shapes": {"x": [1, 1, 4, 4]},
        "repro": f"check_case({case!r}, {adapter!r}, {dtype!r}, {direction!r})",
        "unsupported": None,
        "test_id": f"tests/parity/test_parity.py::test_parity[{layer}-{case}-{adapter}-"
        f"{dtype}-{direction}]",
        "index": 0,
        "outcome": outcome,
        "reason": None,
        "duration": 0.01,
    }
    record.update(extra)
    return record


def results(env_name: str = "local", *, torch_conv_outcome: str = "pass") -> dict:
    """Three layers x three adapters; torch conv2d's outcome is a parameter so that two
    environments can differ; one case carries 2-D arrays for heatmaps."""
    parity = []
    grid = [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0], [6.0, 7.0, 8.0]]
    for layer in _LAYERS:
        for adapter in _ADAPTERS:
            for direction in ("forward", "backward"):
                outcome, extra = "pass", {}
                if layer == "conv2d" and adapter == "torch":
                    outcome = torch_conv_outcome
                    if outcome == "fail":
                        extra = {
                            "reason": "ParityError: conv2d mismatch",
                            "traceback": "E   AssertionError: worst error 3e-5",
                        }
                if layer == "maxpool2d" and adapter == "scipy" and direction == "backward":
                    outcome = "unsupported"
                    extra = {
                        "unsupported": "scipy has no max-pool gradient",
                        "reason": "unsupported by scipy: scipy has no max-pool gradient",
                    }
                if layer == "relu" and adapter == "scipy":
                    outcome, extra = "skipped", {"reason": "scipy not installed"}
                if direction == "forward":
                    extra["arrays"] = {
                        "input": grid,
                        "reference": grid,
                        "framework": [[v + 1e-7 for v in row] for row in grid],
                    }
                ratio = 3.5 if outcome == "fail" else 0.25
                parity.append(
                    _record(
                        layer,
                        f"{layer}_basic",
                        adapter,
                        "float32",
                        direction,
                        outcome,
                        ratio,
                        **extra,
                    )
                )
    for direction in ("forward", "backward"):
        parity.append(
            _record(ABSENT_LAYER, "corr_basic", "scipy", "float64", direction, "pass", 0.1)
        )
    return {
        "schema": "cnn-parity-results/1",
        "run": {
            "env_name": env_name,
            "created": "2026-01-01T00:00:00+00:00",
            "duration_s": 1.5,
            "exitstatus": 0,
            "args": ["tests"],
            "xdist_workers": None,
            "tests": {"pass": len(parity)},
        },
        "environment": {
            "python": "3.11.7",
            "os": "Linux",
            "cpu": "test cpu",
            "cpu_count": 2,
            "versions": {"numpy": "2.0.0", "torch": "2.13.0"},
            "determinism": {
                "env": {"OMP_NUM_THREADS": "1"},
                "adapters": {"torch": {"num_threads": "1"}},
            },
        },
        "layers": [*_LAYERS, ABSENT_LAYER],
        "adapters": list(_ADAPTERS),
        "absent": copy.deepcopy(ABSENT),
        "domains": copy.deepcopy(DOMAINS),
        "parity": parity,
        "conventions": [dict(CONVENTION)],
        "networks": [
            {
                "network": "seed002_conv_linear",
                "source": "seed 002",
                "adapter": adapter,
                "optimizer": "sgd",
                "grad_errors": {"conv.w": {"max_abs_err": 1e-8, "err_to_bound": 0.01}},
                "loss_curves": {f"{adapter} (sgd)": [2.3, 2.2, 2.1]},
                "divergence": [1e-8, 2e-8, 3e-8],
                "test_id": f"tests/n.py::test_steps[{adapter}]",
                "index": 0,
                "outcome": "pass",
                "reason": None,
                "duration": 0.5,
            }
            for adapter in ("torch", "keras")
        ],
        "benchmarks": [],
    }


def hostile(results_dict: dict) -> dict:
    """The same results with markup in every free-text field a test or framework controls."""
    data = copy.deepcopy(results_dict)
    data["run"]["env_name"] = "env" + HOSTILE
    for r in data["parity"]:
        r["test_id"] += HOSTILE
        r["reason"] = "reason " + HOSTILE
        r["traceback"] = "Traceback " + HOSTILE
        r["repro"] = "repro " + HOSTILE
        r["provenance"] = "seed " + HOSTILE
    data["parity"][0]["case"] = "case" + HOSTILE
    data["conventions"][0]["difference"] = HOSTILE
    data["networks"][0]["network"] = "net" + HOSTILE
    return data


def benchmark_json() -> dict:
    """pytest-benchmark's JSON layout (benchmarks[].group, name, stats, extra_info)."""
    benches = []
    for adapter, median in (("reference", 2e-3), ("torch", 1e-3), ("keras", 4e-3)):
        for direction in ("fwd", "bwd"):
            benches.append(
                {
                    "group": f"conv2d-{direction}-32x16x28x28",
                    "name": f"test_bench[{adapter}]",
                    "fullname": f"tests/bench.py::test_bench[{adapter}]",
                    "params": None,
                    "extra_info": {"adapter": adapter, "version": f"{adapter} 1.0"},
                    "stats": {
                        "min": median * 0.9,
                        "max": median * 1.2,
                        "mean": median,
                        "median": median,
                        "stddev": median / 10,
                        "iqr": median / 20,
                        "rounds": 5,
                        "ops": 1 / median,
                    },
                }
            )
    return {
        "machine_info": {},
        "commit_info": {},
        "benchmarks": benches,
        "datetime": "2026-01-01T00:00:00",
        "version": "5.3.1",
    }
