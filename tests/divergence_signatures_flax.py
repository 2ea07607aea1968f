"""Signature (tests/divergence_signatures.py) of flax-avg-pool-exclude-pad-float32-to-float64:
``flax.linen.avg_pool(count_include_pad=False)`` divides the window sums by a pool of
``jnp.ones(div_shape)`` created without a dtype (flax/linen/pooling.py, flax 0.12.8), which
is float64 once ``jax_enable_x64`` is on (the jax and flax adapters turn it on), so a
float32 input comes back float64.

The wrong answer is the dtype alone: the division promotes the float32 window sums to
float64, so the values stay those of a float32 average to within its rounding.  The
signature explains a float32 forward only when the output is float64 *and* its values are
within the comparison's float32 bound of the right ones; anything else (a float32 output,
values beyond the bound, another shape) is not this bug.  The probe runs a float32
``count_include_pad=False`` average through the adapter's own ``avgpool2d``.
"""

from __future__ import annotations

from functools import cache

import numpy as np

from adapters.base import Unsupported
from tests.divergence_signatures import Signature, worst_ratio


@cache
def avg_pool_exclude_pad_promotes(adapter) -> str | None:
    """Evidence when the Flax adapter's float32 ``count_include_pad=False`` average pool
    (2x2 windows, stride 1, 'same', on a 1x1x3x3 input of ones) returns float64."""
    if getattr(adapter, "name", None) != "flax":
        return None
    x = np.ones((1, 1, 3, 3), np.float32)
    attrs = {"kernel_size": 2, "stride": 1, "padding": "same", "count_include_pad": False}
    try:
        run = adapter.avgpool2d(x, **attrs).forward()
    except Unsupported:
        return None
    y = np.asarray(run.to_reference(run.call()))
    if y.dtype != np.float64:
        return None
    return (
        f"flax {adapter.version()}: avg_pool(count_include_pad=False) on float32 ones "
        f"returns {y.dtype}"
    )


def _touched(observed) -> bool:
    """The comparisons the bug touches: float32 forwards that exclude the padding."""
    return (
        observed.dtype == "float32"
        and observed.direction == "forward"
        and not observed.attrs.get("count_include_pad", True)
    )


def _explains(observed) -> str | None:
    if not _touched(observed):
        return None
    y = observed.actual.get("y")
    if y is None or np.asarray(y).dtype != np.float64:
        return None
    worst = worst_ratio(y, observed.expected["y"], observed.bounds["y"])
    if worst > 1.0:
        return None
    return (
        "the framework's output is float64 for float32 inputs, its values within the "
        f"comparison's float32 bound (worst error/bound {worst:.3g})"
    )


#: A touched comparison always fails while the bug is present: the harness checks dtypes.
AVG_POOL_PROMOTES = Signature(
    present=avg_pool_exclude_pad_promotes,
    explains=_explains,
    must_fail=_touched,
)
