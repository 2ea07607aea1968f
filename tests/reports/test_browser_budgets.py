"""A full run's report and a nine-environment version matrix in headless Chromium: their
size and load-time budgets, no sideways overflow at 1,024 and 1,400 px (cases closed, and
every case open with every detail shown), a conventions section as wide as the page,
matrix bars whose segments are as wide as their share of the comparisons, and a version
matrix laid out only when scrolled to, whose estimated height is within 5% of its own.

The pages are rendered from ``tests/reports/fullrun.py`` (every declared case x adapter x
dtype x direction with real test ids and reproductions, seeded statistics), since a real
full run takes minutes."""

from __future__ import annotations

import pytest

from reports import render
from tests.reports import fullrun
from tests.reports.cdp import Browser, find_chromium

pytestmark = [pytest.mark.browser, pytest.mark.heavy]

CHROMIUM = find_chromium()
MB = 1_000_000
#: The issue's budgets.
BUDGET_BYTES = {"single": 3 * MB, "matrix": 10 * MB}
BUDGET_LOAD_S = 2.0
ENVIRONMENTS = 9

OVERFLOW = "document.documentElement.scrollWidth - document.documentElement.clientWidth"


@pytest.fixture(scope="module")
def pages(tmp_path_factory) -> dict:
    base = tmp_path_factory.mktemp("budgets")
    written = {}
    for name, runs in (
        ("single", [fullrun.results()]),
        ("matrix", fullrun.environments(ENVIRONMENTS)),
    ):
        written[name] = render.write_report(runs, base / f"{name}.html")
    return written


@pytest.fixture(scope="module")
def browser():
    if CHROMIUM is None:
        pytest.skip("no Chromium binary found (apt-get install chromium, or set CHROMIUM)")
    chromium = Browser(CHROMIUM, timeout=60)
    try:
        chromium.open("about:blank")
        yield chromium
    finally:
        chromium.close()


@pytest.mark.parametrize("name", ["single", "matrix"])
def test_page_size_is_within_budget(pages, name):
    size = pages[name].stat().st_size
    assert size <= BUDGET_BYTES[name], f"{name}: {size / MB:.2f} MB"


@pytest.mark.parametrize("name", ["single", "matrix"])
def test_page_opens_within_the_load_budget(pages, browser, name):
    """Navigation start to the end of the load event (parsing, styles and the page's
    script, which runs before load); best of three, so that a neighbour's burst of CPU on
    a shared machine is not charged to the page."""
    browser.set_viewport(1400, 900)
    times = []
    for _ in range(3):
        browser.navigate(pages[name].as_uri())
        assert browser.evaluate("document.documentElement.dataset.reportReady") == "1"
        times.append(
            browser.evaluate("performance.getEntriesByType('navigation')[0].loadEventEnd") / 1e3
        )
    assert browser.console_errors() == []
    assert min(times) < BUDGET_LOAD_S, f"{name}: {times}"


def test_version_matrix_is_laid_out_when_scrolled_to(pages, browser):
    """The version matrix is laid out only when it comes near the window: until then its
    estimated height keeps the page (and its scroll bar) as tall as when it is drawn."""
    browser.set_viewport(1400, 900)
    browser.navigate(pages["matrix"].as_uri())
    before = browser.evaluate("document.documentElement.scrollHeight")
    drawn, after = browser.evaluate(
        "new Promise(done => { const box = document.querySelector('.deferred');"
        " const timer = setTimeout(() => done([false, 0]), 10000);"
        " box.addEventListener('contentvisibilityautostatechange', e => { if (!e.skipped) {"
        " clearTimeout(timer); requestAnimationFrame(() =>"
        " done([true, document.documentElement.scrollHeight])); } });"
        " document.getElementById('versions').scrollIntoView(); })"
    )
    assert drawn, "scrolling to the version matrix did not lay it out"
    assert abs(after - before) < 0.05 * after, (before, after)


