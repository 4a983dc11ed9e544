"""The report in a real browser: Debian's Chromium driven by Playwright, from file://."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from newsdiff.cli import write_report
from newsdiff.compare import compare
from report_samples import hostile_comparison, sample_comparison

CHROMIUM = "/usr/bin/chromium"
SEEDS = Path(__file__).resolve().parent.parent / "seeds"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists(CHROMIUM),
                       reason=f"{CHROMIUM} is missing (apt-get install chromium; .ci/run does)"),
]


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"])
        yield chromium
        chromium.close()


class Watched:
    """A page with its console errors, page errors, dialogs and non-file requests."""

    def __init__(self, browser, **context) -> None:  # type: ignore[no-untyped-def]
        self.context = browser.new_context(**context)
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        self.requests: list[str] = []
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("requestfailed", lambda r: self.errors.append(f"failed {r.url}"))
        self.page.on("dialog", self._dialog)
        self.page.on("request", lambda r: None if r.url.startswith("file://")
                     else self.requests.append(r.url))

    def _dialog(self, dialog) -> None:  # type: ignore[no-untyped-def]
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def close(self) -> None:
        self.context.close()


@pytest.fixture(scope="module")
def seed_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("seed") / "reports"
    write_report(compare([SEEDS]), out)
    return out


def test_index_to_thread_and_article_pages_from_file_url(browser, seed_report: Path,
                                                         tmp_path: Path) -> None:
    w = Watched(browser, viewport={"width": 1280, "height": 900})
    page = w.page
    page.goto((seed_report / "index.html").as_uri())
    assert page.title().startswith("Overview")
    assert page.locator("figure.heatmap svg rect.cell").count() > 5
    page.screenshot(path=str(tmp_path / "index.png"), full_page=True)

    page.locator("#statements table a").first.click()
    page.wait_for_load_state()
    assert "/threads/" in page.url
    ins, dele = page.locator("li.version ins").first, page.locator("li.version del").first
    assert ins.is_visible() and dele.is_visible()
    assert "underline" in ins.evaluate("e => getComputedStyle(e).textDecorationLine")
    assert "line-through" in dele.evaluate("e => getComputedStyle(e).textDecorationLine")
    page.screenshot(path=str(tmp_path / "thread.png"), full_page=True)

    page.go_back()
    page.locator("#timeline table a").first.click()
    page.wait_for_load_state()
    assert "/articles/" in page.url
    assert page.locator(".fulltext .sent").first.is_visible()
    assert page.locator(".fulltext .seg-bp").count() >= 1
    page.screenshot(path=str(tmp_path / "article.png"), full_page=True)

    for name in ("index.png", "thread.png", "article.png"):
        assert (tmp_path / name).stat().st_size > 10_000
    assert w.errors == []
    assert w.requests == []
    w.close()


def test_pair_page_passages_jump_to_their_counterpart(browser, seed_report: Path) -> None:
    w = Watched(browser)
    pair = sorted((seed_report / "pairs").glob("*.html"))[0]
    w.page.goto(pair.as_uri())
    first = w.page.locator("#a1")
    colour = first.evaluate("e => getComputedStyle(e).backgroundColor")
    first.click()
    assert w.page.url.endswith("#b1")
    assert w.page.locator("#b1").evaluate("e => getComputedStyle(e).backgroundColor") == colour
    assert w.errors == [] and w.requests == []
    w.close()


def test_script_payloads_never_run(browser, tmp_path: Path) -> None:
    out = tmp_path / "report"
    write_report(hostile_comparison(), out)
    w = Watched(browser)
    pages = sorted(out.rglob("*.html"))
    assert len(pages) >= 4
    for html in pages:
        w.page.goto(html.as_uri())
        w.page.wait_for_load_state("load")
        assert w.page.locator("img").count() == 0, html
        assert w.page.evaluate("() => document.scripts.length") == 1, html
    article = next(p for p in pages if p.parent.name == "articles")
    w.page.goto(article.as_uri())
    assert "<script>alert(1)</script>" in w.page.locator(".fulltext").inner_text()
    assert w.dialogs == []
    assert w.requests == []
    w.close()


def test_readable_without_javascript_on_a_narrow_window(browser, tmp_path: Path) -> None:
    out = tmp_path / "report"
    write_report(sample_comparison(), out)
    w = Watched(browser, java_script_enabled=False, viewport={"width": 360, "height": 740})
    w.page.goto((out / "threads" / "t1.html").as_uri())
    assert w.page.locator("li.version ins").first.is_visible()
    width = w.page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 360, f"page scrolls sideways on a phone: {width}px"
    w.page.goto((out / "index.html").as_uri())
    assert w.page.locator("#timeline tbody tr").count() >= 4
    assert w.page.locator(".filter").count() == 0  # the filter box is JavaScript's
    width = w.page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 360, f"index scrolls sideways on a phone: {width}px"
    w.page.screenshot(path=str(tmp_path / "index-narrow.png"), full_page=True)
    w.page.emulate_media(media="print")
    assert not w.page.locator("header.site").is_visible()
    assert w.errors == [] and w.requests == []
    w.close()


def test_table_filter_hides_rows_that_do_not_match(browser, tmp_path: Path) -> None:
    out = tmp_path / "report"
    write_report(sample_comparison(), out)
    w = Watched(browser)
    w.page.goto((out / "index.html").as_uri())
    box = w.page.locator("#timeline .filter input")
    box.fill("Moscow Times")
    visible = w.page.locator("#timeline tbody tr:visible")
    assert visible.count() == 1
    assert "The Moscow Times" in visible.first.inner_text()
    box.fill("")
    assert w.page.locator("#timeline tbody tr:visible").count() == 7  # 4 articles, 3 years
    assert w.errors == []
    w.close()
