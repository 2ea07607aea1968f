"""The report in a real browser: headless Chromium (Debian's ``chromium`` package), driven
over the DevTools protocol (``tests/reports/cdp.py``).  Checks that the page runs without a
console error or a network request, that the summary matrix has one row per layer and one
column per adapter, and that the filter controls hide and show rows."""

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
