#!/usr/bin/env python3
"""Benchmarks for `handbook build`: each figure a ratio measured side by side in one run.

    .venv/bin/python benchmarks/run.py            # all figures (several minutes)
    .venv/bin/python benchmarks/run.py --quick    # skips the 200-department build

Prints a Markdown table; benchmarks/README.md records the figures and the machine.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
HANDBOOK = str(BIN / "handbook")
PALETTE = ["#1f3a5f", "#2f5233", "#7a1f1f", "#5b2a86", "#8a4b08", "#0f5e5e", "#3d3d3d", "#7b1e4f"]


def make_project(dest: Path, departments: int, long: int = 1) -> Path:
    """The repository's project with ``departments`` generated departments; ``long`` repeats each body."""
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    for part in ("handbook.yaml", "content", "templates", "styles"):
        src = REPO / part
        (shutil.copytree if src.is_dir() else shutil.copy)(src, dest / part)
    if long > 1:
        for md in (dest / "content").glob("*.md"):
            text = md.read_text(encoding="utf-8")
            head, sep, body = text.partition("\n---\n")
            md.write_text(head + sep + "\n\n".join([body.strip()] * long) + "\n", encoding="utf-8")
    for i in range(1, departments + 1):
        folder = dest / "departments" / f"unit-{i:03d}"
        folder.mkdir(parents=True)
        (folder / "department.yaml").write_text(
            f'name: Unit {i:03d}\ncolors: {{primary: "{PALETTE[i % len(PALETTE)]}"}}\n'
            f'contact: {{hotline: "12388 ext. {100 + i}"}}\n', encoding="utf-8")
    return dest


def run(cmd: list[str], cwd: Path | None = None) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def best(n: int, fn) -> float:  # type: ignore[no-untyped-def]
    return min(fn() for _ in range(n))


def figure_single_edition(work: Path) -> tuple[float, float]:
    """handbook build (one edition, handbook + cards) vs WeasyPrint alone on the saved print HTML."""
    from weasyprint import HTML

    from handbook.builder import BuildOptions, build

    project = make_project(work / "single", 0)
    out = work / "single-out"
    build(project, BuildOptions(out=out, save_html=True, force=True))  # warm-up, and the print HTML
    names = ["handbook", "cards", "cards-print-shop"]

    def ours() -> float:
        start = time.perf_counter()
        report = build(project, BuildOptions(out=out, force=True, jobs=1))
        assert report.ok
        return time.perf_counter() - start

    def alone() -> float:
        start = time.perf_counter()
        for name in names:
            HTML(filename=str(out / f"{name}.print.html")).write_pdf(str(work / f"{name}.alone.pdf"))
        return time.perf_counter() - start

    times_ours, times_alone = [], []
    for _ in range(5):  # interleaved, so both see the same machine load
        times_ours.append(ours())
        times_alone.append(alone())
    return statistics.median(times_ours), statistics.median(times_alone)


def figure_parallel(project: Path, out: Path) -> tuple[float, float, float]:
    """--jobs 1 vs --jobs 2 (forced), then a no-change build."""
    t1 = run([HANDBOOK, "--project", str(project), "build", "--out", str(out), "--force", "--jobs", "1"])
    t2 = run([HANDBOOK, "--project", str(project), "build", "--out", str(out), "--force", "--jobs", "2"])
    noop = best(3, lambda: run([HANDBOOK, "--project", str(project), "build", "--out", str(out), "--jobs", "2"]))
    return t1, t2, noop


def figure_help() -> float:
    return best(7, lambda: run([HANDBOOK, "--help"]))


