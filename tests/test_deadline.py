"""One time limit (handbook/deadline.py) for templates and WeasyPrint, in the main thread and in
the preview's threads (no signals there): runaway work stops with the limit named.

The limits are set small; nothing here asserts how long anything took.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import chapter, make_project, write_tree

from handbook import deadline
from handbook.errors import RenderError, TimeLimitExpired

LOOP = ("<nav>\n{% for a in range(100000) %}{% for b in range(100000) %}{% for c in range(100000) %}"
        "{% endfor %}{% endfor %}{% endfor %}\n</nav>\n")


def in_a_thread(work: Callable[[], Any]) -> BaseException | None:
    """Run ``work`` in another thread, as the preview does (signals cannot reach it); its exception."""
    caught: list[BaseException] = []

    def run() -> None:
        try:
            work()
        except BaseException as exc:
            caught.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(600)  # only so that a failing test ends: an unstopped loop would run for hours
    assert not thread.is_alive(), "the work was not stopped"
    return caught[0] if caught else None


@pytest.fixture
def looping(tmp_path: Path) -> Path:
    """A project whose contents template loops for ever; the template's own limits out of reach,
    so that the edition's (limits.seconds) is the one that stops it. 3 s: on a loaded machine the
    templates before the loop must reach it first."""
    root = make_project(tmp_path / "project")
    write_tree(root, {"templates": {"partials": {"toc.html.j2": LOOP}}})
    with (root / "handbook.yaml").open("a", encoding="utf-8") as f:
        f.write("limits:\n  seconds: 3\n  template_seconds: 100000\n  template_steps: 1000000000000\n")
    return root


def test_a_template_loop_in_the_main_thread(looping: Path) -> None:
    from handbook.builder import BuildOptions, build

    report = build(looping, BuildOptions(only=("handbook",)))
    text = "\n".join(str(p) for p in report.failed["organisation-wide"])
    assert "stopped after 3 s" in text and "limits.seconds in handbook.yaml" in text, text
    assert "templates/partials/toc.html.j2:2: time ran out" in text, text
    assert not (looping / "dist" / "handbook.pdf").exists()
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


def test_a_template_loop_in_a_thread(looping: Path) -> None:
    """The preview renders in threads: the edition's limit stops the template there too (a timer
    signal cannot; the sandbox's checkpoints do)."""
    from handbook.builder import BuildOptions, build

    reports: list[Any] = []
    assert in_a_thread(lambda: reports.append(build(looping, BuildOptions(only=("handbook",))))) is None
    text = "\n".join(str(p) for p in reports[0].failed["organisation-wide"])
    assert "stopped after 3 s" in text and "limits.seconds in handbook.yaml" in text, text
    assert "templates/partials/toc.html.j2:2: time ran out" in text, text


def _print_html(root: Path) -> tuple[Any, str, Path]:
    from handbook.project import load_project
    from handbook.render import handbook_html

    edition = load_project(root).editions[0]
    out = root / "dist"
    out.mkdir(exist_ok=True)
    return edition, handbook_html(edition, target="print", out_dir=out), out


def test_weasyprint_stops_at_its_next_page_in_a_thread(tmp_path: Path) -> None:
    """Past the limit, WeasyPrint's next stage or page stops it, in a thread (no signal), with the
    limit and the stage named. The deadline has passed before WeasyPrint starts: no race."""
    from handbook import documents
    from handbook.options import RenderOptions

    edition, html, out = _print_html(make_project(tmp_path / "project"))

    def lay_out() -> None:
        with deadline.edition_limit(0.01, edition.name):
            time.sleep(0.05)  # the limit has passed (a sleep lasts at least this long)
            documents.layout(html, edition, out, "handbook", RenderOptions())

    caught = in_a_thread(lay_out)
    assert isinstance(caught, RenderError), caught
    assert "stopped after 0.01 s (WeasyPrint: Step" in caught.message, caught.message
    assert "limits.seconds in handbook.yaml" in caught.message


def test_a_long_layout_is_stopped_through_the_builder(tmp_path: Path) -> None:
    """Templates, then WeasyPrint on ~400 pages under a 1-second limit: stopped, the limit named,
    the earlier PDF kept."""
    from handbook.builder import BuildOptions, build

    root = make_project(tmp_path / "project")
    build(root, BuildOptions(only=("handbook",)))
    before = (root / "dist" / "handbook.pdf").read_bytes()
    paragraph = "A sentence of ordinary length that fills part of a line on the page. " * 12
    write_tree(root, {"content": {"02-second-point.md": chapter("Second", "\n\n".join([paragraph] * 1200),
                                                                reminder="R.")}})
    with (root / "handbook.yaml").open("a", encoding="utf-8") as f:
        f.write("limits:\n  seconds: 1\n  pages: 5000\n")
    report = build(root, BuildOptions(only=("handbook",)))
    text = "\n".join(str(p) for p in report.failed["organisation-wide"])
    assert "stopped after 1 s" in text and "limits.seconds in handbook.yaml" in text, text
    assert (root / "dist" / "handbook.pdf").read_bytes() == before


# ----------------------------------------------------------------------------------------------
# The mechanism


class Inner(Exception):
    pass


def test_the_first_passed_deadline_raises_its_own_exception() -> None:
    with deadline.limit(1000, lambda d: TimeLimitExpired("outer")):
        with deadline.limit(0.001, lambda d: Inner()):
            time.sleep(0.01)
            with pytest.raises(Inner):
                deadline.check()
        deadline.check()  # the inner one is closed; the outer one has time left
    deadline.check()  # none open


def test_no_limit_and_no_timer_left_behind() -> None:
    old = signal.getsignal(signal.SIGALRM)
    with deadline.limit(0, lambda d: Inner()) as opened:
        assert opened is None
    with deadline.limit(1000, lambda d: TimeLimitExpired("x"), interrupt=True):
        assert signal.getitimer(signal.ITIMER_REAL)[0] > 0
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
    assert signal.getsignal(signal.SIGALRM) is old


def test_the_timer_interrupts_work_without_checkpoints() -> None:
    """In the main thread, code that never reaches a checkpoint is stopped by the timer."""
    with pytest.raises(RenderError, match=r"stopped after 0\.2 s; the limit per edition is limits\.seconds"), \
            deadline.edition_limit(0.2, "edition"):
        while True:
            sum(range(1000))


def test_a_stage_is_named_only_while_it_runs() -> None:
    def work() -> None:  # in a thread: checkpoints only, so the order is the test's
        with deadline.edition_limit(0.001, "edition"):
            deadline.check("Step 5 - Creating layout - Page 3")
            time.sleep(0.01)
            deadline.check("")  # a template runs now

    caught = in_a_thread(work)
    assert isinstance(caught, RenderError) and "stopped after 0.001 s;" in caught.message, caught
    assert "WeasyPrint" not in caught.message
