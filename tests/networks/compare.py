"""Which layer diverges in your own model pair: ``compare_models(torch_model, keras_model,
x)`` for a ``torch.nn.Sequential`` and a ``keras.Sequential`` of the same architecture.

The torch model is taken as the original: its modules become the reference network and
its weights are written into the Keras model (tests/networks/pair.py: layers matched one
to one in order, a pair that does not map raises ``PairError`` naming the first layer).
Both models are then localized layer by layer against the NumPy reference
(tests/networks/localize.py): isolated (each framework layer fed the reference's input,
judged by that layer's own bound) and propagated (each framework's own activations).

Command: ``python -m tests.networks.compare MODULE:FUNCTION [--out FILE.html]`` where
``FUNCTION()`` returns ``(torch_model, keras_model, x)`` with ``x`` NCHW; it prints both
localizations and writes the per-layer HTML section the report's networks section shows
(default reports/out/compare.html).  Example: ``python -m tests.networks.compare
tests.networks.pair_example:example_pair``.
"""

from __future__ import annotations

import argparse
import copy
import importlib
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tests.networks import localize, pair
from tests.networks.keras_layers import describe, from_keras, to_keras
from tests.networks.pair import PairError
from tests.networks.stages import Stage

__all__ = ["Comparison", "PairError", "compare_models"]


@dataclass
class Comparison:
    """Both models' localizations against the reference built from the torch model."""

    torch: localize.Localization
    keras: localize.Localization

    @property
    def divergence(self):
        """The first failing layer of the Keras model, else of the torch model, else None."""
        return self.keras.divergence or self.torch.divergence

    def message(self) -> str:
        return f"{self.torch.message()}\n{self.keras.message()}"

    def records(self) -> list[dict]:
        return [
            {"network": self.torch.network, "adapter": fw, "localization": loc.record()}
            for fw, loc in (("torch", self.torch), ("keras", self.keras))
        ]

    def html(self) -> str:
        from reports.render import localization_page

        return localization_page(self.records(), title=self.torch.network)


def compare_models(torch_model, keras_model, x, *, name: str = "model pair") -> Comparison:
    """Port ``torch_model``'s weights into ``keras_model`` (which is changed in place) and
    localize both against the reference on input ``x`` (NCHW, any float dtype; run in
    float32).  Raises ``PairError`` when the layers do not map one to one."""
    import keras
    import torch

    torch_model = copy.deepcopy(torch_model)  # the reference probe casts modules
    x32 = np.asarray(x, np.float32)
    built = pair.torch_nodes(torch, torch_model, x32.shape)
    if not keras_model.built:
        keras_model.build((None, *to_keras(x32, built.where["input"]).shape[1:]))
    pair.match_keras(built, keras_model)
    pair.port_weights(built)
    rounded = {k: v.astype(np.float32).astype(np.float64) for k, v in built.params.items()}
    consts = {k: v.astype(np.float32).astype(np.float64) for k, v in built.constants.items()}
    ref = localize.Reference(name, built.spec, rounded, consts, x32.astype(np.float64))
    repro = f"compare_models(torch_model, keras_model, x, name={name!r})"
    torch_stages, torch_acts = _torch_side(torch, built, torch_model.training)
    keras_stages, keras_acts = _keras_side(keras, built, bool(torch_model.training))
    return Comparison(
        localize.localize(ref, "torch", torch_stages, torch_acts, repro),
        localize.localize(ref, "keras", keras_stages, keras_acts, repro),
    )


def _torch_side(torch, built, training):
    def call_of(module):
        def run(*arrays):
            with torch.no_grad():
                return module(torch.from_numpy(np.ascontiguousarray(arrays[0]))).numpy().copy()

        return run

    stages = [
        Stage((name,), f"{name}: {module!r}", call_of(module))
        for name, node, module in built.entries
        if node is not None
    ]

    def activations(x):
        out, value = {}, torch.from_numpy(np.ascontiguousarray(x))
        with torch.no_grad():
            for name, node, module in built.entries:
                value = module(value)
                if node is not None:
                    out[name] = value.numpy().copy()
        return out

    return stages, activations


def _keras_side(keras, built, training):
    where = built.where
    inputs = {n["name"]: n["inputs"][0] for n in built.spec["layers"]}

    def call_group(group, value):
        for layer in group:
            if isinstance(layer, keras.layers.BatchNormalization):
                value = layer(value, training=training)
            else:
                value = layer(value)
        return value

    def run_of(names, group):
        def run(*arrays):
            value = to_keras(np.asarray(arrays[0], np.float32), where[inputs[names[0]]])
            return from_keras(np.array(call_group(group, value)), where[names[-1]])

        return run

    stages = [
        Stage(names, "; ".join(describe(la) for la in group), run_of(names, group))
        for names, group in built.keras_groups
    ]

    def activations(x):
        out, value = {}, to_keras(np.asarray(x, np.float32), where["input"])
        for names, group in built.keras_groups:
            value = call_group(group, value)
            out[names[-1]] = from_keras(np.array(value), where[names[-1]])
        return out

    return stages, activations


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.networks.compare", description=__doc__)
    parser.add_argument("pair", help="MODULE:FUNCTION returning (torch_model, keras_model, x)")
    parser.add_argument("--out", default="reports/out/compare.html", help="HTML file to write")
    args = parser.parse_args(argv)
    module_name, _, function = args.pair.partition(":")
    if not function:
        parser.error(f"pair must be MODULE:FUNCTION, got {args.pair!r}")
    torch_model, keras_model, x = getattr(importlib.import_module(module_name), function)()
    try:
        result = compare_models(torch_model, keras_model, x, name=args.pair)
    except PairError as exc:
        print(f"the models do not map: {exc}", file=sys.stderr)
        return 2
    print(result.message())
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(result.html(), encoding="utf-8")
    print(f"wrote {out}")
    return 1 if result.divergence else 0


if __name__ == "__main__":
    raise SystemExit(main())
