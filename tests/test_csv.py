"""grades.csv: parses back, agrees with the reports, never runs a formula, loses no one."""

from __future__ import annotations

import csv
import io

import pytest

from grader.render import csv as csv_render
from grader.report import ClassReport, SubmissionReport
from grader.results import BuildResult, CheckResult, CheckSpec, Isolation, Outcome

CATALOGUE = (
    CheckSpec("exercise2/test_output_matches_shell", "output", max_points=2.0),
    CheckSpec("exercise2/test_grep_sees_end_of_file", "eof", max_points=0.5),
    CheckSpec("exercise2/test_parent_waits", "waits", max_points=1.0),
)


def _report(student: str, outcomes: tuple[Outcome, ...], **kw: object) -> SubmissionReport:
    checks = tuple(
        CheckResult(s.id, s.title, o, max_points=s.max_points,
                    points=s.max_points if o is Outcome.PASSED else 0.0)
        for s, o in zip(CATALOGUE, outcomes, strict=True)
    )  # fmt: skip
    defaults: dict[str, object] = {
        "exercise": "exercise2",
        "title": "pipe",
        "submission": f"/class/{student}",
        "build": BuildResult(ok=True),
        "checks": checks,
        "isolation": Isolation("full"),
        "student": student,
        "catalogue": CATALOGUE,
    }
    defaults.update(kw)
    return SubmissionReport(**defaults)  # type: ignore[arg-type]


P, F, N = Outcome.PASSED, Outcome.FAILED, Outcome.NOT_RUN


def _klass(*reports: SubmissionReport) -> ClassReport:
    return ClassReport("exercise2", "pipe", "pipe", CATALOGUE, reports)


def _rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


def test_the_sheet_parses_back_and_agrees_with_the_reports() -> None:
    reports = (
        _report("alice", (P, P, P)),
        _report("bob", (P, F, P)),
        _report("carol", (F, F, F), build=BuildResult(ok=False, kind="compile")),
        _report("dave", (N, N, N), error="the grade failed: it exited with status 3"),
    )
    rows = _rows(csv_render.render(_klass(*reports)))
    assert rows[0] == ["student", "test_output_matches_shell", "test_grep_sees_end_of_file",
                       "test_parent_waits", "total", "percent", "status"]  # fmt: skip
    assert rows[1] == ["points possible", "2", "0.5", "1", "3.5", "100", ""]
    by_student = {r[0]: r for r in rows[2:]}
    assert sorted(by_student) == ["alice", "bob", "carol", "dave"]
    for report in reports:
        row = by_student[report.student]
        points = {c.id: c.points for c in report.checks}
        assert [float(x) for x in row[1:4]] == [points[s.id] for s in CATALOGUE]
        assert float(row[4]) == report.score == sum(float(x) for x in row[1:4])
        assert float(row[5]) == pytest.approx(100 * report.score / 3.5, abs=1e-3)
        assert row[6] == report.status
    assert by_student["bob"][4:6] == ["3", "85.7143"]
    assert by_student["carol"][6] == "does not compile"
    assert by_student["dave"][1:] == ["0", "0", "0", "0", "0", "grader error"]


def test_a_grade_that_never_reported_a_check_has_its_row() -> None:
    crashed = _report("erin", (P, P, P), checks=(), error="the grade failed: killed")
    rows = _rows(csv_render.render(_klass(crashed)))
    assert rows[2] == ["erin", "0", "0", "0", "0", "0", "grader error"]


@pytest.mark.parametrize("student", ["=HYPERLINK(\"http://x\")", "+1", "-2+3", "@SUM(A1)",
                                     "\t=1", "\r=1"])  # fmt: skip
def test_a_student_id_that_looks_like_a_formula_is_quoted(student: str) -> None:
    rows = _rows(csv_render.render(_klass(_report(student, (P, F, P)))))
    assert rows[2][0] == "'" + student  # the apostrophe: text to Excel, LibreOffice, Sheets
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)


def test_ids_with_commas_quotes_newlines_and_non_ascii_survive() -> None:
    ids = ['Doe, "Jane"', "line\nbreak", "Zoë Ångström", "李雷"]
    rows = _rows(csv_render.render(_klass(*(_report(i, (P, P, F)) for i in ids))))
    assert [r[0] for r in rows[2:]] == ids
    text = csv_render.render(_klass(_report("x", (P, P, P))))
    assert text.endswith("\r\n")  # RFC 4180 line ends, as gradebooks expect


def test_an_empty_class_has_its_header_and_points_row() -> None:
    rows = _rows(csv_render.render(_klass()))
    assert len(rows) == 2
    assert rows[1][0] == "points possible"
