"""Reading a results JSON (``reports/plugin.py`` writes them) and checking its shape.

``load_results(path)`` returns the parsed file or raises ``ResultsError`` with one line
naming the problem: not JSON, another schema, or a field of the wrong type (with its
path, e.g. ``parity[3].err_to_bound``).  Schema versions: ``cnn-parity-results/1`` is
read; a higher version was written by a newer checkout and is refused (its fields may
mean something else); a file without the ``schema`` field is not a results file.  Fields
this reader does not know are allowed (a version adds optional fields only), and every
field is optional except ``schema`` and ``parity``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

SCHEMA_NAME = "cnn-parity-results"
SCHEMA_VERSION = 1
_SCHEMA = re.compile(rf"\A{SCHEMA_NAME}/(\d+)\Z")
_NON_FINITE = {"inf", "-inf", "nan"}


class ResultsError(ValueError):
    """A results file that cannot be read; ``str()`` is ``"<file>: <problem>"``."""

    def __init__(self, path, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = str(path)
        self.problem = problem


# -- the shape of a results file, as checks that return a problem or None ----------------------


def _kind(value) -> str:
    if value is None:
        return "null"
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}.get(
        type(value), "a number"
    )


def _text(value):
    return None if value is None or isinstance(value, str) else f"expected text, got {_kind(value)}"


def _name(value):
    return None if isinstance(value, str) else f"expected a string, got {_kind(value)}"


def _integer(value):
    ok = value is None or (isinstance(value, int) and not isinstance(value, bool))
    return None if ok else f"expected an integer, got {_kind(value)}"


def _boolean(value):
    return None if isinstance(value, bool) else f"expected true or false, got {_kind(value)}"


def _number(value):
    if value is None or (isinstance(value, (int, float)) and not isinstance(value, bool)):
        return None
    if isinstance(value, str) and value in _NON_FINITE:
        return None
    return f'expected a number (or "inf", "-inf", "nan"), got {_kind(value)}'


def _scalar(value):
    ok = not isinstance(value, (dict, list))
    return None if ok else f"expected a single value, got {_kind(value)}"


def _anything(value):
    return None


def list_of(item):
    def check(value, where):
        if not isinstance(value, list):
            return where, f"expected a list, got {_kind(value)}"
        for i, each in enumerate(value):
            found = _apply(item, each, f"{where}[{i}]")
            if found:
                return found
        return None

    return check


def map_of(item):
    def check(value, where):
        if not isinstance(value, dict):
            return where, f"expected an object, got {_kind(value)}"
        for key, each in value.items():
            found = _apply(item, each, f"{where}.{key}")
            if found:
                return found
        return None

    return check


def fields(spec: dict, *, nullable: bool = False):
    def check(value, where):
        if value is None and nullable:
            return None
        if not isinstance(value, dict):
            return where, f"expected an object, got {_kind(value)}"
        for key, item in spec.items():
            if key in value:
                found = _apply(item, value[key], f"{where}.{key}" if where else key)
                if found:
                    return found
        return None

    return check


def maybe(check):
    """``check``, or null."""

    def nullable(value, where):
        return None if value is None else _apply(check, value, where)

    return nullable


def one_of(*checks, expected: str):
    """Any of ``checks``."""

    def either(value, where):
        if any(_apply(check, value, where) is None for check in checks):
            return None
        return where, f"expected {expected}, got {_kind(value)}"

    return either


def _apply(check, value, where):
    """(where, problem) of the first problem in ``value``, or None."""
    if check in _LEAVES:
        problem = check(value)
        return (where, problem) if problem else None
    return check(value, where)


_LEAVES = {_text, _name, _integer, _boolean, _number, _scalar, _anything}

_GRID = list_of(list_of(_number))
_NUMBERS = list_of(_number)
_META = {"test_id": _text, "outcome": _name, "reason": _text, "traceback": _text}
_META |= {"duration": _number, "index": _integer, "run_id": _text}

PARITY = fields(
    {
        **_META,
        **{k: _name for k in ("layer", "case", "adapter")},
        **{k: _text for k in ("dtype", "direction", "framework_version", "kind", "repro")},
        **{k: _text for k in ("tolerance_rule", "provenance", "unsupported", "missing", "error")},
        **{
            k: _number
            for k in ("max_abs_err", "max_rel_err", "err_to_bound", "err_to_tight", "tolerance")
        },
        "examples": _integer,
        "attrs": _anything,
        "shapes": maybe(map_of(list_of(_scalar))),
        "outputs": map_of(
            fields({k: _number for k in ("max_abs_err", "err_to_bound", "err_to_tight")})
        ),
        "arrays": fields({k: _GRID for k in ("input", "reference", "framework")}, nullable=True),
    }
)
CONVENTION = fields(_META)
#: A network record's per-layer localization (reports/localization.py draws it).
LOCALIZATION = fields(
    {
        "layers": list_of(
            fields(
                {
                    "index": _integer,
                    "nodes": list_of(_name),
                    **{k: _text for k in ("ops", "label")},
                    **{k: _number for k in ("isolated", "isolated_tight")},
                    **{k: _number for k in ("propagated", "propagated_rel")},
                    "passed": _boolean,
                }
            )
        ),
        "divergence": fields(
            {"index": _integer, **{k: _text for k in ("label", "row", "message")}},
            nullable=True,
        ),
    }
)
NETWORK = fields(
    {
        **_META,
        "localization": LOCALIZATION,
        **{k: _scalar for k in ("network", "name", "adapter", "framework", "optimizer", "dtype")},
        **{k: _NUMBERS for k in ("loss_curve", "reference_loss_curve", "divergence")},
        "loss_curves": map_of(_NUMBERS),
        "grad_errors": map_of(
            one_of(_number, map_of(_number), expected="a number or an object of numbers")
        ),
    }
)
_BENCH_STATS = ("min", "max", "mean", "median", "stddev", "iqr", "ops")
BENCHMARK = fields(
    {
        "group": _text,
        "name": _text,
        "extra_info": maybe(fields({"adapter": _scalar, "version": _scalar})),
        "stats": maybe(fields({k: _number for k in _BENCH_STATS})),
    }
)
RUN = fields(
    {
        **{k: _scalar for k in ("env_name", "created", "xdist_workers", "id")},
        "duration_s": _number,
        "exitstatus": _integer,
        "args": list_of(_scalar),
        "tests": map_of(_integer),
        "complete": _boolean,
        "partial": list_of(_text),
        "concurrent_runs": list_of(fields({})),
    }
)
ENVIRONMENT = fields(
    {
        "versions": map_of(_scalar),
        "determinism": fields({"env": map_of(_scalar), "adapters": map_of(map_of(_scalar))}),
    }
)
RESULTS = fields(
    {
        "run": RUN,
        "environment": ENVIRONMENT,
        "layers": list_of(_name),
        "adapters": list_of(_name),
        "absent": list_of(fields({"layer": _name, "adapter": _name, "reason": _text})),
        "domains": map_of(
            fields({"attributes": map_of(list_of(_scalar)), "cases": map_of(map_of(_scalar))})
        ),
        "parity": list_of(PARITY),
        "conventions": list_of(CONVENTION),
        "networks": list_of(NETWORK),
        "benchmarks": list_of(BENCHMARK),
    }
)


# -- reading ----------------------------------------------------------------------------------


def parse_json(path) -> Any:
    """The JSON value in ``path``; ``ResultsError`` for anything that is not JSON text."""
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        raise ResultsError(path, "no such file") from None
    except IsADirectoryError:
        raise ResultsError(path, "is a directory, not a results JSON file") from None
    except OSError as exc:
        raise ResultsError(path, f"cannot be read ({exc.strerror or exc})") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ResultsError(path, "is not UTF-8 text (a results JSON is)") from None
    if not text.strip():
        raise ResultsError(path, "is empty")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ResultsError(
            path, f"is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None
    except RecursionError:
        raise ResultsError(path, "is nested too deeply to be a results JSON") from None


def check_results(data: Any, path) -> dict:
    """``data`` if it is a results object this reader understands; else ``ResultsError``."""
    if not isinstance(data, dict):
        raise ResultsError(path, f"expected a JSON object at the top, got {_kind(data)}")
    if "schema" not in data:
        raise ResultsError(path, "has no 'schema' field: not a cnn-parity results JSON")
    schema = data["schema"]
    match = _SCHEMA.match(schema) if isinstance(schema, str) else None
    if match is None:
        raise ResultsError(
            path, f"schema {schema!r} is not {SCHEMA_NAME}/<version>: not a cnn-parity results JSON"
        )
    version = int(match.group(1))
    if version > SCHEMA_VERSION:
        raise ResultsError(
            path,
            f"schema {schema} is newer than this checkout reads "
            f"({SCHEMA_NAME}/{SCHEMA_VERSION}): render it with the checkout that wrote it",
        )
    if version < 1:
        raise ResultsError(path, f"schema {schema} does not exist (versions start at 1)")
    if "parity" not in data:
        raise ResultsError(path, "has no 'parity' list")
    found = RESULTS(data, "")
    if found:
        where, problem = found
        raise ResultsError(path, f"{where}: {problem}")
    return data


def load_results(path) -> dict:
    """Parse and check one results JSON (see the module docstring)."""
    return check_results(parse_json(path), path)


def load_benchmarks(path) -> dict:
    """Parse a pytest-benchmark JSON: an object whose ``benchmarks`` is a list of objects."""
    data = parse_json(path)
    if not isinstance(data, dict):
        raise ResultsError(path, f"expected a JSON object at the top, got {_kind(data)}")
    found = fields({"benchmarks": list_of(BENCHMARK)})(data, "")
    if found:
        raise ResultsError(path, f"{found[0]}: {found[1]}")
    return data
