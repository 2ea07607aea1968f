"""A user's own implementation on the reference's declared bad inputs.

Where the candidate raises, it must raise as the reference does: ``ValueError`` (or
``TypeError``, the other "bad argument" exception), not a crash such as ``IndexError`` or
``ZeroDivisionError`` from deep inside its arithmetic.  Where it refuses the
configuration (``NotImplementedError``) the test is unsupported; where it returns a
result, nothing is asserted (it does not validate), and the test skips saying so.  The
built-in frameworks raise their own error types and are not held to this.

Test ids: ``<layer>-<bad input id>-<candidate>``; the candidate's name is also a marker.
"""

from __future__ import annotations

import pytest

import adapters
from adapters.base import Unsupported, prepare
from tests import layers


def _params():
    candidates = [name for name in adapters.names() if name not in adapters.ADAPTERS]
    for info in layers.all_layers():
        for name in candidates:
            if not adapters.supports(name, info.method):
                continue
            for bad in info.error_inputs:
                yield pytest.param(info, bad, name, id=f"{info.name}-{bad.id}-{name}")


def _check_candidate_bad_input(info, bad, adapter_name):
    adapter = adapters.load(adapter_name)
    crash = None
    try:
        prepared = prepare(adapter, info.method, bad.inputs, bad.attrs)
        run = prepared.forward() if bad.direction == "forward" else prepared.backward(bad.grad_out)
        run.result()
    except Unsupported as exc:
        pytest.skip(f"unsupported by {adapter_name}: {exc}")
    except (ValueError, TypeError):
        return
    except Exception as exc:  # judged below, outside the handler, for a short message
        crash = exc
    if crash is not None:
        pytest.fail(
            f"{adapter_name}.{info.method} ({bad.direction}) on bad input {bad.id!r} raised "
            f"{type(crash).__name__}: {crash}; the reference raises ValueError matching "
            f"{bad.match!r} (inputs {sorted(bad.inputs)}, attrs {dict(bad.attrs)})",
            pytrace=False,
        )
    pytest.skip(
        f"{adapter_name} accepts bad input {bad.id!r} (no check; the reference raises "
        f"ValueError matching {bad.match!r})"
    )


_PARAMS = list(_params())
if _PARAMS:  # with no candidate registered an empty parametrization would only ever skip
    test_candidate_bad_input = pytest.mark.parametrize(("info", "bad", "adapter_name"), _PARAMS)(
        _check_candidate_bad_input
    )
