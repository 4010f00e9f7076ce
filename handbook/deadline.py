"""One time limit for runaway work (a template that loops for ever, a layout far too long), in every thread.

:func:`limit` opens a deadline for the work inside it; the work consults it at its checkpoints
(:func:`check`): the template sandbox every 256 steps (:mod:`handbook.theme`), WeasyPrint at every
stage and every page it lays out (its ``weasyprint.progress`` log, :func:`watch_logger`). A
deadline that has passed raises the exception it was opened with, which names its setting.

In a process's main thread (the command, a build's worker processes) a deadline opened with
``interrupt=True`` also arms a real-time timer, so work between checkpoints (one page whose lines
take minutes to break) is stopped too. The preview's threads cannot receive signals: there the
checkpoints alone stop the work, at the next step or page.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from .errors import RenderError, TimeLimitExpired

log = logging.getLogger(__name__)


@dataclass
class Deadline:
    """One open limit: when it ends, and what to raise then."""

    seconds: float
    at: float  # time.monotonic() at which it ends
    expired: Callable[[Deadline], BaseException]
    interrupt: bool = False
    stage: str = ""  # what the work said at its last checkpoint ("Step 5 - Creating layout - Page 3")


_local = threading.local()


def _stack() -> list[Deadline]:
    stack: list[Deadline] | None = getattr(_local, "stack", None)
    if stack is None:
        stack = _local.stack = []
    return stack


def check(stage: str | None = None) -> None:
    """A checkpoint: raise for the first open deadline of this thread that has passed. ``stage``:
    what the work is doing now, for the message ("" when it is not WeasyPrint's)."""
    stack = getattr(_local, "stack", None)
    if not stack:
        return
    if stage is not None:
        for deadline in stack:
            deadline.stage = stage
    _raise_expired(stack, interrupting=False)


def _raise_expired(stack: list[Deadline], *, interrupting: bool) -> None:
    now = time.monotonic()
    for deadline in stack:
        if now > deadline.at and (deadline.interrupt or not interrupting):
            raise deadline.expired(deadline)


def _arm(stack: list[Deadline]) -> None:
    """The timer set for the earliest interrupting deadline of the main thread, or off."""
    ends = [d.at for d in stack if d.interrupt]
    if ends:
        signal.setitimer(signal.ITIMER_REAL, max(min(ends) - time.monotonic(), 1e-6))
    else:
        signal.setitimer(signal.ITIMER_REAL, 0)


def _on_timer(signum: int, frame: object) -> None:
    stack = getattr(_local, "stack", None) or []
    _raise_expired(stack, interrupting=True)  # only what may interrupt: a template's own limit is raised where
    _arm(stack)  # the sandbox checks it; woken early (a clock's rounding), wait for the rest


@contextmanager
def limit(seconds: float, expired: Callable[[Deadline], BaseException], *, interrupt: bool = False
          ) -> Iterator[Deadline | None]:
    """Work inside may run ``seconds``; past that, its next checkpoint (or, with ``interrupt`` in
    the main thread, the timer) raises ``expired(deadline)``. ``seconds <= 0``: no limit."""
    if seconds <= 0:
        yield None
        return
    stack = _stack()
    deadline = Deadline(seconds, time.monotonic() + seconds, expired, interrupt)
    timed = interrupt and threading.current_thread() is threading.main_thread()
    old_handler = signal.signal(signal.SIGALRM, _on_timer) if timed else None
    stack.append(deadline)
    try:
        if timed:
            _arm(stack)
        yield deadline
    finally:
        stack.remove(deadline)
        if timed:
            _arm(stack)
            signal.signal(signal.SIGALRM, old_handler)


EDITION_SETTING = "limits.seconds in handbook.yaml"


def _edition_expired(what: str, setting: str) -> Callable[[Deadline], BaseException]:
    def expired(deadline: Deadline) -> BaseException:
        stage = f" (WeasyPrint: {deadline.stage})" if deadline.stage else ""
        return TimeLimitExpired(f"{what}: stopped after {deadline.seconds:g} s{stage}; the limit per edition is "
                                f"{setting}. A template may loop for ever, or the content is far too long")
    return expired


@contextmanager
def edition_limit(seconds: float, what: str, setting: str = EDITION_SETTING) -> Iterator[None]:
    """An edition's time (``limits.seconds``): templates and layout; past it, a :class:`RenderError`
    naming the setting (and, when a template was running, its file and line)."""
    try:
        with limit(seconds, _edition_expired(what, setting), interrupt=True):
            yield
    except TimeLimitExpired as exc:
        raise RenderError(exc.message, exc.problems) from None


class _Checkpoint(logging.Handler):
    """Every record of a progress log is a checkpoint (and names the stage a timeout reports)."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)

    def emit(self, record: logging.LogRecord) -> None:
        check(record.getMessage())


_WATCHED: set[str] = set()


def watch_logger(name: str) -> None:
    """Make every INFO record of the logger ``name`` a checkpoint (once per process): WeasyPrint's
    ``weasyprint.progress`` says each stage and each page it lays out. Its records go no further."""
    if name in _WATCHED:
        return
    _WATCHED.add(name)
    logger = logging.getLogger(name)
    logger.addHandler(_Checkpoint())
    logger.setLevel(logging.INFO)
    logger.propagate = False
