"""`handbook doctor`: what the tool needs on this machine, what it finds, and how to get the rest.

One line per thing: Python, WeasyPrint and the Pango it loads, HarfBuzz subsetting, fontconfig,
every font family the project's stylesheets name (where it is found, or how to get it), poppler
(page pictures, preflight), LibreOffice (importing .doc/.odt) and Chromium (the preview tests).
A line is ``ok``, ``MISSING`` (a plain ``handbook build`` cannot work without it: the command exits
1), ``warning`` (the build works, something is slower or unchecked) or ``optional`` (only some
commands need it).
"""

from __future__ import annotations

import logging
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from . import packagefonts
from .errors import HandbookError, display_path

log = logging.getLogger(__name__)

PYTHON_NEEDED = (3, 11)
WEASYPRINT_HELP = "https://doc.courtbouillon.org/weasyprint/stable/first_steps.html#installation"


class Status(StrEnum):
    """What a finding means for a build; printed as it is, MISSING in capitals to stand out."""

    OK = "ok"
    MISSING = "MISSING"
    WARNING = "warning"
    OPTIONAL = "optional"


@dataclass(frozen=True)
class Finding:
    status: Status
    what: str
    detail: str

    def __str__(self) -> str:
        return f"{self.status:<8} {self.what}: {self.detail}"

    @property
    def blocks_build(self) -> bool:
        return self.status is Status.MISSING


def _version(command: list[str], pattern: str = r"(\d+(?:\.\d+)+)") -> str:
    """The version a program prints (``--version``, ``-v``), or '' when it says none."""
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=20, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    m = re.search(pattern, done.stdout + done.stderr)
    return m[1] if m else ""


def python_finding() -> Finding:
    version = ".".join(str(n) for n in sys.version_info[:3])
    if sys.version_info[:2] < PYTHON_NEEDED:
        return Finding(Status.MISSING, "Python", f"{version}; the handbook needs {'.'.join(map(str, PYTHON_NEEDED))} "
                                            "or later")
    return Finding(Status.OK, "Python", f"{version} ({sys.executable})")


def weasyprint_findings() -> list[Finding]:
    try:
        from .pdf import libraries

        found = libraries()
    except (OSError, ImportError) as exc:  # Pango, GObject or HarfBuzz could not be loaded
        return [Finding(Status.MISSING, "WeasyPrint", f"cannot load its libraries ({exc}); install Pango: "
                                                 f"see README.md, Installing, or {WEASYPRINT_HELP}")]
    findings = [Finding(Status.OK, "WeasyPrint", found["weasyprint"]),
                Finding(Status.OK, "Pango", f"{found['pango']} (text layout)")]
    if found["harfbuzz_subset"] == "yes":
        findings.append(Finding(Status.OK, "HarfBuzz subsetting", "yes (fonts are subset fast)"))
    else:
        findings.append(Finding(Status.WARNING, "HarfBuzz subsetting",
                                "no: fonts are subset with fontTools, several times slower "
                                "(Debian/Ubuntu: apt install libharfbuzz-subset0)"))
    return findings


def fontconfig_finding() -> Finding:
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return Finding(Status.WARNING, "fontconfig", "fc-list not found: the glyph check cannot run "
                                                "(Debian/Ubuntu: apt install fontconfig)")
    version = _version([fc_list, "--version"])
    return Finding(Status.OK, "fontconfig", f"{version or 'found'} ({fc_list}; the glyph check lists fonts with it)")


def _where(font: tuple[Path, int], root: Path) -> str:
    path = font[0]
    if path.is_relative_to(packagefonts.FONTS):
        return f"ships with the handbook ({path.relative_to(packagefonts.FONTS.parent.parent).as_posix()})"
    if path.is_relative_to(root):
        return f"the project's {display_path(path, root)}"
    return f"installed ({path})"


