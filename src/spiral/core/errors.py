"""Errors carrying messages meant for people, line by line for imports."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class LineError:
    line: int
    message: str
    content: str = ""


@dataclass
class ImportRejected(Exception):
    """An all-or-nothing import refused: nothing was written; every bad line is listed."""

    errors: list[LineError] = field(default_factory=list)

    def __str__(self) -> str:
        return "; ".join(f"line {e.line}: {e.message}" for e in self.errors)
