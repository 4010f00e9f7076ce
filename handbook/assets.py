"""The one asset policy: what a URL in content, a stylesheet or an SVG may point at.

Every place that meets a URL asks :func:`locate` (a chapter's images and links, a department's
logo, a stylesheet's ``url()``, ``@import`` and ``@font-face``, what an SVG refers to, the web
page's inlined images and the preview's stylesheets, the glyph check's font files) and
WeasyPrint's fetcher (:mod:`handbook.pdf`) asks it again for every resource it reads. The answer
is a :class:`Target` or :class:`Refused`:

- a file inside the project, with every symbolic link followed (a department's folder is inside
  it); ``../`` out of it, an absolute path and a link out are refused;
- a font that ships with the package: ``handbook:fonts/<folder>/<file>`` (:mod:`handbook.packagefonts`);
- a ``data:`` URL (an image in it is held to the image limits and, an SVG, to this policy);
- ``https`` only when the user opted in (``--allow-remote``); plain ``http`` never;
- a ``file:`` URL only as WeasyPrint writes them itself (the fetcher), and only for a file that
  the rules above allow, or a single file opted in (the PDF/X output intent).

Links are not fetched and have their own short list (:func:`link_refused`), but a link to a file
outside the project is refused here too.
"""

from __future__ import annotations

import base64
import binascii
import enum
import html as html_lib
import io
import logging
import re
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO
from urllib.parse import unquote, unquote_to_bytes, urlsplit
from urllib.request import url2pathname

from . import packagefonts
from .errors import Problem, display_path

log = logging.getLogger(__name__)

MAX_IMAGE_BYTES = 20 * 1024 * 1024
MAX_IMAGE_PIXELS = 40_000_000  # 40 megapixels: ~ A3 at 600 dpi
FONT_MAX_BYTES = 64 * 1024 * 1024  # a project's own font file (a Chinese face: 26 MB), read by the fetcher
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp"}
RASTER_SUFFIXES = {".png", ".jpg", ".jpeg", ".gif", ".webp", ".bmp", ".tif", ".tiff", ".ico"}  # decoded when read
LINK_SCHEMES = ("http", "https", "mailto", "tel")
_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*):")
_DRIVE = re.compile(r"^[a-zA-Z]:[\\/]")


@dataclass(frozen=True)
class AssetRules:
    """Where a document may take resources from, and how large images may be."""

    root: Path  # the project root: nothing outside it is read
    allow_remote: bool = False  # https resources, only when the user opts in
    max_image_bytes: int = MAX_IMAGE_BYTES
    max_image_pixels: int = MAX_IMAGE_PIXELS
    extra_files: tuple[Path, ...] = ()  # single files outside the project, opted in (the CMYK profile)


class Reason(enum.Enum):
    """Why a URL is refused (the text is what every message says)."""

    OUTSIDE = "points outside the project"
    ABSOLUTE = "is an absolute path"
    SCHEME = "scheme refused"
    REMOTE = "remote resource"
    REMOTE_FILE = "remote file URL"
    PACKAGE = "not a package font"
    MISSING = "no such file"
    CONTENT = "refused for its content"  # a data: URL or a file: too large, not an image, ...


class Refused(Exception):
    """A URL the policy refuses: ``reason`` and ``why`` (a sentence without the URL)."""

    def __init__(self, reason: Reason, why: str) -> None:
        super().__init__(why)
        self.reason = reason
        self.why = why


@dataclass(frozen=True)
class Target:
    """What an allowed URL points at."""

    kind: str  # "file", "package" (a packaged font), "data", "remote" (opted in), "fragment" (#x, empty)
    url: str
    path: Path | None = None  # the real file ("file", "package")


def inside(path: Path, root: Path) -> bool:
    """Whether ``path``, with every symlink followed, is inside ``root``."""
    try:
        return path.resolve().is_relative_to(root.resolve())
    except (OSError, RuntimeError, ValueError):  # a symlink loop, a NUL in the name
        return False


