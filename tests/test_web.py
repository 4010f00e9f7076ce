"""The web edition (handbook.html) in Debian's chromium: axe-core (npm, package-lock.json) finds no
WCAG 2.1 A/AA violation at phone (375 px) and desktop widths, in the light and the dark scheme, for
the organisation-wide edition, a department and the Chinese edition; nothing scrolls sideways on a
phone; every chapter leads back to the contents; the contacts are tel: and mailto: links."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from conftest import CHROMIUM, REPO, build_ok
from playwright.sync_api import Browser, Page

AXE = REPO / "node_modules" / "axe-core" / "axe.min.js"
pytestmark = [
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium (`make setup` installs it)"),
    pytest.mark.skipif(not AXE.exists(), reason="needs axe-core: `make setup` runs npm ci"),
]
EDITIONS = {"organisation": "handbook.html", "finance": "finance/handbook.html",
            "chinese": "discipline-inspection/handbook.html"}
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
WIDTHS = {"phone": (375, 812), "desktop": (1280, 900)}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("project")
    for part in ("handbook.yaml", "content", "departments", "templates", "styles"):
        source = REPO / part
        (shutil.copytree if source.is_dir() else shutil.copy)(source, root / part)
    out = root / "out"
    build_ok(root, out, only=("handbook",), departments=("finance", "discipline-inspection"),
             organisation=True, jobs=2)
    return out


def open_page(browser: Browser, path: Path, width: str, scheme: str = "light") -> Page:
    w, h = WIDTHS[width]
    context = browser.new_context(viewport={"width": w, "height": h}, color_scheme=scheme,  # type: ignore[arg-type]
                                  device_scale_factor=1, java_script_enabled=True)
    page = context.new_page()
    page.goto(path.as_uri())
    return page


def axe_violations(page: Page) -> list[dict[str, Any]]:
    page.add_script_tag(content=AXE.read_text(encoding="utf-8"))
    result = page.evaluate("(tags) => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG_AA)
    return [{"id": v["id"], "help": v["help"], "nodes": [n["target"] for n in v["nodes"]][:5]}
            for v in result["violations"]]


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("edition", EDITIONS)
def test_axe_finds_no_wcag_21_aa_violation(site: Path, browser: Browser, edition: str, width: str,
                                           scheme: str) -> None:
    page = open_page(browser, site / EDITIONS[edition], width, scheme)
    try:
        assert axe_violations(page) == []
    finally:
        page.context.close()


@pytest.mark.parametrize("edition", EDITIONS)
def test_phone_width_no_sideways_scroll_left_aligned_and_links(site: Path, browser: Browser, edition: str) -> None:
    page = open_page(browser, site / EDITIONS[edition], "phone")
    try:
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
        assert page.evaluate("Math.max(...[...document.querySelectorAll('body *')]"
                             ".map(e => e.getBoundingClientRect().right))") <= 375
        align = page.evaluate("getComputedStyle(document.querySelector('.chapter-body p')).textAlign")
        assert align == ("justify" if edition == "chinese" else "left")
        body_size = page.evaluate("parseFloat(getComputedStyle(document.querySelector('.chapter-body p')).fontSize)")
        assert body_size >= 16
        # Every chapter leads back to the contents, and the contents are there to land on.
        chapters = page.locator("article.chapter")
        assert chapters.count() >= 9
        assert page.locator("article.chapter .back-to-contents a[href='#contents']").count() == chapters.count()
        assert page.locator("#contents").count() == 1
        # The contacts can be called and written to.
        tel = page.locator(".contact-line a[href^='tel:']")
        assert tel.count() == 1
        expected = {"organisation": "tel:12388", "finance": "tel:12388;ext=204", "chinese": "tel:12388;ext=601"}
        assert tel.get_attribute("href", timeout=1000) == expected[edition]
        assert page.locator(".contact-line a[href^='mailto:']").count() == 1
        # The PDF (with page numbers) is one tap away and sits beside the page.
        pdf = page.locator(".pdf-link a")
        assert pdf.get_attribute("href", timeout=1000) == "handbook.pdf"
    finally:
        page.context.close()


def test_dark_scheme_is_dark(site: Path, browser: Browser) -> None:
    page = open_page(browser, site / EDITIONS["organisation"], "phone", "dark")
    try:
        background = page.evaluate("getComputedStyle(document.body).backgroundColor")
        assert background == "rgb(20, 20, 20)"
    finally:
        page.context.close()
