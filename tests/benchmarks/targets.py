"""The reference's speed targets (issue 6), measured as ratios to torch CPU in one process.

``python -m tests.benchmarks.targets [--blocks 15] [--rounds 7] [-k conv2d] [--json out.json]``

Targets (float32, same inputs for both):

- conv2d forward, x (32, 16, 28, 28), w (32, 16, 3, 3), b (32,), padding 1: <= 2.0x torch;
- conv2d backward (dx, dw, db) on the same shape: <= 2.5x torch autograd;
- maxpool2d 2x2 / 2 on (32, 32, 28, 28), forward and backward: <= 2.0x torch;
- layernorm and groupnorm at batch 32, 32 channels, 28x28 (issue 17), forward and
  backward: <= 3.0x torch; layer norm both over the channels (ConvNeXt's, torch's
  nn.LayerNorm after a permute) and over (C, H, W) (torch's nn.LayerNorm directly), group
  norm with 8 groups.
- resize2d bilinear (half-pixel) 2x upsampling of (32, 16, 28, 28), forward and backward:
  <= 3.0x torch (issue 16).
- conv_transpose2d, x (32, 16, 28, 28) upsampled 2x by w (16, 16, 4, 4), stride 2,
  padding 1, forward and backward (dx, dw, db): <= 3.0x torch (issue 16).

Both sides are the benchmarks' own callables (each adapter's prepared ``Run.call``: the
torch adapter's ``torch.nn`` module, the reference package through the same Protocol), on
the benchmarks' inputs.  "torch backward" is what a torch
user runs to get gradients from inputs and ``grad_out``: the forward that records the
graph plus ``torch.autograd.grad``.  The reference's backward also starts from the inputs.
A second torch line times ``torch.autograd.grad`` alone on a graph recorded beforehand
(``retain_graph=True``), the strictest reading of "torch's autograd time".

Method: ``--blocks`` blocks; in each, every callable runs 2 untimed warm-up calls and then
``--rounds`` timed calls (``time.perf_counter``), after a pause that lets the other
library's idle worker threads stop spinning (OpenBLAS and OpenMP busy-wait for a while
after a call and would otherwise slow the next library down).  A block's ratio is the
median reference time over the median torch time of that block; the reported ratio is
the median over blocks (robust to load that comes and goes on a shared machine), with
the range of block ratios.  Load average and core count are printed with the result.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

import adapters
from tests.benchmarks import common
from tests.benchmarks.common import settle_allocator
from tests.layers import bench_shape


@dataclass(frozen=True)
class Target:
    name: str
    label: str  # benchmark shape label
    direction: str
    limit: float


TARGETS = (
    Target("conv2d forward", "conv2d-large-b32", "forward", 2.0),
    Target("conv2d backward (dx, dw, db)", "conv2d-large-b32", "backward", 2.5),
    Target("maxpool2d forward", "maxpool2d-large-b32", "forward", 2.0),
    Target("maxpool2d backward", "maxpool2d-large-b32", "backward", 2.0),
    # -- normalizations (issue 17)
    Target("layernorm channels forward", "layernorm-convnext-c32-b32", "forward", 3.0),
    Target("layernorm channels backward", "layernorm-convnext-c32-b32", "backward", 3.0),
    Target("layernorm (C, H, W) forward", "layernorm-chw-c32-b32", "forward", 3.0),
    Target("layernorm (C, H, W) backward", "layernorm-chw-c32-b32", "backward", 3.0),
    Target("groupnorm forward", "groupnorm-c32-g8-b32", "forward", 3.0),
    Target("groupnorm backward", "groupnorm-c32-g8-b32", "backward", 3.0),
    Target("resize2d bilinear forward", "resize2d-up2-bilinear-b32", "forward", 3.0),
    Target("resize2d bilinear backward", "resize2d-up2-bilinear-b32", "backward", 3.0),
    # -- decoder (issue 16)
    Target("conv_transpose2d forward", "conv_transpose2d-upsample2x-b32", "forward", 3.0),
    Target("conv_transpose2d backward", "conv_transpose2d-upsample2x-b32", "backward", 3.0),
)


#: The differentiable inputs of the target layers (the keys their backward returns).
_GRAD_KEYS = {
    "conv2d": ("x", "w", "b"),
    "maxpool2d": ("x",),
    "layernorm": ("x", "gamma", "beta"),
    "groupnorm": ("x", "gamma", "beta"),
    "resize2d": ("x",),
    "conv_transpose2d": ("x", "w", "b"),
}


def _torch_backward_only(shape) -> Callable[[], object]:
    """``torch.autograd.grad`` on a graph recorded once, before timing."""
    import torch

    inputs = common.inputs_of(shape)
    tensors = {k: torch.from_numpy(v.copy()) for k, v in inputs.items()}
    keys = [k for k in _GRAD_KEYS[shape.layer] if k in tensors]
    for key in keys:
        tensors[key].requires_grad_(True)
    F = torch.nn.functional
    if shape.layer == "conv2d":
        out = F.conv2d(tensors["x"], tensors["w"], tensors["b"], padding=shape.attrs["padding"])
    elif shape.layer == "layernorm":
        out = _torch_layer_norm(F, tensors, shape.attrs)
    elif shape.layer == "groupnorm":
        out = F.group_norm(
            tensors["x"], shape.attrs["groups"], tensors["gamma"], tensors["beta"], eps=1e-5
        )
    elif shape.layer == "resize2d":
        out = F.interpolate(tensors["x"], scale_factor=shape.attrs["scale"], mode="bilinear")
    elif shape.layer == "conv_transpose2d":
        out = F.conv_transpose2d(tensors["x"], tensors["w"], tensors["b"], **shape.attrs)
    else:
        out = F.max_pool2d(tensors["x"], shape.attrs["kernel_size"], shape.attrs.get("stride"))
    seed = torch.from_numpy(common.grad_out_of(shape))
    leaves = [tensors[k] for k in keys]
    return lambda: torch.autograd.grad(out, leaves, grad_outputs=seed, retain_graph=True)


def _torch_layer_norm(F, tensors, attrs):
    """F.layer_norm over the shape's axes of NCHW x: (1, 2, 3) directly, (1,) after the
    permute to NHWC (as the torch adapter and torchvision's ConvNeXt do)."""
    x, eps = tensors["x"], attrs.get("eps", 1e-5)
    if tuple(attrs["axes"]) == (1, 2, 3):
        return F.layer_norm(x, x.shape[1:], tensors["gamma"], tensors["beta"], eps)
    nhwc = F.layer_norm(x.permute(0, 2, 3, 1), x.shape[1:2], tensors["gamma"], tensors["beta"], eps)
    return nhwc.permute(0, 3, 1, 2)


def measure(calls: dict[str, Callable[[], object]], blocks: int, rounds: int, pause: float):
    """Per callable: all timed seconds, and the per-block medians."""
    times = {name: [] for name in calls}
    block_medians = {name: [] for name in calls}
    for _ in range(blocks):
        for name, call in calls.items():
            time.sleep(pause)
            call()
            call()
            block = []
            for _ in range(rounds):
                start = time.perf_counter()
                call()
                block.append(time.perf_counter() - start)
            times[name] += block
            block_medians[name].append(statistics.median(block))
    return times, block_medians


def run_targets(blocks: int, rounds: int, pause: float, only: str = "") -> list[dict]:
    settle_allocator()
    try:
        torch_adapter = adapters.load("torch")
    except adapters.FrameworkMissing as exc:
        raise SystemExit(f"torch is needed for the targets: {exc}") from exc
    results = []
    for target in TARGETS:
        if only not in target.name:
            continue
        shape = bench_shape(target.label)
        calls = {
            "reference": common.prepared_run(common.REFERENCE, shape, target.direction).call,
            "torch": common.prepared_run(torch_adapter, shape, target.direction).call,
        }
        if target.direction == "backward":
            calls["torch autograd.grad only"] = _torch_backward_only(shape)
        times, medians = measure(calls, blocks, rounds, pause)
        row = {
            "target": target.name,
            "group": shape.group(target.direction),
            "limit": target.limit,
            "median_ms": {k: 1e3 * statistics.median(v) for k, v in times.items()},
        }
        for name in calls:
            if name == "reference":
                continue
            ratios = [r / t for r, t in zip(medians["reference"], medians[name], strict=True)]
            row[f"ratio_vs_{name}"] = statistics.median(ratios)
            row[f"ratio_range_vs_{name}"] = [min(ratios), max(ratios)]
        row["met"] = row["ratio_vs_torch"] <= target.limit
        results.append(row)
    return results


def environment() -> dict:
    import torch

    return {
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "loadavg": os.getloadavg(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.benchmarks.targets")
    parser.add_argument("--blocks", type=int, default=15)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--pause", type=float, default=0.2, help="seconds between blocks")
    parser.add_argument("-k", dest="only", default="", help="targets whose name contains this")
    parser.add_argument("--json", help="also write the results to this JSON file")
    args = parser.parse_args(argv)
    before = environment()
    results = run_targets(args.blocks, args.rounds, args.pause, args.only)
    after = environment()
    print(
        f"{before['cpu_count']} cores, torch {before['torch']} ({before['torch_threads']} "
        f"threads), numpy {before['numpy']}, python {before['python']}; load average "
        f"{before['loadavg'][0]:.2f} before, {after['loadavg'][0]:.2f} after"
    )
    print(f"{args.blocks} blocks x {args.rounds} rounds; ratio = median of block ratios")
    for row in results:
        times = ", ".join(f"{k} {v:.2f} ms" for k, v in row["median_ms"].items())
        low, high = row["ratio_range_vs_torch"]
        line = (
            f"{row['target']:30s} {row['ratio_vs_torch']:.2f}x torch "
            f"(blocks {low:.2f}-{high:.2f}; limit {row['limit']:.1f}x: "
            f"{'met' if row['met'] else 'NOT MET'})  [{times}]"
        )
        if "ratio_vs_torch autograd.grad only" in row:
            line += f"; {row['ratio_vs_torch autograd.grad only']:.2f}x autograd.grad alone"
        print(line)
    if args.json:
        with open(args.json, "w") as handle:
            json.dump({"environment": [before, after], "results": results}, handle, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