def _project_file(path: Path, url: str, rules: AssetRules) -> Target:
    try:
        real = path.resolve()
    except (OSError, RuntimeError, ValueError):
        raise Refused(Reason.OUTSIDE, _outside(rules)) from None
    if real in (p.resolve() for p in rules.extra_files):
        return Target("file", url, real)
    if not real.is_relative_to(rules.root.resolve()):
        raise Refused(Reason.OUTSIDE, _outside(rules))
    return Target("file", url, real)


def _outside(rules: AssetRules) -> str:
    return f"points outside the project; only files inside {rules.root.resolve().name}/ can be used"


def locate(url: str, base_dir: Path, rules: AssetRules, *, fetching: bool = False) -> Target:
    """What ``url``, written in a file in ``base_dir``, points at, or :class:`Refused`.

    ``fetching``: the URL comes from WeasyPrint, which makes every relative URL an absolute
    ``file:`` URL; anywhere else a ``file:`` URL is refused whatever it names.
    """
    url = url.strip()
    m = _SCHEME.match(url)
    if fetching and not m:
        raise Refused(Reason.SCHEME, "relative URLs are not fetched")
    if m and not _DRIVE.match(url):
        scheme = m[1].lower()
        if scheme == "data":
            return Target("data", url)
        if scheme in ("http", "https"):
            if scheme == "https" and rules.allow_remote:
                return Target("remote", url)
            raise Refused(Reason.REMOTE, "is not fetched: remote resources are not fetched; put the file in the "
                          "project" + (" (or build with --allow-remote for https)" if scheme == "https" else ""))
        if scheme == packagefonts.SCHEME:
            path = packagefonts.package_font(url)
            if path is None:
                raise Refused(Reason.PACKAGE, packagefonts.refused(url) or "not a package font")
            return Target("package", url, path)
        if scheme == "file" and fetching:
            parts = urlsplit(url)
            if parts.netloc not in ("", "localhost"):
                raise Refused(Reason.REMOTE_FILE, "a remote file URL")
            return _project_file(Path(url2pathname(parts.path)), url, rules)
        raise Refused(Reason.SCHEME, f"{scheme}: URLs are refused; only files inside the project can be used")
    if url.startswith(("/", "\\")) or _DRIVE.match(url):
        raise Refused(Reason.ABSOLUTE, "is an absolute path; use a path relative to this file inside the project")
    path_part = unquote(url.split("#")[0].split("?")[0])  # markdown-it writes "my photo.png" as my%20photo.png
    if not path_part:
        return Target("fragment", url)
    return _project_file(base_dir / path_part, url, rules)


def protocols(allow_remote: bool) -> set[str]:
    """The schemes WeasyPrint's own fetching may open once :func:`locate` allowed a URL (the
    package's fonts are served by the fetcher itself)."""
    return {"file", "data", *(["https"] if allow_remote else [])}


def reference_refused(url: str, base_dir: Path, rules: AssetRules) -> str | None:
    """Why a resource another file refers to (a stylesheet, an SVG) would be refused, or None.

    Any kind of file: a font, a stylesheet, an image (a ``data:`` URL is checked when fetched)."""
    try:
        locate(url, base_dir, rules)
    except Refused as exc:
        return exc.why
    return None


