"""Packaging hook: the wheel ships the repository's theme (templates/, styles/) inside the starter
project that ``handbook init`` copies (handbook/starter/), so the theme has one source. All other
settings are in pyproject.toml."""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

THEME = ("templates", "styles")


class BuildWithTheme(build_py):  # type: ignore[misc]
    def run(self) -> None:
        super().run()
        here = Path(__file__).resolve().parent
        for part in THEME:
            target = Path(self.build_lib) / "handbook" / "starter" / part
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(here / part, target)


setup(cmdclass={"build_py": BuildWithTheme})
