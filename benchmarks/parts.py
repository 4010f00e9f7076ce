#!/usr/bin/env python3
"""One long edition by parts, cold processes side by side (see benchmarks/README.md).

    .venv/bin/python benchmarks/parts.py [--reps 3] [--chapters 40] [--jobs 2] [--links any|back]

The 40-chapter book of ``large.py`` (real legal texts). Each repetition runs, interleaved, as fresh
processes:

- WeasyPrint alone rendering the saved print HTML (``HTML(filename).write_pdf()``);
- ``handbook build --parts off``: the edition as one document (``--force``, one worker);
- ``handbook build --parts on --jobs 2``, cold: no part of an earlier build and no page map (the
  parts it rendered twice are printed);
- the same with the last build's page map (``layout.json``) but no part PDFs: every part rendered;
- a word changed inside chapter 17, then ``handbook build --jobs 2`` (the parts of the last build).

Prints the medians with their spread, wall and CPU seconds (user + system, workers included), the
ratios of medians with the spread of the pairs, the load before and after, and the pages and sizes.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from large import make_large
from side_by_side import CPU, alone_cmd, build_cmd, pages_of, ratio, spread, timed


def load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--chapters", type=int, default=40)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--links", choices=("any", "back"), default="any",
                        help="back: each chapter's cross-reference names an earlier chapter")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="handbook-parts-"))
    project = make_large(work / "book", args.chapters, links=args.links)
    one, by_parts = work / "one", work / "parts"
    timed(build_cmd(project, one, "--only", "handbook", "--save-html", "--parts", "off", "--jobs", "1"))
    html = one / "handbook.print.html"
    timed(build_cmd(project, by_parts, "--only", "handbook", "--parts", "on", "--jobs", str(args.jobs)))
    cache = project / ".handbook-cache" / "parts" / "organisation-wide" / "handbook"
    chapter = project / "content" / "17-kapitel.md"
    text = chapter.read_text(encoding="utf-8")
    print(f"load before: {load()}", flush=True)
    names = ("alone", "one document", "parts, cold", "parts, page map kept", "edit in chapter 17")
    wall: dict[str, list[float]] = {n: [] for n in names}
    cpu: dict[str, list[float]] = {n: [] for n in names}
    peak: dict[str, float] = dict.fromkeys(names, 0.0)
    again: list[int] = []  # the parts a cold build rendered twice (or more)
    for rep in range(args.reps):
        runs = {
            "alone": alone_cmd([html]),
            "one document": build_cmd(project, one, "--only", "handbook", "--force", "--parts", "off", "--jobs", "1"),
            "parts, cold": build_cmd(project, by_parts, "--only", "handbook", "--force", "--parts", "on",
                                     "--jobs", str(args.jobs)),
            "parts, page map kept": build_cmd(project, by_parts, "--only", "handbook", "--force", "--parts", "on",
                                              "--jobs", str(args.jobs)),
            "edit in chapter 17": build_cmd(project, by_parts, "--only", "handbook", "--jobs", str(args.jobs)),
        }
        for name, cmd in runs.items():
            if name == "parts, cold":
                shutil.rmtree(cache, ignore_errors=True)
            if name == "edit in chapter 17":
                chapter.write_text(text.replace("Abschnitt 1", f"Abschnitt Eins ({rep})", 1), encoding="utf-8")
            seconds, rss = timed(cmd)
            if name == "parts, cold":
                again.append(len(json.loads((cache / "layout.json").read_text(encoding="utf-8")).get("again", [])))
            wall[name].append(seconds)
            cpu[name].append(CPU[-1])
            peak[name] = max(peak[name], rss)
        print(f"rep {rep + 1}: " + ", ".join(f"{n} {wall[n][-1]:.1f} s" for n in names) + f" (load {load()})",
              flush=True)
    chapter.write_text(text, encoding="utf-8")
    print(f"load after: {load()}")
    print(f"parts rendered twice by a cold build: {again}")
    a, b = one / "handbook.pdf", by_parts / "handbook.pdf"
    print(f"pages: one document {pages_of(a)}, by parts {pages_of(b)}; "
          f"sizes {a.stat().st_size // 1024} KB / {b.stat().st_size // 1024} KB")
    print("| run | wall | CPU | peak RSS |\n|---|---|---|---|")
    for n in names:
        print(f"| {n} | {spread(wall[n])} | {spread(cpu[n])} | {peak[n]:.0f} MB |")
    print("| ratio | wall | CPU |\n|---|---|---|")
    for a, b in (("parts, cold", "alone"), ("parts, page map kept", "alone"), ("one document", "alone"),
                 ("edit in chapter 17", "parts, page map kept"), ("edit in chapter 17", "one document")):
        print(f"| {a} / {b} | {ratio(wall[a], wall[b])} | {ratio(cpu[a], cpu[b])} |")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
