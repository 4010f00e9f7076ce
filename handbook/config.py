"""The typed schema of every file a user edits: handbook.yaml, department.yaml, cards.yaml and
chapter front matter. Each field's docstring is the documentation (see ``docs/settings.md``).

Validation never stops at the first problem: :func:`validate` returns every one of them with the
file and line it comes from, and a suggestion for unknown keys ("colour: did you mean colors?").
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
import reprlib
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
)

from .errors import Problem
from .plain import expose
from .yamlfile import Loc, YamlDoc

_HEX = re.compile(r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")
_LANG = re.compile(r"^[a-zA-Z]{2,3}(?:-[A-Za-z0-9]{2,8})*$")
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*[x×]\s*(\d+(?:\.\d+)?)\s*mm\s*$")
SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*\Z")  # \Z: "audit\n" is not a slug


def _color(value: str) -> str:
    if not _HEX.match(value):
        raise ValueError(f"'{value}' is not a colour; write it as #rrggbb, e.g. \"#8b1a1a\"")
    return value.lower()


# ISO 639-1: the two-letter language codes a language tag starts with.
ISO_639_1 = frozenset(re.findall(r"[a-z]+", """
aa ab ae af ak am an ar as av ay az ba be bg bi bm bn bo br bs ca ce ch co cr cs cu cv cy da de dv dz ee el en
eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho hr ht hu hy hz ia id ie ig ii ik io is it iu ja
jv ka kg ki kj kk kl km kn ko kr ks ku kv kw ky la lb lg li ln lo lt lu lv mg mh mi mk ml mn mr ms mt my na nb
nd ne ng nl nn no nr nv ny oc oj om or os pa pi pl ps pt qu rm rn ro ru rw sa sc sd se sg si sk sl sm sn so sq
sr ss st su sv sw ta te tg th ti tk tl tn to tr ts tt tw ty ug uk ur uz ve vi vo wa wo xh yi yo za zh zu
"""))
# What people write for a language, and the tag they mean.
LANGUAGE_MISTAKES = {"cn": "zh-CN", "chs": "zh-CN", "cht": "zh-TW", "chinese": "zh-CN", "zh-cn": "zh-CN",
                     "zh_cn": "zh-CN", "zh_tw": "zh-TW", "hk": "zh-HK", "jp": "ja", "kr": "ko",
                     "english": "en", "gb": "en-GB", "us": "en-US", "中文": "zh-CN",
                     "简体中文": "zh-Hans", "繁體中文": "zh-Hant", "繁体中文": "zh-Hant"}


def _language(value: str) -> str:
    value = value.strip()
    key = value.lower()
    if key in LANGUAGE_MISTAKES and LANGUAGE_MISTAKES[key] != value:
        # Only names that are no language code are here ("tw" is Twi, "uk" Ukrainian: both stay valid).
        raise ValueError(f"'{value}' is not a language tag; did you mean {LANGUAGE_MISTAKES[key]}? "
                         "(Chinese: zh-CN or zh-Hans simplified, zh-TW or zh-Hant traditional)")
    if not _LANG.match(value) or value.split("-")[0].lower() not in ISO_639_1 | {"fil", "yue", "haw"}:
        raise ValueError(f"'{value}' is not a language tag; use e.g. en, en-GB, zh-CN (simplified Chinese), "
                         "zh-TW (traditional Chinese)")
    return value


def _non_empty(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be empty")
    return value.strip()


def _page_label(value: str) -> str:
    if value.count("{n}") != 1:
        raise ValueError(f"'{value}' must hold {{n}} once, where the page number goes, e.g. \"第 {{n}} 页\"")
    return value


def _slug(value: str) -> str:
    if not SLUG.match(value):
        raise ValueError(f"'{value}' is not a slug; use lowercase letters, digits and hyphens, e.g. finance-office")
    return value


Slug = Annotated[str, AfterValidator(_slug)]
Color = Annotated[str, AfterValidator(_color)]
PageLabel = Annotated[str, AfterValidator(_page_label)]
Language = Annotated[str, AfterValidator(_language)]
Text = Annotated[str, AfterValidator(_non_empty)]

PAGE_SIZES: dict[str, tuple[float, float]] = {"a5": (148, 210), "a4": (210, 297), "letter": (215.9, 279.4),
                                              "half-letter": (139.7, 215.9)}
PageSize = Literal["a5", "a4", "letter", "half-letter"]
PdfVariant = Literal["pdf/a-3b", "pdf/a-3a", "pdf/ua-1", "pdf/x-4"]
ChapterNumbers = Literal["1", "第一章", "一、", "none"]
ExternalLinks = Literal["after", "footnote", "none"]
SHEET_SIZES: dict[str, tuple[float, float]] = {"a4": (210, 297), "letter": (215.9, 279.4)}
CARD_SIZES: dict[str, tuple[float, float]] = {"id-1": (85.6, 53.98), "business": (85, 55), "a7": (74, 105)}


def card_size_mm(value: str) -> tuple[float, float]:
    """``id-1`` | ``business`` | ``a7`` | ``"W x H mm"`` -> (width, height) in mm."""
    key = value.strip().lower()
    if key in CARD_SIZES:
        return CARD_SIZES[key]
    m = _SIZE.match(key)
    if not m:
        raise ValueError(f"'{value}' is not a card size; use id-1, business, a7 or \"90 x 50 mm\"")
    w, h = float(m[1]), float(m[2])
    if not (20 <= w <= 200 and 20 <= h <= 200):
        raise ValueError(f"'{value}': a card must be between 20 and 200 mm on each side")
    return w, h


def _card_size(value: str) -> str:
    card_size_mm(value)
    return value.strip().lower()


CardSize = Annotated[str, AfterValidator(_card_size)]


class Strict(BaseModel):
    """Unknown keys are errors (a typo would otherwise be silently ignored).

    The fields' docstrings are read only for docs/settings.md (:func:`field_docs`): reading them
    when the models are made would read and parse this file's source in every build."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Colors(Strict):
    primary: Color = "#7a1f1f"
    """Cover, headings and card fronts."""
    accent: Color = "#d6a64f"
    """Rules and the reminder box's border; text on primary (the department on the cover, card fronts)."""
    text: Color = "#1f1f1f"
    """Body text."""
    muted: Color = "#6b6b6b"
    """Running headers, page numbers, captions."""
    rule: Color = "#d8d2c4"
    """Thin lines in tables and notes."""
    tint: Color = "#f6f1e6"
    """The background of the summary box and the contact box."""
    paper: Color = "#ffffff"
    """Text on coloured backgrounds; the paper."""
    marks: Color = "#000000"
    """Cut and crop marks."""


