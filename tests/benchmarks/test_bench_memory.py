"""Peak extra memory of the reference's conv2d forward on the large shape, by tracemalloc.

Bound (issue 6): one im2col matrix plus the output, i.e.
``(C * kh * kw) * (N * out_h * out_w) + N * M * out_h * out_w`` elements of the dtype.
NumPy reports its array buffers to tracemalloc, so the traced peak above the level
before the call is the memory the call allocates (temporaries included).  The figures go
to ``extra_info``; the README quotes them.
"""

from __future__ import annotations

import tracemalloc

import numpy as np

from reference import conv2d
from tests.benchmarks import common
from tests.layers import bench_shape

SHAPE = bench_shape("conv2d-large-b32")


def traced_forward(inputs, attrs) -> tuple[np.ndarray, int]:
    """``(y, peak bytes allocated during the call above the level before it)``."""
    tracemalloc.start()
    try:
        before, _ = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        y = conv2d.forward(**inputs, **attrs)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return y, peak - before


def test_conv2d_forward_peak_memory(benchmark):
    inputs = common.inputs_of(SHAPE)
    peaks = []

    def run():
        y, peak = traced_forward(inputs, SHAPE.attrs)
        peaks.append(peak)
        return y

    benchmark.group = "conv2d_tracemalloc-fwd-large-b32"
    result = benchmark(run)
    x, w = inputs["x"], inputs["w"]
    n, c = x.shape[:2]
    _, _, kh, kw = w.shape
    oh, ow = result.shape[2:]
    im2col_bytes = c * kh * kw * n * oh * ow * x.dtype.itemsize
    output_bytes = result.nbytes
    peak = max(peaks)
    benchmark.extra_info.update(
        common.extra_info(
            "reference", common.REFERENCE, SHAPE, "forward", "NumPy under tracemalloc"
        )
    )
    benchmark.extra_info.update(
        peak_extra_bytes=peak,
        im2col_bytes=im2col_bytes,
        output_bytes=output_bytes,
        bound_bytes=im2col_bytes + output_bytes,
        peak_over_bound=peak / (im2col_bytes + output_bytes),
        peak_over_output=peak / output_bytes,
    )
    common.check(result, SHAPE, "forward", "reference")
    assert peak <= im2col_bytes + output_bytes, (
        f"conv2d.forward on x {x.shape}, w {w.shape} peaked at {peak} extra bytes, over one "
        f"im2col matrix ({im2col_bytes}) plus the output ({output_bytes})"
    )