def figure_user_pipeline(project: Path, out: Path) -> tuple[float, float]:
    """`handbook build` vs the `weasyprint` command once per saved print HTML (handbook + cards)."""
    run([HANDBOOK, "--project", str(project), "build", "--out", str(out), "--force", "--save-html"])
    files = sorted(out.rglob("*.print.html"))
    start = time.perf_counter()
    for f in files:
        subprocess.run([str(BIN / "weasyprint"), str(f), str(f.with_suffix(".alone.pdf"))], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    theirs = time.perf_counter() - start
    ours = run([HANDBOOK, "--project", str(project), "build", "--out", str(out), "--force", "--jobs", "1"])
    return ours, theirs


MEMORY_SCRIPT = r"""
import sys, resource
from pathlib import Path
from handbook.builder import BuildOptions, build_edition
from handbook.project import load_project
from handbook import cache
root, out, n = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
loaded = load_project(root)
edition = loaded.editions[0]
options = BuildOptions(out=out)
pages = None
for i in range(n):
    r = build_edition(edition, out / f"e{i}", options, {"handbook": "k", "cards": "k"})
    assert not r.errors, r.errors
    pages = r.outputs[0].pages
    rss = int(open("/proc/self/statm").read().split()[1]) * 4096 / 1e6
    if i in (0, 9, n // 2, n - 1):
        print(i + 1, round(rss, 1), pages, flush=True)
print("peak", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
"""


def figure_memory(work: Path, editions: int) -> tuple[list[tuple[int, float]], float, int]:
    project = make_project(work / "long", 0, long=10)  # about 60 pages
    out = work / "long-out"
    proc = subprocess.run([sys.executable, "-c", MEMORY_SCRIPT, str(project), str(out), str(editions)],
                          check=True, capture_output=True, text=True)
    samples, peak, pages = [], 0.0, 0
    for line in proc.stdout.splitlines():
        parts = line.split()
        if parts[0] == "peak":
            peak = float(parts[1])
        else:
            samples.append((int(parts[0]), float(parts[1])))
            pages = int(parts[2])
    return samples, peak, pages


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="skip the 200-department build")
    parser.add_argument("--memory-editions", type=int, default=100)
    args = parser.parse_args()
    rows: list[tuple[str, str, str, str]] = []
    with tempfile.TemporaryDirectory(prefix="handbook-bench-") as tmp:
        work = Path(tmp)
        ours, alone = figure_single_edition(work)
        rows.append(("1. one edition: handbook build / WeasyPrint alone on the saved HTML",
                     f"{ours:.2f} s / {alone:.2f} s", f"{ours / alone:.2f}x", "<= 1.10x"))
        project16 = make_project(work / "p16", 15)  # + the organisation-wide edition = 16 editions
        t1, t2, noop = figure_parallel(project16, work / "p16-out")
        rows.append(("2. 16 editions: --jobs 1 / --jobs 2", f"{t1:.1f} s / {t2:.1f} s", f"{t1 / t2:.2f}x",
                     ">= 1.7x"))
        rows.append(("3. no-change build / full build (--jobs 2)", f"{noop:.2f} s / {t2:.1f} s",
                     f"{100 * noop / t2:.1f} %", "<= 5 %"))
        h = figure_help()
        rows.append(("4. handbook --help", f"{h:.3f} s", "", "<= 0.25 s"))
        samples, peak, pages = figure_memory(work, args.memory_editions)
        first10 = next(rss for n, rss in samples if n == 10)
        last = samples[-1][1]
        rows.append((f"5. memory, {pages}-page handbook, {samples[-1][0]} editions in one worker",
                     f"RSS {first10:.0f} MB after 10, {last:.0f} MB after {samples[-1][0]}",
                     f"peak {peak:.0f} MB", "<= 250 MB, flat"))
        size = (work / "p16-out" / "handbook.pdf").stat().st_size
        rows.append(("6. handbook.pdf size", f"{size / 1024:.0f} KB", "", "<= 300 KB"))
        if not args.quick:
            p200 = make_project(work / "p200", 200)
            t200 = run([HANDBOOK, "--project", str(p200), "build", "--out", str(work / "p200-out"), "--jobs", "2"])
            pdfs = len(list((work / "p200-out").rglob("handbook.pdf")))
            rows.append(("7. 200 departments (+ organisation-wide) build completely (--jobs 2)", f"{t200:.0f} s",
                         f"{pdfs} handbooks", "201"))
        ours16, theirs16 = figure_user_pipeline(project16, work / "p16-user")
        rows.append(("8. 16 editions: handbook build --jobs 1 / weasyprint CLI per saved HTML",
                     f"{ours16:.1f} s / {theirs16:.1f} s", f"{ours16 / theirs16:.2f}x", "report"))
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}")
    print("| figure | measured | ratio | target |\n|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
