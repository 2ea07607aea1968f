"""resize2d in the adapters: the rules in adapters/_resize_rules.py pick each framework's
own option where it computes the reference's numbers and otherwise quote the framework's
rule; each quoted rule is shown here on the framework itself (its docstring says it, or a
tiny call does it)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import adapters
from adapters import _resize_geometry as geo
from adapters import _resize_rules as rules
from adapters.base import FrameworkMissing, Unsupported
from tests.adapters.calls import forward, refusal

ROOT = Path(__file__).resolve().parents[2]


def _request(
    shape,
    size=None,
    scale=None,
    mode="nearest",
    how="half_pixel",
    rule="round_prefer_floor",
    a=-0.75,
    aa=False,
):
    return rules.Request.of(np.zeros(shape), size, scale, mode, how, rule, a, aa)


def _load(name):
    try:
        return adapters.load(name)
    except FrameworkMissing as exc:
        pytest.skip(str(exc))


# -- the rules, without any framework ------------------------------------------------------


def test_rules_import_no_framework():
    code = (
        "import sys, adapters._resize_rules; "
        "print([m for m in ('torch', 'tensorflow', 'jax', 'keras', 'scipy') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert out.stdout.strip() == "[]", out.stderr


@pytest.mark.parametrize(
    ("how", "rule", "torch_mode"),
    [
        ("asymmetric", "floor", "nearest"),
        ("half_pixel", "round_prefer_ceil", "nearest-exact"),
        ("tf_half_pixel_for_nn", "floor", "nearest-exact"),
    ],
)
def test_torch_nearest_modes_by_the_indices_they_read(how, rule, torch_mode):
    request = _request((1, 1, 5, 7), size=(8, 3), how=how, rule=rule)
    assert rules.torch_plan(request, given_scale=False)["mode"] == torch_mode


def test_torch_nearest_other_rules_refused_with_both_modes_indices():
    request = _request((1, 1, 5, 7), size=(8, 3), how="align_corners", rule="ceil")
    with pytest.raises(
        Unsupported, match=r"matches buggy OpenCV.*mode='nearest'.*mode='nearest-exact'"
    ):
        rules.torch_plan(request, given_scale=False)


def test_pytorch_half_pixel_is_torch_half_pixel_except_at_length_one():
    request = _request((1, 1, 6, 5), size=(4, 3), mode="linear", how="pytorch_half_pixel")
    assert rules.torch_plan(request, given_scale=False) == {
        "mode": "bilinear",
        "align_corners": False,
    }
    one = _request((1, 1, 6, 5), size=(1, 3), mode="linear", how="pytorch_half_pixel")
    with pytest.raises(
        Unsupported, match=r"axis H, 6 -> 1, output 0 samples 2.5, the call asks for 0"
    ):
        rules.torch_plan(one, given_scale=False)


@pytest.mark.parametrize(
    "how", ["half_pixel", "align_corners", "asymmetric", "tf_half_pixel_for_nn"]
)
@pytest.mark.parametrize("mode", ["linear", "cubic"])
def test_antialiased_downsampling_always_reaches_outside(mode, how):
    """Why every framework that drops outside taps is refused there: with the filter
    stretched by 1/scale, the first output's filter covers index -1 with weight > 0."""
    axis = geo.axes((1, 1, 8, 8), size=(3, 3))[0]
    coords = geo.wanted_coordinates(axis, how)
    assert geo.outside_taps(axis, coords, mode, geo.antialias_stretch(axis, True))


def test_size_only_apis_need_scale_equal_out_over_in():
    assert rules.jax_plan(_request((1, 1, 4, 6), scale=1.5, mode="linear"), True) == "linear"
    with pytest.raises(Unsupported, match=r"scale 0.6 is not 3/5"):
        rules.jax_plan(_request((1, 1, 5, 5), scale=0.6, mode="linear"), True)


def test_jax_cubic_pytorch_only_where_installed():
    request = _request((1, 1, 4, 4), scale=2, mode="cubic")
    assert rules.jax_plan(request, has_cubic_pytorch=True) == "cubic-pytorch"
    with pytest.raises(Unsupported, match=r"A=-0\.5"):
        rules.jax_plan(request, has_cubic_pytorch=False)


@pytest.mark.parametrize(
    ("how", "plan_key"),
    [("half_pixel", True), ("align_corners", False), ("asymmetric", "map_coordinates")],
)
def test_scipy_zoom_where_its_grid_fits(how, plan_key):
    plan = rules.scipy_plan(_request((1, 1, 4, 5), size=(7, 3), mode="linear", how=how))
    if plan_key == "map_coordinates":
        assert plan["map_coordinates"][0][:2] == [0.0, 4 / 7]
    else:
        assert plan == {"zoom": plan_key}


