"""When each framework's resize API computes a resize2d call exactly, with which of its own
arguments, and otherwise the framework's own rule for why not.

Each framework is described by what its documentation and source say it computes
(``Resampler``): the input index its nearest mode reads, the coordinates its linear and
cubic modes sample, its cubic coefficient, and whether it clamps kernel taps that fall
outside the input to the edge (ONNX ``exclude_outside=0``, the reference) or drops them
and renormalises the rest (PIL, torch's antialias, TensorFlow, JAX).  ``check`` compares
that with what the reference's arguments ask for, output by output, in exact rationals
(``adapters._resize_geometry``), and raises ``Unsupported`` quoting the rule that
differs.  So a framework option maps onto the reference's parameters only where it
computes the same numbers, whatever the options are called.

Importing this module imports no framework.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction

from adapters import _resize_geometry as geo
from adapters.base import Unsupported


@dataclass(frozen=True)
class Request:
    """A resize2d call's arguments, per spatial axis."""

    axes: tuple[geo.Axis, geo.Axis]
    mode: str
    how: str
    rule: str
    a: float
    antialias: bool

    @classmethod
    def of(cls, x, size, scale, mode, how, rule, a, antialias) -> Request:
        axes = geo.axes(x.shape, size, scale)
        return cls(axes, mode, how, rule, float(a), bool(antialias))

    @property
    def sizes(self) -> tuple[int, int]:
        return self.axes[0].m, self.axes[1].m

    @property
    def stretched(self) -> bool:
        return self.antialias and self.mode != "nearest" and any(a.scale < 1 for a in self.axes)


@dataclass(frozen=True)
class Resampler:
    """One framework call's resize, as the framework documents it.

    ``indices(axis)`` / ``coordinates(axis)``: the input index its nearest mode reads and
    the coordinates its linear / cubic modes sample, per output index.  ``cubic_a``: its
    Keys coefficient (None: no cubic).  ``drops``: taps outside the input are dropped
    and the rest renormalised.  The ``*_rule`` strings are the framework's own words."""

    name: str
    indices: Callable[[geo.Axis], list[int]] | None
    nearest_rule: str
    coordinates: Callable[[geo.Axis], list[Fraction]]
    coordinate_rule: str
    cubic_a: float | None
    cubic_rule: str
    drops: bool
    edge_rule: str = ""
    stretches: bool = True
    stretch_rule: str = ""


def check(resampler: Resampler, request: Request) -> None:
    """Raise ``Unsupported`` (the framework's rule) unless ``resampler`` computes exactly
    what ``request`` asks for on every output."""
    for label, axis in zip(("H", "W"), request.axes, strict=True):
        where = f"axis {label}, {axis.n} -> {axis.m}"
        if request.mode == "nearest":
            if resampler.indices is None:
                raise Unsupported(resampler.nearest_rule)
            got = resampler.indices(axis)
            want = geo.wanted_indices(axis, request.how, request.rule)
            _first_difference(resampler.nearest_rule, where, got, want, "reads input index")
            continue
        got = resampler.coordinates(axis)
        want = geo.wanted_coordinates(axis, request.how)
        _first_difference(resampler.coordinate_rule, where, got, want, "samples")
        if request.mode == "cubic" and resampler.cubic_a != request.a:
            raise Unsupported(f"{resampler.cubic_rule}; the call has a = {request.a}")
        stretch = geo.antialias_stretch(axis, request.antialias)
        if stretch < 1 and not resampler.stretches:
            raise Unsupported(resampler.stretch_rule)
        # The unstretched tent gives the edge the same total weight either way.
        tent = request.mode == "linear" and stretch == 1
        if resampler.drops and not tent and geo.outside_taps(axis, want, request.mode, stretch):
            raise Unsupported(
                f"{resampler.edge_rule}; on {where} some output's kernel reaches outside the "
                "input, where the reference clamps the taps to the edge (ONNX Resize, "
                "exclude_outside=0)"
            )


