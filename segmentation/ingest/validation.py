"""The structured validation report: fatal errors and warnings, each naming column, rows and a fix."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from segmentation.errors import InputError


@dataclass(frozen=True)
class Issue:
    level: Literal["error", "warning"]
    code: str
    message: str
    column: str | None = None
    n_rows: int = 0
    rows: tuple[int, ...] = ()
    """The first affected row numbers (header = row 1), at most ten."""
    examples: tuple[str, ...] = ()
    fix: str = ""

    def describe(self, source: str) -> str:
        where = source + (f", column {self.column!r}" if self.column else "")
        text = f"{where}: {self.message}"
        if self.rows:
            more = f" (+{self.n_rows - len(self.rows)} more)" if self.n_rows > len(self.rows) else ""
            text += f"; rows {', '.join(map(str, self.rows))}{more}"
        if self.examples:
            text += f"; e.g. {', '.join(repr(e) for e in self.examples)}"
        if self.fix:
            text += f". Fix: {self.fix}"
        return text


class ValidationFailed(InputError):
    """Raised when the report holds at least one error; carries the whole report."""

    def __init__(self, report: ValidationReport) -> None:
        self.report = report
        errors = report.errors
        super().__init__("; ".join(e.describe(report.source) for e in errors))


@dataclass
class ValidationReport:
    source: str
    rows_read: int = 0
    detected: dict[str, Any] = field(default_factory=dict)
    """What was detected or given: encoding, delimiter, decimal separator, date format, mapping."""
    issues: list[Issue] = field(default_factory=list)

    @property
    def errors(self) -> list[Issue]:
        return [i for i in self.issues if i.level == "error"]

    @property
    def warnings(self) -> list[Issue]:
        return [i for i in self.issues if i.level == "warning"]

    @property
    def ok(self) -> bool:
        return not self.errors

    def add(self, issue: Issue) -> None:
        self.issues.append(issue)

    def warn(self, code: str, message: str, **details: Any) -> None:
        self.add(Issue("warning", code, message, **details))

    def raise_for_errors(self) -> None:
        if self.errors:
            raise ValidationFailed(self)

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "rows_read": self.rows_read,
            "detected": self.detected,
            "errors": [asdict(i) for i in self.errors],
            "warnings": [asdict(i) for i in self.warnings],
        }
