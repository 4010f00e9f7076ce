#!/usr/bin/env python3
"""How fast, and in how much memory, the sandbox stops a template that grows without bound.

    .venv/bin/python benchmarks/template_limits.py [SLUG...]

Each template of the test table (tests/test_sandbox.py, GROWTH) is rendered alone in a fresh
process under a 1.5 GB address-space limit; the table shows the wall time of the render, the
process's peak resident memory, and what stopped it. A clean template is the baseline.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from conftest import make_project  # noqa: E402
from test_sandbox import GROWTH, _cover  # noqa: E402

CHILD = """
import json, resource, sys, time
resource.setrlimit(resource.RLIMIT_AS, (1500 * 1024 * 1024, 1500 * 1024 * 1024))
from pathlib import Path
from handbook.errors import HandbookError
from handbook.project import load_project
from handbook.render import handbook_html
root, slug = Path(sys.argv[1]), sys.argv[2]
edition = next(e for e in load_project(root, only=[slug], organisation=False).editions)
start = time.perf_counter()
try:
    handbook_html(edition, target="print", out_dir=root / "dist")
    said = "rendered"
except HandbookError as exc:
    said = str(exc.problems[0]).split(": ", 2)[-1][:70] if exc.problems else exc.message
seconds = time.perf_counter() - start
print(json.dumps({"seconds": seconds, "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "said": said}))
"""


def main() -> None:
    chosen = sys.argv[1:] or list(GROWTH)
    with tempfile.TemporaryDirectory() as tmp:
        departments = {"baseline": {"department.yaml": "name: Baseline\n"}}
        for slug in chosen:
            departments[slug] = {"department.yaml": f"name: Team {slug}\n",
                                 "templates": {"handbook.html.j2": _cover(GROWTH[slug])}}
        root = make_project(Path(tmp) / "project", {"departments": departments})
        print("| template | render | peak RSS | stopped by |\n|---|---|---|---|")
        for slug in ["baseline", *chosen]:
            out = subprocess.run([sys.executable, "-c", CHILD, str(root), slug], capture_output=True, text=True,
                                 timeout=600)
            if out.returncode:
                print(f"| {slug} | | | process failed: {out.stderr.strip().splitlines()[-1:]} |")
                continue
            row = json.loads(out.stdout.strip().splitlines()[-1])
            print(f"| {slug} | {row['seconds']:.2f} s | {row['peak_mb']:.0f} MB | {row['said']} |", flush=True)


if __name__ == "__main__":
    main()