def _first_difference(rule, where, got, want, verb) -> None:
    for i, (g, w) in enumerate(zip(got, want, strict=True)):
        if g != w:
            raise Unsupported(
                f"{rule}; on {where}, output {i} {verb} {_show(g)}, the call asks for {_show(w)}"
            )


def _show(value) -> str:
    return str(value) if isinstance(value, int) else f"{float(value):.6g}"


def needs_size(name: str, request: Request, rule: str) -> None:
    """APIs that take only the output size resize by out/in: a scale that is not exactly
    out/in on some axis cannot be said to them."""
    for axis in request.axes:
        if not axis.ratio_is_scale:
            raise Unsupported(
                f"{name}: {rule}; the call's scale {float(axis.scale):g} is not "
                f"{axis.m}/{axis.n} (its coordinates divide by the scale given)"
            )


# --------------------------------------------------------------------------------------
# torch.nn.Upsample / torch.nn.functional.interpolate

TORCH_NEAREST = (
    "torch.nn.functional.interpolate: mode='nearest' reads input index floor(i * scale) "
    "('matches buggy OpenCV's INTER_NEAREST'), mode='nearest-exact' floor((i + 0.5) * "
    "scale) ('matches Scikit-Image and PIL nearest neighbours'), scale = in/out or "
    "1/scale_factor, and both read i when out == in and i >> 1 when out == 2 * in ('to get "
    "rid of float precision issues', aten/src/ATen/native/UpSample.h nearest_idx)"
)
TORCH_COORDINATES = (
    "torch.nn.functional.interpolate: align_corners=True aligns 'the centers of the "
    "corner pixels' (i * (in - 1) / (out - 1)), False 'the corner points of their corner "
    "pixels' (scale * (i + 0.5) - 0.5, scale = in/out or 1/scale_factor); it has no other "
    "coordinate rule"
)
TORCH_CUBIC = (
    "torch bicubic is Keys' cubic with A = -0.75 (aten/src/ATen/native/UpSample.h, "
    "upsample_get_cubic_coefficients), and with antialias=True a = -0.5 "
    "(aten/src/ATen/native/cpu/UpSampleKernel.cpp, aa_filter)"
)
TORCH_ANTIALIAS = (
    "torch.nn.functional.interpolate(antialias=True) weights only the input pixels the "
    "filter covers inside the image and renormalises them, as PIL does "
    "(aten/src/ATen/native/cpu/UpSampleKernel.cpp, _compute_indices_min_size_weights_aa)"
)


def _torch_scale(axis: geo.Axis, given: bool) -> Fraction:
    return axis.scale if given else Fraction(axis.m, axis.n)


def _torch_nearest(axis: geo.Axis, given: bool, exact: bool) -> list[int]:
    if axis.m == axis.n:
        return list(range(axis.m))
    if axis.m == 2 * axis.n:
        return [i >> 1 for i in range(axis.m)]
    s = _torch_scale(axis, given)
    return geo.floor_indices([(i + geo.HALF * exact) / s for i in range(axis.m)], axis.n)


TORCH_ANTIALIAS_CORNERS = (
    "torch.nn.functional.interpolate(antialias=True): the 'value of align_corners is "
    "ignored in antialias mode' (pytorch/pytorch#145526) for the filter centres, which are "
    "(i + 0.5) * scale - 0.5, while its scale becomes (in - 1)/(out - 1)"
)


def torch_resampler(request: Request, *, given_scale: bool, align_corners: bool, nearest: str):
    """torch's resize for ``nearest`` ('nearest' / 'nearest-exact'), ``align_corners`` and
    ``antialias`` (the request's); ``given_scale``: called with scale_factor."""
    aa = request.antialias
    if align_corners and aa:
        coordinates = lambda ax: geo.half_pixel(ax.m, Fraction(max(ax.m - 1, 1), max(ax.n - 1, 1)))  # noqa: E731
        rule = TORCH_ANTIALIAS_CORNERS
    elif align_corners:
        coordinates, rule = (lambda ax: geo.corners(ax.n, ax.m)), TORCH_COORDINATES
    else:
        coordinates = lambda ax: geo.half_pixel(ax.m, _torch_scale(ax, given_scale))  # noqa: E731
        rule = TORCH_COORDINATES
    return Resampler(
        name="torch.nn.functional.interpolate",
        indices=lambda ax: _torch_nearest(ax, given_scale, nearest == "nearest-exact"),
        nearest_rule=TORCH_NEAREST,
        coordinates=coordinates,
        coordinate_rule=rule,
        cubic_a=-0.5 if aa else -0.75,
        cubic_rule=TORCH_CUBIC,
        drops=aa,
        edge_rule=TORCH_ANTIALIAS,
    )


