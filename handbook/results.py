"""What a build produces, shared by the builder, the pictures, the progress display and the server."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .errors import Problem


@dataclass
class Output:
    """One output file: written now, or up to date from an earlier build."""

    path: Path
    pages: int | None
    size: int
    seconds: float
    edition: str
    status: str = "written"  # "written" | "up to date"


@dataclass
class BuildReport:
    outputs: list[Output] = field(default_factory=list)
    failed: dict[str, list[Problem]] = field(default_factory=dict)  # edition -> errors
    warnings: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failed

    @property
    def written(self) -> list[Output]:
        return [o for o in self.outputs if o.status == "written"]


@dataclass
class EditionResult:
    name: str
    outputs: list[Output] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    errors: list[Problem] = field(default_factory=list)
