"""Suite-wide setup: the report plugin, the user's own implementations (``--candidate``,
``--adapter``), the pytest header (framework versions, determinism flags), fixed seeds,
Hypothesis profiles, and automatic per-adapter markers.

- Report: ``reports.plugin`` is loaded here, for this suite's runs only (it is not a
  ``pytest11`` entry point, so it never writes reports into other projects).
- Terminal: ``tests.terminal`` shortens parity failures to their message and counts the
  by-design "unsupported" skips on one line.
- Candidates: ``--candidate PATH_OR_MODULE`` (a module shaped like ``reference/``) and
  ``--adapter module:Class`` (a class implementing ``adapters.base.Adapter``), each
  repeatable, or the comma-separated environment variables ``CNN_PARITY_CANDIDATE`` and
  ``CNN_PARITY_ADAPTER``, register the implementation as one more adapter column: its
  name appears in test ids, as a marker (``-m <name>``) and in the report.

- Header: every registered adapter's framework version ("not installed" with the reason
  when missing) and its ``determinism_flags()`` when the adapter has one, plus the
  environment variables and NumPy BLAS that change floating-point results.
- Hypothesis: profile "ci" (derandomized, bounded examples, no deadline) is loaded when
  the ``CI`` environment variable is set, "dev" otherwise (also derandomized, so a local
  run repeats CI's examples; ``--hypothesis-seed`` or ``HYPOTHESIS_PROFILE=explore``
  draws new ones).  A failure prints its falsifying example and one reproduction, the
  test's own snippet: no ``@reproduce_failure`` blob (the derandomized run repeats the
  example anyway) and no "explain" phase (explore keeps both).
- Markers: a parametrized test whose id has an adapter name as a dash-separated field
  (``conv2d-guide_5x5-torch-float32-forward``) gets ``pytest.mark.<adapter>``, so
  ``-m torch`` selects it.
- Heavy tests: the tests marked ``heavy`` (subprocess sessions, the larger network
  variants) skip unless ``--full``, a ``-m`` or ``-k`` expression or a test id is given;
  ``pytest -m network`` runs every network.
- Keras on its other backends: the child runs of tests/keras_backend_runs.py start when
  collection ends, and the tests reading them run last.
"""

from __future__ import annotations

import os
import random

import numpy as np
import pytest

import adapters

pytest_plugins = ("reports.plugin", "tests.terminal")

#: Environment variables that change numerics or threading of the frameworks.
_DETERMINISM_ENV = (
    "TF_ENABLE_ONEDNN_OPTS",
    "TF_DETERMINISTIC_OPS",
    "TF_NUM_INTRAOP_THREADS",
    "XLA_FLAGS",
    "JAX_ENABLE_X64",
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "PYTHONHASHSEED",
    "CI",
)

