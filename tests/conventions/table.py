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

from tests.conventions.rows import KERAS_315 as _KERAS_315
from tests.conventions.rows import TORCH_213 as _TORCH_213
from tests.conventions.rows import Convention, Side
from tests.conventions.table_activations import ACTIVATION_ROWS
from tests.conventions.table_decoder import DECODER_ROWS
from tests.conventions.table_flax import FLAX_ROWS
from tests.conventions.table_nan import NAN_ROWS
from tests.conventions.table_norms_losses import NORM_LOSS_ROWS
from tests.conventions.table_onnx import ONNX_ROWS

__all__ = ["ROW", "ROWS", "Convention", "Side"]

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
        versions=(
            f"{_TORCH_213}; {_KERAS_315}; Keras epsilon=1e-3 the same in keras 2.15 (tf.keras), "
            "3.3.3, 3.6.0, 3.14.0 and 3.15.1 sources"
        ),
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
    # -- resize (issue 16) ---------------------------------------------------------------
    Convention(
        id="resize_align_corners",
        title="Resize coordinates: align_corners (corner pixels' centres) vs half-pixel centres",
        a=Side(
            ("torch", "scipy"),
            "F.interpolate(x, size, mode='bilinear', align_corners=True) / "
            "scipy.ndimage.zoom(x, z, order=1, grid_mode=False)",
            "resize2d.forward(x, size=(9, 1), mode='linear', "
            "coordinate_transformation_mode='align_corners')",
            {"size": (9, 1), "mode": "linear", "coordinate_transformation_mode": "align_corners"},
        ),
        b=Side(
            ("torch", "tensorflow", "keras", "jax", "scipy"),
            "F.interpolate(x, size, mode='bilinear')  # align_corners=False / tf.image.resize / "
            "keras Resizing / jax.image.resize(antialias=False) / zoom(grid_mode=True)",
            "resize2d.forward(x, size=(9, 1), mode='linear')  # half_pixel",
            {"size": (9, 1), "mode": "linear", "coordinate_transformation_mode": "half_pixel"},
        ),
        difference=(
            "one tent interpolant L of the input, sampled at c_A = i (n-1)/(m-1) (0 for m = 1) "
            "or c_B = (i + 1/2) n/m - 1/2 clamped to [0, n-1]: equal where the coordinates "
            "are. torch align_corners=False is ONNX pytorch_half_pixel for m > 1; at m = 1 "
            "torch 2.13 samples the centre (n-1)/2, i.e. half_pixel, where pytorch_half_pixel "
            "reads index 0"
        ),
        versions=f"{_TORCH_213}; {_KERAS_315}; jax 0.10.2; scipy 1.17",
        sources=(
            "https://pytorch.org/docs/stable/generated/torch.nn.functional.interpolate.html "
            "(align_corners: 'the centers of the corner pixels' / 'the corner points of their "
            "corner pixels')",
            "https://github.com/pytorch/pytorch/pull/5927 (src_idx = (dst_idx + 0.5) * ratio "
            "- 0.5, ratio = in/out; align_corners: dst_idx * (in-1)/(out-1))",
            "https://github.com/onnx/onnx/blob/main/docs/Operators.md#Resize "
            "(coordinate_transformation_mode)",
            "https://www.tensorflow.org/api_docs/python/tf/image/resize",
            "https://github.com/tensorflow/tensorflow/issues/6720, "
            "https://github.com/pytorch/pytorch/issues/10604 (cited by issue 16)",
        ),
        notes="The fixture's output width 1 shows the m = 1 case; its height 5 -> 9 the rest.",
    ),
    Convention(
        id="resize_nearest_index",
        title="Nearest resize: torch 'nearest' reads floor(i in/out); 'nearest-exact', TF, "
        "Keras, JAX and SciPy floor((i + 1/2) in/out)",
        a=Side(
            ("torch",),
            "F.interpolate(x, size)  # mode='nearest', the default",
            "resize2d.forward(x, size=(8, 3), coordinate_transformation_mode='asymmetric', "
            "nearest_mode='floor')",
            {
                "size": (8, 3),
                "coordinate_transformation_mode": "asymmetric",
                "nearest_mode": "floor",
            },
        ),
        b=Side(
            ("torch", "tensorflow", "keras", "jax", "scipy"),
            "F.interpolate(mode='nearest-exact') / tf.image.resize(method='nearest') / keras "
            "Resizing('nearest') / jax.image.resize('nearest') / zoom(order=0, grid_mode=True)",
            "resize2d.forward(x, size=(8, 3), nearest_mode='round_prefer_ceil')  # half_pixel",
            {"size": (8, 3), "nearest_mode": "round_prefer_ceil"},
        ),
        difference=(
            "A = x[floor(i n/m)], B = x[floor((i + 1/2) n/m)] per axis (B clamped to n-1): "
            "for an integer factor k both read i // k (Keras UpSampling2D's repeat); "
            "otherwise B samples half an output pixel later. ONNX's default "
            "(half_pixel, round_prefer_floor) is neither at exact ties"
        ),
        versions=f"{_TORCH_213}; {_KERAS_315}; jax 0.10.2; scipy 1.17",
        sources=(
            "https://pytorch.org/docs/stable/generated/torch.nn.functional.interpolate.html "
            "(\"Mode mode='nearest-exact' matches Scikit-Image and PIL nearest neighbours "
            "interpolation algorithms and fixes known issues with mode='nearest'\")",
            "https://github.com/pytorch/pytorch/pull/64501 (nearest-exact)",
            "tensorflow/core/kernels/image/resize_nearest_neighbor_op.cc "
            "(HalfPixelScalerForNN: (x + 0.5) * scale, then floor)",
            "jax-ml/jax jax/_src/image/scale.py _resize_nearest",
        ),
    ),
    Convention(
        id="resize_cubic_coefficient",
        title="Bicubic resize: Keys a = -0.75 (torch) vs a = -0.5 (TF, JAX), and their edges",
        a=Side(
            ("torch",),
            "F.interpolate(x, size, mode='bicubic')",
            "resize2d.forward(x, size=(9, 8), mode='cubic')  # cubic_coeff_a=-0.75",
            {"size": (9, 8), "mode": "cubic", "cubic_coeff_a": -0.75},
        ),
        b=Side(
            ("tensorflow", "jax"),
            "tf.image.resize(x, size, method='bicubic') / jax.image.resize(x, shape, 'cubic')",
            "resize2d.forward(x, size=(9, 8), mode='cubic', cubic_coeff_a=-0.5) where an "
            "output's four taps are inside",
            {"size": (9, 8), "mode": "cubic", "cubic_coeff_a": -0.5},
        ),
        difference=(
            "where all four taps are inside, B = resize(a=-0.5) and A - B = resize(a=-0.75) - "
            "resize(a=-0.5); near the edge B weights only the inside taps and divides by their "
            "sum (ONNX exclude_outside=1) where A, ONNX and the reference clamp them to the "
            "edge pixel"
        ),
        versions=f"{_TORCH_213}; tensorflow 2.21; jax 0.10.2",
        sources=(
            "https://github.com/onnx/onnx/blob/main/docs/Operators.md#Resize (cubic_coeff_a: "
            "'-0.5 (in some cases of TensorFlow) and -0.75 (in PyTorch)')",
            "https://www.tensorflow.org/api_docs/python/tf/image/resize (bicubic: 'Equivalent "
            "to Catmull-Rom kernel'; 'only input pixels inside the image will be included in "
            "the filter sum')",
            "jax-ml/jax jax/_src/image/scale.py (_fill_keys_cubic_kernel: 'the Keys kernel "
            "with A=-0.5'; 'cubic-pytorch' for A = -0.75)",
            "onnx/backend/test/case/node/resize.py ('TensorFlow v1 bicubic with "
            "half_pixel_centers=True': cubic_coeff_a=-0.5, exclude_outside=True)",
        ),
    ),
    Convention(
        id="resize_antialias_edges",
        title="Antialiased downsampling: ONNX clamps the filter's outside taps to the edge, "
        "torch / TF / JAX drop them",
        a=Side(
            ("onnx",),
            "onnx Resize(mode='linear', antialias=1)  # onnx.reference.ReferenceEvaluator",
            "resize2d.forward(x, size=3, mode='linear', antialias=True)",
            {"size": 3, "mode": "linear", "antialias": True},
        ),
        b=Side(
            ("torch", "tensorflow", "jax"),
            "F.interpolate(x, 3, mode='bilinear', antialias=True) / tf.image.resize(x, (3, 3), "
            "antialias=True) / jax.image.resize(x, shape, 'linear')",
            "no reference parameter: the reference clamps, as ONNX does",
            {"size": 3, "mode": "linear", "antialias": True},
        ),
        difference=(
            "the same tent stretched by 1/scale; per axis A = W_in B + W_left x[0] + "
            "W_right x[n-1], W_in the filter weight on the inside taps (B divides by it, A "
            "moves the outside taps' weight to the edge pixel). On ONNX's own 4x4 -> 3x3 "
            "example (resize_downsample_sizes_linear_antialias) they differ by up to 0.136"
        ),
        versions=f"onnx 1.23; {_TORCH_213}; tensorflow 2.21; jax 0.10.2",
        sources=(
            "https://github.com/onnx/onnx/blob/main/docs/Operators.md#Resize (antialias: "
            "'stretching the resampling filter by a factor max(1, 1 / scale)'); "
            "onnx/reference/ops/op_resize.py (_get_neighbor pads with the edge values)",
            "pytorch aten/src/ATen/native/cpu/UpSampleKernel.cpp "
            "(_compute_indices_min_size_weights_aa: taps clipped to the input, weights "
            "normalised)",
            "https://www.tensorflow.org/api_docs/python/tf/image/resize ('only input pixels "
            "inside the image will be included in the filter sum')",
        ),
    ),
    Convention(
        id="resize_jax_antialias_default",
        title="jax.image.resize antialiases by default when downsampling; torch, TF, Keras do not",
        a=Side(
            ("torch", "tensorflow", "keras"),
            "F.interpolate(x, size, mode='bilinear') / tf.image.resize(x, size) / keras "
            "Resizing(h, w)  # antialias=False by default",
            "resize2d.forward(x, size=(3, 12), mode='linear')",
            {"size": (3, 12), "mode": "linear", "antialias": False},
        ),
        b=Side(
            ("jax",),
            "jax.image.resize(x, shape, 'linear')  # antialias=True by default",
            "resize2d.forward(x, size=(3, 12), mode='linear', antialias=True) on the upsampled "
            "axis; the stretched tent with its outside taps dropped on the downsampled one",
            {"size": (3, 12), "mode": "linear", "antialias": True},
        ),
        difference=(
            "identical on an upsampled axis (antialias 'Has no effect when upsampling'); on a "
            "downsampled axis B averages over about 1/scale input pixels (the tent stretched "
            "by 1/scale, outside taps dropped) where A interpolates between the two nearest"
        ),
        versions=f"jax 0.10.2; {_TORCH_213}; {_KERAS_315}",
        sources=(
            "https://jax.readthedocs.io/en/latest/_autosummary/jax.image.resize.html "
            "(antialias: 'Defaults to True. Has no effect when upsampling')",
            "https://pytorch.org/docs/stable/generated/torch.nn.functional.interpolate.html "
            "(antialias=False)",
            "https://www.tensorflow.org/api_docs/python/tf/image/resize (antialias=False)",
        ),
        notes="Fixture x (1,1,8,6) -> (3, 12): H downsampled 8 -> 3, W upsampled 6 -> 12.",
    ),
)