class ColorOverrides(Strict):
    """A department's colours: any of the project's, each optional; a typo is an error."""

    primary: Color | None = None
    accent: Color | None = None
    text: Color | None = None
    muted: Color | None = None
    rule: Color | None = None
    tint: Color | None = None
    paper: Color | None = None
    marks: Color | None = None


@expose("line", "tel")  # handbook.contact.line(labels.hotline), handbook.contact.tel() in templates
class Contact(Strict):
    hotline: str | None = None
    """Telephone number for reports."""
    email: str | None = None
    """E-mail address for reports."""
    address: str | None = None
    """Postal or office address."""
    web: str | None = None
    """Web address, printed as text (never fetched)."""
    note: str | None = None
    """One sentence printed with the contact details."""

    def line(self, hotline: str = "Hotline") -> str:
        """The contact details as one line: ``Hotline 12388 · integrity@example.org`` (``hotline``:
        the word before the number, ``labels.hotline`` in templates: 举报电话 in Chinese)."""
        parts = []
        if self.hotline:
            parts.append(f"{hotline} {self.hotline}")
        for value in (self.email, self.web, self.address):
            if value:
                parts.append(value)
        return " · ".join(parts)

    def tel(self) -> str:
        """The hotline as a ``tel:`` link (RFC 3966): ``12388 ext. 204`` -> ``tel:12388;ext=204``,
        ``12388 转 601`` -> ``tel:12388;ext=601``; empty without a hotline."""
        if not self.hotline:
            return ""
        parts = re.split(r"\s*(?:ext\.?|x|转|分机)\s*", self.hotline, maxsplit=1, flags=re.I)
        main = parts[0]
        extension = parts[1] if len(parts) > 1 else ""
        number = ("+" if main.strip().startswith("+") else "") + re.sub(r"\D", "", main)
        ext = re.sub(r"\D", "", extension)
        return f"tel:{number}" + (f";ext={ext}" if ext else "")


