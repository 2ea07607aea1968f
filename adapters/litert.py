"""Keras layers deployed with LiteRT (name "litert"): converted, then interpreted.

Every layer comes from the keras adapter (``adapters/keras.py``): ``litert.<method>(...)``
asks ``KerasAdapter.<method>`` for its prepared call (the Keras layer with the case's
weights, its refusals included), wraps it in a ``keras.Model`` on the call's fixed input
shape (``_Prepared.keras_model``), converts that with
``tf.lite.TFLiteConverter.from_keras_model`` (float32, ``optimizations=[]``: no
quantization, builtin ops only) and runs the flatbuffer in the LiteRT interpreter. A
layer method added to the keras adapter is a method here too, with no change to this
file (``__getattr__`` resolves it), except the losses (the methods taking a ``target``):
a converted model is an inference function and losses are training objectives.

The interpreter is ``ai_edge_litert.interpreter.Interpreter`` (the ``ai-edge-litert``
package, LiteRT's own) when it is installed, otherwise ``tf.lite.Interpreter`` of the
TensorFlow in use; ``version()`` says which.  It runs with its defaults, as a deployed
model does: the XNNPACK delegate for float32 (which the interpreter applies by default).

Forward only: the interpreter has no gradients.  Refused (``Unsupported``), in the
framework's words:

- every backward;
- float64: the converter has no float64 builtin kernels (quoted from converting a float64
  ReLU once per process: "'tf.Relu' op is neither a custom op nor a flex op"; should a
  converter take it, float64 calls are converted and each says for itself);
- ``training=True`` (batch norm, dropout): with Keras 3 (TF >= 2.16) the converter exports
  the Keras model's call with ``training=False`` (tensorflow/lite/python/lite.py); a
  converted model runs batch norm on its moving statistics and dropout as the identity.
  TF 2.15's converter saves a tf.keras (Keras 2) model's call as built, training=True
  included, and has no builtin kernel for a training batch norm: the refusal quotes its
  error on one (asked once per process, as for float64);
- every layer with weights where the converter kills the process on one: TF 2.16's
  converter aborts (``LLVM ERROR: Failed to infer result type(s)``) on any Keras 3 model
  that reads a variable (tensorflow/tensorflow#63987; measured with TF 2.16.2 and Keras
  3.3.3 on Dense, Conv2D and BatchNormalization).  Converters older than TF 2.18 are
  asked once per process, in a child process that converts a one-unit Dense, so that the
  abort ends the child only; the refusal quotes what the child printed (known divergence
  ``litert-converter-aborts-on-weights``).  TF 2.18.1 and 2.21.0 convert weights;
- Keras on another backend than TensorFlow: the converter needs TensorFlow
  (``load`` raises ``FrameworkMissing``);
- anything the converter or the interpreter refuses for one call (its message).

Conversion is slow (0.2 - 0.4 s a call on the 2-core machine), so it happens in
``forward()``, not in the layer method (a refused backward costs nothing), and converted
flatbuffers are cached per (method, attributes, shapes, dtype, the call's constant
arrays): the weights are baked into the flatbuffer, so they are part of the key.  The
default pytest run compares a sample of each layer's cases (``tests/sampling.py``);
``pytest --full`` compares them all.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import inspect
import io
import os
import re
import subprocess
import sys
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from adapters import _tf_common as common
from adapters.base import FrameworkMissing, Run, Unsupported, float_dtype, layer_method
from adapters.keras import KerasAdapter
from adapters.layout import NHWC_TO_NCHW

#: The converter's own words on ``training`` (tensorflow/lite/python/lite.py,
#: TFLiteKerasModelConverterV2._convert_keras_to_saved_model, TF 2.16 - 2.21).
_INFERENCE_ONLY = (
    "tf.lite.TFLiteConverter.from_keras_model converts the model's inference call "
    "('Need to export the model call with training=False for inference only and TFLite "
    "conversion', tensorflow/lite/python/lite.py): a converted model never runs with "
    "training=True"
)


#: The child process ``weights_rule`` runs: one conversion of a model with weights.
_CONVERT_DENSE = """
import contextlib, io
import keras, tensorflow as tf
inputs = keras.Input(shape=(3,), batch_size=1, dtype="float32")
converter = tf.lite.TFLiteConverter.from_keras_model(
    keras.Model(inputs, keras.layers.Dense(1)(inputs))
)
with contextlib.redirect_stdout(io.StringIO()):
    converter.convert()
