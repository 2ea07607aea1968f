"""The records behind the Cases section, as one compact JSON block the page's script reads.

A full run has ~2,600 comparisons, and a version matrix nine times as many; as HTML, every
record's table row, reproduction snippet and traceback made the page 3.8 MB per
environment (34.6 MB for nine).  Instead each case's rows are drawn when the case is
opened, from this payload:

- ``strings``: every distinct text once (index 0 is the empty string), the most used
  first so that the indices written most often are the shortest.  Records refer to
  strings by index.
- ``lists``: lists of string indices, each stored once (index 0 is the empty list).
  Reproductions, tracebacks, test ids and refusal reasons (``PIECED``, named in
  ``pieced``) are stored as their pieces, split after a newline, a quote, "[", "]", "-"
  and ": ", with pieces that only ever occur next to each other joined (the lines every
  reproduction has are one piece); a record holds the list's index.  An entry ``-k`` in a
  list stands for the pieces of list ``k``: a line of several pieces that occurs more than
  once (a traceback's repeated line, the same failure in several environments) is a list
  of its own.
- ``columns``: the records table (``RECORD_COLUMNS``, minus the environment column for
  one environment), each value already formatted; ``fields``: the per-record details
  after the columns (``DETAIL_FIELDS``).  A record is one string index (a list index for
  a pieced field) per column and field.
- ``shared`` and ``per_env`` divide the columns and fields: ``shared`` ones (``SHARED``:
  a test's adapter, dtype, direction, kind, test id, reproduction and tolerance rules) are
  the same for a test in every environment, ``per_env`` ones (the environment, outcome,
  statistics, version, reason and traceback) are not.
- ``cases``: per case (in the order of the page's ``details.case`` elements) its
  ``tests`` and ``heatmaps`` (each image an array in ``IMAGE_FIELDS`` order).  A test is
  ``[shared values..., [per_env values], [per_env values], ...]``: its shared values once,
  then one array per record (per environment), in the page's row order; an array's
  trailing empty values (index 0) are left off.  Consecutive records whose shared values
  are equal make one test, so one environment's page has one array per test.

In a nine-environment matrix a test's shared values are stored once instead of nine
times.  Every record of every input is kept; only the formatting (the page's display
precision) and the storage are compact.  The results JSON keeps full precision.
"""

from __future__ import annotations

import itertools
import json
import re
from collections import Counter
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
#: Per-record details shown under a row on request; ``PIECED`` ones are lists of pieces.
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
#: Details stored as lists of pieces, split after a newline, a quote, "[", "]", "-" and
#: ": ": reproductions and tracebacks differ from their neighbours' in a test id or a
#: quoted argument, test ids and refusal reasons in one or two pieces, so a piece shared by
#: thousands of records (a line every reproduction has, the test file, a framework's
#: quoted rule) is stored once.
PIECED = frozenset({"repro", "traceback", "test_id", "reason", "error"})
_PIECE_END = re.compile(r"(?<=[\n'\[\]-])|(?<=: )")


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


#: Fields that are the same for a test in every environment (its identity, reproduction
#: and tolerance rule): stored once per test, before the per-environment values.
SHARED = ("adapter", "dtype", "direction", "kind", "test_id", "rule", "tight_rule", "repro")
#: Per-environment details that are usually empty go last, where an empty tail is dropped.
_LAST = ("reason", "error", "outputs", "traceback")


def _glued(texts: set[str]) -> dict[str, list[str]]:
    """Each text's pieces, where pieces that only ever occur next to each other (the lines
    every reproduction has) are joined into one: fewer indices, no new distinct text."""
    split = {t: [p for p in _PIECE_END.split(t) if p] for t in texts}
    count: Counter = Counter()
    pairs: Counter = Counter()
    for pieces in split.values():
        count.update(pieces)
        pairs.update(itertools.pairwise(pieces))
    glued = {}
    for text, pieces in split.items():
        out = [pieces[0]]
        for before, after in itertools.pairwise(pieces):
            if count[before] == count[after] == pairs[(before, after)]:
                out[-1] += after
            else:
                out.append(after)
        glued[text] = out
    return glued


def _lines(pieces: list[str]) -> list[tuple[str, ...]]:
    """``pieces`` grouped into lines (a piece ending in a newline ends one)."""
    out, line = [], []
    for piece in pieces:
        line.append(piece)
        if piece.endswith("\n"):
            out.append(tuple(line))
            line = []
    return [*out, tuple(line)] if line else out


def _repeated_lines(texts) -> set[tuple[str, ...]]:
    """Lines of several pieces that occur more than once (a traceback's repeated frame, the
    same failure in several environments): each is stored once, as a list of its own."""
    count = Counter(line for pieces in texts for line in _lines(pieces) if len(line) > 1)
    return {line for line, n in count.items() if n > 1}