def _open_everything(browser) -> int:
    """Open every case (drawing its rows) and every row's details; returns the rows."""
    return browser.evaluate(
        "(() => { document.querySelectorAll('details.case').forEach(d => { d.open = true;"
        " d.dispatchEvent(new Event('toggle')); });"
        " const buttons = [...document.querySelectorAll('tr.rec .more-btn')];"
        " buttons.forEach(b => { if (b.getAttribute('aria-expanded') !== 'true') b.click(); });"
        " document.querySelectorAll('tr.rec-detail details').forEach(d => { d.open = true; });"
        " return document.querySelectorAll('tr.rec').length; })()"
    )


@pytest.mark.parametrize("width", [1024, 1400])
def test_no_horizontal_overflow(pages, browser, width):
    browser.set_viewport(width, 900)
    browser.navigate(pages["single"].as_uri())
    # The vertical scroll bar takes its share: a 1,400 px window is 1,385 px of page.
    assert width - 20 <= browser.evaluate("document.documentElement.clientWidth") <= width
    assert browser.evaluate(OVERFLOW) <= 0, "with every case closed"
    rows = _open_everything(browser)
    assert rows == len(fullrun.results()["parity"])
    assert browser.evaluate(OVERFLOW) <= 0, "with every case and detail open"
    # Nothing is cut off on the right: details, reproductions and tracebacks lie inside
    # the window, and no records table needs a scroll bar to be read.
    clipped = browser.evaluate(
        "[...document.querySelectorAll('tr.rec-detail pre, tr.rec-detail .reason')]"
        ".filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth"
        " || e.scrollWidth > e.clientWidth + 1).length"
    )
    assert clipped == 0
    scrolling = browser.evaluate(
        "[...document.querySelectorAll('details.case .scroll-x')]"
        ".filter(e => e.scrollWidth > e.clientWidth + 1).length"
    )
    assert scrolling == 0
    browser.navigate(pages["matrix"].as_uri())
    assert browser.evaluate(OVERFLOW) <= 0, "the version matrix page"


def test_conventions_section_is_as_wide_as_the_page(pages, browser):
    # The window: 1,385 px of page, where the old table was 2,696 px wide and
    # 12,517 px tall.
    browser.set_viewport(1400, 900)
    browser.navigate(pages["single"].as_uri())
    box = browser.evaluate(
        "(() => { const s = document.getElementById('conventions-section');"
        " const r = s.getBoundingClientRect();"
        " return {right: r.right, width: r.width, height: r.height, scroll: s.scrollWidth,"
        " client: s.clientWidth, rows: s.querySelectorAll('article.convention').length,"
        " page: document.documentElement.clientWidth}; })()"
    )
    assert box["rows"] == len(fullrun.results()["conventions"])
    assert box["right"] <= box["page"]
    assert box["scroll"] <= box["client"]
    # Readable: each row's text runs across the page instead of down a narrow column.
    assert box["height"] / box["rows"] < 450, box


def test_matrix_bars_are_as_wide_as_each_outcomes_share(pages, browser):
    browser.set_viewport(1400, 900)
    browser.navigate(pages["single"].as_uri())
    cells = browser.evaluate(
        "[...document.querySelectorAll('#summary-matrix td.cell')].filter(td => td.dataset.n > 0)"
        ".map(td => { const bar = td.querySelector('.dist');"
        " return {n: +td.dataset.n, width: bar.getBoundingClientRect().width,"
        " segments: [...bar.children].map(i => ({outcome: i.dataset.outcome,"
        " count: +i.dataset.count, width: i.getBoundingClientRect().width}))}; })"
    )
    assert cells
    for cell in cells:
        assert sum(s["count"] for s in cell["segments"]) == cell["n"]
        for segment in cell["segments"]:
            share = segment["count"] / cell["n"] * cell["width"]
            if segment["outcome"] == "fail":  # never thinner than 4 px, however rare
                assert segment["width"] >= max(min(share, cell["width"]) - 1, 4 - 0.01)
            else:
                assert segment["width"] == pytest.approx(share, abs=1.0), cell