# -- porting whole models (issue 18); asserted in test_conventions.py ------------------------

ROWS += (
    Convention(
        id="conv_cross_correlation",
        title="Convolution layers cross-correlate; scipy.signal.convolve2d (and Theano) flip "
        "the kernel",
        a=Side(
            ("torch", "keras", "tensorflow", "jax"),
            "torch.nn.Conv2d / keras Conv2D / tf.nn.conv2d / lax.conv_general_dilated",
            "conv2d.forward(x, w)  # cross-correlation",
            {"stride": 1, "padding": 0},
        ),
        b=Side(
            ("scipy",),
            "scipy.signal.convolve2d(x, k, mode='valid')",
            "signal.convolve2d(x, k, mode='valid')",
            {"mode": "valid"},
        ),
        difference=(
            "B(x, k) = A(x, k[::-1, ::-1]): the same sum with the kernel turned 180 degrees; "
            "weights taken from a true convolution (scipy, MATLAB conv2, Theano's default "
            "filter_flip=True) must be turned to give the same layer"
        ),
        versions=f"{_TORCH_213}; {_KERAS_315}; scipy 1.17",
        sources=(
            "https://pytorch.org/docs/stable/generated/torch.nn.Conv2d.html ('where * is the "
            "valid 2D cross-correlation operator')",
            "https://docs.scipy.org/doc/scipy/reference/generated/scipy.signal.convolve2d.html",
            "tensorflow/docs site/en/api_docs/python/tf/keras/utils/"
            "convert_all_kernels_in_model.md ('Converts all convolution kernels in a model "
            "from Theano to TensorFlow'; removed after TF 2.3)",
            "seed 004 (/work/shared/seeds/004_*.txt: convolve = correlate with np.flip(w))",
        ),
        notes="tests/networks/test_localization.py injects it into seed 000's single filter.",
    ),
)

ROWS = (*ROWS, *ACTIVATION_ROWS, *DECODER_ROWS, *NORM_LOSS_ROWS)
ROWS += NAN_ROWS
ROWS += ONNX_ROWS
ROWS += FLAX_ROWS

ROW: dict[str, Convention] = {row.id: row for row in ROWS}
assert len(ROW) == len(ROWS), "row ids must be unique"
