"""Conventions rows for the ONNX export path (issue 21); asserted in test_conventions_onnx.py."""

from __future__ import annotations

import numpy as np

from tests.conventions.rows import TORCH_213 as _TORCH_213
from tests.conventions.rows import Convention, Side

ONNX_ROWS: tuple[Convention, ...] = (
    Convention(
        id="onnx_export_training_mode",
        title="torch.onnx.export of BatchNorm2d in training mode: an inference graph",
        a=Side(
            ("torch",),
            "torch.nn.BatchNorm2d(C).train()(x)",
            "batchnorm2d.forward(x, gamma, beta, mean, var, training=True)",
            {"training": True},
        ),
        b=Side(
            ("onnxruntime", "onnx_reference"),
            "torch.onnx.export(bn.train(), (x,)) run in ONNX Runtime / onnx.reference",
            "batchnorm2d.forward(x, gamma, beta, mean, var, training=False)",
            {"training": False},
        ),
        difference=(
            "the exported BatchNormalization has no training_mode (inference): B = gamma "
            "(x - running_mean) / sqrt(running_var + eps) + beta, where torch's module "
            "normalises with the batch's mean and biased variance; so (B - beta) / gamma * "
            "sqrt(running_var + eps) + running_mean = (A - beta) / gamma * sqrt(batch_var + "
            "eps) + batch_mean = x.  A Dropout(p) in training mode exports as ONNX Dropout "
            "with training_mode true: outputs 0 or x/(1-p) under a mask the runtime draws on "
            "every run, with no input to inject one"
        ),
        versions=(
            f"{_TORCH_213} (torch.onnx.export dynamo=True, onnxscript 0.7.2, opset 20); "
            "onnxruntime 1.32.0; onnx 1.23.2"
        ),
        sources=(
            "torch.onnx.export's warning: 'Exporting a model while it is in training mode. "
            "... Calling model.eval() before export is recommended.'",
            "https://onnx.ai/onnx/operators/onnx__BatchNormalization.html (training_mode, "
            "default False: 'Y = (X - input_mean) / sqrt(input_var + epsilon) * scale + B')",
            "https://onnx.ai/onnx/operators/onnx__Dropout.html ('If training_mode is true "
            "then the output Y will be a random dropout')",
        ),
        notes=(
            "the ONNX adapters refuse training-mode batch norm and dropout cases, naming "
            "this row; users export model.eval()"
        ),
    ),
    Convention(
        id="onnx_float32_attributes",
        title="ONNX float attributes are 32-bit: a float64 graph's batch-norm eps",
        a=Side(
            ("torch",),
            "torch.nn.BatchNorm2d(C, eps=1e-5, dtype=torch.float64).eval()(x)",
            "batchnorm2d.forward(x, ..., training=False, eps=1e-5)",
            {"training": False, "eps": 1e-5},
        ),
        b=Side(
            ("onnxruntime", "onnx_reference"),
            "its torch.onnx.export, run in float64 by ONNX Runtime / onnx.reference",
            "batchnorm2d.forward(x, ..., training=False, eps=float(np.float32(1e-5)))",
            {"training": False, "eps": float(np.float32(1e-5))},
        ),
        difference=(
            "the graph's epsilon is float32(1e-5) = 9.99999974738e-06 (ONNX AttributeProto "
            "holds 'float f', 32 bits): (B - beta) sqrt(var + 9.99999974738e-06) = "
            "(A - beta) sqrt(var + 1e-5) per channel; float32 graphs compute the same eps"
        ),
        versions=(
            f"{_TORCH_213} (torch.onnx.export dynamo=True, opset 20); onnxruntime 1.32.0; "
            "onnx 1.23.2"
        ),
        sources=(
            "https://github.com/onnx/onnx/blob/main/onnx/onnx.proto (AttributeProto: "
            "'optional float f = 2;  // float')",
            "https://onnx.ai/onnx/operators/onnx__BatchNormalization.html (epsilon: float)",
        ),
        notes=(
            "the ONNX adapters refuse a float64 graph holding a module constant that float32 "
            "rounds, or any 32-bit constant whose decimal float32 rounds: a FLOAT attribute "
            "(Hardsigmoid's fixed 1/6 as HardSigmoid alpha 0.16666667), a float32 "
            "initializer (Resize's scales, tensor(float)), or a float constant of the "
            "function body ONNX defines an operator by (HardSwish; tanh Gelu's 0.63661975 "
            "and 0.044715), naming this row (test_onnx_float32_attributes_beyond_module_"
            "constants)"
        ),
    ),
    Convention(
        id="onnx_pool_ceil_window_in_padding",
        title="Ceil-mode pooling: ONNX's opset < 22 shape rule keeps a window starting in "
        "the padding",
        a=Side(
            ("torch", "onnxruntime", "onnx_reference"),
            "torch.nn.MaxPool2d / AvgPool2d(2, stride=3, padding=1, ceil_mode=True) and its "
            "torch.onnx.export (opset 20) run in ONNX Runtime / onnx.reference",
            "maxpool2d / avgpool2d.forward(x, kernel_size=2, stride=3, padding=1, ceil_mode=True)",
            {"kernel_size": 2, "stride": 3, "padding": 1, "ceil_mode": True},
        ),
        b=Side(
            ("onnx",),
            "onnx.shape_inference / onnx.checker.check_model(full_check=True) on the same "
            "MaxPool / AveragePool at opset 20",
            "no reference call (a shape rule): out = ceil((in + pads - k) / s) + 1",
            {},
        ),
        difference=(
            "on each axis where the last ceil-mode window would start in the right padding "
            "((out - 1) s >= in + pad_begin), ONNX's shape inference for opsets below 22 "
            "gives one more output than torch (x (7, 4), k 2, s 3, p 1: (4, 3) vs (3, 2)); "
            "at opset 22 it agrees with torch.  The exported opset-20 model declares torch's "
            "shape and ONNX Runtime and onnx.reference compute torch's windows, so "
            "onnx.checker(full_check=True) rejects a model both runtimes run correctly"
        ),
        versions=(f"{_TORCH_213} (torch.onnx.export opset 20); onnx 1.23.2; onnxruntime 1.32.0"),
        sources=(
            "https://onnx.ai/onnx/operators/onnx__MaxPool.html (opset 22: 'Sliding windows "
            "that would start in the right padded region are ignored')",
            "https://github.com/onnx/onnx/pull/6650 (reference pooling: windows starting in "
            "the padding), https://github.com/onnx/onnx/pull/5741 (shape inference)",
            "https://github.com/pytorch/pytorch/issues/116420, "
            "https://github.com/microsoft/onnxruntime/issues/16203, "
            "https://github.com/onnx/onnx/issues/4958",
        ),
        notes=(
            "the ONNX adapters accept exactly this checker error (adapters/_onnx_rules.py: "
            "ceil_windows_in_padding) and compare the numbers, which agree.  Older runtimes "
            "(onnxruntime 1.20.1; onnx 1.17's reference AveragePool) keep the window, the "
            "opset-20 shape: known divergences <adapter>-ceil-window-in-padding"
        ),
    ),
)