def font_findings(root: Path | None) -> list[Finding]:
    """Every family the project's editions name, in the order named: found where, or how to get it;
    MISSING when an edition's text needs a family that is not installed."""
    from . import glyphs
    from .project import load_project

    if root is None:
        return [Finding(Status.OPTIONAL, "fonts", "no project here; run in a project folder (or with --project DIR) "
                                             "to check the fonts it names")]
    try:
        loaded = load_project(root)
    except HandbookError as exc:
        return [Finding(Status.WARNING, "fonts", f"the project cannot be read ({exc.message}); `handbook check` "
                                            "says more")]
    if glyphs.installed_fonts() is None:
        return [Finding(Status.WARNING, "fonts", "fontconfig's fc-list is not installed, so the fonts the "
                                                 "project names cannot be checked")]
    found: dict[str, tuple[Status, str]] = {}  # family -> (status, detail)
    needed: dict[str, list[str]] = {}  # family -> the editions that need it
    characters: dict[str, int] = {}  # edition -> characters that no configured font has
    stacks: list[tuple[str, ...]] = []
    for edition in loaded.editions:
        fonts = glyphs.configured_fonts(glyphs.read_stylesheets(edition.stylesheets, edition.root,
                                                                edition.settings.language))
        stacks += fonts.stacks
        for problem in glyphs.check_edition(edition):
            m = re.match(r'the font "([^"]+)" is not installed', problem.message)
            if m:
                needed.setdefault(m[1], []).append(edition.slug or edition.name)
            elif problem.is_error:
                characters[edition.name] = characters.get(edition.name, 0) + 1
        for family in fonts.families:
            if family in fonts.files:
                found.setdefault(family, (Status.OK, _where(fonts.files[family], loaded.root)))
            elif family not in found or found[family][0] is not Status.OK:
                used = next((other for stack in fonts.stacks if family in stack for other in stack
                             if other in fonts.files and glyphs.family_script(other) == glyphs.family_script(family)),
                            None)
                how = glyphs.where_to_get(family)
                detail = "not installed" + (f" ({how})" if how else "")
                detail += f"; not needed: {used} is used" if used else "; not needed by the text"
                found[family] = (Status.OPTIONAL, detail)
    findings = []
    for family, (status, detail) in found.items():
        if family in needed:
            how = glyphs.where_to_get(family)
            detail = (f"not installed, and {', '.join(needed[family])} need{'s' if len(needed[family]) == 1 else ''} "
                      f"it; {how or 'install it'}, or any font of its list in styles/, or put a font file in fonts/ "
                      "with an @font-face rule (`handbook check` names the text)")
            status = Status.MISSING
        elif status is Status.OPTIONAL:
            stands_in = next((other for stack in stacks if family in stack for other in stack if other in needed
                              and glyphs.family_script(other) == glyphs.family_script(family)), None)
            if stands_in:
                detail = detail.split("; not needed")[0] + f"; would do instead of {stands_in}"
        findings.append(Finding(status, f"font {family}", detail))
    for name, count in characters.items():
        findings.append(Finding(Status.MISSING, "characters", f"{name}: {count} character{'s' if count != 1 else ''} "
                                                         "that no configured font has (`handbook check` lists them)"))
    return findings


def tool_findings() -> list[Finding]:
    findings = []
    poppler = [name for name in ("pdftoppm", "pdfimages") if shutil.which(name)]
    if len(poppler) == 2:
        version = _version(["pdftoppm", "-v"])
        findings.append(Finding(Status.OK, "poppler", f"{version or 'found'} (pdftoppm, pdfimages: "
                                                 "build --png, preflight)"))
    else:
        findings.append(Finding(Status.OPTIONAL, "poppler", "pdftoppm/pdfimages not found: build --png and preflight's "
                                                       "image check need them (Debian/Ubuntu: apt install "
                                                       "poppler-utils; macOS: brew install poppler)"))
    office = shutil.which("soffice") or shutil.which("libreoffice")
    findings.append(Finding(Status.OK, "LibreOffice", f"{office} (import .doc and .odt)") if office else
                    Finding(Status.OPTIONAL, "LibreOffice", "not found: importing .doc and .odt needs it "
                                                            "(Debian/Ubuntu: apt install libreoffice-writer-nogui)"))
    browser = next((found for name in ("chromium", "chromium-browser", "google-chrome", "chrome")
                    if (found := shutil.which(name))), None)
    if browser:
        version = _version([browser, "--version"], r"(\d+(?:\.\d+)+)")
        findings.append(Finding(Status.OK, "Chromium", f"{version or 'found'} ({browser}; the preview tests)"))
    else:
        findings.append(Finding(Status.OPTIONAL, "Chromium", "not found: only the preview's tests need it "
                                                        "(Debian/Ubuntu: apt install chromium)"))
    return findings


def diagnose(root: Path | None) -> list[Finding]:
    """Everything, in the order it is printed."""
    return [python_finding(), *weasyprint_findings(), fontconfig_finding(), *font_findings(root),
            *tool_findings()]
