"""The conventions table: every documented difference between frameworks, as data.

A convention is not a bug: two frameworks compute different, well-defined things for what
looks like the same call.  Each row names both sides (the API a user writes), the
reference parameters that reproduce each side, the documented difference, the versions
it was observed with, and its sources.  ``tests/conventions/test_conventions.py`` runs
both sides' real APIs for every row and asserts (1) the reference with each side's
parameters reproduces that side and (2) the two sides differ exactly by ``difference``.
A row asserted elsewhere names that test in ``tested_by``.

Framework bugs are not conventions; they go to tests/known_divergences.py.

``versions`` is where the row was observed: the versions installed when this table was
written (torch 2.13.0 CPU, tensorflow-cpu 2.21 with keras 3.15 on the TensorFlow backend,
jax 0.10.2, scipy 1.17), plus any range the cited docs state.  The tox matrix (issue 5)
is the place to widen it; each record also carries the versions actually run.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Side:
    """One side of a row: the frameworks showing it, the API call, and the reference call
    (with ``params``) that reproduces it."""

    frameworks: tuple[str, ...]
    api: str
    reference: str
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Convention:
    id: str
    title: str
    a: Side
    b: Side
    #: The documented difference, as a formula in both sides' outputs.
    difference: str
    versions: str
    sources: tuple[str, ...]
    notes: str = ""
    #: A test elsewhere that asserts the row (the row's test here calls it).
    tested_by: str | None = None

    def frameworks(self) -> str:
        return f"{' / '.join(self.a.frameworks)} vs {' / '.join(self.b.frameworks)}"


_TORCH_213 = "torch 2.13.0"
_KERAS_315 = "keras 3.15 (TF backend), tensorflow 2.21"
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

ROWS: tuple[Convention, ...] = (
    Convention(
        id="same_padding_stride2",
        title="SAME padding vs symmetric padding at stride 2",
        a=Side(
            ("torch",),
            "torch.nn.Conv2d(k=3, stride=2, padding=1)",
            "conv2d.forward(x, w, stride=2, padding=1)",
            {"stride": 2, "padding": 1},
        ),
        b=Side(
            ("keras", "tensorflow", "jax"),
            "keras Conv2D(3, strides=2, padding='same') / tf.nn.conv2d / lax 'SAME'",
            "conv2d.forward(x, w, stride=2, padding='same')",
            {"stride": 2, "padding": "same"},
        ),
        difference=(
            "SAME pads total = max((ceil(n/s)-1)s + k - n, 0) with the odd cell bottom/right; "
            "when total is odd (n=6: pads (0,1)) torch = F[0::2, 0::2] and SAME = "
            "F[1::2, 1::2] of the stride-1 padding-1 map F; when even (n=7) they agree"
        ),
        versions=f"{_TORCH_213}; {_KERAS_315}; jax 0.10.2 (SAME rule: TF docs since 1.x)",
        sources=(
            "https://www.tensorflow.org/api_docs/python/tf/nn (Notes on padding: 'SAME')",
            "https://pytorch.org/docs/stable/generated/torch.nn.Conv2d.html",
            "https://github.com/pytorch/pytorch/issues/67551 (padding='same' refuses stride 2)",
        ),
        notes="torch's own padding='same' refuses stride > 1, so a port writes padding=1.",
    ),
    Convention(
        id="avgpool_count_include_pad",
        title="Average pooling: padding counted (torch) or not (TF/Keras SAME)",
        a=Side(
            ("torch",),
            "torch.nn.AvgPool2d(3, stride=1, padding=1)  # count_include_pad=True",
            "avgpool2d.forward(x, kernel_size=3, stride=1, padding=1, count_include_pad=True)",
            {"kernel_size": 3, "stride": 1, "padding": 1, "count_include_pad": True},
        ),
        b=Side(
            ("keras", "tensorflow"),
            "keras AveragePooling2D(3, strides=1, padding='same') / tf.nn.avg_pool2d SAME",
            "avgpool2d.forward(x, kernel_size=3, stride=1, padding='same', "
            "count_include_pad=False)",
            {"kernel_size": 3, "stride": 1, "padding": "same", "count_include_pad": False},
        ),
        difference=(
            "same window sums, different divisors: torch * k*k = SAME * n_real, n_real the "
            "real cells in the window (only border windows differ); torch with "
            "count_include_pad=False reproduces SAME"
        ),
        versions=f"{_TORCH_213}; {_KERAS_315}",
        sources=(
            "https://pytorch.org/docs/stable/generated/torch.nn.AvgPool2d.html "
            "(count_include_pad, default True)",
            "https://www.tensorflow.org/api_docs/python/tf/nn (Notes on padding: 'In case "
            "of pools, the padded input values are ignored')",
            "https://keras.io/api/layers/pooling_layers/average_pooling2d/",
        ),
    ),
    Convention(
        id="batchnorm_running_stats",
        title="Batch norm running statistics: momentum meaning, unbiased vs biased variance",
        a=Side(
            ("torch",),
            "torch.nn.BatchNorm2d(C)  # momentum=0.1",
            "batchnorm2d.update_running_stats(x, mean, var, convention='torch')",
            {"convention": "torch", "momentum": 0.1},
        ),
        b=Side(
            ("keras",),
            "keras BatchNormalization()  # momentum=0.99",
            "batchnorm2d.update_running_stats(x, mean, var, convention='keras')",
            {"convention": "keras", "momentum": 0.99},
        ),
        difference=(
            "torch: new = (1-m) old + m batch (m=0.1), unbiased batch var; Keras: new = "
            "m old + (1-m) batch (m=0.99), biased var (Keras 3). With Keras m = 1 - torch m "
            "the means agree and the variances' batch terms differ by n/(n-1), n = N*H*W. "
            "Keras 2 (tf.keras, TF <= 2.15): the fused kernel stores the unbiased var, so "
            "there the variances agree too"
        ),
        versions=(
            f"{_TORCH_213}; {_KERAS_315}; biased in Keras 3.3-3.15 (TF 2.16-2.21), unbiased "
            "in tf.keras 2.15's fused kernel (tox envs py311-tf2{16,18,latest} vs py311-tf215)"
        ),
        sources=(
            "https://pytorch.org/docs/stable/generated/torch.nn.BatchNorm2d.html "
            "(momentum 0.1; 'calculated via the unbiased estimator')",
            "https://tensorflow.org/versions/r2.10/api_docs/python/tf/keras/layers/"
            "BatchNormalization (momentum=0.99; moving averages of the batch statistics)",
            "keras-team/keras keras/src/layers/normalization/batch_normalization.py call "
            "(moving_mean * momentum + mean * (1 - momentum); ops.moments: biased variance)",
            "https://github.com/tensorflow/tensorflow/issues/55545 (tf.keras "
            "BatchNormalization: fused=True applies Bessel's correction to the moving "
            "variance, fused=False does not)",
        ),
        notes=(
            "Seed 001 (/work/shared/seeds/001_*.txt, BatchNormalization) uses the Keras form "
            "with momentum 0.9 and the biased variance, normalising per flattened feature."
        ),
    ),
    Convention(
        id="batchnorm_eps_default",
        title="Batch norm default eps: 1e-5 (torch) vs 1e-3 (Keras)",
        a=Side(
            ("torch",),
            "torch.nn.BatchNorm2d(C)  # eps=1e-5",
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
            "(y_torch - beta) / (y_keras - beta) = sqrt((var + 1e-3) / (var + 1e-5)) per "
            "channel: large where the variance is comparable to 1e-3"
        ),
        versions=f"{_TORCH_213}; {_KERAS_315} (same defaults in tf.keras 2.x docs)",
        sources=(
            "https://pytorch.org/docs/stable/generated/torch.nn.BatchNorm2d.html (eps=1e-05)",
            "https://tensorflow.org/versions/r2.10/api_docs/python/tf/keras/layers/"
            "BatchNormalization (epsilon=0.001)",
        ),
        notes="Seed 001 adds 10e-7 = 1e-6 to the variance.",
    ),
    Convention(
        id="crossentropy_clipping",
        title="Keras categorical_crossentropy clips probabilities; torch works on logits",
        a=Side(
            ("torch",),
            "torch.nn.CrossEntropyLoss(reduction='none')(logits, labels)",
            "cross_entropy.forward(logits, labels, reduction='none')",
            {"reduction": "none"},
        ),
        b=Side(
            ("keras",),
            "keras.losses.categorical_crossentropy(one_hot, probs)  # probs: an array",
            "cross_entropy.categorical_crossentropy(softmax(logits), one_hot, reduction='none')",
            {"reduction": "none", "epsilon": 1e-7},
        ),
        difference=(
            "per sample keras = clip(torch, -log(1 - 1e-7), -log(1e-7) = 16.118): a confident "
            "wrong answer costs at most 16.1, a confident right one at least 1.0e-7"
        ),
        versions=(
            f"{_TORCH_213}; {_KERAS_315}; probabilities from keras.activations.softmax on the "
            "TF backend carry their logits and are not clipped"
        ),
        sources=(
            "keras-team/keras keras/src/backend/tensorflow/nn.py categorical_crossentropy "
            "(clip_by_value(output, epsilon(), 1 - epsilon()); _get_logits uses "
            "output._keras_logits when present)",
            "https://pytorch.org/docs/stable/generated/torch.nn.CrossEntropyLoss.html",
        ),
        notes=(
            "The clip applies to probabilities given as plain arrays (or any backend whose "
            "tensors cannot carry _keras_logits); a Keras softmax output layer on the "
            "TensorFlow backend hands the loss its logits, which then matches torch."
        ),
    ),
    Convention(
        id="dropout_rate_meaning",
        title="Dropout's number: drop probability (torch, Keras, tf.nn) or keep probability "
        "(TF1 keep_prob, stax rate)",
        a=Side(
            ("torch", "keras", "tensorflow"),
            "torch.nn.Dropout(p=0.25) / keras Dropout(rate=0.25) / tf.nn.dropout(rate=0.25)",
            "dropout.forward(x, p=0.25, mask)",
            {"p": 0.25},
        ),
        b=Side(
            ("tensorflow", "jax"),
            "tf.compat.v1.nn.dropout(keep_prob=0.25) / stax.Dropout(rate=0.25)",
            "dropout.forward(x, p=1 - 0.25, mask)",
            {"p": 0.75},
        ),
        difference=(
            "same number q, opposite meaning: side A keeps 1-q of the units scaled by "
            "1/(1-q), side B keeps q scaled by 1/q; kept-value ratio A/B = q/(1-q)"
        ),
        versions=f"{_TORCH_213}; {_KERAS_315}; jax 0.10.2 (stax)",
        sources=(
            "https://pytorch.org/docs/stable/generated/torch.nn.Dropout.html",
            "https://www.tensorflow.org/api_docs/python/tf/compat/v1/nn/dropout (keep_prob: "
            "'A deprecated alias for (1-rate)')",
            "jax-ml/jax jax/example_libraries/stax.py Dropout "
            "(keep = bernoulli(rng, rate); where(keep, inputs / rate, 0))",
        ),
        notes=(
            "Seed 003 uses tf.nn.dropout(keep_prob=...) (TF1).  Seed 001's Dropout is not "
            "inverted: it masks without scaling in training and multiplies by 1 - ratio at "
            "test time (same expectation, different activations)."
        ),
    ),
    Convention(
        id="relu_grad_at_zero",
        title="ReLU'(0): 0 for ReLU layers; 1/2 or 1 for max(x, 0) written elementwise",
        a=Side(
            ("torch", "keras", "tensorflow", "jax"),
            "torch.nn.ReLU / keras ReLU / tf.nn.relu / jax.nn.relu",
            "relu.backward(g, x)  # 0 at x == 0",
            {"tie_share": 0.0},
        ),
        b=Side(
            ("torch", "tensorflow", "jax"),
            "torch.maximum(x, 0), jnp.maximum(x, 0): ties split; tf.maximum(x, 0), "
            "torch.clamp(x, min=0): x takes ties",
            "relu.backward(g, x) + share * g * (x == 0)",
            {
                "tie_share": {
                    "torch.maximum(x, 0)": 0.5,
                    "jnp.maximum(x, 0)": 0.5,
                    "tf.maximum(x, 0)": 1.0,
                    "torch.clamp(x, min=0)": 1.0,
                }
            },
        ),
        difference=(
            "only at x == 0: B - A = share * g, share 1/2 (torch.maximum, jnp.maximum) or 1 "
            "(tf.maximum, torch.clamp); elsewhere identical"
        ),
        versions=f"{_TORCH_213}; {_KERAS_315}; jax 0.10.2",
        sources=(
            "https://docs.jax.dev/en/latest/_autosummary/jax.nn.relu.html "
            "('under differentiation, we take relu'(0) = 0')",
            "pytorch/pytorch tools/autograd/derivatives.yaml maximum "
            "(where(self == other, grad / 2, grad)); clamp_min (where(self >= min, grad, 0))",
            "tensorflow/tensorflow tensorflow/python/ops/math_grad.py _MaximumGrad "
            "(greater_equal: x takes ties)",
            "jax-ml/jax jax/_src/lax/lax.py max_p JVP _balanced_eq (ties split in half)",
        ),
    ),
    Convention(
        id="maxpool_grad_ties",
        title="Max-pool gradient with tied maxima: first maximum vs split",
        a=Side(
            ("torch", "tensorflow", "keras", "jax"),
            "torch.nn.MaxPool2d(2) / tf.nn.max_pool2d / keras MaxPooling2D / "
            "lax.reduce_window(max)",
            "maxpool2d.backward(g, x, kernel_size=2)  # first maximum, row-major",
            {"kernel_size": 2, "stride": 2},
        ),
        b=Side(
            ("jax",),
            "x.reshape(N, C, H/2, 2, W/2, 2).max(axis=(3, 5)) in jax.numpy",
            "g / (number of tied maxima) to each tied cell",
            {"kernel_size": 2, "stride": 2},
        ),
        difference=(
            "a window with t tied maxima sends all of g to the first (row-major) in A and "
            "g/t to each in B; windows without ties agree"
        ),
        versions=f"{_TORCH_213}; {_KERAS_315}; jax 0.10.2 (all four A APIs pick the first)",
        sources=(
            "jax-ml/jax jax/_src/lax/windowed_reductions.py _reduce_window_chooser_jvp_rule "
            "(select_and_gather_add with ge: first maximum)",
            "jax-ml/jax jax/_src/lax/lax.py _reduce_chooser_jvp_rule (g * eq(x, max) / "
            "count: ties share equally)",
            "reference/maxpool2d.py docstring (torch and TF CPU: first maximum)",
        ),
    ),
    Convention(
        id="flatten_order",
        title="Flatten order: (C, H, W) in torch, (H, W, C) in Keras channels_last",
        a=Side(
            ("torch",),
            "torch.nn.Flatten() on NCHW",
            "flatten.forward(x)",
            {"start_dim": 1},
        ),
        b=Side(
            ("keras",),
            "keras.layers.Flatten() on NHWC",
            "flatten.forward(nchw_to_nhwc(x))",
            {"start_dim": 1},
        ),
        difference=(
            "keras[:, (h*W + w)*C + c] = torch[:, c*H*W + h*W + w]; the next Dense kernel's "
            "rows move the same way (adapters.layout.dense_rows_chw_to_hwc)"
        ),
        versions=f"{_TORCH_213}; {_KERAS_315}",
        sources=(
            "https://keras.io/api/layers/reshaping_layers/flatten/ (data_format channels_last)",
            "https://pytorch.org/docs/stable/generated/torch.nn.Flatten.html",
        ),
    ),
    Convention(
        id="adam_eps",
        title="Adam eps: 1e-8 after bias correction (torch) vs 1e-7 before (Keras)",
        a=Side(
            ("torch",),
            "torch.optim.Adam(lr)  # eps=1e-8",
            "adam.step(..., convention='torch')",
            {"convention": "torch", "eps": 1e-8},
        ),
        b=Side(
            ("keras",),
            "keras.optimizers.Adam(lr)  # epsilon=1e-7",
            "adam.step(..., convention='keras')",
            {"convention": "keras", "eps": 1e-7},
        ),
        difference=(
            "torch: m_hat / (sqrt(v_hat) + 1e-8); Keras: lr sqrt(1-b2^t)/(1-b1^t) m / "
            "(sqrt(v) + 1e-7); equal when eps_keras = eps_torch sqrt(1 - b2^t)"
        ),
        versions=f"{_TORCH_213}; {_KERAS_315}",
        sources=(
            "reference/adam.py docstring (torch/optim/adam.py, keras/src/optimizers/adam.py)",
        ),
        tested_by=(
            "tests/networks/test_optimizers.py::"
            "test_torch_vs_keras_adam_first_step_difference_is_the_documented_one, "
            "test_torch_vs_keras_adam_k_step_difference_is_the_documented_one"
        ),
    ),
    Convention(
        id="scipy_same_even_kernel",
        title="SciPy mode='same' with an even kernel: correlate vs correlate2d",
        a=Side(
            ("scipy", "jax"),
            "scipy.signal.correlate(a, k, mode='same') / jax.scipy.signal.correlate",
            "signal.correlate(a, k, mode='same')",
            {"mode": "same"},
        ),
        b=Side(
            ("scipy", "jax"),
            "scipy.signal.correlate2d(a, k, mode='same') / jax.scipy.signal.correlate2d",
            "signal.correlate2d(a, k, mode='same')",
            {"mode": "same"},
        ),
        difference=(
            "'same' keeps the full output from (k-1)//2 (correlate) or k//2 (correlate2d): "
            "for an even kernel correlate2d[i, j] = correlate[i+1, j+1]; odd kernels agree"
        ),
        versions="scipy 1.17; jax 0.10.2 (jax.scipy.signal mirrors both)",
        sources=(
            "scipy/scipy scipy/signal/_signaltools.py (correlate: _centered(full); "
            "correlate2d: _sigtools._convolve2d, flip 0)",
            "reference/signal.py docstring; seed 004 (/work/shared/seeds/004_*.txt)",
        ),
    ),
    *FLAX_ROWS,
)

ROW: dict[str, Convention] = {row.id: row for row in ROWS}
assert len(ROW) == len(ROWS), "row ids must be unique"
