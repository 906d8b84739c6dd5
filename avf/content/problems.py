"""Problems found in content: where (file, line), what, and how to fix it, in French."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Problem:
    """One thing wrong in one file, worded for a volunteer.

    `file` is shown as the volunteer knows it (`content/lyon/posts/x.md`); `line` is 1-based,
    or None when the problem concerns the whole file or folder.
    """

    file: str
    line: int | None
    message: str
    severity: Severity = "error"

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}, ligne {self.line}"
        label = "" if self.severity == "error" else "attention : "
        return f"{where} : {label}{self.message}"

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


class ContentError(Exception):
    """Raised where one problem makes a file unreadable; carries that problem."""

    def __init__(self, problem: Problem):
        super().__init__(str(problem))
        self.problem = problem
