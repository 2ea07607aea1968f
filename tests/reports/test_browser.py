"""The report in a real browser: headless Chromium (Debian's ``chromium`` package), driven
over the DevTools protocol (``tests/reports/cdp.py``).  Checks that the page runs without a
console error or a network request, that the summary matrix has one row per layer and one
column per adapter, that the filter controls hide and show rows, update the tiles and say
when nothing matches, that a matrix cell's link leaves its heading in view, that an opened
case draws hostile text as text and heatmaps with their colour scales, and that chart
legends are not cut off.  Size, load time and layout at 1,024 / 1,400 px:
``test_browser_budgets.py``."""

from __future__ import annotations

import pytest

from reports import render
from tests.reports import sample
from tests.reports.cdp import Browser, find_chromium

pytestmark = pytest.mark.browser

CHROMIUM = find_chromium()

VISIBLE_MATRIX_ROWS = """[...document.querySelectorAll('#summary-matrix tbody tr')]
  .filter(r => r.getClientRects().length > 0).map(r => r.dataset.layer)"""
VISIBLE_COLUMNS = """[...document.querySelectorAll('#summary-matrix thead th[data-col-adapter]')]
  .filter(c => c.getClientRects().length > 0).map(c => c.textContent.trim())"""
VISIBLE_CASES = """[...document.querySelectorAll('details.case')]
  .filter(c => c.getClientRects().length > 0).map(c => c.dataset.layer)"""


def _select(name: str, value: str) -> str:
    return (
        f"(() => {{ const s = document.getElementById('filter-{name}'); s.value = '{value}';"
        " s.dispatchEvent(new Event('change', {bubbles: true})); return s.value; })()"
    )


LONG_SERIES = "keras (adam, float32, py311-tensorflow-2.21-keras-3.15-jax-0.10)"


def _reset(browser) -> None:
    browser.evaluate("document.getElementById('filter-reset').click()")


def _tiles(browser) -> dict:
    return browser.evaluate(
        "Object.fromEntries([...document.querySelectorAll('[data-tile]')]"
        ".map(b => [b.dataset.tile, +b.textContent]))"
    )


def _wait(browser, expression: str, timeout: float = 10.0):
    """Poll ``expression`` in the page until it is truthy (the toggle event that draws a
    case arrives after the click returns)."""
    value = browser.evaluate(
        f"new Promise((resolve) => {{ const start = performance.now(); (function poll() {{"
        f" const v = ({expression}); if (v || performance.now() - start > {timeout * 1000})"
        f" {{ resolve(!!v); }} else {{ setTimeout(poll, 20); }} }})(); }})"
    )
    assert value, f"timed out waiting for {expression}"


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    if CHROMIUM is None:
        pytest.skip("no Chromium binary found (apt-get install chromium, or set CHROMIUM)")
    data = sample.hostile(sample.results(torch_conv_outcome="fail"))
    data["run"]["env_name"] = "browser"
    data["networks"][1]["loss_curves"] = {LONG_SERIES: [2.3, 2.0, 1.7, 1.5]}
    path = tmp_path_factory.mktemp("browser") / "report.html"
    render.write_report([data], path)
    browser = Browser(CHROMIUM)
    try:
        browser.open(path.as_uri())
        assert browser.evaluate("document.documentElement.dataset.reportReady") == "1"
        yield browser, data
    finally:
        browser.close()


def test_page_renders_without_console_errors_or_network_requests(page):
    browser, _ = page
    assert browser.console_errors() == []
    cases = {(r["layer"], r["case"]) for r in page[1]["parity"]}
    assert browser.evaluate("document.querySelectorAll('details.case').length") == len(cases)
    external = [u for u in browser.requested_urls() if not u.startswith(("file:", "data:"))]
    assert external == []


def test_summary_matrix_has_one_row_per_layer_and_one_column_per_adapter(page):
    browser, data = page
    assert browser.evaluate(VISIBLE_MATRIX_ROWS) == data["layers"]
    assert browser.evaluate(VISIBLE_COLUMNS) == data["adapters"]
    cells_per_row = browser.evaluate(
        "[...document.querySelectorAll('#summary-matrix tbody tr')]"
        ".map(r => r.querySelectorAll('td').length)"
    )
    assert cells_per_row == [len(data["adapters"])] * len(data["layers"])
    # A failing cell is framed: torch x conv2d failed.
    framed = browser.evaluate(
        "[...document.querySelectorAll('#summary-matrix td.has-fail')]"
        ".map(td => td.closest('tr').dataset.layer + ' x ' + td.dataset.adapter)"
    )
    assert framed == ["conv2d x torch"]
    assert (
        browser.evaluate(
            "getComputedStyle(document.querySelector('#summary-matrix td.has-fail')).outlineColor"
        )
        == "rgb(215, 48, 31)"
    )