class Limits(Strict):
    """What one build may use, against runaway input. Only handbook.yaml sets them (a department
    cannot raise them); raise them on purpose, e.g. for a 900-page compilation."""

    pages: Annotated[int, Field(ge=1)] = 500
    """Pages per document; a longer one stops the build, naming the document."""
    seconds: Annotated[float, Field(gt=0)] = 300.0
    """Seconds per edition: templates and layout."""
    image_megabytes: Annotated[float, Field(gt=0)] = 20.0
    """The largest image file."""
    image_megapixels: Annotated[float, Field(gt=0)] = 40.0
    """The largest image, in millions of pixels (40: about A3 at 600 dpi)."""
    template_seconds: Annotated[float, Field(gt=0)] = 60.0
    """Seconds one template may render (with its includes)."""
    template_characters: Annotated[int, Field(ge=1000)] = 32_000_000
    """Characters one template may write, and the largest value it may make on the way (a list
    item counts 32)."""
    template_steps: Annotated[int, Field(ge=1000)] = 5_000_000
    """Loop steps and filters (1 each), calls (10 each) and macro calls (50 each) one template may make."""


class Settings(Strict):
    """handbook.yaml: the edition's settings. A department may override any of them."""

    title: Text
    """The handbook's title, on the cover and in the PDF metadata."""
    subtitle: str = ""
    """A line under the title."""
    organisation: str = ""
    """Who publishes the handbook."""
    edition: str = ""
    """E.g. "First edition"."""
    date: dt.date
    """Publication date (YYYY-MM-DD); also the PDF's creation date, so builds are reproducible."""
    language: Language = "en"
    """Language tag of the text (hyphenation, PDF /Lang)."""
    author: str = ""
    """PDF author; defaults to the organisation."""
    keywords: list[str] = Field(default_factory=list)
    """PDF keywords."""
    page_size: PageSize = "a5"
    """Handbook page size (a5 and half-letter can be printed as booklets)."""
    colors: Colors = Colors()
    """Theme colours."""
    contact: Contact = Contact()
    """Where readers report problems; printed on the back cover and the title card."""
    print: bool = False
    """Also write handbook-print-shop.pdf: bleed, crop marks, TrimBox and BleedBox."""
    bleed: Annotated[float, Field(ge=0, le=10)] = 3.0
    """Print-shop bleed in mm."""
    pdf_variant: PdfVariant | None = None
    """pdf/a-3b (archive), pdf/ua-1 (accessible, tagged), pdf/a-3a (both: PDF/A-3a and PDF/UA-1) or
    pdf/x-4 (print shops)."""
    page_label: PageLabel = "{n}"
    """The page number in the footer of chapter pages; {n} is the number, e.g. "第 {n} 页"."""
    chapter_numbers: ChapterNumbers = "1"
    """How chapter numbers are printed: "1" (5, 8a), "第一章" (第五章), "一、" (五、) or "none" (not printed)."""
    external_links: ExternalLinks = "after"
    """In print, where a web link's address is shown: "after" the link text, as a "footnote", or "none"."""
    limits: Limits = Limits()
    """Limits against runaway input (see below); handbook.yaml only."""


class ChapterSelection(Strict):
    exclude: list[str] = Field(default_factory=list)
    """Chapter file stems to leave out, e.g. 05-serving-the-overall-situation."""


class Department(Strict):
    """department.yaml: a department's edition. Besides these keys, any handbook.yaml setting."""

    name: Text
    """The department's name, on the cover and the cards."""
    slug: Slug | None = None
    """A URL-safe name (lowercase letters, digits, hyphens) for the output folder and --department,
    where the folder's own name (e.g. 财务部) should not appear in addresses; default: the folder name."""
    logo: str | None = None
    """An image file, relative to the department folder."""
    chapters: ChapterSelection = ChapterSelection()
    """Chapters to leave out."""
    # Settings a department may override (all optional here).
    title: Text | None = None
    subtitle: str | None = None
    organisation: str | None = None
    edition: str | None = None
    date: dt.date | None = None
    language: Language | None = None
    author: str | None = None
    keywords: list[str] | None = None
    page_size: PageSize | None = None
    print: bool | None = None
    bleed: Annotated[float, Field(ge=0, le=10)] | None = None
    pdf_variant: PdfVariant | None = None
    page_label: PageLabel | None = None
    chapter_numbers: ChapterNumbers | None = None
    external_links: ExternalLinks | None = None
    colors: ColorOverrides | None = None
    contact: Contact | None = None


