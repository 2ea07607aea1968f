"""What the page says at a glance: outcome proportions in the matrix and the case list,
how its counts relate to pytest's, layers an adapter does not implement, a readable
conventions section, colour scales, chart legends, and the compact record data behind
the cases (every record kept, repeated text stored once, nothing to widen the page)."""

from __future__ import annotations

import json
import re

import pytest

from reports import charts, render
from tests.reports import sample


def _cells(context) -> dict:
    return {(row["layer"], c["adapter"]): c for row in context["matrix"] for c in row["cells"]}


def _with_cell(data: dict, layer: str, adapter: str, counts: dict[str, int]) -> dict:
    """``data`` with the (layer, adapter) records replaced by ``counts`` comparisons, one
    case of 20 per group (like conv2d's 130 comparisons over 13 cases per adapter)."""
    kept = [r for r in data["parity"] if (r["layer"], r["adapter"]) != (layer, adapter)]
    made = []
    for outcome, n in counts.items():
        for _ in range(n):
            i = len(made)
            extra = {"unsupported": "no such padding"} if outcome == "unsupported" else {}
            made.append(
                sample._record(
                    layer,
                    f"{layer}_case{i // 20}",
                    adapter,
                    ("float32", "float64")[i % 2],
                    ("forward", "backward")[(i // 2) % 2],
                    outcome,
                    3.5 if outcome == "fail" else 0.25,
                    **extra,
                )
            )
    return {**data, "parity": kept + made}


def _td(html: str, layer: str, adapter: str) -> str:
    matrix = html.split('id="summary-matrix"', 1)[1].split("</table>", 1)[0]
    row = matrix.split(f'data-layer="{layer}"', 1)[1].split("</tr>", 1)[0]
    return re.search(rf'<td [^>]*data-adapter="{adapter}".*?</td>', row, re.S).group(0)


def test_matrix_cell_shows_outcome_shares_not_its_worst_outcome():
    # The example: conv2d x torch, 122 of 130 pass and 8 are unsupported.
    data = _with_cell(sample.results(), "conv2d", "torch", {"pass": 122, "unsupported": 8})
    cell = _cells(render.build_context([data]))[("conv2d", "torch")]
    assert [(o, n) for o, n, _ in cell["segments"]] == [("pass", 122), ("unsupported", 8)]
    assert [share for _, _, share in cell["segments"]] == [
        pytest.approx(100 * 122 / 130, abs=1e-3),
        pytest.approx(100 * 8 / 130, abs=1e-3),
    ]
    td = _td(render.render([data]), "conv2d", "torch")
    assert "o-unsupported" not in td.split(">", 1)[0]  # the cell is not coloured unsupported
    assert "<b>122</b>/130 pass" in td
    assert "8 unsupported" in td
    widths = dict(re.findall(r'data-outcome="(\w+)" data-count="\d+" style="width:([\d.]+)%"', td))
    assert float(widths["pass"]) == pytest.approx(93.846, abs=1e-3)
    assert float(widths["unsupported"]) == pytest.approx(6.154, abs=1e-3)


def test_a_single_failure_frames_its_cell_and_starts_its_bar():
    data = _with_cell(sample.results(), "conv2d", "torch", {"pass": 129, "fail": 1})
    td = _td(render.render([data]), "conv2d", "torch")
    assert "has-fail" in td.split(">", 1)[0]
    assert '<span class="badge o-fail fails">1 fail</span>' in td
    assert re.findall(r'data-outcome="(\w+)" data-count', td) == ["fail", "pass"]
    passing = _td(render.render([data]), "conv2d", "keras")
    assert "has-fail" not in passing.split(">", 1)[0]


def test_case_summary_counts_outcomes_instead_of_a_worst_badge():
    # conv_stride2 in the issue: 19 of 20 comparisons pass, one is unsupported.
    data = _with_cell(sample.results(), "conv2d", "torch", {"pass": 19, "unsupported": 1})
    html = render.render([data])
    summary = html.split('id="case-conv2d-conv2d_case0"', 1)[1].split("</summary>", 1)[0]
    assert "<b>19</b>/20 pass" in summary
    assert "1 unsupported" in summary
    assert 'class="badge o-unsupported"' not in summary


def test_page_states_how_its_counts_relate_to_pytests():
    data = sample.results()
    data["run"]["tests"] = {"pass": 120, "skipped": 30, "xfail": 2}
    html = render.render([data])
    counting = html.split('id="counting"', 1)[1].split("</p>", 1)[0]
    assert "counts <b>comparisons</b>" in counting
    assert "pytest skips that compared nothing" in counting
    assert "120 pass, 30 skipped, 2 xfail" in counting


def test_pairs_without_a_method_are_not_implemented_not_unsupported():
    data = sample.results()
    context = render.build_context([data])
    cell = _cells(context)[(sample.ABSENT_LAYER, "torch")]
    assert cell["n"] == 0
    assert cell["absent"] == "torch has no correlate"
    assert context["totals"]["unsupported"] == 1  # maxpool2d x scipy backward only
    td = _td(render.render([data]), sample.ABSENT_LAYER, "torch")
    assert "not implemented" in td
    assert "torch has no correlate" in td


def test_conventions_show_relation_sides_and_numbers_not_raw_keys():
    html = render.render([sample.results()])
    section = html.split('id="conventions-section"', 1)[1].split('<h2 id="networks"', 1)[0]
    for raw in ("max_abs_diff_between_sides", "null", "None", "['", "{'", '{"', "[0, 1]"):
        assert raw not in section, raw
    convention = sample.CONVENTION
    assert "relation asserted" in section
    assert convention["difference"] in section
    for api in (
        "torch.nn.Conv2d(k=3, stride=2, padding=1)",
        "conv2d.forward(x, w, stride=2, padding=1)",
    ):
        assert api in section
    assert "keras / tensorflow / jax" in section  # side B's frameworks
    assert "largest |A \u2212 B|" in section
    assert "<td>0.8312</td>" in section
    assert "<td>0, 1</td>" in section  # SAME pads (before, after)
    assert "torch: 2.13.0; keras: 3.15.0" in section
    assert "PyTorch docs, torch.nn.Conv2d<br>TensorFlow docs" in section


def _page_data(html: str) -> dict:
    block = re.search(
        r'<script type="application/json" id="report-data">(.*?)</script>', html, re.S
    )
    return json.loads(block.group(1))


def _rows_of(payload: dict) -> list[dict]:
    """Every record of the payload back as {column or field: text}, in the page's order:
    each test's shared fields, with each environment's values (an empty tail dropped)."""
    strings, shared = payload["strings"], payload["shared"]

    def joined(index: int) -> str:  # -k in a list stands for list k's pieces
        return "".join(strings[i] if i >= 0 else joined(-i) for i in payload["lists"][index])

    def text(name: str, value: int) -> str:
        return joined(value) if name in payload["pieced"] else strings[value]

    names = [c["key"] for c in payload["columns"]] + payload["fields"]
    assert sorted(names) == sorted(shared + payload["per_env"])
    out = []
    for case in payload["cases"]:
        for test in case["tests"]:
            for values in test[len(shared) :]:
                assert len(values) <= len(payload["per_env"])
                stored = dict(zip(shared, test, strict=False))
                stored.update(zip(payload["per_env"], values, strict=False))
                out.append({name: text(name, stored.get(name, 0)) for name in names})
    return out


def _image(payload: dict, stored: list) -> dict:
    """A heatmap image of the payload back as {field: value}, texts as texts."""
    image = dict(zip(payload["image_fields"], stored, strict=True))
    for text in ("uri", "scale", "low_label", "high_label"):
        image[text] = payload["strings"][image[text]]
    return image


PRELUDE = "# Saved as repro.py, this runs from anywhere inside the cnn-parity checkout:\n"


def test_every_record_is_in_the_page_data_and_shared_text_is_stored_once():
    data = sample.results(torch_conv_outcome="fail")
    for r in data["parity"]:
        r["repro"] = f"{PRELUDE}import sys\nstats = check_case({r['test_id'][-30:]!r})\n"
    html = render.render([data])
    rows = _rows_of(_page_data(html))
    assert sorted(r["test_id"] for r in rows) == sorted(r["test_id"] for r in data["parity"])
    by_id = {r["test_id"]: r for r in rows}
    for record in data["parity"]:
        row = by_id[record["test_id"]]
        assert row["repro"] == record["repro"]
        assert row["traceback"] == (record.get("traceback") or "")
        assert row["adapter"] == record["adapter"]
        assert row["outcome"] == record["outcome"]
    # One copy for every record's reproduction (stored as pieces, split after the "-").
    assert html.count("this runs from anywhere inside the cnn-") == 1


def test_closed_cases_hold_no_code_blocks_to_widen_the_page():
    html = render.render([sample.results(torch_conv_outcome="fail")])
    page = html.split('<script type="application/json"', 1)[0]
    assert "<code" not in page
    assert "<pre" not in page.split('id="cases"', 1)[1].split('id="conventions"', 1)[0]


def test_the_same_test_in_two_environments_shares_its_stored_texts():
    one = _page_data(render.render([sample.results()]))
    two = _page_data(render.render([sample.results(), sample.results()]))
    assert len(_rows_of(two)) == 2 * len(_rows_of(one))
    # Each reproduction and test id is one entry of ``lists``, whatever the environments.
    assert len(two["lists"]) == len(one["lists"])
    # Each test's shared fields are stored once, followed by its values in each environment.
    shared = len(two["shared"])
    assert {"test_id", "repro", "adapter"} <= set(two["shared"])
    tests_one = [t for case in one["cases"] for t in case["tests"]]
    tests_two = [t for case in two["cases"] for t in case["tests"]]
    assert len(tests_two) == len(tests_one) == len(sample.results()["parity"])
    assert {len(t) - shared for t in tests_two} == {2}


def test_a_line_repeated_in_tracebacks_is_stored_once():
    runs = [sample.results("envA"), sample.results("envB")]
    for run in runs:
        for r in run["parity"]:
            line = f"E   tests.harness.ParityError: {r['test_id']}: max |error| > bound\n"
            r["traceback"] = f"{line}{line}in {run['run']['env_name']}\n"
    payload = _page_data(render.render(runs))
    # Each test's line is one list (-k in a list: the pieces of list k), which both of its
    # environments' tracebacks refer to, twice each.
    references = [i for piece_list in payload["lists"] for i in piece_list if i < 0]
    assert len(set(references)) == len(runs[0]["parity"])
    assert len(references) == 2 * 2 * len(runs[0]["parity"])
    decoded = sorted(r["traceback"] for r in _rows_of(payload))
    assert decoded == sorted(r["traceback"] for run in runs for r in run["parity"])


def test_page_data_cannot_close_its_script_element():
    html = render.render([sample.hostile(sample.results())])
    block = html.split('<script type="application/json" id="report-data">', 1)[1]
    block = block.split("</script>", 1)[0]
    assert "<" not in block
    assert any(sample.HOSTILE in text for text in _page_data(html)["strings"])  # intact


def test_heatmaps_carry_a_colour_scale_with_its_end_values():
    html = render.render([sample.results()])
    payload = _page_data(html)
    maps = payload["cases"][0]["heatmaps"]
    reference = _image(payload, maps["reference"])
    assert reference["scale"] == "viridis"
    assert (reference["low_label"], reference["high_label"]) == ("0", "8")
    diff = _image(payload, maps["frameworks"][0]["diff"])
    assert diff["scale"] == "diverging"
    assert diff["low_label"] == "-1.00e-07"
    assert diff["high_label"] == "1.00e-07"
    css = html.split("<style>", 1)[1].split("</style>", 1)[0]
    assert f".scale-viridis {{ background: {charts.colour_scale()}; }}" in css
    assert f".scale-diverging {{ background: {charts.colour_scale(diverging=True)}; }}" in css


def test_colour_scale_runs_from_the_maps_lowest_to_highest_colour():
    lowest, highest = charts._LUT_VIRIDIS[0], charts._LUT_VIRIDIS[-1]
    scale = charts.colour_scale()
    assert scale.startswith(
        f"linear-gradient(to right, rgb({lowest[0]}, {lowest[1]}, {lowest[2]}) 0%"
    )
    assert scale.endswith(f"rgb({highest[0]}, {highest[1]}, {highest[2]}) 100%)")
    middle = charts._LUT_DIVERGING[128]
    assert f"rgb({middle[0]}, {middle[1]}, {middle[2]}) 50%" in charts.colour_scale(diverging=True)


def test_loss_curve_legend_names_every_series_in_full_outside_the_chart():
    data = sample.results()
    long_name = "keras (adam, float32, py311-tensorflow-2.21-keras-3.15)"
    data["networks"][1]["loss_curves"] = {long_name: [2.3, 2.0, 1.7]}
    html = render.render([data])
    legend = re.findall(r'<ul class="chart-legend">(.*?)</ul>', html, re.S)
    assert any(long_name in items for items in legend)
    for svg in re.findall(r"<svg.*?</svg>", html, re.S):
        assert not re.search(rf"<text[^>]*>{re.escape(long_name)}</text>", svg)


def test_matrix_takes_any_number_of_adapter_columns():
    data = sample.results()
    candidates = [f"candidate_{i}" for i in range(6)]
    data["adapters"] = data["adapters"] + candidates
    for name in candidates:
        data["parity"].append(
            sample._record("relu", "relu_basic", name, "float32", "forward", "pass", 0.1)
        )
    html = render.render([data])
    header = html.split('id="summary-matrix"', 1)[1].split("</thead>", 1)[0]
    assert re.findall(r'data-col-adapter="([^"]+)"', header) == data["adapters"]
    assert "<b>1</b>/1 pass" in _td(html, "relu", "candidate_5")


def test_a_new_record_statistic_is_one_more_column(monkeypatch):
    from reports import pagedata

    extra = pagedata.Column("err_to_other", "err / other bound", "ratio", numeric=True)
    monkeypatch.setattr(pagedata, "RECORD_COLUMNS", (*pagedata.RECORD_COLUMNS, extra))
    data = sample.results()
    for r in data["parity"]:
        r["err_to_other"] = 0.75
    html = render.render([data])
    assert '<th class="num">err / other bound</th>' in html
    assert {r["err_to_other"] for r in _rows_of(_page_data(html))} == {"0.75"}


def test_case_rows_show_the_rigorous_and_the_tight_ratio():
    results = sample.results()
    record = next(r for r in results["parity"] if r["layer"] == "conv2d")
    record.update(err_to_bound=0.0123, err_to_tight=0.731, tight_rule="tight: TIGHT RULE TEXT")
    html = render.render([results])
    assert '<th class="num">err / tight</th>' in html
    row = {r["test_id"]: r for r in _rows_of(_page_data(html))}[record["test_id"]]
    assert row["err_to_bound"] == "0.012"  # the page shows two significant digits
    assert row["err_to_tight"] == "0.73"
    assert row["tight_rule"] == "tight: TIGHT RULE TEXT"


def test_case_attributes_read_as_the_call_they_go_into():
    data = sample.results()
    data["parity"][0]["attrs"] = {"stride": [2, 1], "padding": "same", "ceil_mode": False}
    html = render.render([data])
    body = html.split('id="case-conv2d-conv2d_basic"', 1)[1].split("</dl>", 1)[0]
    assert "stride=(2, 1), padding=&#39;same&#39;, ceil_mode=False" in body


def test_version_matrix_cells_name_the_version_their_environment_ran():
    a, b = sample.results("envA"), sample.results("envB")
    for record in b["parity"]:
        record["framework_version"] = f"{record['adapter']} 2.0"
    html = render.render([a, b])
    matrix = html.split('id="version-matrix"', 1)[1].split("</table>", 1)[0]
    row = matrix.split('data-layer="conv2d" data-adapter="torch"', 1)[1].split("</tr>", 1)[0]
    assert re.findall(r'<span class="ver mono">([^<]*)</span>', row) == ["torch 1.0", "torch 2.0"]
