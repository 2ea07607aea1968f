"""Conventions rows for Flax's defaults (issue 21); asserted in test_conventions_flax.py."""

from __future__ import annotations

from tests.conventions.rows import KERAS_315 as _KERAS_315
from tests.conventions.rows import TORCH_213 as _TORCH_213
from tests.conventions.rows import Convention, Side

_FLAX = "flax 0.12.8 (jax 0.10.2)"
_FLAX_BN = (
    "google/flax flax/linen/normalization.py BatchNorm (momentum: float = 0.99, epsilon: "
    "float = 1e-5; ra_mean = momentum * ra_mean + (1 - momentum) * mean; var from "
    "_compute_stats: the biased batch variance)"
)

#: Flax's defaults (flax.linen), each against torch or Keras.
FLAX_ROWS: tuple[Convention, ...] = (
    Convention(
        id="flax_conv_default_padding",
        title="Conv default padding: 'SAME' in Flax, 0 in torch",
        a=Side(
            ("torch",),
            "torch.nn.Conv2d(C, M, 3)  # padding=0",
            "conv2d.forward(x, w, b, padding=0)",
            {"padding": 0},
        ),
        b=Side(
            ("flax",),
            "flax.linen.Conv(M, (3, 3))  # padding='SAME'",
            "conv2d.forward(x, w, b, padding='same')",
            {"padding": "same"},
        ),
        difference=(
            "at stride 1 with an odd k, torch is Flax cropped by (k-1)/2 on every side: "
            "torch (H-k+1, W-k+1) = flax[(k-1)/2 : H-(k-1)/2, (k-1)/2 : W-(k-1)/2], Flax "
            "keeps (H, W)"
        ),
        versions=f"{_TORCH_213}; {_FLAX}",
        sources=(
            "google/flax flax/linen/linear.py _Conv (padding: PaddingLike = 'SAME')",
            "https://flax.readthedocs.io/en/latest/api_reference/flax.linen/layers.html (Conv)",
            "https://pytorch.org/docs/stable/generated/torch.nn.Conv2d.html (padding=0)",
        ),
    ),
    Convention(
        id="flax_batchnorm_use_running_average",
        title="Batch norm mode: Flax's use_running_average is torch's eval(), no default",
        a=Side(
            ("torch",),
            "torch.nn.BatchNorm2d(C).train() / .eval()",
            "batchnorm2d.forward(..., training=True / False)",
            {"training": (True, False)},
        ),
        b=Side(
            ("flax",),
            "flax.linen.BatchNorm().apply(v, x, use_running_average=False / True)",
            "batchnorm2d.forward(..., training=not use_running_average)",
            {"use_running_average": (False, True)},
        ),
        difference=(
            "the flag is inverted: flax(use_running_average=u) = torch(training=not u) in "
            "both modes, and the modes differ; Flax has no default (neither the module nor "
            "the call setting it is an error), torch starts in training mode and Keras "
            "runs inference when a layer is called directly"
        ),
        versions=f"{_TORCH_213}; {_FLAX}",
        sources=(
            _FLAX_BN,
            "google/flax flax/linen/module.py merge_param (a parameter given neither to "
            "the constructor nor at call time is an error)",
            "https://pytorch.org/docs/stable/generated/torch.nn.BatchNorm2d.html",
        ),
    ),
    Convention(
        id="flax_batchnorm_running_stats",
        title="Batch norm running statistics: Flax weights the old value by 0.99, as Keras",
        a=Side(
            ("torch",),
            "torch.nn.BatchNorm2d(C)  # momentum=0.1",
            "batchnorm2d.update_running_stats(x, mean, var, convention='torch')",
            {"convention": "torch", "momentum": 0.1},
        ),
        b=Side(
            ("flax",),
            "flax.linen.BatchNorm()  # momentum=0.99",
            "batchnorm2d.update_running_stats(x, mean, var, convention='keras')",
            {"convention": "keras", "momentum": 0.99},
        ),
        difference=(
            "torch: new = (1-m) old + m batch (m=0.1), unbiased batch var; Flax: new = m old "
            "+ (1-m) batch (m=0.99), biased var (Keras 3's convention and default). With "
            "Flax m = 1 - torch m the means agree and the variances' batch terms differ by "
            "n/(n-1), n = N*H*W"
        ),
        versions=f"{_TORCH_213}; {_FLAX}",
        sources=(
            _FLAX_BN,
            "https://pytorch.org/docs/stable/generated/torch.nn.BatchNorm2d.html "
            "(momentum 0.1; 'calculated via the unbiased estimator')",
        ),
    ),
    Convention(
        id="flax_batchnorm_eps_default",
        title="Batch norm default eps: 1e-5 (Flax, as torch) vs 1e-3 (Keras)",
        a=Side(
            ("flax",),
            "flax.linen.BatchNorm(use_running_average=True)  # epsilon=1e-5",
            "batchnorm2d.forward(..., training=False, eps=1e-5)",
            {"eps": 1e-5},
        ),
        b=Side(
            ("keras",),
            "keras BatchNormalization()  # epsilon=1e-3",
            "batchnorm2d.forward(..., training=False, eps=1e-3)",
            {"eps": 1e-3},
        ),
        difference=(
            "(y_flax - beta) / (y_keras - beta) = sqrt((var + 1e-3) / (var + 1e-5)) per "
            "channel; Flax's default equals torch's"
        ),
        versions=f"{_FLAX}; {_KERAS_315}",
        sources=(
            _FLAX_BN,
            "https://tensorflow.org/versions/r2.10/api_docs/python/tf/keras/layers/"
            "BatchNormalization (epsilon=0.001)",
        ),
    ),
    Convention(
        id="flax_avgpool_count_include_pad",
        title="Average pooling with 'SAME': padding counted (Flax) or not (Keras/TF)",
        a=Side(
            ("flax",),
            "flax.linen.avg_pool(x, (3, 3), (1, 1), 'SAME')  # count_include_pad=True",
            "avgpool2d.forward(x, kernel_size=3, stride=1, padding='same', count_include_pad=True)",
            {"kernel_size": 3, "stride": 1, "padding": "same", "count_include_pad": True},
        ),
        b=Side(
            ("keras", "tensorflow"),
            "keras AveragePooling2D(3, strides=1, padding='same') / tf.nn.avg_pool2d SAME",
            "avgpool2d.forward(x, kernel_size=3, stride=1, padding='same', "
            "count_include_pad=False)",
            {"kernel_size": 3, "stride": 1, "padding": "same", "count_include_pad": False},
        ),
        difference=(
            "the same 'SAME' windows and sums, different divisors: flax * k*k = keras * "
            "n_real, n_real the real cells in the window (only border windows differ); "
            "Flax with count_include_pad=False reproduces Keras"
        ),
        versions=f"{_FLAX}; {_KERAS_315}",
        sources=(
            "google/flax flax/linen/pooling.py avg_pool (count_include_pad=True: y / "
            "np.prod(window_shape))",
            "https://github.com/google/flax/issues/2401 (avg_pool includes padding tokens "
            "in the mean)",
            "https://github.com/google/flax/pull/2451 (adds count_include_pad, default True)",
            "https://www.tensorflow.org/api_docs/python/tf/nn (Notes on padding: 'In case "
            "of pools, the padded input values are ignored')",
        ),
    ),
)
