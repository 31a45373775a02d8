"""Errors a person can act on: which file, which line, which field, what was expected.

A build collects every problem of a run before failing, so the curator fixes them in one pass.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Problem:
    """One problem found in an input file."""

    file: str
    line: int | None
    field: str | None
    message: str
    expected: str | None = None

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        text = f"{where}: "
        if self.field:
            text += f"[{self.field}] "
        text += self.message
        if self.expected:
            text += f" (expected: {self.expected})"
        return text


class CmqError(Exception):
    """Base class of the errors the CLI reports without a traceback."""

    exit_code = 1


class InputError(CmqError):
    """The curated data or the ontology files are wrong; ``problems`` lists every problem."""

    exit_code = 2

    def __init__(self, problems: list[Problem], summary: str = "invalid input"):
        self.problems = sorted(problems, key=lambda p: (p.file, p.line or 0, p.field or ""))
        super().__init__(f"{summary}: {len(self.problems)} problem(s)")

    def report(self) -> str:
        return "\n".join([str(self), *(f"  {p}" for p in self.problems)])


class ValidationError(CmqError):
    """The mapped graph breaks the SHACL shapes."""

    exit_code = 3

    def __init__(self, violations: list[str]):
        self.violations = violations
        super().__init__(f"the graph does not conform to the shapes: {len(violations)} violation(s)")

    def report(self) -> str:
        return "\n".join([str(self), *(f"  {v}" for v in self.violations)])


class StoreError(CmqError):
    """The store is missing, locked or unreadable."""

    exit_code = 4


class QueryError(CmqError):
    """A query could not be parsed, bound or run."""

    exit_code = 5