"""


class LiteRtAdapter:
    name = "litert"
    #: Read by tests/sampling.py: default runs compare a sample of the cases.
    slow_setup = "converts every call with tf.lite.TFLiteConverter (0.2 - 0.4 s each)"
    #: Top-level modules whose absence means the framework is not installed (the
    #: interpreter falls back to tf.lite.Interpreter without ai_edge_litert).
    requires = ("tensorflow", "keras")

    def __init__(self) -> None:
        self._keras = KerasAdapter()
        self._interpreter: Callable[..., Any] | None = None
        self._interpreter_name = ""
        self._converted: dict[str, bytes] = {}
        self._float64_reason: str | None = None
        self._training_reason: str | None = None
        self._weights_reason: str | None = None
        self.conversions = 0  # converter runs in this process (cache misses)

    # -- Protocol ---------------------------------------------------------------------
    def load(self) -> None:
        if self._interpreter is not None:
            return
        self._keras.load()
        api = self._keras.api
        if api.backend != "tensorflow":
            raise FrameworkMissing(
                f"litert converts Keras models with tf.lite.TFLiteConverter, which needs Keras "
                f"on TensorFlow; this Keras runs on {api.backend} (KERAS_BACKEND)"
            )
        try:
            from ai_edge_litert import __version__ as litert_version
            from ai_edge_litert.interpreter import Interpreter
        except ImportError:
            self._interpreter = api.tf.lite.Interpreter
            self._interpreter_name = (
                f"tf.lite.Interpreter of tensorflow {api.tf.__version__} "
                "(ai-edge-litert not installed)"
            )
        else:
            self._interpreter = Interpreter
            self._interpreter_name = f"ai-edge-litert {litert_version}"

    def version(self) -> str:
        api = self._keras.api
        return (
            f"{self._interpreter_name}; converted by tensorflow {api.tf.__version__} "
            f"TFLiteConverter (keras {api.version})"
        )

    def determinism_flags(self) -> dict[str, str]:
        return {
            "converter": "from_keras_model, float32, optimizations=[] (no quantization)",
            "interpreter": self._interpreter_name,
            "delegate": "the interpreter's default (XNNPACK for float32)",
            **common.tf_determinism_flags(self._keras.api.tf),
        }

    # -- layers: every keras adapter layer ----------------------------------------------
    def __getattr__(self, method: str) -> Callable[..., _Converted]:
        if method.startswith("_"):
            raise AttributeError(method)
        keras_method = layer_method(self._keras, method)
        if keras_method is None or _is_loss(keras_method):
            raise AttributeError(method)

        @functools.wraps(keras_method)
        def prepare(*args: Any, **kwargs: Any) -> _Converted:
            return self._prepare(method, keras_method, args, kwargs)

        return prepare

    def _prepare(self, method: str, keras_method, args, kwargs) -> _Converted:
        self.load()
        bound = inspect.signature(keras_method).bind(*args, **kwargs)
        bound.apply_defaults()
        call = bound.arguments
        dtype = float_dtype({k: v for k, v in call.items() if isinstance(v, np.ndarray)})
        if dtype == np.float64 and self._float64_rule() is not None:
            raise Unsupported(self._float64_rule())
        if dtype not in (np.float32, np.float64):
            raise Unsupported(f"litert adapter: converts float32 models only, not {dtype}")
        if call.get("training"):
            raise Unsupported(self._training_rule())
        prepared = keras_method(*args, **kwargs)
        constants = {k: v for k, v in call.items() if k not in prepared.arrays}
        shapes = {k: (a.shape, a.dtype.str) for k, a in prepared.arrays.items()}
        return _Converted(self, method, prepared, _cache_key(method, shapes, constants))

    # -- conversion ---------------------------------------------------------------------
    def _convert(self, key: str, build_model: Callable[[], Any]) -> bytes:
        if key not in self._converted:
            self._converted[key] = convert(self._keras.api.tf, build_model())
            self.conversions += 1
        return self._converted[key]

    def _training_rule(self) -> str:
        """Why training=True is refused: Keras 3's converter exports the inference call
        (``_INFERENCE_ONLY``); TF 2.15's converts a tf.keras model's call as built, so its
        own error on a training=True BatchNormalization says why (asked once per process)."""
        if not self._keras.api.tf_keras:
            return _INFERENCE_ONLY
        if self._training_reason is None:
            self._training_reason = self._ask_training()
        return self._training_reason

    def _ask_training(self) -> str:
        api = self._keras.api
        inputs = api.keras.Input(shape=(2, 2, 3), batch_size=2, dtype="float32")
        model = api.keras.Model(inputs, api.layers.BatchNormalization()(inputs, training=True))
        policy = "litert runs converted models for inference only: training=True is refused"
        said = _refusal_of(api.tf, model)
        if said is not None:
            # TF 2.15 tensorflow/lite/python/lite.py,
            # TFLiteKerasModelConverterV2._convert_keras_to_saved_model: tf.saved_model.save
            # of the model as built, with no training=False export.
            return (
                f"{policy}; tf.lite.TFLiteConverter of tensorflow {api.tf.__version__} "
                f"converts a tf.keras (keras {api.version}) model's call as built "
                f"(tf.saved_model.save), training=True included, and converting a "
                f"training=True BatchNormalization says: {said}"
            )
        return f"{policy} (keras {api.version})"

    def weights_rule(self) -> str | None:
        """Why a model with weights is refused, where the converter aborts the process on
        one (asked once per process, in a child process, for converters older than TF
        2.18); None where it converts them."""
        if self._weights_reason is None:
            self._weights_reason = self._ask_weights() or ""
        return self._weights_reason or None

    def _ask_weights(self) -> str | None:
        api = self._keras.api
        release = tuple(int(p) for p in re.findall(r"\d+", api.tf.__version__)[:2])
        if api.tf_keras or release >= (2, 18):
            return None
        env = {**os.environ, "KERAS_BACKEND": "tensorflow", "TF_CPP_MIN_LOG_LEVEL": "2"}
        child = subprocess.run(
            [sys.executable, "-c", _CONVERT_DENSE],
            capture_output=True,
            text=True,
            env=env,
            timeout=600,
            check=False,
        )
        if child.returncode == 0:
            return None
        said = [m.group(0) for m in re.finditer(r"(?:LLVM ERROR|error): [^\n]*", child.stderr)]
        quoted = " / ".join(said[-2:]) or child.stderr.strip()[-300:]
        return (
            f"tf.lite.TFLiteConverter of tensorflow {api.tf.__version__} kills the process "
            f"converting a keras {api.version} model that holds weights (a child process "
            f"converting a one-unit Dense exited with {child.returncode}: {quoted}; "
            "tensorflow/tensorflow#63987): every layer with weights is refused (known "
            "divergence 'litert-converter-aborts-on-weights' in tests/known_divergences.py)"
        )

    def _float64_rule(self) -> str | None:
        """Why float64 is refused: the converter's own error on a float64 ReLU (asked once
        per process); None if a converter converts it (then each call says for itself)."""
        if self._float64_reason is None:
            self._float64_reason = self._ask_float64() or ""
        return self._float64_reason or None

    def _ask_float64(self) -> str | None:
        keras = self._keras.api.keras
        inputs = keras.Input(shape=(3,), batch_size=1, dtype="float64")
        model = keras.Model(inputs, keras.layers.ReLU(dtype="float64")(inputs))
        said = _refusal_of(self._keras.api.tf, model)
        if said is not None:
            return (
                "float64: tf.lite.TFLiteConverter has no float64 builtin kernels; converting "
                f"a float64 keras ReLU: {said}"
            )
        return None


class _Converted:
    """One keras adapter call, converted on the first ``forward()``."""

    def __init__(self, adapter: LiteRtAdapter, method: str, prepared, key: str) -> None:
        self._adapter, self._method, self._prepared, self._key = adapter, method, prepared, key

    def forward(self) -> Run:
        adapter, prepared = self._adapter, self._prepared
        if adapter.weights_rule() and prepared.keras_model().weights:
            raise Unsupported(f"litert {self._method}: {adapter.weights_rule()}")
        try:
            flatbuffer = adapter._convert(self._key, prepared.keras_model)
        except Exception as exc:
            if not _converter_error(exc):
                raise
            raise Unsupported(f"litert {self._method}: {_short(exc)}") from exc
        try:
            with warnings.catch_warnings():
                # The fallback's own notice: version() already says which interpreter runs.
                warnings.filterwarnings(
                    "ignore", "(?s).*use the LiteRT interpreter from the ai_edge_litert"
                )
                interpreter = adapter._interpreter(model_content=flatbuffer)
            interpreter.allocate_tensors()
        except (RuntimeError, ValueError) as exc:  # the interpreter refuses the model
            raise Unsupported(f"litert {self._method}: interpreter: {_short(exc)}") from exc
        (source,) = prepared.arrays.values()
        (given,) = interpreter.get_input_details()
        (taken,) = interpreter.get_output_details()
        x = np.ascontiguousarray(source, dtype=np.float32)
        ops = _ops(interpreter)

        def call():
            interpreter.set_tensor(given["index"], x)
            interpreter.invoke()
            return interpreter.get_tensor(taken["index"])

        to_reference = _to_nchw if prepared.nhwc else np.asarray
        return Run(call, to_reference, f"LiteRT interpreter; converted ops: {ops}")

    def backward(self, grad_out) -> Run:
        raise Unsupported(
            "litert: the LiteRT interpreter runs a converted model's inference only (no gradients)"
        )


def convert(tf, model) -> bytes:
    """``model`` as a LiteRT flatbuffer: float32, no optimizations, builtin ops only.
    Keras 3's export prints where it saved the SavedModel: kept off stdout."""
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = []
    converter.target_spec.supported_ops = {tf.lite.OpsSet.TFLITE_BUILTINS}
    with contextlib.redirect_stdout(io.StringIO()):
        return converter.convert()


