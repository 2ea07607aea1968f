"""Conventions rows for the activations (issue 17); asserted in test_conventions_activations.py."""

from __future__ import annotations

from tests.conventions.rows import KERAS_315 as _KERAS_315
from tests.conventions.rows import TORCH_213 as _TORCH_213
from tests.conventions.rows import Convention, Side

# -- activations (issue 17); asserted in test_conventions_activations.py ---------------------

ACTIVATION_ROWS: tuple[Convention, ...] = (
    Convention(
        id="gelu_default_approximation",
        title="GELU's default: erf (torch, tf.nn, keras.activations) vs tanh (jax.nn, keras.ops)",
        a=Side(
            ("torch", "tensorflow", "keras"),
            "torch.nn.GELU() / tf.nn.gelu(x) / keras.activations.gelu(x) "
            "(keras.layers.Activation('gelu'))",
            "gelu.forward(x, approximate='none')",
            {"approximate": "none"},
        ),
        b=Side(
            ("jax", "keras"),
            "jax.nn.gelu(x) / keras.ops.gelu(x)",
            "gelu.forward(x, approximate='tanh')",
            {"approximate": "tanh"},
        ),
        difference=(
            "B - A = d(x) = x (sigmoid(2u) - Phi(x)), u = sqrt(2/pi)(x + 0.044715 x^3), even "
            "in x: max abs(d) = 4.73e-4 at x = +-2.70 (d = -2.34e-4 at x = +-1.36); the "
            "gradients differ by up to 8.7e-4 (x = +-2.02)"
        ),
        versions=(
            f"{_TORCH_213}; {_KERAS_315}; jax 0.10.2 (jax.nn.gelu approximate=True since "
            "jax-ml/jax#4428); keras.ops.gelu defaults to approximate=True in Keras 3, "
            "keras.activations.gelu to False in Keras 2 and 3 (tf.keras 2.15 has no keras.ops)"
        ),
        sources=(
            "https://pytorch.org/docs/stable/generated/torch.nn.GELU.html (approximate='none')",
            "https://www.tensorflow.org/api_docs/python/tf/nn/gelu (approximate=False)",
            "https://docs.jax.dev/en/latest/_autosummary/jax.nn.gelu.html (approximate=True)",
            "https://github.com/jax-ml/jax/issues/4428",
            "keras-team/keras keras/src/ops/nn.py gelu(x, approximate=True); "
            "keras/src/activations/activations.py gelu(x, approximate=False)",
        ),
    ),
    Convention(
        id="leaky_relu_default_slope",
        title="LeakyReLU's default slope: 0.01 (torch, JAX), 0.2 (tf.nn, keras.ops), "
        "0.3 (Keras layer)",
        a=Side(
            ("torch", "jax"),
            "torch.nn.LeakyReLU() / jax.nn.leaky_relu(x)",
            "leaky_relu.forward(x, negative_slope=0.01)",
            {"negative_slope": 0.01},
        ),
        b=Side(
            ("keras", "tensorflow"),
            "keras.layers.LeakyReLU() / tf.nn.leaky_relu(x) / keras.ops.leaky_relu(x)",
            "leaky_relu.forward(x, negative_slope=s_B)",
            {
                "negative_slope": {
                    "keras.layers.LeakyReLU()": 0.3,
                    "tf.nn.leaky_relu(x)": 0.2,
                    "keras.ops.leaky_relu(x)": 0.2,
                }
            },
        ),
        difference=(
            "identical for x >= 0; for x < 0, B / A = s_B / 0.01: 30 for the Keras LeakyReLU "
            "layer (0.3), 20 for tf.nn.leaky_relu and keras.ops.leaky_relu (0.2)"
        ),
        versions=(
            f"{_TORCH_213}; {_KERAS_315}; jax 0.10.2; Keras 2's LeakyReLU(alpha=0.3) has "
            "the same default (tf.keras 2.15 has no keras.ops)"
        ),
        sources=(
            "https://github.com/pytorch/pytorch/issues/10349",
            "https://pytorch.org/docs/stable/generated/torch.nn.LeakyReLU.html "
            "(negative_slope=0.01)",
            "https://www.tensorflow.org/api_docs/python/tf/nn/leaky_relu (alpha=0.2)",
            "https://keras.io/api/layers/activation_layers/leaky_relu/ (negative_slope=0.3)",
            "keras-team/keras keras/src/ops/nn.py leaky_relu(x, negative_slope=0.2)",
            "https://docs.jax.dev/en/latest/_autosummary/jax.nn.leaky_relu.html (0.01)",
        ),
    ),
    Convention(
        id="hardsigmoid_definition",
        title="Hard sigmoid: relu6(x + 3) / 6 (torch, JAX, Keras 3) vs 0.2 x + 0.5 (Keras 2)",
        a=Side(
            ("torch", "jax", "keras"),
            "torch.nn.Hardsigmoid() / jax.nn.hard_sigmoid(x) / Keras 3 Activation('hard_sigmoid')",
            "hardsigmoid.forward(x)  # slope 1/6, offset 1/2",
            {"slope": 1 / 6, "offset": 0.5},
        ),
        b=Side(
            ("keras",),
            "Keras 2 Activation('hard_sigmoid') (tf.keras <= 2.15) / "
            "tf.keras.backend.hard_sigmoid (kept in Keras 3's legacy backend)",
            "hardsigmoid.forward(x, slope=0.2, offset=0.5)",
            {"slope": 0.2, "offset": 0.5},
        ),
        difference=(
            "for abs(x) <= 2.5 both are linear and B - A = x / 30 (0.2 - 1/6); B saturates "
            "at +-2.5, A at +-3; the largest gap is 1/12 at x = +-2.5; equal for abs(x) >= 3"
        ),
        versions=(
            f"{_TORCH_213}; jax 0.10.2; Keras 3.3-3.15: Activation('hard_sigmoid') is A "
            "(tensorflow/tensorflow#65381, TF 2.16); tf.keras 2.15 (tox env py311-tf215): B"
        ),
        sources=(
            "https://pytorch.org/docs/stable/generated/torch.nn.Hardsigmoid.html",
            "https://github.com/tensorflow/tensorflow/issues/65381 (TF 2.16's Keras 3 "
            "hard_sigmoid is 0 below -3, 1 above 3; its docs still said 2.5)",
            "keras-team/keras keras/src/backend/tensorflow/nn.py hard_sigmoid "
            "(relu6(x + 3) / 6); keras/src/legacy/backend.py hard_sigmoid (x * 0.2 + 0.5)",
            "https://docs.jax.dev/en/latest/_autosummary/jax.nn.hard_sigmoid.html",
        ),
        notes=(
            "The definition each Keras computes is asserted by major version: Keras 2 "
            "slope 0.2, Keras 3 slope 1/6."
        ),
    ),
    Convention(
        id="leaky_relu_grad_at_zero",
        title="LeakyReLU'(0): negative_slope (torch, tf.nn, Keras) vs 1 (jax.nn)",
        a=Side(
            ("torch", "tensorflow", "keras"),
            "torch.nn.LeakyReLU(0.1) / tf.nn.leaky_relu(x, 0.1) / keras LeakyReLU(0.1) "
            "(tensorflow and torch backends)",
            "leaky_relu.backward(g, x, negative_slope=0.1)  # 0.1 g at x == 0",
            {"negative_slope": 0.1},
        ),
        b=Side(
            ("jax",),
            "jax.nn.leaky_relu(x, 0.1) (and keras LeakyReLU on the jax backend): "
            "where(x >= 0, x, 0.1 x)",
            "leaky_relu.backward(g, x, negative_slope=0.1) + (1 - 0.1) g (x == 0)",
            {"negative_slope": 0.1},
        ),
        difference="only at x == 0 (and -0.0): B - A = (1 - negative_slope) g; elsewhere equal",
        versions=f"{_TORCH_213}; {_KERAS_315}; jax 0.10.2",
        sources=(
            "jax-ml/jax jax/_src/nn/functions.py leaky_relu (jnp.where(x >= 0, x, "
            "negative_slope * x))",
            "reference/leaky_relu.py docstring (torch, TF and Keras measured)",
            "tests/known_divergences.py (the jax column of case leaky_relu_kink)",
        ),
    ),
)
