"""Nothing lost: every output is written to a hidden temp file in its folder and renamed into place.

A build killed while it renders leaves the previous PDFs byte-identical and no half-written file;
a process killed while it writes can leave its hidden temp file behind, which the next write of
that output removes.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from conftest import build_ok, chapter, make_project, write_tree

from handbook import output
from handbook.errors import OutputError
from handbook.output import atomic_write, remove_stale, temp_files

PARAGRAPH = "Integrity is the foundation of public service, and every officer carries it daily. " * 30


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small project with one department, built (dist/handbook.pdf, dist/finance/handbook.pdf)."""
    root = make_project(tmp_path_factory.mktemp("built") / "project",
                        {"departments": {"finance": {"department.yaml": "name: Finance Office\n"}}})
    build_ok(root, root / "dist", only=("handbook",))
    return root


@pytest.fixture
def slow(built: Path, tmp_path: Path) -> Path:
    """A copy of the built project, its dist/ included, then made long: rendering takes seconds."""
    root = tmp_path / "project"
    shutil.copytree(built, root)
    write_tree(root, {"content": {f"{n:02d}-long-point-{n}.md": chapter(
        f"Long point {n}", "\n\n".join([PARAGRAPH] * 6), reminder="Remember.") for n in range(10, 50)}})
    return root


def pdfs(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted((root / "dist").rglob("*.pdf"))}


def start_build(root: Path, *args: str) -> subprocess.Popen[bytes]:
    """``handbook build`` in a new session (its workers share the process group)."""
    return subprocess.Popen([sys.executable, "-m", "handbook.cli", "--project", str(root), "build",
                             "--only", "handbook", *args],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)


def session_processes(sid: int) -> list[int]:
    """The processes still alive in session ``sid`` (zombies excluded)."""
    alive = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[3]) == sid and fields[0] != "Z":  # fields: state, ppid, pgrp, session...
            alive.append(int(entry.name))
    return alive


