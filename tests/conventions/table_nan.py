"""Conventions table rows about NaN and Inf (appended to tests/conventions/table.py's
ROWS): the sides differ only on non-finite values.  The reference takes no parameter for
them: it reproduces one side, and each row's test (test_conventions_nan.py) computes the
other side's documented formula."""

from __future__ import annotations

from tests.conventions.rows import KERAS_315 as _KERAS_315
from tests.conventions.rows import TORCH_213 as _TORCH_213
from tests.conventions.rows import Convention, Side

_FIRST_NAN = "the reference: the first NaN in row-major window order (NumPy's argmax)"

NAN_ROWS: tuple[Convention, ...] = (
    Convention(
        id="maxpool_nan_forward",
        title="Max pooling over NaN: propagated (torch, JAX) or dropped (TF, Keras)",
        a=Side(
            ("torch", "jax"),
            "torch.nn.MaxPool2d(2) / lax.reduce_window(x, -inf, lax.max, ...)",
            "maxpool2d.forward(x, kernel_size=2)  # a window holding NaN is NaN",
            {"kernel_size": 2},
        ),
        b=Side(
            ("tensorflow", "keras", "scipy"),
            "tf.nn.max_pool2d / keras MaxPooling2D / scipy.ndimage.maximum_filter",
            "no reference parameter: the test computes B's formula",
            {"kernel_size": 2},
        ),
        difference=(
            "windows without NaN agree.  A window holding NaN: A = NaN; TF/Keras = the max of "
            "its other cells, starting from the lowest finite float, so an all-NaN window (and "
            "a window of -inf alone, NaN or not) gives -3.4028235e38 in float32; SciPy scans "
            "each window column, then across the columns, keeping the current value unless the "
            "next is greater: NaN survives only where it comes first"
        ),
        versions=f"{_TORCH_213}; {_KERAS_315}; jax 0.10.2; scipy 1.17",
        sources=(
            "https://github.com/pytorch/pytorch/pull/7670 (max_pool returns NaN for NaN, fixes "
            "pytorch/pytorch#7645)",
            "https://github.com/tensorflow/tensorflow/issues/2501 (max_pool returns "
            "-3.40282347e+38 for NaN; closed for inactivity)",
            "https://github.com/keras-team/keras/issues/16158 (MaxPooling2D: -3.4028235e+38 "
            "for NaN inputs)",
        ),
        notes=(
            "Keras is listed for its TensorFlow backend; on KERAS_BACKEND=jax or torch it "
            "pools as that framework does (the test and the declared xfails follow the "
            "backend).  The parity cases maxpool_nan and maxpool_nan_several hold NaN "
            "windows: tests/known_divergences.py declares the columns that differ as strict "
            "xfails naming this row."
        ),
    ),
    Convention(
        id="maxpool_nan_grad",
        title="Max-pool gradient in a window holding NaN: which cell takes it",
        a=Side(
            ("torch",),
            "torch.nn.MaxPool2d(2) backward",
            "no reference parameter: the last NaN (MaxPoolKernel.cpp: val > maxval || isnan(val))",
            {"kernel_size": 2},
        ),
        b=Side(
            ("jax",),
            "jax.vjp of lax.reduce_window(max)",
            "no reference parameter: the first maximum after the window's last NaN",
            {"kernel_size": 2},
        ),
        difference=(
            "windows without NaN agree (first maximum).  With NaN, in row-major window order: "
            "torch -> the last NaN; JAX -> the first maximum among the cells after the last "
            "NaN, or that NaN when it ends the window (XLA's select keeps the current cell while "
            "current >= next, which NaN fails both ways); TF/Keras -> the first cell if it is "
            f"NaN, else the first maximum of the non-NaN cells; {_FIRST_NAN}"
        ),
        versions=f"{_TORCH_213}; {_KERAS_315}; jax 0.10.2",
        sources=(
            "pytorch/pytorch aten/src/ATen/native/cpu/MaxPoolKernel.cpp "
            "(if ((val > maxval) || std::isnan(val)) { maxval = val; maxindex = index; })",
            "jax-ml/jax jax/_src/lax/windowed_reductions.py _reduce_window_chooser_jvp_rule "
            "(select_and_gather_add with lax.ge_p)",
            "reference/maxpool2d.py docstring (a NaN window sends its gradient to its first "
            "NaN); seed 001 Pooling (np.argmax: the first NaN)",
        ),
        notes=(
            "Four rules, none the reference's in general: torch agrees when a window holds one "
            "NaN (parity case maxpool_nan), TF when its first cell is the NaN, JAX when the "
            "last is; Keras follows its backend.  The parity columns that differ are strict "
            "xfails naming this row."
        ),
    ),
    Convention(
        id="relu_grad_at_nan",
        title="ReLU's gradient at NaN: passed through (torch) or 0 (TF, Keras, JAX)",
        a=Side(
            ("torch",),
            "torch.nn.ReLU / torch.relu backward",
            "no reference parameter: relu.backward(g, x) + g * isnan(x)",
        ),
        b=Side(
            ("tensorflow", "keras", "jax"),
            "tf.nn.relu / keras ReLU / jax.nn.relu backward",
            "relu.backward(g, x)  # where(x > 0, g, 0): 0 at NaN",
        ),
        difference=(
            "only at x = NaN: torch passes g (threshold_backward: x <= 0 ? 0 : g, and NaN <= 0 "
            "is false), the others give 0 (x > 0 ? g : 0); the forward is NaN in all"
        ),
        versions=f"{_TORCH_213}; {_KERAS_315}; jax 0.10.2",
        sources=(
            "pytorch/pytorch tools/autograd/derivatives.yaml relu "
            "(threshold_backward(grad, result, 0))",
            "jax-ml/jax jax/_src/nn/functions.py relu "
            "(relu.defjvps(lambda g, ans, x: lax.select(x > 0, g, lax.full_like(g, 0))))",
            "seed 001 Relu (mask = x <= 0: a NaN passes dout, as in torch)",
        ),
    ),
    Convention(
        id="batchnorm_infinite_gamma",
        title="Batch norm with gamma = +-inf: folded affine (torch, TF, Keras) gives NaN",
        a=Side(
            ("torch", "tensorflow", "keras"),
            "torch.nn.BatchNorm2d / tf.nn.batch_normalization / keras BatchNormalization",
            "no reference parameter: x * a + (beta - mean * a), a = gamma / sqrt(var + eps)",
        ),
        b=Side(
            ("jax",),
            "jax.example_libraries.stax.BatchNorm (jax.nn.standardize, then gamma * z + beta)",
            "batchnorm2d.forward(x, ..., training=True)  # gamma * (x - mean) / std + beta",
            {"training": True},
        ),
        difference=(
            "finite gamma: the same up to rounding.  gamma = +-inf: B = +-inf with the sign of "
            "gamma * (x - mean) (NaN only where x == mean); A adds two infinities, x * a and "
            "-mean * a, so it is NaN where x and mean have the same sign (or either is 0) and "
            "+-inf elsewhere: in eval with running_mean = 0, every value of the channel is NaN"
        ),
        versions=f"{_TORCH_213}; {_KERAS_315}; jax 0.10.2 (stax normalises in training only)",
        sources=(
            "tensorflow/tensorflow tensorflow/python/ops/nn_impl.py batch_normalization "
            "(inv = rsqrt(variance + epsilon) * scale; x * inv + (offset - mean * inv))",
            "pytorch/pytorch aten/src/ATen/native/Normalization.cpp "
            "batch_norm_cpu_transform_input (alpha = invstd * weight, beta = bias - mean * alpha)",
            "jax-ml/jax jax/example_libraries/stax.py BatchNorm (gamma * standardize(x) + beta)",
            "tensorflow/tensorflow tensorflow/core/kernels/fused_batch_norm_op.cc "
            "FusedBatchNorm<CPUDevice> (x_centered * (rsqrt(var + epsilon) * scale) + offset; "
            "tf.keras 2.15's fused BatchNormalization)",
        ),
        notes=(
            "Gradients with an infinite gamma are not compared here.  Keras on its torch "
            "backend does not fold: it computes (x - mean) * (rsqrt(var + eps) * gamma) + beta "
            "(keras/src/backend/torch/nn.py batch_normalization, keras 3.15.1) and gives B's "
            "+-inf; on TF and JAX it folds (tf.nn.batch_normalization, keras/src/backend/jax/"
            "nn.py: x * inv + (beta - mean * inv)).  tf.keras 2.15 (Keras 2) does not fold "
            "either: its BatchNormalization is fused for 4-D float32 input "
            "(keras/src/layers/normalization/batch_normalization.py, fused=None) and TF's CPU "
            "FusedBatchNormV3 computes (x - mean) * (rsqrt(var + eps) * gamma) + beta in "
            "training and eval (tensorflow/core/kernels/fused_batch_norm_op.cc): B's +-inf "
            "(measured with TF 2.15.1).  The test asserts each."
        ),
    ),
    Convention(
        id="crossentropy_grad_infinite_g",
        title="Cross-entropy gradient for an infinite grad_out: NaN (autodiff) or +-inf",
        a=Side(
            ("torch", "tensorflow", "keras", "jax"),
            "torch.nn.CrossEntropyLoss / tf.nn.(sparse_)softmax_cross_entropy_with_logits "
            "(op determinism on) / keras / jax.nn.log_softmax, differentiated",
            "no reference parameter: softmax * g * sum(t) - t * g, evaluated as autodiff does",
        ),
        b=Side(
            ("tensorflow",),
            "the fused gradient: tf.nn.sparse_softmax_cross_entropy_with_logits with op "
            "determinism off; seed 001 SoftmaxWithLoss",
            "cross_entropy.backward(g, logits, t)  # (softmax * sum(t) - t) * g",
        ),
        difference=(
            "finite g: the same up to rounding.  A sample with g = +-inf: A is NaN at its target "
            "class (inf - inf) and +-inf elsewhere for class indices, NaN in the whole row for "
            "probabilities (0 * inf); B is +-inf everywhere (the sign of g * (p * sum(t) - t))"
        ),
        versions=(
            f"{_TORCH_213}; {_KERAS_315}; jax 0.10.2; TF's fused kernel (determinism off) "
            "observed [[inf, -inf, inf, inf]] for logits [[0.5, -1, 0.3, 2]], target 1, g = inf"
        ),
        sources=(
            "pytorch/pytorch tools/autograd/derivatives.yaml _log_softmax "
            "(_log_softmax_backward_data: grad - exp(output) * sum(grad))",
            "tensorflow/tensorflow tensorflow/python/ops/nn_grad.py "
            "_SparseSoftmaxCrossEntropyWithLogitsGrad (grad_loss * the fused backprop)",
            "seed 001 SoftmaxWithLoss.backward (dx = (y - t) / batch_size)",
        ),
        notes=(
            "The adapters turn TF op determinism on (adapters/_tf_common.py), which replaces "
            "the fused kernel by composite ops whose gradient is A's; the test runs the "
            "adapters only, so TF's fused side is the recorded observation above.  Keras on "
            "its JAX backend one-hots class indices before the product (keras/src/backend/jax/"
            "nn.py sparse_categorical_crossentropy, keras 3.15.1), so with indices it gives the "
            "probabilities' outcome, NaN in the whole row; the test asserts that."
        ),
    ),
    Convention(
        id="scipy_nan_kernel",
        title="SciPy correlate/convolve with a NaN in the kernel: every output is NaN",
        a=Side(
            ("scipy",),
            "scipy.signal.correlate2d / convolve2d / correlate / convolve",
            "no reference parameter: every output NaN",
            {"mode": "full"},
        ),
        b=Side(
            ("jax",),
            "jax.scipy.signal.correlate2d / convolve2d / correlate / convolve",
            "signal.correlate2d(in1, in2, mode)  # sums over the overlap only",
            {"mode": "full"},
        ),
        difference=(
            "finite inputs: the same up to rounding.  A NaN (or inf) in in2: SciPy multiplies "
            "every kernel tap by the zero fill outside in1 too (0 * NaN = NaN), so every output "
            "is NaN; B is NaN only where the NaN tap overlaps in1.  A NaN in in1 spreads alike "
            "in both"
        ),
        versions="scipy 1.17; jax 0.10.2",
        sources=(
            "scipy/scipy scipy/signal/_firfilter.c (correlate2d/convolve2d: boundary 'fill' "
            "multiplies the fill value by each tap)",
            "reference/signal.py docstring (sums over the overlap only)",
        ),
    ),
)
