"""A bare machine: the theme's fonts ship with the package, `handbook doctor` says what is missing.

"Bare" is a fontconfig configuration (FONTCONFIG_FILE) that sees only DejaVu's folder: no Charis
SIL, no Lato, no Chinese faces. Builds run in subprocesses, so each loads fontconfig afresh.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import PROJECTS, REPO, ZH_SETTINGS, bare_fontconfig, chapter, make_project, page_texts

from handbook.assets import AssetRules, stylesheet_problems
from handbook.packagefonts import FONTS, package_font
from handbook.pdf import ProjectFetcher

TIMEOUT = 300


@pytest.fixture(scope="module")
def bare_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    env = bare_fontconfig(tmp_path_factory.mktemp("fontconfig"))
    families = subprocess.run(["fc-list", ":", "family"], capture_output=True, text=True, env=env).stdout
    assert "DejaVu Sans" in families and "Charis" not in families and "Lato" not in families, families
    assert "CJK" not in families
    return env


def handbook(*args: str, env: dict[str, str] | None = None, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "handbook.cli", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=TIMEOUT, env=env or dict(os.environ))


def pdffonts(pdf: Path) -> list[list[str]]:
    out = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout
    return [line.split() for line in out.splitlines()[2:]]


def test_a_bare_machine_builds_the_same_handbook_and_cards(bare_env: dict[str, str], tmp_path: Path) -> None:
    args = ("build", "-d", "finance", "--only", "handbook", "--only", "cards", "-j", "2")
    full = handbook("--project", str(REPO), *args, "--out", str(tmp_path / "full"))
    assert full.returncode == 0, full.stderr
    bare = handbook("--project", str(REPO), *args, "--out", str(tmp_path / "bare"), env=bare_env)
    assert bare.returncode == 0, bare.stderr
    assert "warning" not in bare.stderr
    for name in ("finance/handbook.pdf", "finance/cards.pdf"):
        on_full, on_bare = page_texts(tmp_path / "full" / name), page_texts(tmp_path / "bare" / name)
        assert len(on_bare) == len(on_full) > 1
        assert on_bare == on_full
        fonts = pdffonts(tmp_path / "bare" / name)
        names = {re.sub(r"^[A-Z]{6}\+", "", row[0]) for row in fonts}
        assert {"Charis-SIL", "Lato", "Lato-Bold"} <= names, fonts
        assert all(re.match(r"^[A-Z]{6}\+", row[0]) for row in fonts), fonts  # subset
        assert all(row[-5:-2] == ["yes", "yes", "yes"] for row in fonts), fonts  # embedded, subset, unicode
        assert names == {re.sub(r"^[A-Z]{6}\+", "", row[0]) for row in pdffonts(tmp_path / "full" / name)}
        assert not any("DejaVu" in n for n in names)


def test_the_chinese_edition_on_a_bare_machine_names_each_missing_family_once(bare_env: dict[str, str],
                                                                                  tmp_path: Path) -> None:
    done = handbook("--project", str(REPO), "build", "-d", "discipline-inspection", "--only", "handbook",
                    "--out", str(tmp_path / "out"), env=bare_env)
    assert done.returncode == 1
    lines = done.stderr.splitlines()
    families = [line for line in lines if ' is not installed, and ' in line]
    assert len(families) == 2, done.stderr
    assert families[0].startswith('discipline-inspection: the font "Noto Serif CJK SC" is not installed')
    assert families[1].startswith('discipline-inspection: the font "Noto Sans CJK SC" is not installed')
    for line in families:
        assert "apt install fonts-noto-cjk" in line
        assert "SimSun (Windows)" in line or "Microsoft YaHei (Windows)" in line
        assert "departments/discipline-inspection/department.yaml" in line and "put a font file" in line
    assert not any("the character '" in line for line in lines), done.stderr
    assert len(lines) <= 4, done.stderr  # the families, the summary pointing to the doctor, the failure
    assert "handbook doctor" in done.stderr
    assert not (tmp_path / "out" / "discipline-inspection" / "handbook.pdf").exists()


def test_doctor_on_this_machine_and_on_a_bare_one(bare_env: dict[str, str]) -> None:
    good = handbook("doctor")
    assert good.returncode == 0, good.stdout + good.stderr
    lines = good.stdout.splitlines()
    for what in ("Python", "WeasyPrint", "Pango", "HarfBuzz subsetting", "fontconfig", "font Charis SIL",
                 "font Lato", "font Noto Serif CJK SC", "poppler", "LibreOffice", "Chromium"):
        assert sum(1 for line in lines if line[9:].startswith(what + ":")) == 1, (what, good.stdout)
    assert re.search(r"^ok +font Charis SIL: ships with the handbook \(handbook/fonts/charis-sil/", good.stdout, re.M)
    assert re.search(r"^ok +font Noto Serif CJK SC: installed \(/", good.stdout, re.M)
    assert re.search(r"^optional +font SimSun: not installed \(comes with Windows\); not needed: Noto Serif CJK SC",
                     good.stdout, re.M)
    assert "everything a build needs is here" in good.stdout
    bare = handbook("doctor", env=bare_env)
    assert bare.returncode == 1
    assert re.search(r"^MISSING +font Noto Serif CJK SC: not installed, and discipline-inspection needs it; "
                     r"Debian/Ubuntu: apt install fonts-noto-cjk", bare.stdout, re.M), bare.stdout
    assert re.search(r"^ok +font Lato: ships with the handbook", bare.stdout, re.M)
    assert "missing for a build: font Noto Serif CJK SC, font Noto Sans CJK SC" in bare.stderr


def test_doctor_outside_a_project(tmp_path: Path) -> None:
    done = handbook("doctor", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no project here" in done.stdout


def test_the_fetcher_serves_the_package_fonts_and_nothing_else_of_the_package(tmp_path: Path) -> None:
    fetcher = ProjectFetcher((tmp_path,))
    served = fetcher.fetch("handbook:fonts/lato/Lato-Regular.ttf")
    assert served.read() == (FONTS / "lato" / "Lato-Regular.ttf").read_bytes()
    for url in ("handbook:fonts/../packagefonts.py", "handbook:fonts/README.md", "handbook:fonts/lato/OFL.txt",
                "handbook:starter/handbook.yaml", "handbook:fonts/lato/../../pdf.py", "handbook:fonts//etc/passwd",
                "handbook:fonts/lato/Nope.ttf"):
        assert package_font(url) is None, url
        with pytest.raises(ValueError, match="refused"):
            fetcher.fetch(url)
    assert len(fetcher.blocked) == 7
    # Checked before rendering too: a stylesheet naming something else is an error with its line.
    css = tmp_path / "styles" / "x.css"
    css.parent.mkdir()
    css.write_text('@font-face { font-family: A; src: url("handbook:fonts/lato/Lato-Bold.ttf"); }\n'
                   '@font-face { font-family: B; src: url("handbook:fonts/../doctor.py"); }\n', encoding="utf-8")
    problems = [str(p) for p in stylesheet_problems(css, AssetRules(tmp_path))]
    assert len(problems) == 1 and problems[0].startswith("styles/x.css:2: 'handbook:fonts/../doctor.py': not a font"), \
        problems


def test_the_package_fonts_are_the_ones_the_theme_loads() -> None:
    theme = (REPO / "styles" / "theme.css").read_text(encoding="utf-8")
    named = re.findall(r'url\("(handbook:fonts/[^"]+)"\)', theme)
    assert len(named) == 8
    files = {p.relative_to(FONTS).as_posix() for p in FONTS.rglob("*.ttf")}
    assert {package_font(url).relative_to(FONTS).as_posix() for url in named if package_font(url)} == files
    for folder in ("charis-sil", "lato"):
        assert "SIL OPEN FONT LICENSE Version 1.1" in (FONTS / folder / "OFL.txt").read_text(encoding="utf-8")


def _noto_serif_sc() -> tuple[Path, int]:
    out = subprocess.run(["fc-list", ":family=Noto Serif CJK SC:style=Regular", "file", "index"],
                         capture_output=True, text=True).stdout.strip().splitlines()
    if not out:
        pytest.skip("Noto Serif CJK SC is not installed")
    m = re.match(r"(.+): :?index=(\d+)", out[0]) or re.match(r"(.+):index=(\d+)", out[0])
    assert m, out
    return Path(m[1]), int(m[2])


def test_a_font_file_of_the_project_stands_in_for_a_missing_family(bare_env: dict[str, str], tmp_path: Path) -> None:
    """What the missing-family message says to do: a font file in fonts/, loaded under that family's name."""
    from fontTools import subset
    from fontTools.ttLib import TTFont

    from handbook.render import LABELS

    root = make_project(tmp_path / "project", settings=ZH_SETTINGS, spec={"content": {
        "03-third.md": chapter("第三点", "廉洁自律，从我做起。\n\n第二段：慎独慎微。",
                               summary="摘要。", reminder="提醒。"),
    }})
    out = tmp_path / "out"
    failed = handbook("--project", str(root), "build", "--only", "handbook", "--out", str(out), env=bare_env)
    assert failed.returncode == 1
    assert "in fonts/ and load it as \"Noto Serif CJK SC\"" in failed.stderr, failed.stderr
    # A small font made from the installed one: the characters of this project only.
    text = "".join(p.read_text(encoding="utf-8") for p in root.rglob("*") if p.is_file())
    text += "".join(LABELS["zh"].values()) + "0123456789年月日第页"
    path, index = _noto_serif_sc()
    font = TTFont(str(path), fontNumber=index)
    subsetter = subset.Subsetter()
    subsetter.populate(text=text)
    subsetter.subset(font)
    (root / "fonts").mkdir()
    font.save(str(root / "fonts" / "song.otf"))
    (root / "styles" / "fonts.css").write_text(
        '@font-face { font-family: "Noto Serif CJK SC"; src: url("../fonts/song.otf"); }\n'
        '@font-face { font-family: "Noto Sans CJK SC"; src: url("../fonts/song.otf"); }\n', encoding="utf-8")
    built = handbook("--project", str(root), "build", "--only", "handbook", "--out", str(out), env=bare_env)
    assert built.returncode == 0, built.stderr
    pages = "\n".join(page_texts(out / "handbook.pdf"))
    assert "廉洁自律，从我做起。" in pages and "第三点" in pages
    names = [row[0] for row in pdffonts(out / "handbook.pdf")]
    assert any("Noto-Serif-CJK-SC" in n for n in names) and any("Charis-SIL" in n for n in names), names