def torch_plan(request: Request, given_scale: bool) -> dict:
    """The torch arguments (``mode``, ``align_corners``) for the request, or Unsupported."""
    if request.mode == "nearest":
        differences = []
        for nearest in ("nearest", "nearest-exact"):
            resampler = torch_resampler(
                request, given_scale=given_scale, align_corners=False, nearest=nearest
            )
            try:
                check(resampler, request)
            except Unsupported as exc:
                differences.append(f"mode={nearest!r}{str(exc).rpartition(';')[2]}")
                continue
            return {"mode": nearest, "align_corners": None}
        raise Unsupported(f"{TORCH_NEAREST}; {'; '.join(differences)}")
    mode = {"linear": "bilinear", "cubic": "bicubic"}[request.mode]
    corners = request.how == "align_corners"
    check(
        torch_resampler(request, given_scale=given_scale, align_corners=corners, nearest=""),
        request,
    )
    return {"mode": mode, "align_corners": corners}


# --------------------------------------------------------------------------------------
# tf.image.resize, jax.image.resize: output sizes, half-pixel centres

TF_SIZE = (
    "tf.image.resize(images, size, ...) takes the output size and scales by out/in "
    "(tensorflow/core/util/image_resizer_state.h, CalculateResizeScale)"
)
TF_NEAREST = (
    "tf.image.resize(method='nearest') reads input index floor((i + 0.5) * in/out) "
    "(ResizeNearestNeighbor with half_pixel_centers=True)"
)
TF_COORDINATES = (
    "tf.image.resize samples half-pixel centres, (i + 0.5) * in/out - 0.5 "
    "(half_pixel_centers=True); it has no align_corners (tf.compat.v1.image.resize has)"
)
TF_CUBIC = (
    "tf.image.resize: bicubic is a 'Cubic interpolant' 'of Keys. Equivalent to Catmull-Rom "
    "kernel' (a = -0.5)"
)
TF_EDGES = (
    "tf.image.resize: 'Near image edges the filtering kernel may be partially outside the "
    "image boundaries. For these pixels, only input pixels inside the image will be "
    "included in the filter sum, and the output value will be appropriately normalized.'"
)
TF_FLOAT64 = (
    "tf.image.resize: 'The return value has type `float32`, unless the `method` is "
    "`ResizeMethod.NEAREST_NEIGHBOR`'"
)
JAX_SIZE = (
    "jax.image.resize(image, shape, method, antialias=True) takes the output shape and "
    "scales by out/in"
)
JAX_NEAREST = (
    "jax.image.resize(method='nearest') reads input index floor((i + 0.5) * in/out) "
    "(jax/_src/image/scale.py, _resize_nearest)"
)
JAX_COORDINATES = (
    "jax.image.resize samples half-pixel centres, (i + 0.5) * in/out - 0.5 (jax/_src/"
    "image/scale.py, compute_weight_mat: sample_f); 'This function does not support an "
    "align_corners argument like torch.nn.functional.interpolate'"
)
JAX_CUBIC = (
    "jax.image.resize: 'cubic' is Keys' kernel with A=-0.5, 'cubic-pytorch' A = -0.75 "
    "with edge padding, which 'antialiasing' turns back into 'cubic' "
    "(jax/_src/image/scale.py)"
)
JAX_EDGES = (
    "jax.image.resize: weights only the input positions inside the image and renormalises "
    "them ('Normalize the weights to account for the fact that some or all of the input "
    "coordinates might not be in the valid part of the input image', jax/_src/image/"
    "scale.py, compute_weight_mat)"
)