DEPARTMENT_ONLY = ("name", "slug", "logo", "chapters")


class CardSpec(Strict):
    front: Text
    """Markdown for the card's front."""
    back: Text
    """Markdown for the card's back."""


class CardsFile(Strict):
    """content/cards.yaml: the deck of pocket reminder cards."""

    size: CardSize = "id-1"
    """id-1 (85.6 x 53.98 mm) | business (85 x 55 mm) | a7 (74 x 105 mm) | "W x H mm"."""
    sheet: Literal["a4", "letter"] = "a4"
    """Paper for the office duplex sheets."""
    duplex: Literal["long-edge", "short-edge"] = "long-edge"
    """How the printer flips the sheet."""
    from_chapters: bool = True
    """A title card, then one card per numbered chapter."""
    cards: list[CardSpec] = Field(default_factory=list)
    """Extra cards, appended in this order."""


class DepartmentCardsFile(Strict):
    """departments/<slug>/content/cards.yaml: appended cards; may change size, sheet or duplex."""

    size: CardSize | None = None
    sheet: Literal["a4", "letter"] | None = None
    duplex: Literal["long-edge", "short-edge"] | None = None
    cards: list[CardSpec] = Field(default_factory=list)


class FrontMatter(Strict):
    """The YAML block at the top of a chapter, between two ``---`` lines."""

    title: str = ""
    """The chapter's title; without it, the file's first heading (printed once), else the file's name."""
    short_title: str | None = None
    """For the running header; defaults to the title."""
    summary: str = ""
    """One sentence, shown in the box at the chapter's start."""
    reminder: str = ""
    """The line a reader should carry away; printed on the chapter's card."""
    numbered: bool = True
    """False for parts that are not one of the numbered points (introduction, closing)."""


M = TypeVar("M", bound=BaseModel)

_SHORT = reprlib.Repr()
_SHORT.maxlevel, _SHORT.maxstring, _SHORT.maxother = 2, 60, 40
_SHORT.maxdict = _SHORT.maxlist = _SHORT.maxtuple = _SHORT.maxset = 4


def _shown(value: Any) -> str:
    """A value as the user wrote it, cut short (a YAML alias can expand to something huge)."""
    return _SHORT.repr(value)


def _model_at(model: type[BaseModel], loc: Loc) -> type[BaseModel] | None:
    """The model class that owns the key at ``loc`` (for suggestions)."""
    current: Any = model
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        field = getattr(current, "model_fields", {}).get(part)
        if field is None:
            return None
        ann = field.annotation
        candidates = [ann, *getattr(ann, "__args__", ())]
        nxt = None
        for c in candidates:
            for sub in (c, *getattr(c, "__args__", ())):
                if isinstance(sub, type) and issubclass(sub, BaseModel):
                    nxt = sub
        if nxt is None:
            return None
        current = nxt
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _message(err: dict[str, Any], model: type[BaseModel], extra_keys: tuple[str, ...] = ()) -> str:
    loc = tuple(err["loc"])
    name = ".".join(str(p) for p in loc)
    kind = err["type"]
    if kind == "extra_forbidden":
        owner = _model_at(model, loc)
        valid = [*(owner.model_fields if owner else ()), *(extra_keys if len(loc) == 1 else ())]
        close = difflib.get_close_matches(str(loc[-1]), valid, n=1, cutoff=0.6)
        hint = f"did you mean {close[0]}?" if close else f"valid keys: {', '.join(sorted(valid))}"
        return f"{name}: unknown key; {hint}"
    if kind == "missing":
        return f"{name}: required, but missing"
    if err.get("input", "") is None and kind not in ("model_type", "dict_type"):
        owner = _model_at(model, loc)
        field = owner.model_fields.get(str(loc[-1])) if owner else None
        if field is not None and field.is_required():
            return f"{name}: required, but empty"
        return f"{name}: empty; write a value or remove the line"
    if kind == "literal_error":
        expected = err.get("ctx", {}).get("expected", "")
        return f"{name}: got {_shown(err['input'])}; expected {expected}"
    if kind == "value_error":
        return f"{name}: {err['ctx']['error']}"
    if kind in ("date_from_datetime_parsing", "date_parsing", "date_type"):
        return f"{name}: {_shown(err['input'])} is not a date; write YYYY-MM-DD"
    if kind == "model_type" or kind == "dict_type":
        return f"{name}: expected a group of 'key: value' settings, got {type(err['input']).__name__}"
    return f"{name}: {err['msg'].lower()} (got {_shown(err.get('input'))})"