def _by_use(items: list, uses: Counter) -> list[int]:
    """New positions for ``items``, most used first (item 0, the empty one, stays 0), so
    that the indices written most often are the shortest."""
    order = sorted(range(1, len(items)), key=lambda i: -uses[i])
    new = [0] * len(items)
    for position, old in enumerate(order, start=1):
        new[old] = position
    return new


def _value(row: dict, name: str, shown: dict[str, Column]) -> Any:
    column = shown.get(name)
    if column is None:
        return _outputs(row) if name == "outputs" else row.get(name)
    if column.fmt != "text":
        return formats.FORMATS[column.fmt](row.get(name))
    return row.get(name) or formats.NO_VALUE


def payload(cases: list[dict], multi_env: bool) -> dict:
    """The JSON-able payload for ``cases`` (``reports.tables.cases``)."""
    table = StringTable()
    shown = {c.key: c for c in columns(multi_env)}
    names = [*shown, *DETAIL_FIELDS]
    shared = [n for n in SHARED if n in names]
    per_env = [n for n in names if n not in shared and n not in _LAST] + list(_LAST)
    pieced = {
        str(_value(row, n, shown))
        for case in cases
        for row in case["rows"]
        for n in PIECED
        if _value(row, n, shown)
    }
    glued = _glued(pieced)

    lines = _repeated_lines(glued.values())

    def add_pieces(pieces: list[str]) -> int:
        indices: list[int] = []
        for line in _lines(pieces):
            if line in lines:  # a line many texts have: one reference to its own list
                indices.append(-table.add_list([table.add(p) for p in line]))
            else:
                indices.extend(table.add(p) for p in line)
        return table.add_list(indices)

    def stored(row: dict, name: str) -> int:
        value = _value(row, name, shown)
        if name not in PIECED:
            return table.add(value)
        return add_pieces(glued[str(value)]) if value else 0

    out = []
    for case in cases:
        tests: list[list] = []
        for row in case["rows"]:
            key = [stored(row, n) for n in shared]
            values = [stored(row, n) for n in per_env]
            while values and values[-1] == 0:
                values.pop()
            # Consecutive rows of one test (its environments) share one entry.
            if not tests or tests[-1][: len(shared)] != key:
                tests.append(key)
            tests[-1].append(values)
        out.append({"tests": tests, "heatmaps": _heatmaps(table, case.get("heatmaps"))})
    strings, lists = _renumbered(table, out, shared, per_env)
    return {
        "columns": [{"key": c.key, "label": c.label, "numeric": c.numeric} for c in shown.values()],
        "fields": list(DETAIL_FIELDS),
        "image_fields": list(IMAGE_FIELDS),
        # The fields stored as lists of pieces, joined back with "".
        "pieced": sorted(PIECED),
        "shared": shared,
        "per_env": per_env,
        "strings": strings,
        "lists": lists,
        "cases": out,
    }


def _renumbered(table: StringTable, cases: list[dict], shared: list, per_env: list):
    """``table``'s strings and lists, most used first; ``cases`` rewritten in place."""
    string_uses: Counter = Counter()
    list_uses: Counter = Counter()

    def tally(names, values):
        for name, value in zip(names, values, strict=False):
            (list_uses if name in PIECED else string_uses)[value] += 1

    images = [
        image
        for case in cases
        if case["heatmaps"]
        for image in (
            case["heatmaps"]["input"],
            case["heatmaps"]["reference"],
            *(x for fw in case["heatmaps"]["frameworks"] for x in (fw["output"], fw["diff"])),
        )
        if image is not None
    ]
    texts = [i for i, k in enumerate(IMAGE_FIELDS) if k in _IMAGE_TEXTS]
    for case in cases:
        for test in case["tests"]:
            tally(shared, test)
            for values in test[len(shared) :]:
                tally(per_env, values)
    for image in images:
        string_uses.update(image[i] for i in texts)
    for indices in table.lists:
        string_uses.update(i for i in indices if i >= 0)
        list_uses.update(-i for i in indices if i < 0)
    new_string = _by_use(table.strings, string_uses)
    new_list = _by_use(table.lists, list_uses)

    def renumber(names, values):
        for i, name in enumerate(names[: len(values)]):
            values[i] = (new_list if name in PIECED else new_string)[values[i]]

    for case in cases:
        for test in case["tests"]:
            renumber(shared, test)
            for values in test[len(shared) :]:
                renumber(per_env, values)
    for image in images:
        for i in texts:
            image[i] = new_string[image[i]]
    strings = [""] * len(table.strings)
    for old, text in enumerate(table.strings):
        strings[new_string[old]] = text
    lists: list[list[int]] = [[]] * len(table.lists)
    for old, indices in enumerate(table.lists):
        lists[new_list[old]] = [new_string[i] if i >= 0 else -new_list[-i] for i in indices]
    return strings, lists


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
