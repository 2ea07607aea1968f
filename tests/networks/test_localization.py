"""Layer-by-layer localization (tests/networks/localize.py), tested on every network.

- Clean: the network as the builders write it localizes nothing (every framework layer
  within its own bound, isolated); the per-layer record goes to the report's networks
  section (error/bound along depth, isolated and propagated).
- Injected: one node of one framework is built the way a porting user who missed a real
  convention builds it (the builders' ``overrides``), and localization must name exactly
  that layer and the conventions row that explains it.

Batch norm in training mode: the declared float32 bound of a training-mode batch norm
(tests/layers/batchnorm2d.py: ``eps32 * N*H*W * cond * (1 + h cond)`` for the
``E[x^2] - mean^2`` cancellation) is wider than the eps 1e-3 vs 1e-5 change wherever
the channel's variance is far above 1e-3, so the train-mode injections use the layers
where it is not (the MobileNetV2 depthwise batch norm, the U-Net bottleneck: measured
error/bound 3.2 and 1.3) or another convention (ResNet: SAME at stride 2).  Eval mode
(a few elementwise ops, a tight bound) shows the eps change at any layer.
"""

from __future__ import annotations

import functools

import pytest

from tests.conventions.table import ROWS
from tests.networks import graph, models

pytestmark = pytest.mark.network

FRAMEWORKS = [
    pytest.param("torch", marks=pytest.mark.torch),
    pytest.param("keras", marks=[pytest.mark.keras, pytest.mark.tensorflow]),
]

#: (network, framework, node, the porting user's variant, conventions row that explains it)
INJECTIONS = [
    ("seed000_single_filter", "torch", "conv", {"kernel": "flipped"}, "conv_cross_correlation"),
    ("seed002_conv_linear", "torch", "fc", {"rows": "hwc"}, "flatten_order"),
    ("seed004_keras_cnn", "keras", "fc1", {"rows": "unpermuted"}, "flatten_order"),
    ("seed003_two_conv_dropout", "keras", "dropout9", {"p": 0.75}, "dropout_rate_meaning"),
    ("resnet_basic_train", "keras", "b2_conv1", {"padding": "same"}, "same_padding_stride2"),
    ("resnet_basic_eval", "torch", "b1_bn2", {"eps": 1e-3}, "batchnorm_eps_default"),
    ("mobilenetv2_train", "torch", "b1_dw_bn", {"eps": 1e-3}, "batchnorm_eps_default"),
    ("mobilenetv2_eval", "keras", "b2_dw", {"padding": "same"}, "same_padding_stride2"),
    ("unet_transpose_train", "keras", "mid_bn", {"epsilon": "default"}, "batchnorm_eps_default"),
    ("unet_transpose_eval", "torch", "dec2_bn", {"eps": 1e-3}, "batchnorm_eps_default"),
    ("unet_bilinear_train", "torch", "mid_bn", {"eps": 1e-3}, "batchnorm_eps_default"),
    ("unet_bilinear_eval", "keras", "enc2_bn", {"epsilon": "default"}, "batchnorm_eps_default"),
]


@functools.cache
def _localizer_or_reason(framework: str):
    from adapters.base import FrameworkMissing
    from tests.networks import localize

    try:
        localize.builder(framework).version()
    except FrameworkMissing as exc:
        return str(exc)
    return localize


def _localize(name, framework, overrides=None):
    if name not in ("seed000_single_filter", "seed002_conv_linear"):
        pytest.importorskip("sklearn", reason="the digits data ships with scikit-learn")
    module = _localizer_or_reason(framework)
    if isinstance(module, str):
        pytest.skip(module)
    return module.localize_network(name, framework, overrides), module


def test_every_network_has_an_injection():
    assert sorted({name for name, *_ in INJECTIONS}) == sorted(models.NETWORKS)
    rows = {row.id for row in ROWS}
    for name, _, node, _, row in INJECTIONS:
        assert row in rows, row
        assert node in {n["name"] for n in graph.nodes(models.NETWORKS[name])}, node


@pytest.mark.parametrize("framework", FRAMEWORKS)
@pytest.mark.parametrize("name", list(models.NETWORKS))
def test_clean_network_localizes_nothing(name, framework, request):
    result, module = _localize(name, framework)
    request.node.user_properties.append(
        (
            "network",
            {
                "network": name,
                "source": models.NETWORKS[name].get("source")
                or f"seed {models.NETWORKS[name]['seed']}",
                "adapter": framework,
                "framework_version": module.builder(framework).version(),
                "dtype": module.DTYPE,
                "check": "localization",
                "localization": result.record(),
            },
        )
    )
    # Every reference node is covered by exactly one stage, in order.
    covered = [n for layer in result.layers for n in layer.nodes]
    assert covered == [n["name"] for n in graph.nodes(models.NETWORKS[name], with_output=True)]
    assert result.divergence is None, result.message()


@pytest.mark.parametrize(
    ("name", "framework", "node", "override", "row"),
    [
        pytest.param(
            *case, id=f"{case[0]}-{case[1]}-{case[2]}", marks=FRAMEWORKS[case[1] == "keras"].marks
        )
        for case in INJECTIONS
    ],
)
def test_injected_convention_is_named(name, framework, node, override, row):
    result, _ = _localize(name, framework, {node: override})
    first = result.divergence
    assert first is not None, f"{node} {override}: nothing diverged"
    assert node in first.nodes, result.message()
    # Only the injected layer fails isolated: the ones after it get the reference's input.
    assert [layer.nodes for layer in result.failures] == [first.nodes], result.message()
    index = [n["name"] for n in graph.nodes(models.NETWORKS[name], with_output=True)].index(
        first.nodes[-1]
    )
    message = result.message()
    assert message.startswith(f"{name} ({framework}): the divergence is layer {index} ("), message
    assert message.endswith(f"see conventions row {row}"), message
    assert first.explanation["row"] == row


def test_unexplained_divergence_gives_layer_attributes_worst_element_and_repro():
    """A dropout scale no conventions row explains (rate 0.5 written for 0.25; the row
    dropout_rate_meaning is 1 - p = 0.75): the message falls back to the layer, its
    attributes, the worst element and a command that reproduces it."""
    result, _ = _localize("seed003_two_conv_dropout", "keras", {"dropout9": {"p": 0.5}})
    first = result.divergence
    assert first is not None
    assert first.nodes == ("dropout9",)
    assert first.explanation is None
    message = result.message()
    assert "the divergence is layer 9 (dropout9: InjectedDropout(rate=0.5))" in message
    assert "isolated error/bound" in message
    assert "worst at (" in message
    assert "reference dropout attributes {'p': 0.25}" in message
    assert "reproduce with:" in message
    assert "localize_network('seed003_two_conv_dropout'" in message