def resolve_asset(url: str, base_dir: Path, rules: AssetRules) -> tuple[str | None, str | None]:
    """An image URL written in ``base_dir`` (Markdown, raw HTML, a department's logo).

    Returns ``(url for the document, None)`` or ``(None, why it is refused)``. Document URLs are
    relative to the project root."""
    try:
        target = locate(url, base_dir, rules)
    except Refused as exc:
        url = url.strip()
        if exc.reason is Reason.REMOTE:
            return None, (f"remote image {url!r} is not fetched; put the file in the project "
                          "(or build with --allow-remote for https images)")
        if exc.reason in (Reason.OUTSIDE, Reason.ABSOLUTE):
            return None, f"{url!r} {exc.why}"
        return None, f"{url!r}: {exc.why}"
    root = rules.root.resolve()
    if target.kind == "data":
        why = data_url_refused(target.url, rules)
        return (None, why) if why else (target.url, None)
    if target.kind == "remote":
        return target.url, None
    if target.kind != "file" or target.path is None:
        return None, f"{target.url!r}: not an image file (use .png, .jpg, .svg, .gif or .webp)"
    if not target.path.is_file():
        return None, f"image {target.url!r} not found (looked for {display_path(target.path, root)})"
    if target.path.suffix.lower() not in IMAGE_SUFFIXES:
        return None, f"{target.url!r} is not an image (use .png, .jpg, .svg, .gif or .webp)"
    too_large = image_too_large(target.path, rules)
    if too_large:
        return None, too_large
    return target.path.relative_to(root).as_posix(), None


def link_refused(url: str, base_dir: Path, rules: AssetRules) -> str | None:
    """Why a link is refused: a scheme other than http(s), mailto: or tel:, or a file outside the
    project. Links are never fetched, but a ``file:`` link would point readers at the build machine."""
    url = url.strip()
    m = _SCHEME.match(url)
    if m:
        scheme = m[1].lower()
        if scheme in LINK_SCHEMES:
            return None
        return f"link {url!r}: only http(s), mailto: and tel: links are kept ({scheme}: links are refused)"
    try:
        locate(url, base_dir, rules)
    except Refused as exc:
        if exc.reason is Reason.ABSOLUTE:
            return f"link {url!r} is an absolute path; link to a web address or a #section instead"
        return f"link {url!r} points outside the project"
    return None


def project_path(url: str, base_dir: Path, rules: AssetRules) -> Path | None:
    """The project file a relative URL names (None: anything else, refused or not a file)."""
    try:
        target = locate(url, base_dir, rules)
    except Refused:
        return None
    return target.path if target.kind == "file" and target.path is not None and target.path.is_file() else None


def local_file(url: str, base: Path, root: Path) -> Path | None:
    """A relative URL written in ``base`` -> the project file it names (None: not a file inside ``root``)."""
    return project_path(url, base, AssetRules(root))


# ------------------------------------------------------------------------------------------------
# What an allowed file may hold: images within the limits, SVGs that refer only to allowed URLs.


def image_too_large(path: Path, rules: AssetRules) -> str | None:
    """Why an image file is refused for its size or content, or None. Reads only the image header."""
    size = path.stat().st_size
    if size > rules.max_image_bytes:
        return (f"image {path.name} is {size / 1024 / 1024:.1f} MB; the limit is "
                f"{rules.max_image_bytes / 1024 / 1024:.0f} MB (reduce it for print: 300 dpi is enough)")
    if path.suffix.lower() == ".svg":
        return svg_refused(path.read_bytes(), path.parent, rules, path.name)
    with path.open("rb") as f:
        return image_data_too_large(f, path.name, rules)


# Pixel formats WeasyPrint draws (it converts 1, P and I itself); others would be dropped with a warning.
PRINTABLE_MODES = frozenset({"1", "P", "I", "L", "LA", "RGB", "RGBA", "CMYK"})


def _pillow_reason(exc: BaseException) -> str:
    """Pillow's message without the Python repr of the file it was reading."""
    text = re.sub(r"<[^<>]*(?:object|name=)[^<>]*>", "the file", str(exc)).strip()
    return text or type(exc).__name__