def _half_pixel_by_size(axis: geo.Axis) -> list[Fraction]:
    return geo.half_pixel(axis.m, Fraction(axis.m, axis.n))


def _floor_half_pixel(axis: geo.Axis) -> list[int]:
    return geo.floor_indices([(i + geo.HALF) * axis.n / axis.m for i in range(axis.m)], axis.n)


def tf_resampler(request: Request) -> Resampler:
    return Resampler(
        name="tf.image.resize",
        indices=_floor_half_pixel,
        nearest_rule=TF_NEAREST,
        coordinates=_half_pixel_by_size,
        coordinate_rule=TF_COORDINATES,
        cubic_a=-0.5,
        cubic_rule=TF_CUBIC,
        drops=True,
        edge_rule=TF_EDGES,
    )


def jax_resampler(request: Request, cubic_pytorch: bool) -> Resampler:
    """``cubic_pytorch``: the installed jax has 'cubic-pytorch' (A = -0.75, edges
    repeated) and the call asks for that coefficient without antialias."""
    return Resampler(
        name="jax.image.resize",
        indices=_floor_half_pixel,
        nearest_rule=JAX_NEAREST,
        coordinates=_half_pixel_by_size,
        coordinate_rule=JAX_COORDINATES,
        cubic_a=-0.75 if cubic_pytorch else -0.5,
        cubic_rule=JAX_CUBIC,
        drops=not cubic_pytorch,
        edge_rule=JAX_EDGES,
    )


