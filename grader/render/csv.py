"""A class's grade sheet, grades.csv: a points-possible row, then one row per student."""

from __future__ import annotations

import csv
import io

from grader.report import ClassReport, SubmissionReport

# OWASP's "CSV injection": a cell starting with one of these is a formula to a spreadsheet
# (tab and carriage return too: some programs strip them first, then read the rest)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _inert(text: str) -> str:
    """`text` as a cell no spreadsheet runs: a leading apostrophe before a formula."""
    return "'" + text if text.startswith(_FORMULA_START) else text


def _number(value: float) -> str:
    """Points as a gradebook reads them: 3, 0.5, never 3.0 or 1e-05."""
    return f"{round(value, 4):g}"


def _percent(score: float, max_score: float) -> str:
    return _number(100 * score / max_score) if max_score else "0"


def header(klass: ClassReport) -> list[str]:
    """The first row: student, one column per check (its short name), total, percent, status."""
    return ["student", *(spec.name for spec in klass.catalogue), "total", "percent", "status"]


def row(klass: ClassReport, report: SubmissionReport) -> list[str]:
    """One student's row: id, the points of each check of the catalogue, total, percent."""
    points = {c.id: c.points for c in report.checks}
    total = report.score
    return [
        _inert(report.student),
        *(_number(points.get(spec.id, 0.0)) for spec in klass.catalogue),
        _number(total),
        _percent(total, klass.max_score),
        report.status,
    ]


def render(klass: ClassReport) -> str:
    """grades.csv, UTF-8 text with CRLF line ends (RFC 4180), ready for a gradebook import.

    Every student of `klass` has a row, a crashed grade's included (status "grader error",
    0 points): the sheet never loses a student.
    """
    out = io.StringIO()
    writer = csv.writer(out)  # the excel dialect: quotes what needs quoting, "\r\n"
    writer.writerow(header(klass))
    writer.writerow(
        [
            "points possible",
            *(_number(spec.max_points) for spec in klass.catalogue),
            _number(klass.max_score),
            "100",
            "",
        ]
    )
    for report in klass.reports:
        writer.writerow(row(klass, report))
    return out.getvalue()