def kill_session(sid: int) -> None:
    for pid in session_processes(sid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def let_it_render(proc: subprocess.Popen[bytes], seconds: float = 2.5) -> None:
    """Wait until the build is well into rendering (imports and loading take about a second)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the build finished before it could be killed: make the project longer"
        time.sleep(0.05)


def after_kill(root: Path, before: dict[str, bytes]) -> None:
    """The previous PDFs are byte-identical, and any temp file left is hidden; the next build (of
    changed content, so every output is written again) succeeds and removes every temp file."""
    assert pdfs(root) == before
    leftovers = list((root / "dist").rglob("*.tmp"))
    assert all(p.name.startswith(".") for p in leftovers), leftovers
    visible = [p for p in (root / "dist").rglob("*") if p.is_file() and not p.name.startswith(".")]
    assert all(p.suffix in (".pdf", ".html") for p in visible), visible
    for extra in (root / "content").glob("*-long-point-*.md"):
        extra.unlink()
    write_tree(root, {"content": {"02-second-point.md": chapter("Second point, revised", reminder="R.")}})
    build_ok(root, root / "dist", only=("handbook",))
    assert not list((root / "dist").rglob("*.tmp"))


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_build_killed_mid_render_keeps_the_previous_pdfs(slow: Path, jobs: str) -> None:
    before = pdfs(slow)
    proc = start_build(slow, "--jobs", jobs)
    try:
        let_it_render(proc)
        os.killpg(proc.pid, signal.SIGKILL)  # the build and its worker processes, as an OOM killer would
        assert proc.wait(timeout=10) == -signal.SIGKILL
    finally:
        kill_session(proc.pid)
    after_kill(slow, before)


def test_workers_die_with_a_killed_build(slow: Path) -> None:
    before = pdfs(slow)
    proc = start_build(slow, "--jobs", "2")
    try:
        let_it_render(proc)
        os.kill(proc.pid, signal.SIGKILL)  # the build alone, not its workers
        proc.wait(timeout=10)
        deadline = time.monotonic() + 3
        while session_processes(proc.pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert session_processes(proc.pid) == [], "worker processes outlived the build"
    finally:
        kill_session(proc.pid)
    after_kill(slow, before)


# ----------------------------------------------------------------------------------------------
# Killed while writing: the temp file is hidden and removed by the next write

WRITER = textwrap.dedent("""
    import os, sys, time
    from pathlib import Path
    from handbook import output

    def hang(fd):
        print("writing", flush=True)
        time.sleep(60)

    os.fsync = hang
    output.atomic_write(Path(sys.argv[1]), b"new, and never finished" * 1000)
""")


def test_a_process_killed_while_writing_leaves_the_old_file_and_a_hidden_temp(tmp_path: Path) -> None:
    target = tmp_path / "dist" / "handbook.pdf"
    target.parent.mkdir()
    target.write_bytes(b"%PDF the previous edition")
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(target)], stdout=subprocess.PIPE)
    try:
        assert proc.stdout is not None and proc.stdout.readline() == b"writing\n"
        proc.kill()
        proc.wait(timeout=10)
    finally:
        proc.kill()
    assert target.read_bytes() == b"%PDF the previous edition"
    [stale] = temp_files(target)
    assert stale.name.startswith(f".handbook.pdf.{proc.pid}.") and stale.name.endswith(".tmp")
    # The next write of the same output removes it (its process is gone).
    atomic_write(target, b"%PDF the next edition")
    assert target.read_bytes() == b"%PDF the next edition"
    assert temp_files(target) == []
    assert sorted(p.name for p in target.parent.iterdir()) == ["handbook.pdf"]


def test_the_next_build_removes_stale_temp_files(built: Path, tmp_path: Path) -> None:
    root = tmp_path / "project"
    shutil.copytree(built, root)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True, check=True).stdout.strip()
    stale = [root / "dist" / f".handbook.pdf.{dead}.abc123.tmp",
             root / "dist" / "finance" / f".handbook.pdf.{dead}.def456.tmp",
             root / "dist" / ".handbook.pdf.x1y2z3.tmp"]  # an older naming, without a pid
    for path in stale:
        path.write_bytes(b"half a PDF")
    write_tree(root, {"content": {"02-second-point.md": chapter("Second point, revised", reminder="R.")}})
    build_ok(root, root / "dist", only=("handbook",))
    assert not list((root / "dist").rglob("*.tmp"))


def test_a_live_writers_temp_file_is_left_alone(tmp_path: Path) -> None:
    target = tmp_path / "cards.pdf"
    mine = tmp_path / f".cards.pdf.{os.getpid()}.abc.tmp"  # this process: alive
    mine.write_bytes(b"in progress")
    other = tmp_path / ".other.pdf.1.abc.tmp"  # another output's
    other.write_bytes(b"not ours")
    assert remove_stale(target) == []
    assert mine.exists() and other.exists()
    old = time.time() - output.STALE_AFTER - 60
    os.utime(mine, (old, old))
    assert remove_stale(target) == [mine]
    assert other.exists()


def test_names_with_glob_characters(tmp_path: Path) -> None:
    target = tmp_path / "[draft] handbook.pdf"
    atomic_write(target, b"one")
    atomic_write(target, b"two")
    assert target.read_bytes() == b"two"
    assert [p.name for p in tmp_path.iterdir()] == ["[draft] handbook.pdf"]


# ----------------------------------------------------------------------------------------------
# Failed writes


def test_a_failed_rename_keeps_the_old_file_and_removes_the_temp(tmp_path: Path, monkeypatch) -> None:
    target = tmp_path / "handbook.pdf"
    target.write_bytes(b"old")

    def fail(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OutputError, match=r"cannot write .*handbook\.pdf: No space left on device"):
        atomic_write(target, b"new")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["handbook.pdf"]


def test_an_interrupted_write_removes_the_temp(tmp_path: Path, monkeypatch) -> None:
    target = tmp_path / "handbook.pdf"
    target.write_bytes(b"old")

    def interrupt(fd: int) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", interrupt)
    with pytest.raises(KeyboardInterrupt):
        atomic_write(target, b"new")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["handbook.pdf"]


def test_a_folder_in_the_way_is_an_output_error(tmp_path: Path) -> None:
    (tmp_path / "handbook.pdf").mkdir()
    with pytest.raises(OutputError, match="cannot write"):
        atomic_write(tmp_path / "handbook.pdf", b"new")
    assert not list(tmp_path.glob(".*.tmp"))
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(OutputError, match="cannot write"):
        atomic_write(blocker / "dist" / "handbook.pdf", b"new")


def test_written_files_are_readable_by_others(tmp_path: Path) -> None:
    atomic_write(tmp_path / "handbook.html", "<p>é</p>")
    assert (tmp_path / "handbook.html").stat().st_mode & 0o777 == 0o644
    assert (tmp_path / "handbook.html").read_text(encoding="utf-8") == "<p>é</p>"
