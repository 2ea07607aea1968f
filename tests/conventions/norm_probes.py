"""Convention probes for the normalisation and loss rows (issue 17): the framework calls
those rows need beyond the layer adapters -- a layer built with its *own* default eps, and
Keras' losses called per sample as users call them.  NumPy in and out, NCHW, frameworks
loaded through their adapters (as in tests/conventions/probes.py)."""

from __future__ import annotations

import numpy as np

import adapters
from adapters.layout import nchw_to_nhwc, nhwc_to_nchw


def _torch():
    return adapters.load("torch")._lib()


def _keras_api():
    return adapters.load("keras").api


def norm_with_default_eps(framework, layer, x, gamma, beta, *, groups=None) -> dict:
    """The framework's layer norm over the channels (ConvNeXt's, on NHWC) or group norm,
    built without an eps so that its default applies, on NCHW ``x``.  Returns ``{"y"
    (NCHW), "eps" (as the layer reports it)}``."""
    if layer not in ("layernorm", "groupnorm"):
        raise ValueError(f"layer must be 'layernorm' or 'groupnorm', got {layer!r}")
    channels = x.shape[1]
    if framework == "torch":
        torch = _torch()
        dtype = torch.from_numpy(x).dtype
        if layer == "layernorm":
            module = torch.nn.LayerNorm(channels, dtype=dtype)
        else:
            module = torch.nn.GroupNorm(groups, channels, dtype=dtype)
        with torch.no_grad():
            module.weight.copy_(torch.from_numpy(gamma))
            module.bias.copy_(torch.from_numpy(beta))
            t = torch.from_numpy(np.ascontiguousarray(x))
            if layer == "layernorm":
                y = module(t.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)
            else:
                y = module(t)
        return {"y": y.numpy().copy(), "eps": module.eps}
    if framework == "keras":
        api = _keras_api()
        if layer == "layernorm":
            module = api.layers.LayerNormalization(dtype=x.dtype.name)
        else:
            module = api.layers.GroupNormalization(groups=groups, dtype=x.dtype.name)
        x_nhwc = nchw_to_nhwc(x)
        module.build(x_nhwc.shape)
        module.set_weights([gamma, beta])
        y = api.numpy(module(api.tensor(x_nhwc)))
        return {"y": nhwc_to_nchw(y), "eps": module.epsilon}
    raise ValueError(f"framework must be 'torch' or 'keras', got {framework!r}")


def keras_binary_crossentropy(target, output, *, from_logits=False) -> np.ndarray:
    """``keras.losses.binary_crossentropy(target, output, from_logits)``: per sample, the
    mean over the last axis."""
    api = _keras_api()
    loss = api.keras.losses.binary_crossentropy(
        api.tensor(target), api.tensor(output), from_logits=from_logits
    )
    return api.numpy(loss)


def keras_sigmoid(z) -> np.ndarray:
    """``keras.activations.sigmoid(z)`` as a plain array (what ``predict`` returns)."""
    api = _keras_api()
    return np.asarray(api.numpy(api.keras.activations.sigmoid(api.tensor(z))))


def torch_sigmoid(z) -> np.ndarray:
    torch = _torch()
    return torch.sigmoid(torch.from_numpy(z)).numpy().copy()


def keras_categorical_crossentropy(target, output, *, from_logits, label_smoothing) -> np.ndarray:
    """Per-sample ``keras.losses.categorical_crossentropy`` (classes on the last axis)."""
    api = _keras_api()
    loss = api.keras.losses.categorical_crossentropy(
        api.tensor(target),
        api.tensor(output),
        from_logits=from_logits,
        label_smoothing=label_smoothing,
    )
    return api.numpy(loss)


def keras_sparse_label_smoothing():
    """Build ``keras.losses.SparseCategoricalCrossentropy(label_smoothing=0.1)``: raises
    where Keras has no such argument."""
    return _keras_api().losses.SparseCategoricalCrossentropy(label_smoothing=0.1)