def test_filters_hide_and_show_rows(page):
    browser, data = page
    assert browser.evaluate(_select("layer", "relu")) == "relu"
    assert browser.evaluate(VISIBLE_MATRIX_ROWS) == ["relu"]
    assert browser.evaluate(VISIBLE_CASES) == ["relu"]

    browser.evaluate(_select("layer", ""))
    assert browser.evaluate(_select("outcome", "fail")) == "fail"
    assert browser.evaluate(VISIBLE_MATRIX_ROWS) == ["conv2d"]
    failing = sorted({(r["layer"], r["case"]) for r in data["parity"] if r["outcome"] == "fail"})
    assert browser.evaluate(VISIBLE_CASES) == [layer for layer, _ in failing]

    browser.evaluate(_select("outcome", ""))
    browser.evaluate(_select("adapter", "keras"))
    assert browser.evaluate(VISIBLE_COLUMNS) == ["keras"]
    # Only the layers keras has comparisons for (keras has no correlate).
    assert browser.evaluate(VISIBLE_MATRIX_ROWS) == sample._LAYERS

    browser.click("#filter-reset")  # a real mouse click
    assert browser.evaluate(VISIBLE_MATRIX_ROWS) == data["layers"]
    assert browser.evaluate(VISIBLE_COLUMNS) == data["adapters"]
    every_case = list(dict.fromkeys((r["layer"], r["case"]) for r in data["parity"]))
    assert browser.evaluate(VISIBLE_CASES) == [layer for layer, _ in every_case]

    # Clicking a matrix cell narrows the cases to its layer and adapter.
    browser.click("#summary-matrix tr[data-layer=maxpool2d] td[data-adapter=scipy] a")
    assert browser.evaluate("document.getElementById('filter-layer').value") == "maxpool2d"
    assert browser.evaluate(VISIBLE_CASES) == ["maxpool2d"]
    # Its rows are drawn when it is opened, filtered like the rest.
    browser.click("details.case[data-layer=maxpool2d] > summary")
    _wait(browser, "document.querySelector('details.case[data-layer=maxpool2d] tr.rec')")
    visible_rows = browser.evaluate(
        "[...document.querySelectorAll('details.case tr.rec')]"
        ".filter(r => r.getClientRects().length > 0).map(r => r.dataset.adapter)"
    )
    assert visible_rows == ["scipy", "scipy"]
    every_row = browser.evaluate(
        "[...document.querySelectorAll('details.case[data-layer=maxpool2d] tr.rec')]"
        ".map(r => r.dataset.adapter)"
    )
    assert every_row == ["torch", "torch", "keras", "keras", "scipy", "scipy"]
    assert browser.console_errors() == []


def test_tiles_follow_the_filters_and_an_empty_result_says_so(page):
    browser, data = page
    _reset(browser)
    outcomes = [r["outcome"] for r in data["parity"]]
    tiles = _tiles(browser)
    assert tiles["all"] == len(outcomes)
    assert tiles["pass"] == outcomes.count("pass")
    browser.evaluate(_select("outcome", "fail"))
    assert _tiles(browser) == {
        "all": 2,
        "fail": 2,
        "xfail": 0,
        "unsupported": 0,
        "skipped": 0,
        "pass": 0,
    }
    browser.evaluate(
        "(() => { const t = document.getElementById('filter-text'); t.value = 'no-such-test';"
        " t.dispatchEvent(new Event('input')); })()"
    )
    assert browser.evaluate("document.getElementById('filter-count').textContent") == (
        "nothing matches these filters"
    )
    visible_notes = browser.evaluate(
        "[...document.querySelectorAll('.empty-note')].filter(e => e.getClientRects().length)"
        ".map(e => e.textContent)"
    )
    assert "No comparison matches the filters." in visible_notes
    assert "No layer \u00d7 adapter cell matches the filters." in visible_notes
    assert "No convention matches the filters." in visible_notes
    assert _tiles(browser)["all"] == 0
    _reset(browser)
    assert _tiles(browser)["all"] == len(outcomes)


def test_a_matrix_cell_leaves_the_cases_heading_below_the_sticky_bar(page):
    browser, _ = page
    _reset(browser)
    browser.evaluate("window.scrollTo(0, 0)")
    browser.click("#summary-matrix tr[data-layer=relu] td[data-adapter=keras] a")
    _wait(browser, "window.scrollY > 0")
    heading, bar = browser.evaluate(
        "[document.getElementById('cases').getBoundingClientRect().top,"
        " document.getElementById('filters').getBoundingClientRect().bottom]"
    )
    assert heading >= bar, (heading, bar)
    assert heading < 200
    assert browser.evaluate("document.getElementById('filter-layer').value") == "relu"


