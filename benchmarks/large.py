"""A long handbook made from real public texts, for the benchmarks (see benchmarks/README.md).

The bodies are the real documents of the test projects: German federal law (``bundestag/gesetze``),
the French and Belgian civil codes (``hypered/iterata-md``) and pages of the Sourcegraph handbook,
repeated and varied (each chapter names its number) to make as many chapters as asked, each with a
table built from its own sections and a cross-reference to another chapter (``see p. N``).

    .venv/bin/python benchmarks/large.py DEST [--chapters 40] [--kind mixed|prose|tables|wide-tables]
"""

from __future__ import annotations

import argparse
import re
import shutil
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SOURCES = [
    REPO / "tests/projects/laws/content/01-goldmuenzgesetz.md",
    REPO / "tests/projects/laws/content/02-code-civil.md",
    REPO / "tests/documents/belgian-civil-code-art-6-10.md",
    REPO / "tests/projects/employee-handbook/content/01-How we engage talent outside the US.md",
    REPO / "tests/projects/employee-handbook/content/03-IMPACT-REVIEWS.MD",
]
SETTINGS = """title: Sammlung von Rechtstexten
subtitle: Bundesrecht, Code civil, Personalhandbuch
organisation: Benchmark Office
edition: Benchmark edition
date: 2026-12-01
language: de
author: Benchmark Office
contact: {hotline: "12345", email: bench@example.org}
limits: {pages: 5000, seconds: 3000}
"""


def _body(path: Path) -> str:
    text = path.read_text(encoding="utf-8")
    if text.startswith("---\n"):
        text = text.split("\n---\n", 1)[1]
    text = re.sub(r"\[\^[^\]]+\]:?", "", text)  # footnotes: one definition per chapter would collide
    text = re.sub(r"\]\([^)]*\)", "]", text)  # links elsewhere: plain text here
    return re.sub(r"^# .*$", "", text, flags=re.M).strip()


def _words(text: str) -> list[str]:
    return re.findall(r"[^\W\d_]{4,}", text)


def _table(text: str, rows: int, seed: int, wide: bool = False) -> str:
    """A table of the chapter's own words: number, term, count, note; ``wide``: six columns (the
    theme's narrow columns, hyphenated), two more terms."""
    words = _words(text)
    if wide:
        lines = ["| Nr. | Begriff | Anzahl | Verweis | Gegenbegriff | Anmerkung |", "|--:|---|--:|---|---|---|"]
    else:
        lines = ["| Nr. | Begriff | Anzahl | Anmerkung |", "|--:|---|--:|---|"]
    for i in range(rows):
        w = words[(seed * 7 + i * 13) % len(words)]
        note = " ".join(words[(seed + i * 5 + k) % len(words)] for k in range(6))
        more = (f" {words[(seed * 3 + i * 11) % len(words)]} | {words[(seed * 5 + i * 17) % len(words)]} |"
                if wide else "")
        lines.append(f"| {i + 1} | {w} | {text.count(w)} |{more} {note} |")
    return "\n".join(lines)


def chapter(n: int, total: int, kind: str, repeat: int, links: str = "any") -> str:
    source = SOURCES[n % len(SOURCES)]
    body = _body(source)
    other = (n * 7 + 3) % total
    if links == "back":  # an earlier chapter (none in the first)
        other = other % n if n else n
    parts = []
    for r in range(repeat):
        if kind in ("tables", "wide-tables"):
            parts.append(f"## Abschnitt {r + 1}\n\n" + _table(body, 24, n + r, wide=kind == "wide-tables"))
        else:
            parts.append(f"## Abschnitt {r + 1}\n\n{body}")
            if kind == "mixed" and r % 2 == 0:
                parts.append(_table(body, 12, n + r))
    link = f"Siehe auch [Kapitel {other + 1}]({other + 1:02d}-kapitel.md)." if other != n else ""
    return (f"---\ntitle: Kapitel {n + 1} – {source.stem.split('-', 1)[-1][:40]}\n"
            f"short_title: Kapitel {n + 1}\n---\n\n{link}\n\n" + "\n\n".join(parts) + "\n")


def make_large(dest: Path, chapters: int = 40, kind: str = "mixed", repeat: int = 2, links: str = "any") -> Path:
    """A project of ``chapters`` chapters (about 7 pages each at ``repeat=2``, A5); ``links="back"``:
    each chapter's cross-reference names an earlier chapter (none in the first)."""
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    for part in ("templates", "styles"):
        shutil.copytree(REPO / part, dest / part)
    (dest / "handbook.yaml").write_text(SETTINGS, encoding="utf-8")
    content = dest / "content"
    content.mkdir()
    for n in range(chapters):
        (content / f"{n + 1:02d}-kapitel.md").write_text(chapter(n, chapters, kind, repeat, links), encoding="utf-8")
    return dest


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("dest", type=Path)
    parser.add_argument("--chapters", type=int, default=40)
    parser.add_argument("--kind", choices=("mixed", "prose", "tables", "wide-tables"), default="mixed")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--links", choices=("any", "back"), default="any")
    a = parser.parse_args()
    print(make_large(a.dest, a.chapters, a.kind, a.repeat, a.links))
