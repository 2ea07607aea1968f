"""How the page writes numbers: errors, error / bound ratios and durations."""

from __future__ import annotations

import math

from reports.charts import as_float

NO_VALUE = "\u2013"  # en dash
INF = "\u221e"


def num(value) -> str:
    if value is None:
        return NO_VALUE
    v = as_float(value)
    if math.isnan(v):
        return "NaN" if value not in (None, "") else NO_VALUE
    if math.isinf(v):
        return INF if v > 0 else "\u2212" + INF
    if v == 0:
        return "0"
    return f"{v:.2e}" if abs(v) < 1e-3 or abs(v) >= 1e4 else f"{v:.4g}"


def ratio(value) -> str:
    if value is None:
        return NO_VALUE
    v = as_float(value)
    if math.isnan(v):
        return NO_VALUE
    if math.isinf(v):
        return INF
    return f"{v:.2g}" if v < 10 else f"{v:.3g}"


def seconds(value) -> str:
    v = as_float(value)
    if math.isnan(v):
        return NO_VALUE
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if v >= scale:
            return f"{v / scale:.3g} {unit}"
    return f"{v * 1e9:.3g} ns"


def text(value) -> str:
    return NO_VALUE if value is None or value == "" else str(value)


def call_args(attrs) -> str:
    """A case's attributes as the keyword arguments of the call they go into
    (``stride=2, padding='same'``); JSON lists are the tuples they were written as."""
    if not attrs:
        return "(none: the defaults)"

    def literal(value):
        if isinstance(value, list):
            inner = ", ".join(literal(v) for v in value)
            return f"({inner},)" if len(value) == 1 else f"({inner})"
        return repr(value)

    if not isinstance(attrs, dict):
        return str(attrs)
    return ", ".join(f"{key}={literal(value)}" for key, value in attrs.items())


FORMATS = {"num": num, "ratio": ratio, "seconds": seconds, "text": text}
