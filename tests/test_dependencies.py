"""Every package ``handbook/`` imports directly is declared in pyproject.toml and pinned in constraints.txt."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions

from conftest import REPO


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def imported_top_levels() -> set[str]:
    names: set[str] = set()
    for path in (REPO / "handbook").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    return {n for n in names if n not in sys.stdlib_module_names and n != "handbook"}


def test_every_imported_package_is_declared_and_pinned() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    declared = {_normal(re.split(r"[<>=!~\[; ]", d, maxsplit=1)[0]) for d in project["dependencies"]}
    pinned = {_normal(line.split("==")[0]) for line in (REPO / "constraints.txt").read_text().splitlines()
              if "==" in line}
    distributions = packages_distributions()
    missing = []
    for module in sorted(imported_top_levels()):
        for dist in distributions.get(module, [module]):
            if _normal(dist) not in declared or _normal(dist) not in pinned:
                missing.append(f"{module} ({dist})")
    assert not missing, f"imported by handbook/ but not declared in pyproject.toml and constraints.txt: {missing}"
