"""The batch's output folder: each student's report and pages, written whole, and reread.

students/<id>/report.json          the report, schema 2, written when the grade ends
students/<id>/index.html           the instructor's page: hidden checks shown
students/<id>/report-student.html  the student's page: hidden checks not detailed
grades.csv, index.html             the grade sheet and the overview, at the end
batch.json                         what the folder holds: its shard, layout and reports

With `grade batch all`, each exercise has these in a folder of its own, EXERCISE/, and
index.html at the top lists the exercises. write_classes() writes the sheets and overviews
from the reports alone: `grade batch` and `grade merge` share it.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import quote

from grader.errors import UsageError
from grader.private import read_private
from grader.render import classes as classes_render
from grader.render import csv as csv_render
from grader.render import html
from grader.render import json as json_render
from grader.report import ClassReport, Digests, SchemaError, SubmissionReport
from grader.results import BuildResult, CheckResult, Isolation, SandboxAction

STUDENTS = "students"
REPORT = "report.json"
INSTRUCTOR_PAGE = "index.html"
STUDENT_PAGE = "report-student.html"
GRADES = "grades.csv"
MANIFEST = "batch.json"


def student_folder(base: Path, student: str) -> Path:
    """Where `student`'s results go: their id as one path component (never "", ".", ".."
    nor holding a "/")."""
    name = student.replace("/", "_").replace("\0", "_")
    return base / STUDENTS / (name if name not in ("", ".", "..") else f"_{name}")


def link(folder: Path, base: Path) -> str:
    """The instructor's page in `folder`, relative to the overview in `base`, as a URL."""
    return quote(folder.relative_to(base).as_posix()) + "/" + INSTRUCTOR_PAGE


def load(text: str) -> SubmissionReport:
    """A report from its JSON.

    Raises:
        ValueError: not JSON, not a report, or of another schema (SchemaError).
    """
    data: Any = json.loads(text)
    if not isinstance(data, dict):
        raise ValueError("it is no JSON object")
    try:
        return SubmissionReport.from_dict(data)
    except (KeyError, TypeError) as e:
        raise ValueError(f"it lacks {e}") from e


def slim(report: SubmissionReport, shared: dict[Any, Any]) -> SubmissionReport:
    """What write_classes (the grade sheet, the overview, the index) and the batch's summary
    read of a report, and nothing more: each check's id, title, outcome, points and failure,
    and the reasons the sandbox stopped a program; the build's and the isolation's verdicts.
    Messages, evidence, logs, the compiler's output and the student's sources are left out
    (they are in the student's report.json, written already): a batch keeps one of these per
    student, a few hundred bytes, not the whole report. `shared` holds the frozen parts seen
    so far (catalogues, checks' results, builds, isolations, the checks' digest), so the
    students of one exercise share one of each: most of a class's results are alike.
    """

    def share(value: Any) -> Any:
        return shared.setdefault(value, value)

    return replace(
        report,
        exercise=sys.intern(report.exercise),
        title=sys.intern(report.title),
        name=sys.intern(report.name),
        grader_version=sys.intern(report.grader_version),
        graded_at=sys.intern(report.graded_at),
        build=share(BuildResult(ok=report.build.ok)),
        checks=share(tuple(
            share(CheckResult(
                sys.intern(c.id),
                sys.intern(c.title),
                c.outcome,
                points=c.points,
                max_points=c.max_points,
                failure=sys.intern(c.failure),
                sandbox=tuple(share(SandboxAction(sys.intern(a.action), sys.intern(a.reason),
                                                  "")) for a in c.sandbox),
            ))
            for c in report.checks
        )),
        isolation=share(Isolation(sys.intern(report.isolation.level))),
        missing_files=share(report.missing_files),
        found_files=(),
        problems=(),
        catalogue=share(report.catalogue),
        digests=Digests(report.digests.submission, sys.intern(report.digests.checks)),
        sources=(),
        extra={},
    )  # fmt: skip


def reusable(folder: Path, student: str, wanted: Digests) -> SubmissionReport | None:
    """The report an earlier batch wrote in `folder`, if it was graded from these very files
    and checks (`wanted`), and is no grader error (that is worth another try)."""
    text = read_private(folder / REPORT)
    if not text or not wanted.submission:
        return None
    try:
        old = load(text)
    except (SchemaError, ValueError):
        return None
    if old.digests != wanted or old.status == "grader error" or old.student != student:
        return None
    return old


def write_result(folder: Path, report: SubmissionReport, pages: bool = True) -> None:
    """The report and both pages, each replacing the old whole. Without `pages`, the old
    pages are removed (never left beside a report they do not show): write_pages() then,
    or a rerun reusing the report, writes them."""
    if not pages:
        for name in (INSTRUCTOR_PAGE, STUDENT_PAGE):
            try:
                (folder / name).unlink()
            except FileNotFoundError:
                pass
            except OSError as e:
                raise UsageError(
                    f"cannot write the batch's results to '{folder / name}': {e.strerror}. "
                    "Give --out a folder you can write."
                ) from e
    write(folder / REPORT, json_render.render(report))
    if pages:
        write_pages(folder, report, always=True)


def write_pages(folder: Path, report: SubmissionReport, always: bool = False) -> None:
    """The instructor's and the student's page (unless `always`, only those missing)."""
    for name, instructor in ((INSTRUCTOR_PAGE, True), (STUDENT_PAGE, False)):
        path = folder / name
        if always or not path.is_file():
            write(path, html.render(report, instructor=instructor))


def write_classes(out: Path, classes: Sequence[ClassReport], every_exercise: bool) -> None:
    """Each class's grade sheet and overview (in OUT/EXERCISE/ when `every_exercise`, with
    the index of the exercises at the top), linking the pages of its students' folders."""
    for klass in classes:
        base = out / klass.exercise if every_exercise else out
        write(base / GRADES, csv_render.render(klass))
        links = {r.student: link(student_folder(base, r.student), base) for r in klass.reports}
        write(base / INSTRUCTOR_PAGE, html.overview(klass, links))
    if every_exercise:
        links = {k.exercise: f"{quote(k.exercise)}/{INSTRUCTOR_PAGE}" for k in classes}
        write(out / INSTRUCTOR_PAGE, classes_render.render(tuple(classes), links))


def write_manifest(
    out: Path, shard: str | None, layout: str, every_exercise: bool, reports: Sequence[Path]
) -> None:
    """batch.json: which shard this folder is ("K/N", or None), how the class folder was laid
    out, and the reports it should hold (relative paths), so a merge knows them all."""
    data = {
        "shard": shard,
        "layout": layout,
        "every_exercise": every_exercise,
        "reports": sorted(p.relative_to(out).as_posix() for p in reports),
    }
    write(out / MANIFEST, json.dumps(data, indent=2, ensure_ascii=True) + "\n")


def write(path: Path, text: str) -> None:
    """`text` into `path`, never half-written: a control-C leaves the old file or the new.

    Raises:
        UsageError: the output folder cannot be written.
    """
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except OSError as e:
        raise UsageError(
            f"cannot write the batch's results to '{path}': {e.strerror}. Give --out a "
            "folder you can write."
        ) from e
