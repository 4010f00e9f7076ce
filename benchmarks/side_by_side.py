#!/usr/bin/env python3
"""Cold processes, side by side: `handbook build` against WeasyPrint alone on the same print HTML.

    .venv/bin/python benchmarks/side_by_side.py [--reps 5] [--curve 25,100,400,900] [--skip-curve]

Every figure runs both sides as fresh processes, interleaved (A, B, A, B...), so a busy machine slows
both alike; it prints the median, the spread (min-max) and the ratio of medians, the machine's load
before and after, and a Markdown table for benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from large import make_large
from run import make_project

BIN = Path(sys.executable).parent
HANDBOOK = str(BIN / "handbook")
# The checkout this script is in, not the one the virtual environment's `handbook` was installed
# from (a git worktree shares the main checkout's environment).
os.environ["PYTHONPATH"] = os.pathsep.join(
    p for p in (str(Path(__file__).resolve().parent.parent), os.environ.get("PYTHONPATH")) if p)
ALONE = r"""
import sys
from weasyprint import HTML
for name in sys.argv[1:]:
    HTML(filename=name).write_pdf(name + ".alone.pdf")
"""


CPU: list[float] = []  # CPU seconds (user + system) of every command timed, in order


def timed(cmd: list[str]) -> tuple[float, float]:
    """Wall seconds and the peak resident MB of the largest process it ran (workers included);
    its CPU seconds go to ``CPU`` (less sensitive than wall time to other work on the machine)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    CPU.append(usage.ru_utime + usage.ru_stime)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{proc.stderr.read().decode() if proc.stderr else ''}")
    return elapsed, usage.ru_maxrss / 1024


def build_cmd(project: Path, out: Path, *extra: str) -> list[str]:
    return [HANDBOOK, "--project", str(project), "build", "--out", str(out), "--quiet", *extra]


def alone_cmd(files: list[Path]) -> list[str]:
    return [sys.executable, "-c", ALONE, *map(str, files)]


def spread(xs: list[float]) -> str:
    return f"{statistics.median(xs):.2f} s ({min(xs):.2f}-{max(xs):.2f})"


