"""Pictures for the report without a plotting library: PNG heatmaps written with zlib, and
the geometry of SVG line and bar charts (the template draws them, so every label passes
through Jinja's autoescaping)."""

from __future__ import annotations

import base64
import math
import struct
import zlib
from collections.abc import Sequence

# Matplotlib's viridis at five stops (its published endpoints and quartiles), interpolated.
_VIRIDIS = ((68, 1, 84), (59, 82, 139), (33, 145, 140), (94, 201, 98), (253, 231, 37))
# A blue-white-red diverging map for differences (zero is white).
_DIVERGING = ((59, 76, 192), (247, 247, 247), (180, 4, 38))
_NONFINITE = (255, 0, 255)

#: Series colours (Okabe-Ito, distinguishable with colour-blindness).
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#D55E00", "#56B4E9", "#F0E442", "#000000")


def as_float(value) -> float:
    """Numbers from a results JSON, where non-finite floats are stored as strings."""
    if value is None:
        return math.nan
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return math.nan
    return float(value)


def _lerp(stops, t: float) -> tuple[int, int, int]:
    t = min(max(t, 0.0), 1.0) * (len(stops) - 1)
    i = min(int(t), len(stops) - 2)
    f = t - i
    a, b = stops[i], stops[i + 1]
    return tuple(round(a[k] + (b[k] - a[k]) * f) for k in range(3))


# 257 entries, so that the middle entry (a zero difference) is exactly the centre colour.
_LUT_VIRIDIS = [bytes(_lerp(_VIRIDIS, i / 256)) for i in range(257)]
_LUT_DIVERGING = [bytes(_lerp(_DIVERGING, i / 256)) for i in range(257)]
_NONFINITE_BYTES = bytes(_NONFINITE)


def _png(rows: list[bytes], width: int, height: int) -> bytes:
    def chunk(tag: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + tag
            + data
            + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)
        )

    raw = b"".join(b"\x00" + row for row in rows)
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


