"""The records behind the Cases section, as one compact JSON block the page's script reads.

A full run has ~2,600 comparisons, and a version matrix nine times as many; as HTML, every
record's table row, reproduction snippet and traceback made the page 3.8 MB per
environment (34.6 MB for nine).  Instead each case's rows are drawn when the case is
opened, from this payload:

- ``strings``: every distinct text once (index 0 is the empty string).  Records refer to
  strings by index.
- ``lists``: lists of string indices, each stored once.  Multi-line texts (reproductions,
  tracebacks) are their lines, test ids and refusal reasons their pieces (``PIECED``);
  a record holds the list's index, so the lines shared by every reproduction, and the
  same test's texts in every environment, are stored once.  ``joins`` says how a field's
  list is joined back.
- ``columns``: the records table (``RECORD_COLUMNS``, minus the environment column for
  one environment); each row holds one string index per column, already formatted.
- ``fields``: the per-record details after the columns (``DETAIL_FIELDS``).
- ``cases``: per case (in the order of the page's ``details.case`` elements) its rows and
  heatmaps (each image an array in ``IMAGE_FIELDS`` order).

Every record of every input is kept; only the formatting (the page's display precision)
and the storage are compact.  The results JSON keeps full precision.
"""

from __future__ import annotations

import json
import re
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
#: Single-line details stored as pieces (split after "[", "-", "]" and ": "): test ids and
#: refusal reasons differ from their neighbours in one or two pieces, so a piece shared by
#: thousands of records (the test file, a framework's quoted rule) is stored once.
PIECED = frozenset({"test_id", "reason", "error"})
_PIECE_END = re.compile(r"(?<=[\[\]-])|(?<=: )")


class StringTable:
    """Distinct strings, each stored once, referred to by index."""

    def __init__(self):
        self.strings: list[str] = [""]
        self._index: dict[str, int] = {"": 0}
        #: Lists of string indices (a reproduction's lines, a test id's pieces), each
        #: stored once: the same test in nine environments shares one entry.
        self.lists: list[list[int]] = [[]]
        self._list_index: dict[tuple[int, ...], int] = {(): 0}

    def add_list(self, indices: list[int]) -> int:
        key = tuple(indices)
        index = self._list_index.get(key)
        if index is None:
            index = self._list_index[key] = len(self.lists)
            self.lists.append(indices)
        return index

    def add(self, value: Any) -> int:
        text = "" if value is None else str(value)
        index = self._index.get(text)
        if index is None:
            index = self._index[text] = len(self.strings)
            self.strings.append(text)
        return index

    def lines(self, value: Any) -> int:
        """The index in ``lists`` of ``value``'s lines."""
        if not value:
            return 0
        return self.add_list([self.add(line) for line in str(value).split("\n")])

    def pieces(self, value: Any) -> int:
        """The index in ``lists`` of ``value``'s pieces."""
        if not value:
            return 0
        return self.add_list([self.add(p) for p in _PIECE_END.split(str(value)) if p])


def columns(multi_env: bool) -> list[Column]:
    return [c for c in RECORD_COLUMNS if multi_env or not c.multi_env_only]


def _outputs(row: dict) -> str:
    return "; ".join(
        f"{name}: {formats.num(s.get('max_abs_err'))} "
        f"({formats.ratio(s.get('err_to_bound'))} \u00d7 bound)"
        for name, s in row.get("outputs") or []
    )


#: A heatmap image as the page draws it: the fields it reads, in this order, the texts as
#: string indices (identical images, as the reference's and a framework's often are, are
#: stored once).
IMAGE_FIELDS = ("uri", "display_w", "display_h", "scale", "low_label", "high_label", "nonfinite")
_IMAGE_TEXTS = frozenset({"uri", "scale", "low_label", "high_label"})


def _image(table: StringTable, hm: dict | None) -> list | None:
    if hm is None:
        return None
    return [table.add(hm[k]) if k in _IMAGE_TEXTS else hm[k] for k in IMAGE_FIELDS]


def _heatmaps(table: StringTable, heatmaps: dict | None) -> dict | None:
    if not heatmaps:
        return heatmaps
    return {
        "input": _image(table, heatmaps.get("input")),
        "reference": _image(table, heatmaps.get("reference")),
        "frameworks": [
            {
                "adapter": fw["adapter"],
                "output": _image(table, fw.get("output")),
                "diff": _image(table, fw.get("diff")),
            }
            for fw in heatmaps.get("frameworks", [])
        ],
    }


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
                if field in MULTILINE:
                    details.append(table.lines(value))
                elif field in PIECED:
                    details.append(table.pieces(value))
                else:
                    details.append(table.add(value))
            rows.append(cells + details)
        out.append({"rows": rows, "heatmaps": _heatmaps(table, case.get("heatmaps"))})
    return {
        "columns": [{"key": c.key, "label": c.label, "numeric": c.numeric} for c in shown],
        "fields": list(DETAIL_FIELDS),
        "image_fields": list(IMAGE_FIELDS),
        # How a field stored as a list of string indices is joined back.
        "joins": {field: "\n" if field in MULTILINE else "" for field in MULTILINE | PIECED},
        "strings": table.strings,
        "lists": table.lists,
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
