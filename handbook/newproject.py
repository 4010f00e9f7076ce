"""``handbook init DIR``: a new project from the starter files shipped inside the package.

The starter (``handbook/starter/``, package data) is a small complete project: handbook.yaml, three
chapters, a deck of cards, one department; its theme is the repository's ``templates/`` and
``styles/``: a wheel carries them in ``handbook/starter/`` (setup.py copies them at build time), a
checkout reads them where they are.
"""

from __future__ import annotations

import datetime
import re
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

from .errors import ConfigError

THEME = ("templates", "styles")  # in the wheel's starter; in a checkout, the repository's own
RENAMED = {"gitignore": ".gitignore"}  # dotfiles are not package data; they are renamed on the way out


def starter_files() -> list[tuple[str, Traversable]]:
    """(relative path in the new project, starter file), sorted."""
    found: list[tuple[str, Traversable]] = []

    def walk(folder: Traversable, prefix: str) -> None:
        for entry in folder.iterdir():
            if entry.name.startswith((".", "__")):
                continue
            if entry.is_dir():
                walk(entry, f"{prefix}{entry.name}/")
            else:
                found.append((prefix + RENAMED.get(entry.name, entry.name), entry))

    starter = resources.files("handbook") / "starter"
    walk(starter, "")
    checkout = Path(__file__).resolve().parent.parent
    for part in THEME:
        if not (starter / part).is_dir() and (checkout / part).is_dir():  # a checkout, not a wheel
            walk(checkout / part, f"{part}/")
    return sorted(found, key=lambda item: item[0])


def create_project(target: Path, today: datetime.date | None = None) -> list[Path]:
    """Write the starter project into ``target`` (new, or without any of the starter's files)."""
    if target.exists() and not target.is_dir():
        raise ConfigError(f"{target} exists and is not a folder")
    if (target / "handbook.yaml").exists():
        raise ConfigError(f"{target} already holds a handbook project (handbook.yaml exists)")
    files = starter_files()
    if not files:
        raise ConfigError("the starter project is missing from this installation of handbook")
    clashes = [name for name, _ in files if (target / name).exists()]
    if clashes:
        raise ConfigError(f"{target} already has {', '.join(clashes[:3])}"
                          f"{' and more' if len(clashes) > 3 else ''}; choose a new or empty folder")
    date = (today or datetime.date.today()).isoformat()
    written = []
    for name, source in files:
        path = target / name
        path.parent.mkdir(parents=True, exist_ok=True)
        data = source.read_bytes()
        if name == "handbook.yaml":
            data = re.sub(rb"(?m)^date: \S+", f"date: {date}".encode(), data, count=1)
        path.write_bytes(data)
        written.append(path)
    return written