def heatmap(
    grid: Sequence[Sequence], *, diverging: bool = False, limits: tuple[float, float] | None = None
) -> dict | None:
    """A 2-D list of numbers as a PNG data URI (one pixel per cell; the page scales it up
    with ``image-rendering: pixelated``) plus the colour range it used."""
    values = [[as_float(v) for v in row] for row in grid]
    if not values or not values[0] or any(len(r) != len(values[0]) for r in values):
        return None
    height, width = len(values), len(values[0])
    finite = [v for row in values for v in row if math.isfinite(v)]
    if limits is None:
        if diverging:
            top = max((abs(v) for v in finite), default=0.0)
            limits = (-top, top)
        else:
            limits = (min(finite, default=0.0), max(finite, default=0.0))
    low, high = limits
    span = high - low
    lut = _LUT_DIVERGING if diverging else _LUT_VIRIDIS
    scale = 256.0 / span if span > 0 else 0.0
    rows = []
    for row in values:
        pixels = bytearray()
        for v in row:
            if v != v or v in (math.inf, -math.inf):
                pixels += _NONFINITE_BYTES
            else:
                pixels += lut[min(256, max(0, int((v - low) * scale + 0.5))) if span > 0 else 128]
        rows.append(bytes(pixels))
    uri = "data:image/png;base64," + base64.b64encode(_png(rows, width, height)).decode()
    zoom = max(1, min(12, 144 // max(width, height)))
    return {
        "uri": uri,
        "width": width,
        "height": height,
        "low": low,
        "high": high,
        "display_w": width * zoom,
        "display_h": height * zoom,
        "nonfinite": len(finite) != width * height,
        "scale": "diverging" if diverging else "viridis",
    }


def colour_scale(diverging: bool = False) -> str:
    """The heatmaps' colour map as a CSS gradient, low on the left: the page draws it as
    the scale bar under every heatmap (the maps interpolate the same stops linearly)."""
    stops = _DIVERGING if diverging else _VIRIDIS
    last = len(stops) - 1
    return (
        "linear-gradient(to right, "
        + ", ".join(f"rgb({r}, {g}, {b}) {100 * i / last:g}%" for i, (r, g, b) in enumerate(stops))
        + ")"
    )


def difference(a: Sequence[Sequence], b: Sequence[Sequence]) -> list[list[float]] | None:
    if len(a) != len(b) or any(len(x) != len(y) for x, y in zip(a, b, strict=False)):
        return None
    return [
        [as_float(x) - as_float(y) for x, y in zip(ra, rb, strict=True)]
        for ra, rb in zip(a, b, strict=True)
    ]


# ------------------------------------------------------------------------------------------
# SVG chart geometry


def _nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    if not (math.isfinite(low) and math.isfinite(high)) or high <= low:
        return [low] if math.isfinite(low) else []
    raw = (high - low) / count
    mag = 10 ** math.floor(math.log10(raw))
    step = min((m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw), default=raw)
    start = math.ceil(low / step) * step
    ticks, t = [], start
    while t <= high + step * 1e-9:
        ticks.append(round(t, 12))
        t += step
    return ticks


def line_chart(
    series: dict[str, Sequence],
    *,
    log_y: bool = False,
    width: int = 640,
    height: int = 260,
    x_label: str = "step",
    y_label: str = "",
    markers: Sequence[dict] = (),
    level: float | None = None,
) -> dict | None:
    """Polylines for several named series over their index (steps).  The legend is not
    drawn in the SVG (where a long name would be cut at its edge): ``lines`` carry each
    name and colour for the page to list beside the chart.  ``markers`` (``{"x": index,
    "label": text}``) become vertical lines, ``level`` one horizontal line (e.g. a bound
    at 1) kept inside the y range."""
    left, right, top, bottom = 64, 16, 12, 36
    clean = {}
    for name, ys in series.items():
        pts = [(i, as_float(y)) for i, y in enumerate(ys)]
        pts = [(i, y) for i, y in pts if math.isfinite(y) and (y > 0 or not log_y)]
        if pts:
            clean[name] = pts
    if not clean:
        return None
    tf = (lambda y: math.log10(y)) if log_y else (lambda y: y)
    xs_max = max(max(i for i, _ in p) for p in clean.values()) or 1
    ys = [tf(y) for p in clean.values() for _, y in p]
    if level is not None and (level > 0 or not log_y):
        ys.append(tf(level))
    y_low, y_high = min(ys), max(ys)
    if y_high - y_low < 1e-12:
        y_low, y_high = y_low - 0.5, y_high + 0.5
    plot_w, plot_h = width - left - right, height - top - bottom

    def sx(i):
        return left + plot_w * i / xs_max

    def sy(v):
        return top + plot_h * (1 - (tf(v) - y_low) / (y_high - y_low))

    lines = []
    for k, (name, pts) in enumerate(clean.items()):
        step = max(1, len(pts) // 800)  # ~800 vertices per line keep the page light
        kept = pts[::step] + ([pts[-1]] if (len(pts) - 1) % step else [])
        lines.append(
            {
                "name": name,
                "color": PALETTE[k % len(PALETTE)],
                "points": " ".join(f"{sx(i):.1f},{sy(y):.1f}" for i, y in kept),
                "dash": "" if k < len(PALETTE) else "4 2",
                "last": pts[-1][1],
            }
        )
    if log_y:
        y_ticks = [
            {"y": sy(10.0**e), "label": f"1e{e}"}
            for e in range(math.ceil(y_low), math.floor(y_high) + 1)
        ]
    else:
        y_ticks = [{"y": sy(v), "label": f"{v:.3g}"} for v in _nice_ticks(y_low, y_high)]
    x_ticks = [{"x": sx(v), "label": f"{v:g}"} for v in _nice_ticks(0, xs_max) if v == int(v)]
    marks = [
        {"x": sx(m["x"]), "label": str(m.get("label", ""))}
        for m in markers
        if 0 <= m["x"] <= xs_max
    ]
    level_y = sy(level) if level is not None and (level > 0 or not log_y) else None
    return {
        "markers": marks,
        "level_y": level_y,
        "width": width,
        "height": height,
        "left": left,
        "top": top,
        "plot_w": plot_w,
        "plot_h": plot_h,
        "lines": lines,
        "x_ticks": x_ticks,
        "y_ticks": y_ticks,
        "x_label": x_label,
        "y_label": y_label,
    }


def bar_chart(
    groups: list[tuple[str, list[tuple[str, float]]]], *, unit: str = "ms", width: int = 640
) -> dict | None:
    """Horizontal bars: one block per group (a benchmark group), one bar per adapter."""
    label_w, bar_h, gap = 200, 14, 10
    values = [v for _, bars in groups for _, v in bars if math.isfinite(v) and v > 0]
    if not values:
        return None
    vmax = max(values)
    plot_w = width - label_w - 90
    rows, y = [], 8
    colours: dict[str, str] = {}
    for group, bars in groups:
        rows.append({"kind": "group", "y": y + 10, "label": group})
        y += 16
        for adapter, v in bars:
            colour = colours.setdefault(adapter, PALETTE[len(colours) % len(PALETTE)])
            length = plot_w * v / vmax if math.isfinite(v) and v > 0 else 0
            rows.append(
                {
                    "kind": "bar",
                    "y": y,
                    "label": adapter,
                    "w": max(length, 1),
                    "value": v,
                    "color": colour,
                    "text_x": label_w + max(length, 1) + 4,
                }
            )
            y += bar_h + 2
        y += gap
    return {
        "width": width,
        "height": y,
        "label_w": label_w,
        "bar_h": bar_h,
        "rows": rows,
        "unit": unit,
    }
