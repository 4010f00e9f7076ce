#!/usr/bin/env python3
"""``handbook serve``: from a save to the new text on the page, and to the new PDFs and pictures.

    .venv/bin/python benchmarks/serve_latency.py [--saves 7] [--long 1] [--book 40]

A real server (``handbook serve`` in a subprocess, on a free port) previews this repository's
project (``--long N``: every chapter's body N times); each save changes one word of a chapter, and
the times are read from the server's own event stream, as the preview page receives it: the first
state with a new preview (the text) and the first ``ready`` state after it (PDFs and pictures).
Prints the median and the range of each. The tests assert only that these things happen, in this
order; how fast is measured here. ``--book N``: ``large.py``'s book of N chapters instead (real
legal texts; 40 chapters make about 290 pages), rendered by parts from the preview's second build
on; each save adds a word at the start of chapter 17 (the first save after the start renders every
part once with the page map, the next ones only that chapter's part).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from large import make_large
from run import make_project

CHAPTER = "01-establish-the-core-concept.md"


class Events:
    """The server's event stream, one state at a time."""

    def __init__(self, url: str) -> None:
        host, port = url.split("//")[1].rstrip("/").rsplit(":", 1)
        self.connection = http.client.HTTPConnection(host, int(port), timeout=600)
        self.connection.request("GET", "/_/events")
        self.response = self.connection.getresponse()

    def next_state(self) -> dict[str, object]:
        data = None
        while True:
            line = self.response.readline().decode().rstrip("\n")
            if line.startswith("data: "):
                data = line[len("data: "):]
            elif line == "" and data is not None:
                state: dict[str, object] = json.loads(data)
                return state


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--saves", type=int, default=7)
    parser.add_argument("--long", type=int, default=1, help="repeat every chapter's body this many times")
    parser.add_argument("--book", type=int, default=0, help="large.py's book of this many chapters")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="serve-bench-") as tmp:
        if args.book:
            root = make_large(Path(tmp) / "project", args.book, "mixed")
            chapter = root / "content" / "17-kapitel.md"
        else:
            root = make_project(Path(tmp) / "project", 0, args.long)
            chapter = root / "content" / CHAPTER
        command = [sys.executable, "-m", "handbook.cli", "--project", str(root), "serve", "--port", "0"]
        server = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                  env={**os.environ, "PYTHONUNBUFFERED": "1"})
        try:
            assert server.stdout is not None
            url = None
            for line in server.stdout:
                found = re.search(r"at (http://\S+/)", line)
                if found:
                    url = found[1]
                    break
            assert url, "the server did not start"
            events = Events(url)
            state = events.next_state()
            while state["phase"] not in ("ready", "failed"):
                state = events.next_state()
            assert state["phase"] == "ready", state["problems"]
            original = chapter.read_text(encoding="utf-8")
            text_times: list[float] = []
            ready_times: list[float] = []
            for n in range(args.saves):
                shown = state["preview"]
                start = time.perf_counter()
                edited = (original.replace("---\n\n", f"---\n\nÄnderung {n}. ", 1) if args.book
                          else original.replace("the", f"the{n}", 1))
                chapter.write_text(edited, encoding="utf-8")
                while state["preview"] == shown or state["phase"] in ("building", "starting"):
                    state = events.next_state()
                text_times.append(time.perf_counter() - start)
                while state["phase"] not in ("ready", "failed"):
                    state = events.next_state()
                assert state["phase"] == "ready", state["problems"]
                ready_times.append(time.perf_counter() - start)
        finally:
            server.terminate()
            server.wait(30)
    for name, times in (("save -> new text on the page", text_times), ("save -> PDFs and pictures ready", ready_times),
                        ("the same, from the second save on", ready_times[1:])):
        if not times:
            continue
        print(f"{name}: median {statistics.median(times):.2f} s (min {min(times):.2f}, max {max(times):.2f}; "
              f"{len(times)} saves, {os.getloadavg()[0]:.1f} load)")


if __name__ == "__main__":
    main()