def validate(doc: YamlDoc, model: type[M], data: Any = None) -> tuple[M | None, list[Problem]]:
    """Validate ``doc`` against ``model``; every problem gets the doc's path and a line."""
    raw = doc.data if data is None else data
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        return None, [doc.problem((), f"expected 'key: value' settings, got {type(raw).__name__}")]
    try:
        return model.model_validate(raw), []
    except ValidationError as exc:
        problems = [doc.problem(tuple(e["loc"]), _message(dict(e), model)) for e in exc.errors()]
        return None, problems


def merged_settings(base: Settings, dept: Department) -> Settings:
    """The department's overrides applied on top of the project's settings (colours key by key)."""
    update: dict[str, Any] = {}
    for key in Settings.model_fields:
        value = getattr(dept, key, None)
        if value is None:
            continue
        if key == "colors":
            value = base.colors.model_copy(update=value.model_dump(exclude_none=True))
        update[key] = value
    return base.model_copy(update=update)


def _type_name(annotation: Any) -> str:
    if isinstance(annotation, type):
        return "group of keys" if issubclass(annotation, BaseModel) else annotation.__name__
    text = str(annotation).replace("typing.", "").replace("datetime.date", "date")
    text = re.sub(r"Annotated\[(\w+), [^\]]*\]", r"\1", text)
    text = re.sub(r"<class '[\w.]*?(\w+)'>", r"\1", text)
    text = re.sub(r"Literal\[([^\]]*)\]", lambda m: m[1].replace(", ", " or "), text)
    text = re.sub(r"\b(?:handbook\.config|__main__)\.", "", text)
    return text.replace(" | None", " (optional)").replace("|", "or")


def field_docs(model: type[BaseModel]) -> dict[str, str]:
    """The docstring under each field of ``model`` and of the models it extends (the source's text)."""
    import ast
    import inspect
    import textwrap

    docs: dict[str, str] = {}
    for klass in reversed(model.__mro__):
        if not (isinstance(klass, type) and issubclass(klass, BaseModel)) or klass is BaseModel:
            continue
        body = ast.parse(textwrap.dedent(inspect.getsource(klass))).body[0]
        assert isinstance(body, ast.ClassDef)
        for stmt, after in zip(body.body, body.body[1:], strict=False):
            if (isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name) and isinstance(after, ast.Expr)
                    and isinstance(after.value, ast.Constant) and isinstance(after.value.value, str)):
                docs[stmt.target.id] = inspect.cleandoc(after.value.value)
    return docs


def reference() -> str:
    """docs/settings.md: every file's keys with their types, defaults and docstrings."""
    sections: list[tuple[str, type[BaseModel]]] = [
        ("handbook.yaml", Settings),
        ("colors (in handbook.yaml and department.yaml)", Colors),
        ("contact (in handbook.yaml and department.yaml)", Contact),
        ("limits (in handbook.yaml only)", Limits),
        ("department.yaml (besides any handbook.yaml setting)", Department),
        ("content/cards.yaml", CardsFile),
        ("departments/<slug>/content/cards.yaml", DepartmentCardsFile),
        ("a card in cards:", CardSpec),
        ("chapter front matter", FrontMatter),
    ]
    out = ["# Settings reference", "",
           "Generated from `handbook/config.py` (`python -m handbook.config > docs/settings.md`).",
           "Unknown keys are errors, with the closest valid key suggested.", ""]
    for title, model in sections:
        out += [f"## {title}", "", "| key | type | default | meaning |", "|---|---|---|---|"]
        docs = field_docs(model)
        for name, field in model.model_fields.items():
            if model is Department and name in Settings.model_fields:
                continue
            default = "required" if field.is_required() else repr(field.get_default(call_default_factory=True))
            if isinstance(field.get_default(call_default_factory=True), BaseModel):
                default = "see below" if model is Settings else "—"
            doc = (field.description or docs.get(name, "")).replace("|", "\\|").replace("\n", " ")
            out.append(f"| `{name}` | {_type_name(field.annotation)} | {default} | {doc} |")
        out.append("")
    return "\n".join(out)


if __name__ == "__main__":  # pragma: no cover
    print(reference(), end="")