def test_keras_upsampling_for_integer_factors_else_resizing():
    by_factor = _request((1, 1, 3, 4), scale=2, how="asymmetric", rule="floor")
    assert rules.keras_plan(by_factor, "tensorflow", "float32")["layer"] == "UpSampling2D"
    by_size = _request((1, 1, 3, 4), size=(5, 7), rule="round_prefer_ceil")
    assert rules.keras_plan(by_size, "tensorflow", "float32")["layer"] == "Resizing"
    bilinear64 = _request((1, 1, 3, 4), scale=2, mode="linear")
    with pytest.raises(Unsupported, match="type `float32`"):
        rules.keras_plan(bilinear64, "tensorflow", "float64")


# -- each quoted rule, on the framework ----------------------------------------------------


@pytest.mark.torch
def test_torch_antialias_ignores_align_corners_for_its_centres():
    """pytorch/pytorch#145526: with antialias=True torch centres its filter at
    (i + 0.5) * scale - 0.5 even with align_corners=True, while the scale becomes
    (in - 1)/(out - 1): [0, 1] -> 3 samples -0.25, 0.25, 0.75, not 0, 0.5, 1."""
    adapter = _load("torch")
    import torch

    x = np.array([[[[0.0, 1.0]]]])
    got = torch.nn.functional.interpolate(
        torch.from_numpy(x), size=(1, 3), mode="bilinear", align_corners=True, antialias=True
    )
    np.testing.assert_allclose(got.numpy().ravel(), [0.0, 0.25, 0.75], atol=1e-12)
    attrs = {
        "size": (1, 3),
        "mode": "linear",
        "coordinate_transformation_mode": "align_corners",
        "antialias": True,
    }
    assert "#145526" in refusal(adapter, "resize2d", {"x": x}, attrs)


@pytest.mark.torch
def test_torch_nearest_reads_i_when_out_equals_in_whatever_the_scale():
    adapter = _load("torch")
    import torch

    x = np.arange(3.0).reshape(1, 1, 1, 3)
    got = torch.nn.functional.interpolate(
        torch.from_numpy(x), scale_factor=(1, 1.25), mode="nearest"
    )
    np.testing.assert_array_equal(got.numpy().ravel(), [0, 1, 2])  # floor(i / 1.25) is [0, 0, 1]
    attrs = {
        "scale": (1, 1.25),
        "coordinate_transformation_mode": "asymmetric",
        "nearest_mode": "floor",
    }
    assert "i when out == in" in refusal(adapter, "resize2d", {"x": x}, attrs)


@pytest.mark.tensorflow
def test_tensorflow_rules_are_its_docstring():
    adapter = _load("tensorflow")
    tf = adapter.tf
    doc = " ".join(tf.image.resize.__doc__.split())
    for rule in (rules.TF_EDGES, rules.TF_CUBIC, rules.TF_FLOAT64):
        for quote in rule.split("'")[1::2]:
            assert quote in doc
    x = np.zeros((1, 1, 3, 4))
    assert tf.image.resize(x.transpose(0, 2, 3, 1), (5, 7)).dtype == tf.float32  # float64 in
    assert rules.TF_FLOAT64 in refusal(
        adapter, "resize2d", {"x": x}, {"size": (5, 7), "mode": "linear"}
    )


@pytest.mark.jax
def test_jax_resize_antialiases_by_default_and_the_adapter_says_false():
    """jax.image.resize(..., antialias=True) by default: downsampling 8 -> 3 differs from
    the plain tent the reference computes with antialias=False, which the adapter asks
    for explicitly."""
    adapter = _load("jax")
    import inspect

    import jax

    assert inspect.signature(jax.image.resize).parameters["antialias"].default is True
    x = np.random.default_rng(0).standard_normal((1, 1, 8, 8))
    attrs = {"size": (3, 3), "mode": "linear"}
    default = np.asarray(jax.image.resize(x, (1, 1, 3, 3), "linear"))
    from reference import resize2d

    want = resize2d.forward(x, **attrs)
    np.testing.assert_allclose(forward(adapter, "resize2d", {"x": x}, attrs), want, atol=1e-12)
    assert np.max(np.abs(default - want)) > 0.05


@pytest.mark.scipy
def test_scipy_order0_rounds_halves_up_and_has_no_gradient():
    adapter = _load("scipy")
    from scipy import ndimage

    got = ndimage.map_coordinates(np.arange(5.0), [[0.5, 1.5, 2.5]], order=0, mode="nearest")
    np.testing.assert_array_equal(got, [1, 2, 3])
    x = np.zeros((1, 1, 3, 4))
    attrs = {"size": (5, 7), "nearest_mode": "round_prefer_ceil"}
    assert refusal(adapter, "resize2d", {"x": x}, attrs) is None
    assert "no adjoint" in refusal(adapter, "resize2d", {"x": x}, attrs, direction="backward")