try:
    from hypothesis import HealthCheck, Phase, settings

    _QUIET_PHASES = [p for p in Phase if p is not Phase.explain]

    settings.register_profile(
        "ci",
        derandomize=True,
        max_examples=15,
        deadline=None,
        print_blob=False,
        phases=_QUIET_PHASES,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    settings.register_profile(
        "dev",
        derandomize=True,
        max_examples=15,
        deadline=None,
        print_blob=False,
        phases=_QUIET_PHASES,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    settings.register_profile(
        "explore",
        derandomize=False,
        max_examples=200,
        deadline=None,
        print_blob=True,
        phases=list(Phase),
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    settings.load_profile(
        os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev")
    )
except ImportError:  # hypothesis is a dev dependency; fuzz tests importorskip it
    pass


def _blas() -> str:
    try:
        blas = np.__config__.CONFIG["Build Dependencies"]["blas"]
        return f"{blas.get('name')} {blas.get('version', '')}".strip()
    except (AttributeError, KeyError, TypeError):
        return "unknown"


def pytest_addoption(parser):
    group = parser.getgroup("cnn-parity", "cnn-parity: your own implementation")
    group.addoption(
        "--candidate",
        action="append",
        default=[],
        metavar="PATH_OR_MODULE",
        help="check a module shaped like reference/ (mylayers.conv2d.forward/backward, or "
        "conv2d_forward/conv2d_backward in one file) against the reference; repeatable; "
        "also $CNN_PARITY_CANDIDATE (comma-separated)",
    )
    group.addoption(
        "--full",
        action="store_true",
        default=False,
        help="run every test of the adapters whose setup is slow (the ONNX exports, LiteRT "
        "conversions), not "
        "only their default sample (tests/sampling.py); also $CNN_PARITY_FULL=1",
    )
    group.addoption(
        "--adapter",
        action="append",
        default=[],
        metavar="MODULE:CLASS",
        help="check a class implementing adapters.base.Adapter; repeatable; also "
        "$CNN_PARITY_ADAPTER (comma-separated)",
    )


def _specs(config, option: str, variable: str) -> list[str]:
    from_env = [s.strip() for s in os.environ.get(variable, "").split(",") if s.strip()]
    return [*config.getoption(option), *from_env]


def pytest_configure(config):
    if config.getoption("full"):
        # Child pytest runs (Keras' other backends, the examples) run everything too.
        os.environ["CNN_PARITY_FULL"] = "1"
    specs = [
        *_specs(config, "candidate", "CNN_PARITY_CANDIDATE"),
        *_specs(config, "adapter", "CNN_PARITY_ADAPTER"),
    ]
    for spec in specs:
        try:
            name = adapters.register_spec(spec)
        except (ImportError, ValueError, SyntaxError) as exc:
            raise pytest.UsageError(
                f"cannot load candidate {spec!r}: {type(exc).__name__}: {exc}"
            ) from exc
        config.addinivalue_line("markers", f"{name}: the user's implementation {spec}")
    for name in adapters.ADAPTERS:
        config.addinivalue_line("markers", f"{name}: needs the {name} adapter's framework")
    from reports.plugin import SUITE  # registered by pytest_plugins above

    config.stash[SUITE] = _declared()


def _declared() -> dict:
    """The layers and adapter columns, the pairs with no tests (no method), and each
    layer's attribute domain with the categories its cases exercise (the report's
    coverage scoreboard)."""
    from tests import layers

    names = adapters.names()
    absent = []
    for info in layers.all_layers():
        for name in names:
            if not adapters.supports(name, info.method):
                absent.append(
                    {"layer": info.name, "adapter": name, "reason": f"{name} has no {info.method}"}
                )
            elif name in info.skips:
                absent.append({"layer": info.name, "adapter": name, "reason": info.skips[name]})
    return {
        "layers": [info.name for info in layers.all_layers()],
        "adapters": names,
        "absent": absent,
        "domains": layers.coverage_domains(),
    }


def framework_lines() -> list[str]:
    """One line per adapter: version and determinism flags, or why it is missing."""
    lines = []
    for name in adapters.names():
        try:
            adapter = adapters.load(name)
        except adapters.FrameworkMissing as exc:
            lines.append(f"  {name}: not installed ({exc})")
            continue
        except Exception as exc:  # a broken adapter must not hide the others' versions
            lines.append(f"  {name}: adapter failed to load ({type(exc).__name__}: {exc})")
            continue
        flags = adapter.determinism_flags()
        shown = ", ".join(f"{k}={v}" for k, v in flags.items())
        lines.append(f"  {name}: {adapter.version()}" + (f" [{shown}]" if shown else ""))
    return lines


def pytest_report_header(config):
    env = ", ".join(f"{k}={os.environ.get(k, '<unset>')}" for k in _DETERMINISM_ENV)
    profile = "n/a"
    try:
        from hypothesis import settings as hsettings

        profile = hsettings._current_profile  # no public getter
    except (ImportError, AttributeError):
        pass
    return [
        f"cnn-parity: numpy {np.__version__} (BLAS: {_blas()}), hypothesis profile {profile}",
        "frameworks:",
        *framework_lines(),
        f"determinism env: {env}",
    ]


@pytest.fixture(autouse=True)
def _fixed_seeds():
    """Legacy global RNGs seeded per test: the suite itself uses default_rng(seed), but a
    framework or helper that reaches for np.random / random stays reproducible."""
    random.seed(0)
    np.random.seed(0)  # noqa: NPY002 (seeding the legacy global RNG is the point)


def pytest_collection_modifyitems(config, items):
    from tests.sampling import skip_outside_sample

    skip_outside_sample(config, items)

    # The Keras-backend results are read last: their children run meanwhile.
    from tests import keras_backend_runs

    last = [i for i in items if i.nodeid.startswith(keras_backend_runs.MODULE)]
    if last:
        items[:] = [i for i in items if i not in last] + last
    _skip_heavy(config, items)
    known = set(adapters.names())
    for item in items:
        callspec = getattr(item, "callspec", None)
        if callspec is None:
            continue
        for field in set(callspec.id.split("-")) & known:
            item.add_marker(getattr(pytest.mark, field))


def _skip_heavy(config, items) -> None:
    """The default run skips the tests marked ``heavy`` (subprocess sessions, the larger
    network variants, the browser budgets) or ``slow``, saying so: unless ``--full``, a
    ``-m`` or ``-k`` expression, or a test id (``path::name``) is given.  Any ``-m``
    decides for itself (``pytest -m network`` runs every network).  Skipped, not
    deselected, so a default run stays a complete run for the report."""
    from tests.sampling import full_run

    if full_run(config) or config.option.markexpr or config.option.keyword:
        return
    if any("::" in str(arg) for arg in config.args):
        return
    skip = pytest.mark.skip(reason="heavy: not in the default run; pytest --full runs it")
    for item in items:
        if item.get_closest_marker("heavy") or item.get_closest_marker("slow"):
            item.add_marker(skip)


def pytest_collection_finish(session):
    # The Keras-backend children (tests/keras_backend_runs.py) start now, so that they
    # run while the rest of the suite does; under xdist each starts when its test runs.
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        from tests import keras_backend_runs

        keras_backend_runs.start(session.items)


def pytest_sessionfinish(session):
    from tests import keras_backend_runs

    keras_backend_runs.close()
