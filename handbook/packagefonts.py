"""The fonts that ship with the package: the theme's Latin faces (Charis SIL, Lato; SIL OFL).

A stylesheet names them as ``url("handbook:fonts/<folder>/<file>")`` in ``@font-face`` rules
(styles/theme.css). The fetcher (:mod:`handbook.pdf`) serves such a URL only when it names a font
file in this package's ``fonts/`` folder: nothing else outside the project becomes readable. So
every machine typesets with the same files, whether or not it has the fonts installed.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote

FONTS = Path(__file__).resolve().parent / "fonts"
SCHEME = "handbook"
PREFIX = "fonts/"
FONT_SUFFIXES = frozenset({".ttf", ".otf", ".ttc", ".woff", ".woff2"})
BUNDLED = {"charis sil": "charis-sil/CharisSIL-Regular.ttf", "lato": "lato/Lato-Regular.ttf"}  # family -> regular


def is_package_url(url: str) -> bool:
    """Whether ``url`` uses the ``handbook:`` scheme (whatever it names)."""
    scheme, sep, _ = url.strip().partition(":")
    return bool(sep) and scheme.lower() == SCHEME


def package_font(url: str) -> Path | None:
    """``handbook:fonts/lato/Lato-Bold.ttf`` -> that file of the package; None for any other URL,
    a path leaving the fonts folder, a file that is not a font, or one that does not exist."""
    if not is_package_url(url):
        return None
    rest = url.strip().partition(":")[2]
    if not rest.startswith(PREFIX):
        return None
    name = unquote(rest[len(PREFIX):].split("?")[0].split("#")[0])
    if not name or name.startswith(("/", "\\")):
        return None
    path = (FONTS / name).resolve()
    if not path.is_relative_to(FONTS) or path.suffix.lower() not in FONT_SUFFIXES or not path.is_file():
        return None
    return path


def refused(url: str) -> str | None:
    """Why a ``handbook:`` URL would not be served (None: it names a package font)."""
    if package_font(url) is not None:
        return None
    folders = ", ".join(sorted(f"{PREFIX}{p.name}/" for p in FONTS.iterdir() if p.is_dir()))
    return (f"not a font that ships with the handbook; handbook: URLs name only the files in {folders} "
            "(e.g. handbook:fonts/lato/Lato-Regular.ttf)")
