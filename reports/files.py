"""Writing results safely: plain-JSON conversion and atomic file replacement."""

from __future__ import annotations

import json
import math
import os
import re
from pathlib import Path
from typing import Any


def jsonable(value: Any) -> Any:
    """Plain JSON types only (xdist must be able to ship them; json must be strict):
    str/int/float subclasses (``torch.__version__``, NumPy scalars) become the base type,
    arrays lists, and non-finite floats the strings "inf", "-inf", "nan"."""
    kind = type(value)
    if kind is list or kind is tuple:
        # Fast path for the long rows of numbers in "arrays".
        if all(type(v) is int or (type(v) is float and math.isfinite(v)) for v in value):
            return list(value)
        return [jsonable(v) for v in value]
    if value is None or kind is bool or kind is int or kind is str:
        return value
    if isinstance(value, float):
        value = float(value)
        if math.isfinite(value):
            return value
        return "nan" if value != value else ("inf" if value > 0 else "-inf")
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [jsonable(v) for v in value]
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, str):
        return str(value)
    item = getattr(value, "item", None)  # NumPy scalars and 0-d arrays, without NumPy
    if callable(item) and getattr(value, "ndim", 0) == 0:
        try:
            return jsonable(item())
        except (TypeError, ValueError):
            pass
    tolist = getattr(value, "tolist", None)
    if callable(tolist):
        return jsonable(tolist())
    return repr(value)


def write_json_atomic(path: Path, data: Any) -> None:
    """Write to a temporary file beside ``path`` and ``os.replace`` it into place, so a
    reader (or a parallel tox environment) never sees a half-written file.  Temporary
    files of killed writers of ``path`` are removed first, so kills leave at most one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temps(path.parent, {path.name})
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8") as handle:
            json.dump(jsonable(data), handle, allow_nan=False, separators=(",", ":"))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def write_text_atomic(path: Path, text: str) -> None:
    """Like ``write_json_atomic``, for text."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temps(path.parent, {path.name})
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


_TEMP = re.compile(r"\A\.(?P<name>.+)\.(?P<pid>\d+)\.tmp\Z")


def remove_stale_temps(directory: Path, names: set[str] | None = None) -> list[Path]:
    """Remove the ``.<name>.<pid>.tmp`` files that a killed writer left in ``directory``
    (only those of dead processes; only for ``names`` when given).  Returns them."""
    removed = []
    try:
        entries = list(Path(directory).iterdir())
    except OSError:
        return removed
    for entry in entries:
        match = _TEMP.match(entry.name)
        if not match or (names is not None and match["name"] not in names):
            continue
        if _alive(int(match["pid"])):
            continue
        try:
            entry.unlink()
            removed.append(entry)
        except FileNotFoundError:
            pass
    return removed


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    except OverflowError:
        return False
    return True
