"""The records behind the Cases section, as one compact JSON block the page's script reads.

A full run has ~2,600 comparisons, and a version matrix nine times as many; as HTML, every
record's table row, reproduction snippet and traceback made the page 3.8 MB per
environment (34.6 MB for nine).  Instead each case's rows are drawn when the case is
opened, from this payload:

- ``strings``: every distinct text once (index 0 is the empty string).  Records refer to
  strings by index; multi-line texts (reproductions, tracebacks) are lists of line
  indices, so the lines shared by every reproduction, and every line repeated across
  environments, are stored once.
- ``columns``: the records table (``RECORD_COLUMNS``, minus the environment column for
  one environment); each row holds one string index per column, already formatted.
- ``fields``: the per-record details after the columns (``DETAIL_FIELDS``).
- ``cases``: per case (in the order of the page's ``details.case`` elements) its rows and
  heatmaps.

Every record of every input is kept; only the formatting (the page's display precision)
and the storage are compact.  The results JSON keeps full precision.
"""

from __future__ import annotations

import json
from typing import Any, NamedTuple

from reports import formats


class Column(NamedTuple):
    """One column of a case's records table: the record key, its heading, how its value is
    written (``reports.formats.FORMATS``) and whether it is shown for one environment."""

    key: str
    label: str
    fmt: str = "text"
    numeric: bool = False
    multi_env_only: bool = False


#: The records table.  A new statistic in the records (say a second error ratio) is one
#: more entry here.
RECORD_COLUMNS = (
    Column("adapter", "adapter"),
    Column("env", "env", multi_env_only=True),
    Column("dtype", "dtype"),
    Column("direction", "direction"),
    Column("outcome", "outcome"),
    Column("max_abs_err", "max abs err", "num", numeric=True),
    Column("max_rel_err", "max rel err", "num", numeric=True),
    Column("err_to_bound", "err / bound", "ratio", numeric=True),
    Column("err_to_tight", "err / tight", "ratio", numeric=True),
    Column("tolerance", "tolerance", "num", numeric=True),
    Column("kind", "kind"),
    Column("version", "version"),
    Column("duration", "time", "seconds", numeric=True),
)
#: Per-record details shown under a row on request; ``MULTILINE`` ones are line lists.
DETAIL_FIELDS = (
    "test_id",
    "reason",
    "error",
    "outputs",
    "rule",
    "tight_rule",
    "repro",
    "traceback",
)
MULTILINE = frozenset({"repro", "traceback"})


class StringTable:
    """Distinct strings, each stored once, referred to by index."""

    def __init__(self):
        self.strings: list[str] = [""]
        self._index: dict[str, int] = {"": 0}

    def add(self, value: Any) -> int:
        text = "" if value is None else str(value)
        index = self._index.get(text)
        if index is None:
            index = self._index[text] = len(self.strings)
            self.strings.append(text)
        return index

    def lines(self, value: Any) -> list[int]:
        if not value:
            return []
        return [self.add(line) for line in str(value).split("\n")]


def columns(multi_env: bool) -> list[Column]:
    return [c for c in RECORD_COLUMNS if multi_env or not c.multi_env_only]


def _outputs(row: dict) -> str:
    return "; ".join(
        f"{name}: {formats.num(s.get('max_abs_err'))} "
        f"({formats.ratio(s.get('err_to_bound'))} \u00d7 bound)"
        for name, s in row.get("outputs") or []
    )


def payload(cases: list[dict], multi_env: bool) -> dict:
    """The JSON-able payload for ``cases`` (``reports.tables.cases``)."""
    table = StringTable()
    shown = columns(multi_env)
    out = []
    for case in cases:
        rows = []
        for row in case["rows"]:
            cells = [
                table.add(
                    formats.FORMATS[c.fmt](row.get(c.key))
                    if c.fmt != "text"
                    else row.get(c.key) or formats.NO_VALUE
                )
                for c in shown
            ]
            details = []
            for field in DETAIL_FIELDS:
                value = _outputs(row) if field == "outputs" else row.get(field)
                details.append(table.lines(value) if field in MULTILINE else table.add(value))
            rows.append(cells + details)
        out.append({"rows": rows, "heatmaps": case.get("heatmaps")})
    return {
        "columns": [{"key": c.key, "label": c.label, "numeric": c.numeric} for c in shown],
        "fields": list(DETAIL_FIELDS),
        "strings": table.strings,
        "cases": out,
    }


def script_json(data: Any) -> str:
    """JSON safe inside ``<script type="application/json">``: no ``<``, ``>`` or ``&``
    (so no text can close the element), no non-ASCII line separators."""
    text = json.dumps(data, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    for raw, escaped in (
        ("&", "\\u0026"),
        ("<", "\\u003c"),
        (">", "\\u003e"),
        ("\u2028", "\\u2028"),
        ("\u2029", "\\u2029"),
    ):
        text = text.replace(raw, escaped)
    return text