def test_a_large_font_file_of_the_project_is_served(tmp_path: Path) -> None:
    """Chinese fonts are larger than the image limit (Noto Serif CJK: 26 MB)."""
    path, _ = _noto_serif_sc()
    (tmp_path / "fonts").mkdir()
    copy = tmp_path / "fonts" / path.name
    copy.write_bytes(path.read_bytes())
    fetcher = ProjectFetcher((tmp_path,))
    assert copy.stat().st_size > fetcher.rules.max_image_bytes
    assert len(fetcher.fetch(copy.as_uri()).read()) == copy.stat().st_size


TW_SETTINGS = ZH_SETTINGS.replace("language: zh-CN", "language: zh-TW").replace("中文测试手册", "中文測試手冊")


def test_a_traditional_edition_uses_the_tc_faces(bare_env: dict[str, str], tmp_path: Path) -> None:
    if not subprocess.run(["fc-list", ":family=Noto Serif CJK TC"], capture_output=True, text=True).stdout.strip():
        pytest.skip("Noto Serif CJK TC is not installed")
    root = make_project(tmp_path / "project", settings=TW_SETTINGS, spec={"content": {
        "03-third.md": chapter("第三點", "廉潔自律，從我做起。", summary="摘要。", reminder="提醒。"),
    }})
    built = handbook("--project", str(root), "build", "--only", "handbook", "--out", str(tmp_path / "out"))
    assert built.returncode == 0, built.stderr
    names = [re.sub(r"^[A-Z]{6}\+", "", row[0]) for row in pdffonts(tmp_path / "out" / "handbook.pdf")]
    assert "Noto-Serif-CJK-TC" in names and "Noto-Sans-CJK-TC" in names, names
    assert not any("SC" in n for n in names), names
    bare = handbook("--project", str(root), "build", "--only", "handbook", "--out", str(tmp_path / "bare"),
                    env=bare_env)
    assert bare.returncode == 1
    assert 'the font "Noto Serif CJK TC" is not installed' in bare.stderr
    assert "PMingLiU (Windows)" in bare.stderr and "CJK SC" not in bare.stderr


