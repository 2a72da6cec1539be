"""The HTML pages in a real browser: Debian's chromium, driven by Playwright, from file://.

Nothing of a student's runs, nothing leaves the page, every link resolves, the table
filters and sorts, and the picture shows the stray pipe end. Skipped, with the reason,
where chromium or Playwright is missing, except under CI, where that is a failure.
Screenshots go to the test's folder, and to $IPCGRADE_SCREENS when it is set.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import pytest
from conftest import missing_tool
from test_html import IMG, SCRIPT, build_failure_report, klass, links, student_report

from grader.render import html

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _missing() -> str:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright for Python is not installed (pip install -e '.[test]')"
    if not CHROMIUM.exists():
        return f"Debian's chromium is not installed at {CHROMIUM} (apt-get install chromium)"
    return ""


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    """A fresh headless chromium, its own new profile, closed after the test."""
    why = _missing()
    if why:
        missing_tool(why, "CI must run the browser tests")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(tmp_path / "profile"), executable_path=str(CHROMIUM), args=ARGS,
            viewport={"width": 1280, "height": 900}, offline=True,
        )  # fmt: skip
        try:
            yield context
        finally:
            context.close()


class Watched:
    """A page with every dialog and request it makes recorded."""

    def __init__(self, context: Any) -> None:
        self.page = context.new_page()
        self.dialogs: list[str] = []
        self.requests: list[str] = []
        self.page.on("dialog", self._dialog)
        self.page.on("request", lambda r: self.requests.append(r.url))

    def _dialog(self, dialog: Any) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def open(self, path: Path) -> Any:
        self.page.goto(path.as_uri(), wait_until="load")
        return self.page

    def assert_inert(self, path: Path) -> None:
        """No payload ran, nothing but the page itself was asked for."""
        assert self.dialogs == []
        assert self.page.evaluate("window.pwned") is None
        assert [u for u in self.requests if u != path.as_uri()] == []


def _site(folder: Path, n: int = 12) -> Path:
    """The overview and every student's (instructor's) report, as a batch writes them."""
    k = klass(n)
    ln = links(k)
    (folder / "students").mkdir(parents=True, exist_ok=True)
    for r in k.reports:
        (folder / ln[r.student]).write_text(html.render(r, instructor=True), encoding="utf-8")
    index = folder / "index.html"
    index.write_text(html.overview(k, ln), encoding="utf-8")
    return index


def _screens(tmp_path: Path) -> list[Path]:
    out = [tmp_path / "screens"]
    if os.environ.get("IPCGRADE_SCREENS"):
        out.append(Path(os.environ["IPCGRADE_SCREENS"]))
    for d in out:
        d.mkdir(parents=True, exist_ok=True)
    return out


def _shoot(page: Any, tmp_path: Path, name: str) -> None:
    first, *others = _screens(tmp_path)
    page.screenshot(path=str(first / name), full_page=True)
    for d in others:
        shutil.copy(first / name, d / name)


def test_the_overview_runs_no_payload_and_sends_no_request(browser: Any, tmp_path: Path) -> None:
    index = _site(tmp_path)
    w = Watched(browser)
    page = w.open(index)
    w.assert_inert(index)
    assert page.evaluate("document.scripts.length") == 1  # ours; the payloads are text
    names = page.locator("#student-table tbody td:first-child").all_inner_texts()
    assert f"x{SCRIPT}" in names
    assert IMG in page.locator("header .subtitle").inner_text()
    assert page.locator("img").count() == 0
    _shoot(page, tmp_path, "overview.png")


def test_every_link_of_the_overview_resolves(browser: Any, tmp_path: Path) -> None:
    index = _site(tmp_path)
    w = Watched(browser)
    page = w.open(index)
    hrefs = page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)")
    assert len(hrefs) >= 12
    for href in hrefs:
        url = urlparse(href)
        assert url.scheme == "file", href
        assert Path(unquote(url.path)).is_file(), href
    page.locator("#student-table a").first.click()
    page.wait_for_load_state("load")
    assert page.locator("article.check").count() > 0  # a student's report opened
    assert w.dialogs == []


def _column(page: Any, n: int) -> list[str]:
    return page.eval_on_selector_all(
        f"#student-table tbody tr:not([hidden]) td:nth-child({n})",
        "tds => tds.map(td => td.dataset.sort)",
    )


def test_the_student_table_filters_and_sorts(browser: Any, tmp_path: Path) -> None:
    index = _site(tmp_path)
    page = Watched(browser).open(index)
    assert page.locator("#controls").is_visible()  # shown by the script
    everyone = _column(page, 1)
    assert len(everyone) == 12
    page.locator("#filter-name").fill("student00")
    assert _column(page, 1) == [s for s in everyone if "student00" in s]
    assert page.locator("#shown").inner_text() == f"{len(_column(page, 1))} of 12 shown"
    page.locator("#filter-name").fill("")
    page.locator("#filter-status").select_option("does not compile")
    assert _column(page, 2) == ["does not compile"]
    page.locator("#filter-status").select_option("")
    page.locator("#filter-outcome").select_option("all-passed")
    passed = _column(page, 1)
    assert passed
    assert len(passed) < 12
    page.locator("#filter-outcome").select_option("")
    score = page.locator("#student-table thead th", has_text="score")
    score.click()
    up = [float(x) for x in _column(page, 3)]
    assert up == sorted(up)
    assert up != [float(x) for x in _column(page, 3)][::-1] or len(set(up)) == 1
    score.click()
    down = [float(x) for x in _column(page, 3)]
    assert down == sorted(up, reverse=True)
    page.locator("#student-table thead th", has_text="student").click()
    names = _column(page, 1)
    assert names in (sorted(everyone), sorted(everyone, reverse=True))


def test_without_javascript_the_table_is_complete(browser: Any, tmp_path: Path) -> None:
    index = _site(tmp_path)
    page = browser.browser.new_page(java_script_enabled=False)
    try:
        page.goto(index.as_uri(), wait_until="load")
        assert page.locator("#student-table tbody tr:visible").count() == 12
        assert not page.locator("#controls").is_visible()  # controls that could do nothing
    finally:
        page.close()


def test_a_missing_browser_is_named(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(sys.modules[__name__], "CHROMIUM", tmp_path / "no-chromium")
    assert "no-chromium" in _missing() or "Playwright" in _missing()


def test_the_pipe_hang_report_draws_the_stray_end(browser: Any, tmp_path: Path) -> None:
    path = tmp_path / "hang.html"
    path.write_text(html.render(student_report("dave", IMG)), encoding="utf-8")
    w = Watched(browser)
    page = w.open(path)
    w.assert_inert(path)
    stray = page.locator("svg.tree g.end.stray")
    assert stray.count() == 1
    assert (stray.get_attribute("data-pid"), stray.get_attribute("data-fd")) == ("100", "4")
    label = page.locator("svg.tree g.end.stray text.fd-label")
    assert "pid 100 fd 4" in label.text_content()
    assert label.is_visible()
    colour = label.evaluate("e => getComputedStyle(e).fill")
    other = page.locator("svg.tree g.end:not(.stray) text.fd-label").first
    assert colour != other.evaluate("e => getComputedStyle(e).fill")  # the warning colour
    box = page.locator("svg.tree").bounding_box()
    for b in page.locator("svg.tree g.proc rect").all():
        r = b.bounding_box()
        assert box["x"] <= r["x"]
        assert r["x"] + r["width"] <= box["x"] + box["width"] + 1
    assert IMG in page.locator("p.message").first.inner_text()
    page.locator("svg.tree").scroll_into_view_if_needed()
    _shoot(page, tmp_path, "pipe-hang.png")
    page.emulate_media(color_scheme="dark")
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background != "rgb(255, 255, 255)"
    _shoot(page, tmp_path, "pipe-hang-dark.png")
    page.emulate_media(media="print", color_scheme="dark")
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") in (
        "rgb(255, 255, 255)", "rgba(0, 0, 0, 0)")  # fmt: skip
    folded = page.locator("article.check.o-passed .body").first  # a fold, closed on screen
    assert folded.is_visible()  # printed open


def test_a_build_failure_page_shows_the_marked_source(browser: Any, tmp_path: Path) -> None:
    path = tmp_path / "build.html"
    path.write_text(html.render(build_failure_report()), encoding="utf-8")
    w = Watched(browser)
    page = w.open(path)
    w.assert_inert(path)
    marked = page.locator("figure.diagnostic").first.locator(".line.marked")
    assert SCRIPT in marked.inner_text()
    _shoot(page, tmp_path, "build-failure.png")


def test_three_hundred_students_load_fast(browser: Any, tmp_path: Path) -> None:
    start = time.perf_counter()
    index = _site(tmp_path, 300)
    built = time.perf_counter() - start
    w = Watched(browser)
    start = time.perf_counter()
    page = w.open(index)
    loaded = time.perf_counter() - start
    start = time.perf_counter()
    page.locator("#student-table thead th", has_text="score").click()
    page.locator("#filter-name").fill("student1")
    shown = len(_column(page, 1))
    acted = time.perf_counter() - start
    print(f"300 students: {built:.2f} s to render the overview and 300 reports, "
          f"{loaded:.2f} s to load in chromium, {acted:.2f} s to sort and filter")  # fmt: skip
    assert shown == sum(1 for i in range(300) if "student1" in f"student{i:03d}")
    assert loaded < 10.0
