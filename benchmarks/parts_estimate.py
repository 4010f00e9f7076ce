#!/usr/bin/env python3
"""What rendering a long handbook by parts could gain: an estimate, not the feature.

    .venv/bin/python benchmarks/parts_estimate.py PRINT_HTML [--parts 2,4,8] [--workers 2]

Splits a saved print HTML (``--save-html``) at its chapters (``<article class="chapter"``) into
groups, renders the groups as separate WeasyPrint documents in a pool of forked workers, and prints
the time against one document, plus the time of one chapter alone (what an edit inside one chapter
would cost). Page numbers, the contents and cross-references are NOT carried between the parts
here: this bounds what a part-wise build (render, learn page counts, re-render what moved,
assemble with pypdf) can reach on this machine.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import re
import statistics
import time
from pathlib import Path

ARTICLE = re.compile(r'<article class="chapter"')


def split(html: str, groups: int) -> list[str]:
    starts = [m.start() for m in ARTICLE.finditer(html)]
    if not starts:
        return [html]
    head_end = html.index("<body")
    head_end = html.index(">", head_end) + 1
    head, front = html[:head_end], html[head_end:starts[0]]
    tail_at = html.rfind("</article>") + len("</article>")
    tail = html[tail_at:]
    chapters = [html[a:b] for a, b in zip(starts, [*starts[1:], tail_at], strict=True)]
    size = -(-len(chapters) // groups)
    parts = []
    for g in range(0, len(chapters), size):
        body = "".join(chapters[g:g + size])
        if g == 0:
            body = front + body
        if g + size >= len(chapters):
            body += tail
        else:
            body += "</body></html>"
        parts.append(head + body)
    return parts


_BASE = ""


def render(html: str) -> tuple[int, float]:
    from weasyprint import HTML

    start = time.perf_counter()
    document = HTML(string=html, base_url=_BASE).render()
    document.write_pdf()
    return len(document.pages), time.perf_counter() - start


def main() -> None:
    global _BASE
    parser = argparse.ArgumentParser()
    parser.add_argument("html", type=Path)
    parser.add_argument("--parts", default="2,4,8")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--reps", type=int, default=2)
    args = parser.parse_args()
    html = args.html.read_text(encoding="utf-8")
    _BASE = args.html.resolve().as_uri()
    import weasyprint  # noqa: F401  (imported once, before the workers fork)

    context = multiprocessing.get_context("fork")
    with context.Pool(args.workers) as pool:
        pool.map(render, [split(html, args.workers)[0]] * args.workers)  # warm the workers
        for groups in (int(g) for g in args.parts.split(",")):
            parts = split(html, groups)
            one, partwise = [], []
            for _ in range(args.reps):
                start = time.perf_counter()
                pages = pool.apply(render, (html,))[0]
                one.append(time.perf_counter() - start)
                start = time.perf_counter()
                results = pool.map(render, parts, chunksize=1)
                partwise.append(time.perf_counter() - start)
            print(f"{groups} parts ({sum(p for p, _ in results)} pages; one document {pages}), {args.workers} workers: "
                  f"{statistics.median(partwise):.2f} s / one document {statistics.median(one):.2f} s = "
                  f"{statistics.median(partwise) / statistics.median(one):.2f}x", flush=True)
        chapter = split(html, len(ARTICLE.findall(html)))[len(ARTICLE.findall(html)) // 2]
        alone = [pool.apply(render, (chapter,))[1] for _ in range(args.reps)]
        print(f"one chapter of {len(ARTICLE.findall(html))}: {statistics.median(alone):.2f} s "
              f"({statistics.median(alone) / statistics.median(one):.2f}x one document)")


if __name__ == "__main__":
    main()
