"""2-D padding of the spatial axes, NCHW, in five modes.

``forward(x, *, padding, mode="constant", value=0.0)``: ``padding`` is an int,
``(ph, pw)`` or ``((top, bottom), (left, right))``, each >= 0 (conv2d's forms, without
the strings).  Padded cell ``k`` (k = 1, 2, ... cells before the edge) copies, along
each axis of ``n`` cells:

- ``"constant"``: ``value`` (torch "constant", TF "CONSTANT", NumPy "constant");
- ``"reflect"``: cell ``k``, the edge not repeated (torch "reflect", TF "REFLECT",
  NumPy "reflect"); needs ``pad < n``;
- ``"replicate"``: the edge cell 0 (torch "replicate", NumPy "edge");
- ``"symmetric"``: cell ``k - 1``, the edge repeated (TF "SYMMETRIC", NumPy
  "symmetric"; torch has none); needs ``pad <= n``;
- ``"circular"``: cell ``n - k``, the opposite side (torch "circular", NumPy "wrap");
  needs ``pad <= n``.

(and symmetrically after the far edge).  The limits are torch's and TensorFlow's, which
refuse larger pads; NumPy would keep reflecting, which is not a convention any layer
shares.  Rows are padded first, then columns over the padded rows, so corners combine
both rules.  ``value`` is only taken by "constant".

Forward copies cells, so it is exact.  Backward is its adjoint: each padded cell's
gradient is added to the cell it copied (the interior keeps its own); "constant" drops
the padding's.
"""

from __future__ import annotations

import numbers

import numpy as np

from reference._checks import float_array, grad_out_array, one_of

MODES = ("constant", "reflect", "replicate", "symmetric", "circular")

_FORMS = "an int, (ph, pw) or ((top, bottom), (left, right))"


def _is_int(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _pads(padding) -> tuple[tuple[int, int], tuple[int, int]]:
    if _is_int(padding):
        pads = ((padding, padding), (padding, padding))
    else:
        try:
            items = tuple(padding) if not isinstance(padding, str) else ()
        except TypeError:
            items = ()
        if len(items) == 2 and all(_is_int(v) for v in items):
            pads = ((items[0], items[0]), (items[1], items[1]))
        elif len(items) == 2 and all(not isinstance(v, str) and _pair_of_ints(v) for v in items):
            pads = (tuple(items[0]), tuple(items[1]))
        else:
            raise ValueError(f"padding must be {_FORMS}, got {padding!r}")
    if any(p < 0 for axis in pads for p in axis):
        raise ValueError(f"padding must be non-negative, got {padding!r}")
    return (int(pads[0][0]), int(pads[0][1])), (int(pads[1][0]), int(pads[1][1]))


def _pair_of_ints(value) -> bool:
    try:
        items = tuple(value)
    except TypeError:
        return False
    return len(items) == 2 and all(_is_int(v) for v in items)


def _sources(n: int, before: int, after: int, mode: str):
    """The source cell of each padded cell along one axis: ``(before_idx, after_idx)``,
    index arrays (outermost cell first for ``before``), or None for "constant"."""
    if mode == "constant":
        return None
    k_before = np.arange(before, 0, -1)  # distance from the edge, outermost first
    k_after = np.arange(1, after + 1)
    if mode == "reflect":
        return k_before, n - 1 - k_after
    if mode == "replicate":
        return np.zeros(before, dtype=int), np.full(after, n - 1)
    if mode == "symmetric":
        return k_before - 1, n - k_after
    return n - k_before, k_after - 1  # circular


def _check(x: np.ndarray, pads, mode: str, padding) -> None:
    limits = {"reflect": (0, "< the input size"), "symmetric": (1, "<= the input size")}
    limits["circular"] = limits["symmetric"]
    for axis, name in ((0, "height"), (1, "width")):
        n = x.shape[2 + axis]
        if mode in limits:
            extra, rule = limits[mode]
            if max(pads[axis]) > n - 1 + extra:
                raise ValueError(
                    f"padding {padding!r} with mode {mode!r} must be {rule} along {name} "
                    f"({n}), got {max(pads[axis])}"
                )
        if mode == "replicate" and n == 0 and max(pads[axis]) > 0:
            raise ValueError(f"mode 'replicate' has no edge cell to copy: x shape {x.shape}")


def _prepare(x, padding, mode, value):
    x = float_array("x", x, ndim=4)
    mode = one_of("mode", mode, MODES)
    pads = _pads(padding)
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"value must be a real number, got {value!r}")
    if mode != "constant" and value != 0:
        raise ValueError(f"value is only used by mode 'constant'; mode {mode!r} got {value!r}")
    _check(x, pads, mode, padding)
    return x, pads, mode


def _pad_axis(a: np.ndarray, axis: int, before: int, after: int, mode: str, value) -> np.ndarray:
    n = a.shape[axis]
    shape = list(a.shape)
    shape[axis] = before + n + after
    out = np.empty(shape, dtype=a.dtype)
    index = [slice(None)] * a.ndim

    def at(sl):
        index[axis] = sl
        return tuple(index)

    out[at(slice(before, before + n))] = a
    sources = _sources(n, before, after, mode)
    if sources is None:
        out[at(slice(0, before))] = value
        out[at(slice(before + n, None))] = value
    else:
        out[at(slice(0, before))] = np.take(a, sources[0], axis=axis)
        out[at(slice(before + n, None))] = np.take(a, sources[1], axis=axis)
    return out


def _fold_axis(g: np.ndarray, axis: int, before: int, after: int, mode: str) -> np.ndarray:
    """Adjoint of ``_pad_axis``: the interior plus each padded cell added to its source."""
    n = g.shape[axis] - before - after
    index = [slice(None)] * g.ndim

    def at(sl):
        index[axis] = sl
        return tuple(index)

    grad = g[at(slice(before, before + n))].copy()
    sources = _sources(n, before, after, mode)
    if sources is None:
        return grad
    for offset, src in ((0, sources[0]), (before + n, sources[1])):
        for k, s in enumerate(src):  # one slice per padded cell: repeats accumulate
            grad[at(slice(s, s + 1))] += g[at(slice(offset + k, offset + k + 1))]
    return grad


def forward(x, *, padding, mode="constant", value=0.0) -> np.ndarray:
    """``y`` (N, C, top + H + bottom, left + W + right) in ``x``'s float dtype."""
    x, ((top, bottom), (left, right)), mode = _prepare(x, padding, mode, value)
    fill = x.dtype.type(value)
    rows = _pad_axis(x, 2, top, bottom, mode, fill)
    return _pad_axis(rows, 3, left, right, mode, fill)


def backward(grad_out, x, *, padding, mode="constant", value=0.0) -> dict[str, np.ndarray]:
    """``{"x": dL/dx}`` with ``x``'s shape and dtype."""
    x, ((top, bottom), (left, right)), mode = _prepare(x, padding, mode, value)
    shape = (*x.shape[:2], top + x.shape[2] + bottom, left + x.shape[3] + right)
    g = grad_out_array(grad_out, shape, x.dtype)
    cols = _fold_axis(g, 3, left, right, mode)
    return {"x": _fold_axis(cols, 2, top, bottom, mode)}