def keras_upsampling_nearest(factors) -> Resampler:
    """keras.layers.UpSampling2D(interpolation='nearest'): ``ops.repeat`` by the factor."""
    return Resampler(
        name="keras.layers.UpSampling2D",
        indices=lambda ax: [i // (ax.m // ax.n) for i in range(ax.m)],
        nearest_rule="keras.layers.UpSampling2D: 'Use `interpolation=nearest` to repeat the "
        "rows and columns of the data' (input index i // factor)",
        coordinates=_half_pixel_by_size,
        coordinate_rule="",
        cubic_a=None,
        cubic_rule="",
        drops=False,
    )


# --------------------------------------------------------------------------------------
# scipy.ndimage.zoom / map_coordinates

SCIPY_NEAREST = "scipy.ndimage order=0 rounds a coordinate c to floor(c + 0.5) (halves up)"
SCIPY_CUBIC = (
    "scipy.ndimage order=3 interpolates with a cubic B-spline (after its spline prefilter), "
    "not Keys' cubic convolution"
)
SCIPY_ANTIALIAS = (
    "scipy.ndimage.zoom / map_coordinates interpolate the spline at each coordinate; they "
    "have no antialiasing filter that widens when downsampling"
)
SCIPY_BACKWARD = (
    "scipy.ndimage has no adjoint (transpose) of zoom or map_coordinates, so no gradient"
)


def scipy_resampler(coordinates, rule: str) -> Resampler:
    """SciPy's order 0 / order 1 with mode='nearest' (the edge repeats: taps clamp) at
    ``coordinates(axis)``."""
    return Resampler(
        name="scipy.ndimage",
        indices=lambda ax: geo.floor_indices([c + geo.HALF for c in coordinates(ax)], ax.n),
        nearest_rule=SCIPY_NEAREST,
        coordinates=coordinates,
        coordinate_rule=rule,
        cubic_a=None,
        cubic_rule=SCIPY_CUBIC,
        drops=False,
        stretches=False,
        stretch_rule=SCIPY_ANTIALIAS,
    )


def scipy_plan(request: Request) -> dict:
    """``{"zoom": grid_mode}`` when scipy.ndimage.zoom's own grid gives the request's
    coordinates, else ``{"map_coordinates": per-axis float64 coordinates}``."""
    if request.mode == "cubic":
        raise Unsupported(SCIPY_CUBIC)
    grids = {
        True: (
            _half_pixel_by_size,
            "scipy.ndimage.zoom(grid_mode=True) samples (i + 0.5) * in/out - 0.5",
        ),
        False: (
            lambda ax: geo.corners(ax.n, ax.m),
            "scipy.ndimage.zoom(grid_mode=False) samples i * (in - 1)/(out - 1)",
        ),
    }
    for grid_mode, (coordinates, rule) in grids.items():
        try:
            check(scipy_resampler(coordinates, rule), request)
        except Unsupported:
            continue
        return {"zoom": grid_mode}
    wanted = [geo.wanted_coordinates(axis, request.how) for axis in request.axes]
    check(
        scipy_resampler(
            lambda ax: geo.wanted_coordinates(ax, request.how),
            "scipy.ndimage.map_coordinates samples the coordinates given",
        ),
        request,
    )
    return {"map_coordinates": [[float(c) for c in axis] for axis in wanted]}


def tf_plan(request: Request, dtype) -> str:
    """The tf.image.resize ``method`` for the request, or Unsupported."""
    needs_size("tf.image.resize", request, TF_SIZE)
    if request.mode != "nearest" and str(dtype) == "float64":
        raise Unsupported(TF_FLOAT64)
    check(tf_resampler(request), request)
    return {"nearest": "nearest", "linear": "bilinear", "cubic": "bicubic"}[request.mode]


def jax_plan(request: Request, has_cubic_pytorch: bool) -> str:
    """The jax.image.resize ``method`` for the request, or Unsupported."""
    needs_size("jax.image.resize", request, JAX_SIZE)
    cubic_pytorch = (
        request.mode == "cubic" and request.a == -0.75 and not request.antialias
    ) and has_cubic_pytorch
    check(jax_resampler(request, cubic_pytorch), request)
    if cubic_pytorch:
        return "cubic-pytorch"
    return request.mode


def keras_plan(request: Request, backend: str, dtype: str) -> dict:
    """``{"layer": "UpSampling2D", "factors": (kh, kw), "interpolation": ...}`` or
    ``{"layer": "Resizing", "interpolation": ...}`` for the request on Keras' ``backend``
    (whose ``keras.ops.image.resize`` the layers call), or Unsupported."""
    name = f"keras (backend {backend})"
    needs_size(
        name,
        request,
        "keras.layers.Resizing(height, width) and UpSampling2D(size="
        "integer factors) take output sizes, so they scale by out/in",
    )
    interpolation = {"nearest": "nearest", "linear": "bilinear", "cubic": "bicubic"}[request.mode]
    if backend == "tensorflow":
        if request.mode != "nearest" and dtype == "float64":
            raise Unsupported(f"{name} resizes with {TF_FLOAT64}")
        resampler = tf_resampler(request)
    elif backend == "jax":
        resampler = jax_resampler(request, cubic_pytorch=False)
    elif backend == "torch":
        # keras/src/backend/torch/image.py: nearest -> 'nearest-exact', align_corners=False.
        resampler = torch_resampler(
            request, given_scale=False, align_corners=False, nearest="nearest-exact"
        )
    else:
        raise Unsupported(f"keras adapter: no resize rules for backend {backend!r}")
    factors = tuple(axis.m // axis.n for axis in request.axes)
    integer = all(axis.m == f * axis.n for axis, f in zip(request.axes, factors, strict=True))
    if integer and not request.antialias:
        layer = "UpSampling2D"
        upsampling = keras_upsampling_nearest(factors) if request.mode == "nearest" else resampler
    else:
        layer, upsampling = "Resizing", resampler
    try:
        check(upsampling, request)
    except Unsupported as exc:
        via = (
            ""
            if upsampling.name.startswith("keras")
            else (
                f"keras.layers.{layer} calls keras.ops.image.resize, on backend {backend} "
                f"{resampler.name}: "
            )
        )
        raise Unsupported(f"{via}{exc}") from None
    plan = {"layer": layer, "interpolation": interpolation}
    return {**plan, "factors": factors} if layer == "UpSampling2D" else plan


def pair(value) -> tuple:
    return tuple(value) if isinstance(value, (tuple, list)) else (value, value)