def image_data_too_large(data: IO[bytes] | bytes, name: str, rules: AssetRules) -> str | None:
    """Why an image (bytes or an open file) is refused, or None: too many pixels, not an image,
    damaged or truncated (it is decoded whole, a JPEG at 1/8 scale), or a pixel format that cannot
    be printed (a 16-bit greyscale PNG)."""
    from PIL import Image, ImageFile, UnidentifiedImageError

    stream = io.BytesIO(data) if isinstance(data, bytes) else data
    # WeasyPrint sets LOAD_TRUNCATED_IMAGES when imported (it would draw the missing part grey).
    truncated_ok, ImageFile.LOAD_TRUNCATED_IMAGES = ImageFile.LOAD_TRUNCATED_IMAGES, False
    try:
        with Image.open(stream) as img:
            w, h = img.size
            mode = img.mode
            kind = img.format or "image"
            if w * h <= rules.max_image_pixels:
                if kind == "PNG":
                    img.verify()  # every chunk's checksum, through to the end: finds truncation
                else:
                    if kind == "JPEG":
                        img.draft("RGB", (max(1, w // 8), max(1, h // 8)))
                    img.load()
    except UnidentifiedImageError:
        return f"image {name} is not an image this tool can read (is it really a {Path(name).suffix or 'picture'}?)"
    except Image.DecompressionBombError:
        return f"image {name} has far too many pixels; the limit is {rules.max_image_pixels / 1e6:.0f} megapixels"
    except (OSError, ValueError, SyntaxError, struct.error, EOFError) as exc:
        return f"image {name} is damaged or truncated ({_pillow_reason(exc)}); export it again"
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = truncated_ok
    if w * h > rules.max_image_pixels:
        return (f"image {name} is {w} x {h} pixels ({w * h / 1e6:.0f} megapixels); the limit is "
                f"{rules.max_image_pixels / 1e6:.0f} megapixels (reduce it for print: 300 dpi is enough)")
    if mode not in PRINTABLE_MODES:
        return (f"image {name} has pixels in the {mode} format (e.g. 16-bit greyscale), which cannot be "
                "printed; save it as an 8-bit image")
    return None


_ENTITY = re.compile(rb"<!ENTITY\b", re.I)
_XLINK = "{http://www.w3.org/1999/xlink}"


def svg_references(data: bytes) -> Iterator[tuple[str, int]]:
    """Every URL an SVG refers to, with its line: ``href``/``xlink:href`` (``<image>``, ``<use>``,
    ``<pattern>``...), ``url()`` in any attribute (``style``, ``fill``, ``filter``...) and in
    ``<style>`` (read as CSS, with ``@import``), ``<?xml-stylesheet href?>``. A DOCTYPE's DTD is
    never read (no parser here or in WeasyPrint loads one).
    Raises ``lxml.etree.XMLSyntaxError`` when it is not well-formed."""
    import tinycss2
    from lxml import etree

    from .css import references, value_references

    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    root = etree.fromstring(data, parser)
    for node in [*reversed(list(root.itersiblings(preceding=True))), root, *root.iterdescendants()]:
        line = node.sourceline or 1
        if isinstance(node, etree._ProcessingInstruction):
            href = node.get("href") if hasattr(node, "get") else None
            if href:
                yield href, line
            continue
        if not isinstance(node.tag, str):  # a comment, an entity
            continue
        for name, value in node.attrib.items():
            local = str(name).rsplit("}", 1)[-1].lower()
            if local in ("href", "src"):
                yield str(value), line
            elif "url(" in str(value).lower() or local == "style":
                yield from ((u, line) for u in value_references(tinycss2.parse_component_value_list(str(value))))
        if str(node.tag).rsplit("}", 1)[-1] == "style" and node.text:
            yield from ((u, line + n - 1) for u, n in references(node.text))


def svg_refused(data: bytes, base_dir: Path, rules: AssetRules, name: str) -> str | None:
    """Why an SVG is refused: entities (external ones read files, PUBLIC ones fetch, nested ones
    expand to gigabytes; an SVG needs none), not well-formed XML, or a reference this policy
    refuses (:func:`svg_references`)."""
    from lxml import etree

    if _ENTITY.search(data):
        return (f"image {name} declares entities (<!ENTITY ...>): they can read files or expand without end, "
                "so they are refused; remove them (an SVG needs none)")
    try:
        for ref, line in svg_references(data):
            ref = html_lib.unescape(ref).strip()
            if not ref or ref.startswith("#"):
                continue
            why = reference_refused(ref, base_dir, rules)
            if why:
                return f"image {name} refers to {ref!r} (its line {line}): {why}"
    except etree.XMLSyntaxError as exc:
        return f"image {name} is not well-formed SVG ({exc.msg or exc}); export it again"
    return None


def data_url_refused(url: str, rules: AssetRules) -> str | None:
    """Why a ``data:`` image is refused (too large, not an image, an SVG reaching outside), or None."""
    header, sep, payload = url.partition(",")
    if not sep:
        return "a data: URL without data"
    mime = header[5:].split(";")[0].strip().lower() or "text/plain"
    try:
        raw = (base64.b64decode(payload.strip(), validate=False) if ";base64" in header.lower()
               else unquote_to_bytes(payload))
    except (binascii.Error, ValueError):
        return "a data: URL whose base64 cannot be decoded"
    if len(raw) > rules.max_image_bytes:
        return (f"a data: image of {len(raw) / 1024 / 1024:.1f} MB; the limit is "
                f"{rules.max_image_bytes / 1024 / 1024:.0f} MB")
    if not mime.startswith("image/"):
        return f"a data: URL of type {mime}, not an image"
    if mime == "image/svg+xml":
        return svg_refused(raw, rules.root, rules, "(data: URL)")
    return image_data_too_large(raw, "(data: URL)", rules)


def read_file(target: Target, rules: AssetRules) -> bytes:
    """The bytes of an allowed file, or :class:`Refused` when it is missing or beyond the limits:
    no file larger than the image limit (a font: ``FONT_MAX_BYTES``) is read at all, and a raster
    image is decoded and held to the pixel limit."""
    path = target.path
    if path is None or not path.is_file():
        raise Refused(Reason.MISSING, "no such file")
    if target.kind == "package":
        return path.read_bytes()
    size = path.stat().st_size
    limit = FONT_MAX_BYTES if path.suffix.lower() in packagefonts.FONT_SUFFIXES else rules.max_image_bytes
    if size > limit:
        raise Refused(Reason.CONTENT, f"{size / 1024 / 1024:.1f} MB; the limit is {limit / 1024 / 1024:.0f} MB")
    body = path.read_bytes()
    if path.suffix.lower() in RASTER_SUFFIXES:
        why = image_data_too_large(body, path.name, rules)
        if why:
            raise Refused(Reason.CONTENT, why)
    return body


def remote_body_refused(body: bytes, content_type: str, name: str, rules: AssetRules) -> str | None:
    """Why an opted-in remote resource is refused once read (``body``: at most the limit + 1 byte)."""
    if len(body) > rules.max_image_bytes:
        return f"larger than {rules.max_image_bytes / 1024 / 1024:.0f} MB"
    if content_type.startswith("image/") and content_type != "image/svg+xml":
        return image_data_too_large(body, name, rules)
    return None


# ------------------------------------------------------------------------------------------------
# Stylesheets: checked before anything is rendered.


def stylesheet_problems(path: Path, rules: AssetRules) -> list[Problem]:
    """A stylesheet checked before anything is rendered: a file inside the project, UTF-8, and every
    ``url()`` and ``@import`` it makes allowed by :func:`locate`, each refusal at its line."""
    shown = display_path(path, rules.root)
    if not inside(path, rules.root):
        return [Problem(shown, None, "points outside the project (a symbolic link?); "
                                     "stylesheets must be files inside the project")]
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        return [Problem(shown, None, f"not UTF-8 text ({exc.reason}); save the file as UTF-8")]
    except OSError as exc:
        return [Problem(shown, None, f"cannot read: {exc.strerror or exc}")]
    from .css import references

    problems = []
    for url, line in references(text):
        why = reference_refused(url, path.parent, rules)
        if why:
            url = url.strip()
            shown_url = url if len(url) <= 80 else url[:77] + "..."
            problems.append(Problem(shown, line, f"{shown_url!r}: {why}"))
    return problems