def test_an_opened_case_draws_hostile_text_as_text(page):
    browser, _ = page
    _reset(browser)
    browser.click("details.case[data-layer=conv2d] > summary")
    _wait(browser, "document.querySelector('details.case[data-layer=conv2d] .rec-reason')")
    reasons = browser.evaluate(
        "[...document.querySelectorAll('details.case[data-layer=conv2d] .reason')]"
        ".map(e => e.textContent)"
    )
    assert reasons
    assert all(sample.HOSTILE in text for text in reasons)
    assert browser.evaluate("document.querySelectorAll('img[src=x], main script').length") == 0
    assert browser.console_errors() == []  # no alert() ran


def test_heatmaps_show_their_colour_scale(page):
    browser, _ = page
    _reset(browser)
    browser.click("details.case[data-layer=relu] > summary")
    _wait(browser, "document.querySelector('details.case[data-layer=relu] figure.hm')")
    figures = browser.evaluate(
        "[...document.querySelectorAll('details.case[data-layer=relu] figure.hm')].map(f => ({"
        " title: f.querySelector('b').textContent,"
        " gradient: getComputedStyle(f.querySelector('.scale')).backgroundImage,"
        " width: f.querySelector('.scale').getBoundingClientRect().width,"
        " labels: [...f.querySelectorAll('.scale-labels span')].map(s => s.textContent)}))"
    )
    assert [f["title"] for f in figures[:2]] == ["input", "reference output"]
    for figure in figures:
        assert figure["gradient"].startswith("linear-gradient"), figure
        assert figure["width"] >= 90
    assert figures[1]["labels"] == ["0", "8"]
    assert figures[3]["title"] == "torch \u2212 reference"
    assert figures[3]["labels"] == ["-1.00e-07", "0", "1.00e-07"]


def test_chart_legends_are_not_cut_off(page):
    browser, _ = page
    _reset(browser)
    boxes = browser.evaluate(
        "[...document.querySelectorAll('#networks ~ section.network :is(li, text, span)')]"
        f".filter(e => e.textContent.trim() === {LONG_SERIES!r})"
        ".map(e => { const r = e.getBoundingClientRect(), svg = e.closest('svg'),"
        " box = e.closest('figure').getBoundingClientRect();"
        " return {right: r.right, box: box.right,"
        " svg: svg ? svg.getBoundingClientRect().right : null}; })"
    )
    assert boxes, "the series is named somewhere on the chart"
    for b in boxes:
        assert b["right"] <= b["box"], b
        assert b["svg"] is None or b["right"] <= b["svg"], b


DRAWN_RECORDS = """(() => { document.querySelectorAll('details.case').forEach(d => { d.open = true;
  d.dispatchEvent(new Event('toggle')); });
  const code = (tr, name) => { const d = [...tr._detail.querySelectorAll('details.more')]
    .find(x => x.querySelector('summary').textContent === name);
    return d ? d.querySelector('code').textContent : ''; };
  return [...document.querySelectorAll('tr.rec')].map(tr => [
    tr.querySelector('td.c-env').textContent, tr.querySelector('td.c-adapter').textContent,
    tr.dataset.outcome, tr._detail.querySelector('dl.kv dd').textContent,
    code(tr, 'reproduce'), code(tr, 'traceback')]); })()"""


def test_a_two_environment_page_draws_every_record_of_both(tmp_path):
    """Each test's shared fields are stored once for both environments, and a traceback's
    repeated lines once for all: the drawn rows must still be every record, in full."""
    if CHROMIUM is None:
        pytest.skip("no Chromium binary found (apt-get install chromium, or set CHROMIUM)")
    runs = [sample.results("envA"), sample.results("envB", torch_conv_outcome="fail")]
    for run in runs:
        for r in run["parity"]:
            line = f"E   tests.harness.ParityError: {r['test_id']}: max |error| > bound\n"
            r["traceback"] = line * 3 + f"in {run['run']['env_name']}\n"
    path = render.write_report(runs, tmp_path / "two.html")
    expected = sorted(
        [
            run["run"]["env_name"],
            r["adapter"],
            r["outcome"],
            r["test_id"],
            r["repro"],
            r["traceback"],
        ]
        for run in runs
        for r in run["parity"]
    )
    browser = Browser(CHROMIUM)
    try:
        browser.open(path.as_uri())
        assert browser.evaluate("document.documentElement.dataset.reportReady") == "1"
        assert sorted(browser.evaluate(DRAWN_RECORDS)) == expected
        assert browser.console_errors() == []
    finally:
        browser.close()