def test_a_character_no_font_has_is_one_line_with_every_place(tmp_path: Path) -> None:
    from handbook.glyphs import Fonts, check_texts

    lato = (FONTS / "lato" / "Lato-Regular.ttf", 0)
    fonts = Fonts(["Lato"], {"Lato": lato}, [], True, [("Lato",)])
    texts = [("content/01-a.md", 3, "One 𓀀\nTwo\nThree 𓀀 and 𓀀 again"), ("handbook.yaml", 7, "𓀀"),
             ("labels (en)", None, "𓀀")]
    (problem,) = check_texts(texts, fonts, "edition")
    assert str(problem) == ("content/01-a.md:3: the character '𓀀' (U+13000) is not in any configured font (Lato); "
                            "also at content/01-a.md:5, handbook.yaml:7, labels (en)")


def test_a_project_with_a_theme_from_before_the_bundled_fonts(bare_env: dict[str, str], tmp_path: Path) -> None:
    """A theme.css without the @font-face rules, on a bare machine: one line per family, saying how
    to load the copy that ships with the handbook."""
    root = make_project(tmp_path / "project")
    (root / "styles" / "theme.css").write_text(
        ':root { --serif: "Charis SIL", "Noto Serif CJK SC", serif; --sans: "Lato", "Noto Sans CJK SC", sans-serif; }\n'
        "html { color: var(--text); font-family: var(--serif); }\n", encoding="utf-8")
    done = handbook("--project", str(root), "build", "--only", "handbook", "--out", str(tmp_path / "out"),
                    env=bare_env)
    assert done.returncode == 1
    lines = done.stderr.splitlines()
    assert len(lines) == 4, done.stderr
    assert lines[0].startswith('organisation-wide: the font "Charis SIL" is not installed, and ')
    assert 'src: url("handbook:fonts/charis-sil/CharisSIL-Regular.ttf")' in lines[0]
    assert lines[1].startswith('organisation-wide: the font "Lato" is not installed, and ')
    assert "apt install fonts-lato" in lines[1]
    assert "handbook doctor" in lines[2]