def _cache_key(method: str, shapes, constants) -> str:
    """Method, the model inputs' shapes and dtypes (fixed in the flatbuffer), attributes,
    and every constant array's dtype, shape and bytes: the weights are baked into the
    flatbuffer, so a key without their values could serve wrong ones."""
    digest = hashlib.sha256(f"{method}{sorted(shapes.items())}".encode())
    for name, value in sorted(constants.items()):
        digest.update(repr(name).encode())
        if isinstance(value, np.ndarray):
            digest.update(f"{value.dtype.str}{value.shape}".encode())
            digest.update(np.ascontiguousarray(value).tobytes())
        else:
            digest.update(repr(value).encode())
    return digest.hexdigest()


def _is_loss(method) -> bool:
    """A training objective, not a layer a converted model runs: the reference's losses
    (cross_entropy, categorical_crossentropy, mse, ...) are the layers taking a
    ``target``."""
    return "target" in inspect.signature(method).parameters


def _refusal_of(tf, model) -> str | None:
    """What the converter says when it refuses ``model`` (its "op is neither a custom op
    nor a flex op" sentence where it has one), or None when it converts it."""
    try:
        convert(tf, model)
    except Exception as exc:
        if not _converter_error(exc):
            raise
        found = re.search(r"'tf\.\w+' op is neither a custom op nor a flex op", str(exc))
        return found.group(0) if found else _short(exc)
    return None


def _converter_error(exc: BaseException) -> bool:
    """The converter's refusal (tensorflow.lite.python.convert_phase.ConverterError, not a
    public name), as opposed to an error of this adapter's."""
    return type(exc).__name__ == "ConverterError"


def _ops(interpreter) -> str:
    """The converted model's operators in order, and whether a delegate took them (the
    interpreter lists a delegated node as one more op, "DELEGATE")."""
    names = dict.fromkeys(op["op_name"] for op in interpreter._get_ops_details())
    delegated = names.pop("DELEGATE", None) is not None
    return (", ".join(names) or "none (the identity)") + (" (delegated)" if delegated else "")


def _short(exc: BaseException) -> str:
    """The converter's or interpreter's message, the lines that say why."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    said = [line for line in lines if "error:" in line or "not supported" in line.lower()]
    return f"{type(exc).__name__}: {' '.join((said or lines)[:2])[:400]}"


def _to_nchw(a):
    return np.asarray(a).transpose(NHWC_TO_NCHW)
