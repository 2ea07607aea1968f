"""The environment a run happened in: Python, OS, CPU, package versions, determinism flags.

Versions come from ``importlib.metadata`` (no framework is imported to learn its version).
Determinism flags come from the environment variables that change numerics, plus each
adapter's ``determinism_flags()`` for the adapters whose framework the run already imported
(read on the xdist workers, where the frameworks ran, and shipped to the controller).
"""

from __future__ import annotations

import os
import platform
import re
import sys
from importlib import metadata
from typing import Any

#: Distributions whose versions the report always shows ("not installed" when absent);
#: the frameworks join them from the project's own extras (``project_distributions``).
DISTRIBUTIONS = (
    "numpy",
    "tensorflow",
    "tf-keras",
    "jaxlib",
    "pytest",
    "pytest-xdist",
    "pytest-benchmark",
    "hypothesis",
    "jinja2",
)
#: Used when the project's metadata is not installed (a run from a bare checkout).
_FRAMEWORKS_FALLBACK = ("scipy", "torch", "tensorflow-cpu", "keras", "jax")


def project_distributions() -> tuple[str, ...]:
    """Every distribution the project's extras name (``pyproject.toml``), in order:
    a framework added as an extra is reported without editing this module."""
    try:
        requirements = metadata.requires("cnn-parity") or []
    except metadata.PackageNotFoundError:
        return _FRAMEWORKS_FALLBACK
    names = []
    for requirement in requirements:
        name = re.split(r"[\s\[<>=!~;(]", requirement.strip(), maxsplit=1)[0].lower()
        if name and name != "cnn-parity" and name not in names:
            names.append(name)
    return tuple(names)


#: Environment variables that change numerics or threading (mirrors tests/conftest.py).
DETERMINISM_ENV = (
    "TF_ENABLE_ONEDNN_OPTS",
    "TF_DETERMINISTIC_OPS",
    "TF_NUM_INTRAOP_THREADS",
    "TF_NUM_INTEROP_THREADS",
    "XLA_FLAGS",
    "JAX_ENABLE_X64",
    "JAX_PLATFORMS",
    "KERAS_BACKEND",
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "PYTHONHASHSEED",
    "HYPOTHESIS_PROFILE",
    "CI",
)


def versions() -> dict[str, str | None]:
    found: dict[str, str | None] = {}
    for name in dict.fromkeys((*DISTRIBUTIONS[:1], *project_distributions(), *DISTRIBUTIONS)):
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = None
    return found


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as handle:
            for line in handle:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def usable_cpus() -> int | None:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count()


def env_flags() -> dict[str, str | None]:
    names = list(DETERMINISM_ENV)
    conftest = sys.modules.get("tests.conftest")
    for name in getattr(conftest, "_DETERMINISM_ENV", ()):
        if name not in names:
            names.append(name)
    return {name: os.environ.get(name) for name in names}


def adapter_flags() -> dict[str, dict[str, str]]:
    """``determinism_flags()`` of every adapter whose framework this process imported.
    Never imports a framework: an adapter is asked only when its module and its framework
    are already in ``sys.modules``."""
    registry = sys.modules.get("adapters")
    spec = getattr(registry, "ADAPTERS", None)
    if not isinstance(spec, dict):
        return {}
    flags: dict[str, dict[str, str]] = {}
    for name, target in spec.items():
        module_name = str(target).partition(":")[0]
        if module_name not in sys.modules or name.split(".")[0] not in sys.modules:
            continue
        try:
            adapter = registry.load(name)
            if isinstance(adapter, str) or not hasattr(adapter, "determinism_flags"):
                continue
            flags[name] = {str(k): str(v) for k, v in adapter.determinism_flags().items()}
        except Exception as exc:  # flags are informative; never fail the run for them
            flags[name] = {"error": f"{type(exc).__name__}: {exc}"}
    return flags


def determinism_flags(worker_flags: list[dict] | None = None) -> dict[str, Any]:
    """Env vars plus adapter flags, merged over this process and every xdist worker."""
    adapters: dict[str, dict[str, str]] = {}
    for flags in [*(worker_flags or []), adapter_flags()]:
        for name, values in (flags or {}).items():
            adapters.setdefault(name, {}).update(values)
    return {"env": env_flags(), "adapters": adapters}


def describe(flags: dict[str, Any]) -> dict[str, Any]:
    return {
        "python": platform.python_version(),
        "python_implementation": platform.python_implementation(),
        "executable": sys.executable,
        "os": platform.platform(),
        "machine": platform.machine(),
        "cpu": cpu_model(),
        "cpu_count": usable_cpus(),
        "versions": versions(),
        "determinism": flags,
    }


def benchmark_entries(data: dict) -> list[dict]:
    """The parts of a pytest-benchmark JSON that the report shows, one entry per benchmark."""
    entries = []
    for bench in data.get("benchmarks", []) or []:
        stats = bench.get("stats") or {}
        entries.append(
            {
                "group": bench.get("group"),
                "name": bench.get("name"),
                "fullname": bench.get("fullname"),
                "params": bench.get("params"),
                "extra_info": bench.get("extra_info") or {},
                "stats": {
                    k: stats.get(k)
                    for k in ("min", "max", "mean", "median", "stddev", "iqr", "rounds", "ops")
                },
            }
        )
    return entries
