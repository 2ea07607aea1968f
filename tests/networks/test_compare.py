"""``compare_models`` on a user's model pair (tests/networks/compare.py): the README's
example, its faithful port, a pair that does not map, and the shipped networks written as
``torch.nn.Sequential`` + ``keras.Sequential``; the command and its HTML section."""

from __future__ import annotations

import numpy as np
import pytest

from tests.networks import pair_example

pytestmark = [pytest.mark.network, pytest.mark.torch, pytest.mark.keras]


@pytest.fixture(scope="module")
def compare():
    pytest.importorskip("torch")
    pytest.importorskip("keras")
    from tests.networks import compare as module

    try:
        from tests.networks import keras_models

        keras_models.version()
    except Exception as exc:  # FrameworkMissing: Keras not on TensorFlow
        pytest.skip(str(exc))
    return module


def test_example_pair_names_the_average_pool_and_its_row(compare):
    result = compare.compare_models(*pair_example.example_pair(), name="example")
    assert result.torch.divergence is None, result.torch.message()
    first = result.keras.divergence
    assert first.nodes == ("2_avgpool2d",)
    assert result.keras.message().startswith(
        "example (keras): the divergence is layer 2 (average_pooling2d"
    )
    assert result.keras.message().endswith(
        "count_include_pad=False, see conventions row avgpool_count_include_pad"
    )
    # The stride-2 "same" convolution diverges too, fed the reference's input.
    rows = [(f.nodes, (f.explanation or {}).get("row")) for f in result.keras.failures]
    assert rows == [
        (("2_avgpool2d",), "avgpool_count_include_pad"),
        (("3_conv2d",), "same_padding_stride2"),
    ]


def test_faithful_port_has_no_divergence(compare):
    result = compare.compare_models(*pair_example.faithful_pair())
    assert result.divergence is None, result.message()
    assert result.keras.layers[0].nodes == ("0_conv2d", "1_relu")


def test_pair_that_does_not_map_names_the_first_unmatched_layer(compare):
    with pytest.raises(compare.PairError, match=r"^torch layer 1 \(ReLU\(\)\): Keras layer 1 "):
        compare.compare_models(*pair_example.mismatched_pair())


def test_geometry_mismatch_is_refused(compare):
    import keras

    torch_model, _, x = pair_example.faithful_pair()
    L = keras.layers
    wrong = keras.Sequential(
        [
            keras.Input((12, 12, 1)),
            L.Conv2D(4, 3, padding="same", activation="relu"),
            L.ZeroPadding2D(1),
            L.AveragePooling2D(3, strides=1),
            L.ZeroPadding2D(1),
            L.Conv2D(8, 3, strides=2),
            L.BatchNormalization(epsilon=1e-5),
            L.ReLU(),
            L.GlobalAveragePooling2D(),
            L.Dense(12),
        ]
    )
    with pytest.raises(compare.PairError, match=r"torch layer 8 \(Linear.*has units 12, torch 10"):
        compare.compare_models(torch_model, wrong, x)


@pytest.mark.parametrize("name", ["seed002_conv_linear", "seed004_keras_cnn"])
def test_shipped_networks_as_sequential_pairs(compare, name):
    """The shipped torch modules in a ``torch.nn.Sequential`` and the shipped Keras layers
    in a ``keras.Sequential``: the weights are ported by compare_models (the Keras layers'
    own are overwritten) and nothing diverges."""
    import keras
    import torch

    from tests.networks import keras_models, localize, torch_models

    if name == "seed004_keras_cnn":
        pytest.importorskip("sklearn", reason="the digits data ships with scikit-learn")
    ref = localize.network_reference(name)
    f32 = {k: v.astype(np.float32) for k, v in ref.params.items()}
    tnet = torch_models.build(ref.spec, f32, ref.x.shape)
    knet = keras_models.build(ref.spec, f32, ref.x.shape)
    torch_model = torch.nn.Sequential(*tnet.model.nodes.values()).eval()
    layers = [la for node_layers in knet.layers.values() for la in node_layers]
    keras_model = keras.Sequential([keras.Input((*ref.x.shape[2:], ref.x.shape[1])), *layers])
    result = compare.compare_models(torch_model, keras_model, ref.x, name=name)
    assert result.divergence is None, result.message()


def test_command_writes_the_html_section(compare, tmp_path, capsys):
    out = tmp_path / "pair.html"
    status = compare.main(["tests.networks.pair_example:example_pair", "--out", str(out)])
    assert status == 1  # a divergence
    page = out.read_text(encoding="utf-8")
    assert "see conventions row avgpool_count_include_pad" in page
    assert "<svg" in page
    assert "keras isolated" in page
    assert "avgpool_count_include_pad" in capsys.readouterr().out
    assert compare.main(["tests.networks.pair_example:mismatched_pair", "--out", str(out)]) == 2