def side_by_side(reps: int, a: list[str], b: list[str], before_a: list[str] | None = None
                 ) -> tuple[list[float], list[float], float, float]:
    ta, tb, ma, mb = [], [], 0.0, 0.0
    for _ in range(reps):
        if before_a:
            subprocess.run(before_a, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        t, m = timed(a)
        ta.append(t)
        ma = max(ma, m)
        t, m = timed(b)
        tb.append(t)
        mb = max(mb, m)
    return ta, tb, ma, mb


def pages_of(pdf: Path) -> int:
    from pypdf import PdfReader

    return len(PdfReader(pdf).pages)


def row(rows: list[tuple[str, ...]], *cells: str) -> None:
    """A table row, with the machine's load average (1 and 5 minutes) when it was measured."""
    load = os.getloadavg()
    cells = (*cells, f"{load[0]:.1f} / {load[1]:.1f}")
    rows.append(cells)
    print("| " + " | ".join(cells) + " |", flush=True)


def ratio(a: list[float], b: list[float]) -> str:
    lo = min(x / y for x, y in zip(a, b, strict=True))
    hi = max(x / y for x, y in zip(a, b, strict=True))
    return f"{statistics.median(a) / statistics.median(b):.2f}x (pairs {lo:.2f}-{hi:.2f})"


def profile_build(project: Path, out: Path) -> list[tuple[float, str]]:
    """Self time per group over one forced build of ``project`` in this process."""
    from handbook.builder import BuildOptions, build

    profiler = cProfile.Profile()
    profiler.enable()
    build(project, BuildOptions(out=out, force=True, jobs=1, only=("handbook",)))
    profiler.disable()
    stats = pstats.Stats(profiler, stream=io.StringIO())
    groups: dict[str, float] = {}
    rules = [("weasyprint/css", "WeasyPrint's CSS cascade"), ("weasyprint/layout", "WeasyPrint layout"),
             ("weasyprint/text", "text shaping (Pango)"), ("weasyprint/draw", "drawing"),
             ("weasyprint/pdf", "writing the PDF (incl. font subsetting)"), ("pydyf", "writing the PDF (pydyf)"),
             ("fontTools", "fontTools"), ("tinyhtml5", "parsing HTML and CSS"), ("tinycss2", "parsing HTML and CSS"),
             ("cssselect2", "parsing HTML and CSS"), ("weasyprint", "WeasyPrint: boxes, HTML, other"),
             ("zlib", "compression"), ("/handbook/", "this project's code"), ("jinja2", "Jinja"),
             ("markdown_it", "Markdown"), ("pydantic", "settings (pydantic)"), ("yaml", "settings (YAML)")]
    table = stats.stats  # type: ignore[attr-defined]

    def group_of(func: tuple[str, int, str], depth: int = 0) -> str:
        """The group of a function's file; the standard library and built-ins count for the
        package that called them (the caller that spent the most time in them)."""
        filename = func[0]
        found = next((name for key, name in rules if key in filename), None)
        if found:
            return found
        if "zlib" in func[2]:
            return "compression (zlib)"
        callers = table.get(func, (0, 0, 0, 0, {}))[4]
        if depth > 6 or not callers:
            return "Python (start-up, imports)"
        caller = max(callers.items(), key=lambda item: item[1][3] if isinstance(item[1], tuple) else 0)[0]
        return group_of(caller, depth + 1)

    total = 0.0
    for func, (_, _, tt, _, _) in table.items():
        total += tt
        group = group_of(func)
        groups[group] = groups.get(group, 0.0) + tt
    return sorted(((100 * t / total, g) for g, t in groups.items()), reverse=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--big-reps", type=int, default=3)
    parser.add_argument("--curve", default="25,100,400,900")
    parser.add_argument("--skip-curve", action="store_true")
    parser.add_argument("--only", default="", help="comma-separated figure numbers")
    args = parser.parse_args()
    only = set(args.only.split(",")) - {""}

    def want(n: int) -> bool:
        return not only or str(n) in only

    load = os.getloadavg()
    print(f"date {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; {os.cpu_count()} CPUs; "
          f"load before {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")
    # An installed package has its bytecode; a checkout run with PYTHONDONTWRITEBYTECODE would
    # compile this package's modules in every cold process (about 0.06 s of CPU) and WeasyPrint's not.
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(Path(__file__).resolve().parent.parent / "handbook")],
                   check=True)
    rows: list[tuple[str, ...]] = []
    print("| figure | ours | theirs / other | ratio (spread) | target | load 1 / 5 min |\n|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory(prefix="handbook-side-") as tmp:
        work = Path(tmp)
        if want(1):  # one edition, handbook + cards
            project = make_project(work / "one", 0)
            out = work / "one-out"
            subprocess.run(build_cmd(project, out, "--save-html", "--force"), check=True)
            html = sorted(out.glob("*.print.html"))
            del CPU[:]
            a, b, _, _ = side_by_side(args.reps, build_cmd(project, out, "--force", "--jobs", "1"), alone_cmd(html))
            row(rows, "1. one edition, cold: `handbook build --force` / a Python process running WeasyPrint alone "
                "on the saved print HTML (handbook + 2 card PDFs)", spread(a), spread(b), ratio(a, b), "<= 1.10x")
            ca, cb = CPU[0::2], CPU[1::2]
            row(rows, "1b. the same, CPU seconds (user + system)", spread(ca), spread(cb), ratio(ca, cb), "")
        if want(2):
            times = [timed([HANDBOOK, "--help"])[0] for _ in range(7)]
            row(rows, "2. `handbook --help`", spread(times), "", f"best {min(times):.3f} s", "<= 0.15 s")
        big = make_large(work / "big", 40)
        big_out = work / "big-out"
        subprocess.run(build_cmd(big, big_out, "--save-html", "--force", "--only", "handbook"), check=True)
        pages = pages_of(big_out / "handbook.pdf")
        if want(3):
            del CPU[:]
            a, b, ma, mb = side_by_side(args.big_reps, build_cmd(big, big_out, "--force", "--only", "handbook"),
                                        alone_cmd([big_out / "handbook.print.html"]))
            row(rows, f"3. 40 chapters, {pages} pages: `handbook build` / WeasyPrint alone on its print HTML "
                f"(peak RSS {ma:.0f} MB / {mb:.0f} MB)", spread(a), spread(b), ratio(a, b), "<= 0.65x")
            ca, cb = CPU[0::2], CPU[1::2]
            row(rows, "3b. the same, CPU seconds", spread(ca), spread(cb), ratio(ca, cb), "")
        if want(4):  # an edit inside one chapter, then a build; against a forced full build
            chapter = big / "content" / "17-kapitel.md"
            original = chapter.read_text(encoding="utf-8")
            flip = [0]

            def edit() -> None:
                flip[0] += 1
                chapter.write_text(original.replace("## Abschnitt 1", f"## Abschnitt 1 (Fassung {flip[0]})", 1),
                                   encoding="utf-8")

            ta, tb = [], []
            for _ in range(args.big_reps):
                edit()
                ta.append(timed(build_cmd(big, big_out, "--only", "handbook"))[0])
                tb.append(timed(build_cmd(big, big_out, "--force", "--only", "handbook"))[0])
            chapter.write_text(original, encoding="utf-8")
            row(rows, "4. 40 chapters: a word changed in chapter 17, then `handbook build` / a full build",
                spread(ta), spread(tb), ratio(ta, tb), "<= 0.35x")
        for number, kind, label, target in ((5, "tables", "tables", "<= 1.5x"),
                                            (12, "wide-tables", "six-column tables", "report")):
            if want(number):  # tables (12: six columns, hyphenated, narrow) vs prose, per page
                tables = make_large(work / kind, 12, kind)
                prose = make_large(work / "prose", 12, "prose")
                a, b, _, _ = side_by_side(args.big_reps,
                                          build_cmd(tables, work / "t-out", "--force", "--only", "handbook"),
                                          build_cmd(prose, work / "p-out", "--force", "--only", "handbook"))
                pt, pp = pages_of(work / "t-out" / "handbook.pdf"), pages_of(work / "p-out" / "handbook.pdf")
                per_t, per_p = [x / pt for x in a], [x / pp for x in b]
                row(rows, f"{number}. per page: {label} ({pt} pages) / prose ({pp} pages)",
                    f"{1000 * statistics.median(per_t):.0f} ms/page",
                    f"{1000 * statistics.median(per_p):.0f} ms/page", ratio(per_t, per_p), target)
        if want(6):  # many editions: jobs 1 vs jobs 2; no-op vs full
            p16 = make_project(work / "p16", 15)
            o16 = work / "p16-out"
            t1, t2, n, f2 = [], [], [], []
            peak2 = 0.0
            for _ in range(2):
                t1.append(timed(build_cmd(p16, o16, "--force", "--jobs", "1"))[0])
                t, m = timed(build_cmd(p16, o16, "--force", "--jobs", "2"))
                t2.append(t)
                f2.append(t)
                peak2 = max(peak2, m)
                n.append(timed(build_cmd(p16, o16, "--jobs", "2"))[0])
            row(rows, "6. 16 editions: `--jobs 1` / `--jobs 2`", spread(t1), spread(t2), ratio(t1, t2), ">= 1.7x")
            row(rows, "7. 16 editions: no-change build / full build (`--jobs 2`)", spread(n), spread(f2),
                f"{100 * statistics.median(n) / statistics.median(f2):.1f} %", "<= 5 %")
            row(rows, "8. peak RSS of a worker, 16 editions `--jobs 2`", f"{peak2:.0f} MB", "", "", "<= 250 MB")
        if want(9) and not args.skip_curve:
            for target in (int(x) for x in args.curve.split(",")):
                chapters = max(1, round(target / (pages / 40)))
                p = make_large(work / f"c{target}", chapters)
                o = work / f"c{target}-out"
                # One document (a first build in one worker), then the same book again in two workers:
                # by parts from 12 chapters, with the page map the first build kept.
                for jobs, label in (("1", f"9. cost curve: {chapters} chapters"),
                                    ("2", "9b. the same book again, `--jobs 2` (by parts from 12 chapters)")):
                    t, m = timed(build_cmd(p, o, "--force", "--only", "handbook", "--jobs", jobs))
                    n_pages = pages_of(o / "handbook.pdf")
                    cpu = CPU[-1]
                    row(rows, f"{label}, {n_pages} pages", f"{t:.1f} s ({cpu:.1f} s CPU), peak {m:.0f} MB",
                        f"{1000 * t / n_pages:.0f} ms/page ({1000 * cpu / n_pages:.0f} ms CPU), "
                        f"{1024 * m / n_pages:.0f} KB/page", "", "report")
                shutil.rmtree(p)
                shutil.rmtree(o)
        if want(11):  # 200 generated departments and the organisation-wide edition
            p200 = make_project(work / "p200", 200)
            t, m = timed(build_cmd(p200, work / "p200-out", "--jobs", "2"))
            handbooks = len(list((work / "p200-out").rglob("handbook.pdf")))
            pdfs = len(list((work / "p200-out").rglob("*.pdf")))
            row(rows, "11. 200 departments (+ the organisation-wide edition), `--jobs 2`",
                f"{t:.0f} s, {handbooks} handbooks, {pdfs} PDFs", f"peak RSS of a process {m:.0f} MB", "", "all build")
            shutil.rmtree(p200)
            shutil.rmtree(work / "p200-out")
        if want(10):
            print("\n| share of self time | where |\n|---|---|")
            for share, group in profile_build(big, work / "prof-out")[:12]:
                print(f"| {share:.1f} % | {group} |")
    load = os.getloadavg()
    print(f"load after {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}; "
          f"this process's children peak {resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
