"""Conventions rows for the normalizations and losses (issue 17); asserted in
test_conventions_norms_losses.py."""

from __future__ import annotations

from tests.conventions.rows import KERAS_315 as _KERAS_315
from tests.conventions.rows import TORCH_213 as _TORCH_213
from tests.conventions.rows import Convention, Side

# -- normalizations and losses (issue 17) --------------------------------------------------

_KERAS_RANGE = "same in keras 2.15 (tf.keras), 3.3.3, 3.6.0, 3.14.0 and 3.15.1 sources"

NORM_LOSS_ROWS: tuple[Convention, ...] = (
    Convention(
        id="layernorm_eps_default",
        title="Layer norm default eps: 1e-5 (torch) vs 1e-3 (Keras)",
        a=Side(
            ("torch",),
            "torch.nn.LayerNorm(C) on NHWC (ConvNeXt's channels-only norm)  # eps=1e-5",
            "layernorm.forward(x, gamma, beta, axes=(1,), eps=1e-5)",
            {"axes": (1,), "eps": 1e-5},
        ),
        b=Side(
            ("keras",),
            "keras LayerNormalization()  # axis=-1, epsilon=1e-3",
            "layernorm.forward(x, gamma, beta, axes=(1,), eps=1e-3)",
            {"axes": (1,), "eps": 1e-3},
        ),
        difference=(
            "(y_torch - beta) sqrt(var + 1e-5) = (y_keras - beta) sqrt(var + 1e-3) per "
            "normalised slice: large where the slice variance is comparable to 1e-3"
        ),
        versions=f"{_TORCH_213}; {_KERAS_315}; Keras epsilon=1e-3 {_KERAS_RANGE}",
        sources=(
            "https://pytorch.org/docs/stable/generated/torch.nn.LayerNorm.html (eps=1e-05)",
            "keras-team/keras keras/src/layers/normalization/layer_normalization.py (epsilon=1e-3)",
            "google/flax flax/linen/normalization.py LayerNorm (epsilon=1e-6; ConvNeXt "
            "passes 1e-6 to torch and Keras too)",
        ),
        notes="flax's LayerNorm and GroupNorm default to 1e-6 (not installed here: noted).",
    ),
    Convention(
        id="groupnorm_eps_default",
        title="Group norm default eps: 1e-5 (torch) vs 1e-3 (Keras)",
        a=Side(
            ("torch",),
            "torch.nn.GroupNorm(G, C)  # eps=1e-5",
            "groupnorm.forward(x, gamma, beta, groups=G, eps=1e-5)",
            {"groups": 2, "eps": 1e-5},
        ),
        b=Side(
            ("keras",),
            "keras GroupNormalization(groups=G)  # axis=-1, epsilon=1e-3",
            "groupnorm.forward(x, gamma, beta, groups=G, eps=1e-3)",
            {"groups": 2, "eps": 1e-3},
        ),
        difference=(
            "(y_torch - beta) sqrt(var_g + 1e-5) = (y_keras - beta) sqrt(var_g + 1e-3) per "
            "(sample, group): large where the group variance is comparable to 1e-3"
        ),
        versions=f"{_TORCH_213}; {_KERAS_315}; Keras epsilon=1e-3 {_KERAS_RANGE}",
        sources=(
            "https://pytorch.org/docs/stable/generated/torch.nn.GroupNorm.html (eps=1e-05)",
            "keras-team/keras keras/src/layers/normalization/group_normalization.py (epsilon=1e-3)",
            "https://github.com/tensorflow/addons/issues/751 (a channels-last group norm "
            "must split C on the channel axis; both frameworks do, see gn_channels_mix_check)",
        ),
    ),
    Convention(
        id="bce_clamp_vs_clip",
        title="Binary cross-entropy on probabilities: torch clamps log at -100, Keras clips p",
        a=Side(
            ("torch",),
            "torch.nn.BCELoss(reduction='none')(p, t)",
            "binary_cross_entropy.forward(p, t, from_logits=False, convention='torch')",
            {"from_logits": False, "reduction": "none", "convention": "torch"},
        ),
        b=Side(
            ("keras",),
            "keras.losses.binary_crossentropy(t, p)  # p an array, last axis of size 1",
            "binary_cross_entropy.forward(p, t, from_logits=False, convention='keras')",
            {"from_logits": False, "reduction": "none", "convention": "keras"},
        ),
        difference=(
            "for hard targets, per element keras = clip(torch, -log(1 - 1e-7), u_t), "
            "u_1 = -log(1e-7) = 16.118 and u_0 = -log(1 - (1 - 1e-7)) (equal in exact "
            "arithmetic): a confident wrong answer costs 100 in torch, 16.1 in Keras"
        ),
        versions=f"{_TORCH_213}; {_KERAS_315}",
        sources=(
            "https://pytorch.org/docs/stable/generated/torch.nn.BCELoss.html ('clamps its "
            "log function outputs to be greater than or equal to -100')",
            "keras-team/keras keras/src/backend/tensorflow/nn.py binary_crossentropy "
            "(clip_by_value(output, epsilon(), 1 - epsilon()))",
            "keras 2.15.0 keras/src/backend.py binary_crossentropy (tf.keras 2: "
            "log(output + epsilon()) after the clip)",
        ),
        notes=(
            "tf.keras 2.15 (Keras 2) adds epsilon again after the clip: "
            "-(t log(p + 1e-7) + (1 - t) log(1 - p + 1e-7)) with p clipped to [1e-7, "
            "1 - 1e-7] (keras/src/backend.py binary_crossentropy), so a confident wrong "
            "answer costs -log(2e-7) = 15.42 and every element moves by about 1e-7 / p; "
            "the test asserts that formula there, since no reference convention computes it."
        ),
    ),
    Convention(
        id="bce_logits_vs_probabilities",
        title="Binary cross-entropy on logits grows without bound; on probabilities it saturates",
        a=Side(
            ("torch", "keras"),
            "torch.nn.BCEWithLogitsLoss / keras BinaryCrossentropy(from_logits=True)",
            "binary_cross_entropy.forward(z, t, from_logits=True)",
            {"from_logits": True, "reduction": "none"},
        ),
        b=Side(
            ("torch", "keras"),
            "torch.nn.BCELoss()(torch.sigmoid(z)) / keras BinaryCrossentropy()(sigmoid(z))",
            "binary_cross_entropy.forward(sigmoid(z), t, from_logits=False, convention=...)",
            {"from_logits": False, "reduction": "none"},
        ),
        difference=(
            "t = 1: on logits softplus(-z) for every z; on the probability sigmoid(z), "
            "torch = min(softplus(-z), 100) and Keras = clip(softplus(-z), -log(1 - 1e-7), "
            "-log(1e-7) = 16.118)"
        ),
        versions=f"{_TORCH_213}; {_KERAS_315}",
        sources=(
            "https://pytorch.org/docs/stable/generated/torch.nn.BCEWithLogitsLoss.html "
            "('more numerically stable than using a plain Sigmoid followed by a BCELoss')",
            "keras-team/keras keras/src/backend/tensorflow/nn.py binary_crossentropy "
            "(from_logits: tf.nn.sigmoid_cross_entropy_with_logits)",
        ),
        notes=(
            "A Keras sigmoid output tensor on the TensorFlow backend carries its logits "
            "(_keras_logits) and the loss then uses them; the row feeds plain arrays.  "
            "tf.keras 2.15 on probabilities adds 1e-7 after the clip (see bce_clamp_vs_clip): "
            "-log(clip(sigmoid(z)) + 1e-7), saturating at -log(2e-7) = 15.42; on logits it is "
            "tf.nn.sigmoid_cross_entropy_with_logits as in Keras 3."
        ),
    ),
    Convention(
        id="label_smoothing",
        title="Label smoothing: torch and Keras agree on logits; Keras clips on probabilities",
        a=Side(
            ("torch",),
            "torch.nn.CrossEntropyLoss(label_smoothing=0.1)(logits, labels)",
            "cross_entropy.forward(logits, labels, reduction='none', label_smoothing=0.1)",
            {"reduction": "none", "label_smoothing": 0.1},
        ),
        b=Side(
            ("keras",),
            "keras CategoricalCrossentropy(from_logits=True, label_smoothing=0.1)(one_hot, logits)",
            "cross_entropy.forward(logits, labels, reduction='none', label_smoothing=0.1)",
            {"reduction": "none", "label_smoothing": 0.1},
        ),
        difference=(
            "on logits both use (1 - e) t + e / C: equal. On a probability array Keras "
            "clips each p_c to [1e-7, 1 - 1e-7]: keras = sum_c t'_c clip(L_c, "
            "-log(1 - 1e-7), -log(1e-7)) with L_c = -log softmax_c, t' the smoothed target, "
            "so confident predictions, whose smoothed wrong classes torch charges "
            "(e / C) L_c, cost Keras at most (e / C) 16.1 per class"
        ),
        versions=(
            f"{_TORCH_213}; {_KERAS_315}; SparseCategoricalCrossentropy takes no "
            "label_smoothing through 3.15.1 (added by keras-team/keras#23488); with "
            "axis != -1, Keras 3.3-3.15.1 divides e by the last axis' size "
            "(keras-team/keras#23451, fixed by #23437), tf.keras 2.15 by the class axis'"
        ),
        sources=(
            "https://pytorch.org/docs/stable/generated/torch.nn.CrossEntropyLoss.html "
            "(label_smoothing: 'a mixture of the original ground truth and a uniform "
            "distribution')",
            "keras-team/keras keras/src/losses/losses.py categorical_crossentropy "
            "(y_true * (1 - label_smoothing) + label_smoothing / num_classes)",
            "https://github.com/keras-team/keras/issues/23487 (integer labels must be "
            "one-hot encoded to be smoothed)",
            "https://github.com/keras-team/keras/issues/23451",
        ),
        notes=(
            "The Keras adapter's cross_entropy one-hot encodes index targets when "
            "label_smoothing > 0, as Keras users must, and moves the class axis last."
        ),
    ),
)
