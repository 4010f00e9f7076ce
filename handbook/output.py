"""Writing outputs safely: a temporary file in the same folder, renamed into place.

A failed or interrupted build never leaves a half-written file, and the previous output stays
byte-identical until the new one is complete.

The temporary file is a hidden ``.<name>.<pid>.<random>.tmp`` next to the output. A process killed
outright (SIGKILL, a power cut) cannot remove its own; the next write of the same output removes
every such file whose process is gone (or that is older than a day), so stale ones are harmless:
hidden, never taken for an output, and cleaned up by the next build.
"""

from __future__ import annotations

import contextlib
import glob
import os
import tempfile
import time
from pathlib import Path

from .errors import OutputError

STALE_AFTER = 24 * 3600  # seconds: a temp file this old is stale whatever its process


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    except OSError:
        return False
    return True


def temp_files(path: Path) -> list[Path]:
    """The temporary files of ``path``'s writes, finished or not."""
    pattern = os.path.join(glob.escape(str(path.parent)), f".{glob.escape(path.name)}.*.tmp")
    return [Path(p) for p in glob.glob(pattern, include_hidden=True)]


def remove_stale(path: Path) -> list[Path]:
    """Remove the temporary files an interrupted write of ``path`` left behind; return them."""
    removed = []
    now = time.time()
    for tmp in temp_files(path):
        middle = tmp.name[len(path.name) + 2:-len(".tmp")]  # "<pid>.<random>"
        pid_text = middle.split(".", 1)[0]
        try:
            old = now - tmp.stat().st_mtime > STALE_AFTER
        except OSError:
            continue
        if old or (pid_text.isdigit() and not _alive(int(pid_text))) or not pid_text.isdigit():
            with contextlib.suppress(OSError):
                tmp.unlink()
                removed.append(tmp)
    return removed


def atomic_write(path: Path, data: bytes | str) -> None:
    """Write ``data`` to ``path`` atomically (same-folder temp file, fsync, rename).

    Raises :class:`OutputError` (a user error naming the file) when the folder cannot be written.
    """
    raw = data.encode("utf-8") if isinstance(data, str) else data
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        remove_stale(path)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from exc
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(raw)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from exc
        raise


def human_size(n: int) -> str:
    if n < 1024:
        return f"{n} B"
    if n < 1024 * 1024:
        return f"{n / 1024:.0f} KB"
    return f"{n / 1024 / 1024:.1f} MB"
