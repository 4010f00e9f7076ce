"""Shared fixtures: scratch projects built from dict specs, PDF readers over poppler and pypdf."""

from __future__ import annotations

import shutil
import subprocess
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

REPO = Path(__file__).resolve().parent.parent
PROJECTS = Path(__file__).resolve().parent / "projects"
MM = 72 / 25.4
# Debian's chromium, as the preview and web tests drive it (Playwright never downloads a browser).
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]

MINIMAL_SETTINGS = """\
title: Scratch Handbook
subtitle: A test edition
organisation: Test Office
edition: Test edition
date: 2026-01-15
language: en
author: Test Author
keywords: [testing, integrity]
contact: {hotline: "12345", email: test@example.org}
"""


ZH_SETTINGS = """\
title: 中文测试手册
subtitle: 排版测试
organisation: 测试办公室
edition: 测试版
date: 2026-01-15
language: zh-CN
page_label: "第 {n} 页"
contact: {hotline: "12345", email: test@example.org}
"""


def chapter(title: str, body: str = "Body text.", **front: Any) -> str:
    """A chapter file's text: front matter from ``title`` and ``front``, then ``body``."""
    lines = [f"title: {title}"] + [f"{k}: {v}" for k, v in front.items()]
    return "---\n" + "\n".join(lines) + "\n---\n\n" + textwrap.dedent(body).strip() + "\n"


def write_tree(root: Path, spec: dict[str, Any]) -> None:
    """Create files from a nested dict: {"content": {"01-a.md": "..."}}; bytes are written raw."""
    for name, value in spec.items():
        path = root / name
        if isinstance(value, dict):
            path.mkdir(parents=True, exist_ok=True)
            write_tree(path, value)
        elif isinstance(value, bytes):
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(value)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(value) if not value.startswith("---") else value,
                            encoding="utf-8")


def make_project(root: Path, spec: dict[str, Any] | None = None, *, theme: bool = True,
                 settings: str | None = None, chapters: bool = True) -> Path:
    """Create a project at ``root``: the repository's theme, settings, two chapters, then ``spec``.

    The module-level twin of ``scratch``, for module-scoped fixtures (``tmp_path_factory``).
    """
    root.mkdir(parents=True, exist_ok=True)
    if theme:
        shutil.copytree(REPO / "templates", root / "templates", dirs_exist_ok=True)
        shutil.copytree(REPO / "styles", root / "styles", dirs_exist_ok=True)
    (root / "handbook.yaml").write_text(settings if settings is not None else MINIMAL_SETTINGS,
                                        encoding="utf-8")
    if chapters:
        write_tree(root, {"content": {
            "00-introduction.md": chapter("Introduction", "Opening words.", numbered="false",
                                          short_title="Intro"),
            "01-first-point.md": chapter("First point", "The first point's text.",
                                         summary="The first summary.", reminder="First reminder."),
            "02-second-point.md": chapter("Second point", "The second point's text.",
                                          summary="The second summary.", reminder="Second reminder."),
        }})
    if spec:
        write_tree(root, spec)
    return root


def build_ok(root: Path, out: Path, **options: Any) -> Any:
    """Build the project at ``root`` into ``out`` with the real builder; fail the test on any error."""
    from handbook.builder import BuildOptions, build

    report = build(root, BuildOptions(out=out, **options))
    assert report.ok, "\n".join(str(p) for problems in report.failed.values() for p in problems)
    return report


@pytest.fixture
def scratch(tmp_path: Path) -> Callable[..., Path]:
    """A new project in tmp_path: the repository's templates and styles, and the given files.

    ``scratch({"content": {...}})`` uses minimal settings and two chapters unless given.
    """

    def make(spec: dict[str, Any] | None = None, *, theme: bool = True, settings: str | None = None,
             chapters: bool = True) -> Path:
        return make_project(tmp_path / "project", spec, theme=theme, settings=settings,
                            chapters=chapters)

    return make


@pytest.fixture
def fixture_project(tmp_path: Path) -> Callable[[str], Path]:
    """A copy of a named project under tests/projects/, with the repository's theme if it has none."""

    def copy(name: str) -> Path:
        dest = tmp_path / name
        shutil.copytree(PROJECTS / name, dest)
        for part in ("templates", "styles"):
            if not (dest / part).exists():
                shutil.copytree(REPO / part, dest / part)
        return dest

    return copy


def pdftotext(pdf: Path, *args: str) -> str:
    return subprocess.run(["pdftotext", *args, str(pdf), "-"], check=True, capture_output=True,
                          text=True).stdout


def page_texts(pdf: Path) -> list[str]:
    """The text of every page (poppler), in order."""
    return pdftotext(pdf, "-layout").split("\f")[:-1]


def pdffonts(pdf: Path) -> list[dict[str, str]]:
    out = subprocess.run(["pdffonts", str(pdf)], check=True, capture_output=True, text=True).stdout
    rows = []
    for line in out.splitlines()[2:]:
        parts = line.split()
        # name type... emb sub uni object ID: the last 5 columns are fixed.
        rows.append({"name": parts[0], "emb": parts[-5], "sub": parts[-4], "uni": parts[-3]})
    return rows


def mm(points: float) -> float:
    return float(points) / MM


def bare_fontconfig(folder: Path) -> dict[str, str]:
    """The environment of a machine without the theme's fonts: a fontconfig configuration in ``folder``
    that sees only DejaVu's folder (FONTCONFIG_FILE), for subprocesses."""
    import os

    out = subprocess.run(["fc-list", ":family=DejaVu Sans", "file"], capture_output=True, text=True).stdout
    files = [Path(line.strip().rstrip(":")) for line in out.splitlines() if line.strip()]
    if not files:
        pytest.skip("DejaVu Sans is not installed")
    conf = folder / "fonts.conf"
    conf.write_text('<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">\n'
                    f"<fontconfig>\n  <dir>{files[0].parent}</dir>\n  <cachedir>{folder / 'cache'}</cachedir>\n"
                    "</fontconfig>\n", encoding="utf-8")
    return {**os.environ, "FONTCONFIG_FILE": str(conf)}


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's chromium, headless, once per test module."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    page = browser.new_page(viewport={"width": 1280, "height": 860})
    yield page
    page.close()
