"""Incremental builds: each edition's outputs record a key over everything they depend on.

The key covers the tool's and WeasyPrint's versions, the build options that change the output,
the installed fonts, the project's shared files (handbook.yaml, content/, templates/, styles/),
the department's own folder, and every other file WeasyPrint fetched last time (images elsewhere
in the project). Only files are hashed — nothing is parsed — so an up-to-date build is cheap.
An output is reused only when its key matches and the file on disk is the one written; the
warnings of the build that wrote it are stored with it and replayed (they are part of the result).
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

from . import __version__
from .errors import Problem, Severity
from .output import atomic_write

STATE_FILE = ".handbook-state.json"
SHARED = ("handbook.yaml", "content", "templates", "styles")
FONT_DIRS = ("/usr/share/fonts", "/usr/local/share/fonts", "~/.fonts", "~/.local/share/fonts")


def _files(path: Path) -> Iterable[Path]:
    if path.is_file():
        yield path
    elif path.is_dir():
        for dirpath, dirnames, filenames in os.walk(path):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            for name in sorted(filenames):
                if not name.startswith("."):
                    yield Path(dirpath) / name


def file_digest(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return "missing"


@cache
def fonts_digest() -> str:
    """The installed fonts, by name, size and time (a font update rebuilds everything)."""
    h = hashlib.sha256()
    for folder in FONT_DIRS:
        for path in _files(Path(os.path.expanduser(folder))):
            try:
                st = path.stat()
            except OSError:
                continue
            h.update(f"{path}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return h.hexdigest()


def environment_key(options: dict[str, Any]) -> str:
    """What every output depends on besides the project's files."""
    parts = {
        "handbook": __version__,
        "weasyprint": metadata.version("weasyprint"),
        "python": platform.python_version(),
        "fonts": fonts_digest(),
        "options": options,
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def input_files(root: Path, slug: str | None) -> list[Path]:
    """The files an edition is built from: the project's shared files and its department folder."""
    files: list[Path] = []
    for name in SHARED:
        files += _files(root / name)
    if slug is not None:
        files += _files(root / "departments" / slug)
    return files


def base_key(root: Path, slug: str | None, document: str, env: str) -> str:
    """The key over an edition's known inputs, taken before it is built."""
    h = hashlib.sha256(f"{env}\0{slug}\0{document}\n".encode())
    for path in input_files(root, slug):
        h.update(f"{path.relative_to(root).as_posix()}\0{file_digest(path)}\n".encode())
    return h.hexdigest()


def edition_key(root: Path, base: str, extra: Iterable[str] = ()) -> str:
    """The full key: the base key and the other files WeasyPrint read (known once it has run)."""
    h = hashlib.sha256(base.encode())
    for name in sorted(extra):
        h.update(f"{name}\0{file_digest(root / name)}\n".encode())
    return h.hexdigest()


@dataclass
class State:
    """The state file in an edition's output folder: per document, its key, outputs and extra inputs."""

    folder: Path
    data: dict[str, Any]

    @classmethod
    def read(cls, folder: Path) -> State:
        try:
            data = json.loads((folder / STATE_FILE).read_text(encoding="utf-8"))
            if not isinstance(data, dict):
                data = {}
        except (OSError, ValueError):
            data = {}
        return cls(folder, data)

    def extra(self, document: str) -> list[str]:
        return list(self.data.get(document, {}).get("extra", []))

    def up_to_date(self, document: str, key: str) -> bool:
        entry = self.data.get(document)
        if not entry or entry.get("key") != key or not entry.get("outputs"):
            return False
        return all(file_digest(self.folder / name) == digest for name, digest in entry["outputs"].items())

    def outputs(self, document: str) -> list[str]:
        return list(self.data.get(document, {}).get("outputs", {}))

    def forget(self, document: str) -> None:
        self.data.pop(document, None)

    def warnings(self, document: str) -> list[Problem]:
        """The warnings of the build that wrote a document's outputs, replayed when they are up to date."""
        found = []
        for item in self.data.get(document, {}).get("warnings", []):
            if isinstance(item, list) and len(item) == 3:
                path, line, message = item
                found.append(Problem(str(path), line if isinstance(line, int) else None, str(message),
                                     Severity.WARNING))
        return found

    def record(self, document: str, key: str, outputs: dict[str, bytes | str], extra: list[str],
               warnings: Iterable[Problem] = ()) -> None:
        self.data[document] = {
            "key": key,
            "outputs": {name: hashlib.sha256(data.encode() if isinstance(data, str) else data).hexdigest()
                        for name, data in outputs.items()},
            "extra": sorted(extra),
            "warnings": [[p.path, p.line, p.message] for p in dict.fromkeys(warnings)],
        }

    def write(self) -> None:
        atomic_write(self.folder / STATE_FILE, json.dumps(self.data, indent=1))