def test_the_web_page_leaves_the_package_fonts_to_the_browser(tmp_path: Path) -> None:
    """The self-contained web page cannot reach handbook: URLs; browsers use the installed faces (local())."""
    from handbook.project import load_project
    from handbook.render import handbook_html

    edition = load_project(REPO).editions[0]
    page = handbook_html(edition, target="web", out_dir=tmp_path)
    assert 'src: local("Charis SIL"); }' in page and 'src: local("Lato Bold Italic"); }' in page
    assert "url(\"handbook:" not in page
    printed = handbook_html(edition, target="print", out_dir=tmp_path)
    assert 'href="styles/theme.css"' in printed  # print: the stylesheet itself, fetched with its fonts


def test_the_web_page_drops_package_fonts_as_css_reads_them() -> None:
    """An escaped scheme, upper case, a format() and a lone src are read as CSS reads them, not by pattern."""
    from handbook.render import web_css

    sheet = ('/* handbook:fonts/ in a comment stays */\n'
             '@font-face { font-family: A; src: url("\\68 andbook:fonts/lato/Lato-Bold.ttf") format("truetype"),'
             ' local("A"); }\n'
             '@font-face { font-family: B; src: local("B"), url(HANDBOOK:fonts/x.ttf), url("own.woff") format("woff"); '
             'font-weight: bold }\n'
             '@font-face { font-family: C; src: url(handbook:fonts/c.ttf) }\n'
             'p { background: url("handbook:not-a-font-face.png") }\n')
    out = web_css(sheet)
    assert '@font-face { font-family: A; src: local("A"); }' in out
    assert '@font-face { font-family: B; src: local("B"), url("own.woff") format("woff"); font-weight: bold; }' in out
    assert "font-family: C; }" in out  # no src left: the family falls back as the browser decides
    assert "/* handbook:fonts/ in a comment stays */" in out
    assert 'url("handbook:not-a-font-face.png")' in out  # only @font-face sources are the package's fonts


def test_real_legal_texts_come_out_the_same_on_a_bare_machine(bare_env: dict[str, str], tmp_path: Path) -> None:
    """German and French law texts (tests/projects/laws/README.md) with the repository's theme."""
    root = tmp_path / "laws"
    shutil.copytree(PROJECTS / "laws", root)
    shutil.copytree(REPO / "templates", root / "templates")
    shutil.copytree(REPO / "styles", root / "styles")
    full = handbook("--project", str(root), "build", "--only", "handbook", "--out", str(tmp_path / "full"))
    assert full.returncode == 0, full.stderr
    bare = handbook("--project", str(root), "build", "--only", "handbook", "--out", str(tmp_path / "bare"),
                    env=bare_env)
    assert bare.returncode == 0, bare.stderr
    on_full, on_bare = page_texts(tmp_path / "full" / "handbook.pdf"), page_texts(tmp_path / "bare" / "handbook.pdf")
    assert len(on_bare) == len(on_full) >= 6
    assert on_bare == on_full
    text = "\n".join(on_bare)
    for words in ("§ 9 Anwendung der Bußgeldvorschriften", "Preußischer Kulturbesitz", "Öffentlichkeit",
                  "côté du mur séparatif", "la crête"):
        assert words in text, words
    names = {re.sub(r"^[A-Z]{6}\+", "", row[0]) for row in pdffonts(tmp_path / "bare" / "handbook.pdf")}
    assert {"Charis-SIL", "Lato", "Lato-Bold"} <= names and not any("DejaVu" in n for n in names), names
