"""Join the folders of a sharded batch (`grade merge`): one class, as one batch writes it.

Each folder's reports are read back (its batch.json lists them; a folder without one, from
an older batch, gives its students/*/report.json), checked for a student graded twice, and
written again with the grade sheets, overviews and student pages by folder.write_classes,
the very code `grade batch` ends with. Nothing is graded and no grade is changed. The
result depends on the reports alone, so merging again gives the same files.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grader import catalog, session
from grader.batch import folder
from grader.errors import GraderError, UsageError
from grader.private import read_private
from grader.report import ClassReport, SchemaError, SubmissionReport


@dataclass(frozen=True)
class Merged:
    """What a merge wrote: each exercise's class, and the shards it found missing."""

    out: Path
    classes: tuple[ClassReport, ...]
    every_exercise: bool
    folders: int
    missing: tuple[str, ...] = ()  # "2/3": shards named by no folder given

    @property
    def overview(self) -> Path:
        return self.out / folder.INSTRUCTOR_PAGE


@dataclass(frozen=True)
class _Folder:
    path: Path
    reports: tuple[Path, ...]
    every_exercise: bool
    layout: str
    shard: tuple[int, int] | None


def merge(folders: Sequence[Path], out: Path) -> Merged:
    """Read the reports of `folders` and write them as one class into `out`.

    Raises:
        UsageError: no folder; one missing or holding no batch; a report missing, broken
            or of another schema (named); a student graded in two folders (both named);
            folders of `grade batch all` mixed with folders of one exercise.
    """
    if not folders:
        raise UsageError(
            "no folder to merge: give the output folders of every shard, for example "
            "'grade merge shard-1 shard-2 shard-3 --out class-report'."
        )
    found = [_read(Path(f)) for f in folders]
    modes = {f.every_exercise for f in found}
    if len(modes) > 1:
        alls = [str(f.path) for f in found if f.every_exercise]
        raise UsageError(
            f"cannot merge folders of 'grade batch all' ({', '.join(alls)}) with folders of "
            "one exercise: merge each kind on its own."
        )
    every = modes.pop()
    where: dict[tuple[str, str], Path] = {}
    reports: list[SubmissionReport] = []
    for f in found:
        for path in f.reports:
            report = _load(path)
            key = (report.exercise, report.student)
            if key in where:
                raise UsageError(
                    f"student '{report.student}' ({report.exercise}) is in two folders, "
                    f"'{where[key]}' and '{f.path}': each student belongs to one shard. "
                    "Merge the folders of one sharded run (the same N), once each."
                )
            where[key] = f.path
            reports.append(report)
    layouts = {f.layout for f in found if f.layout}
    layout = layouts.pop() if len(layouts) == 1 else ""
    classes = _classes(reports, layout)
    if not every and len(classes) > 1:
        raise UsageError(
            "the folders hold reports of several exercises ("
            + ", ".join(k.exercise for k in classes)
            + "): merge the shards of one exercise, or of one 'grade batch all'."
        )
    for r in reports:
        base = out / r.exercise if every else out
        folder.write_result(folder.student_folder(base, r.student), r)
    folder.write_classes(out, classes, every)
    written = [
        folder.student_folder(out / r.exercise if every else out, r.student) / folder.REPORT
        for r in reports
    ]
    folder.write_manifest(out, None, layout, every, written)
    return Merged(out, tuple(classes), every, len(found), _missing(found))


def _read(path: Path) -> _Folder:
    """A batch's folder: the reports its manifest lists, or else those it holds."""
    if not path.is_dir():
        raise UsageError(
            f"'{path}' is not a folder: give the output folders of 'grade batch --shard' "
            "(each holds batch.json and students/)."
        )
    text = read_private(path / folder.MANIFEST)
    if text is None:
        every = not (path / folder.STUDENTS).is_dir()
        pattern = f"*/{folder.STUDENTS}/*/{folder.REPORT}" if every else (
            f"{folder.STUDENTS}/*/{folder.REPORT}")  # fmt: skip
        reports = tuple(sorted(path.glob(pattern)))
        if not reports:
            raise UsageError(
                f"'{path}' holds no batch's results (no {folder.MANIFEST}, no "
                f"{folder.STUDENTS}/ID/{folder.REPORT}): give the --out folders of "
                "'grade batch'."
            )
        return _Folder(path, reports, every, "", None)
    data = _manifest(path / folder.MANIFEST, text)
    return _Folder(
        path,
        tuple(path / p for p in data["reports"]),
        data["every_exercise"],
        data["layout"],
        data["shard"],
    )


def _manifest(path: Path, text: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
        shard = data["shard"]
        ok = (
            isinstance(data["reports"], list)
            and all(isinstance(p, str) and ".." not in Path(p).parts for p in data["reports"])
            and isinstance(data["every_exercise"], bool)
            and isinstance(data["layout"], str)
            and (shard is None or isinstance(shard, str))
        )
    except (ValueError, TypeError, KeyError):
        ok = False
    if not ok:
        raise UsageError(
            f"'{path}' is not a batch's manifest (it should hold shard, layout, "
            "every_exercise and reports): rerun the batch that wrote this folder."
        )
    k, _, n = (shard or "").partition("/")
    data["shard"] = (int(k), int(n)) if k.isdigit() and n.isdigit() else None
    return dict(data)


def _load(path: Path) -> SubmissionReport:
    text = read_private(path)
    if text is None:
        raise UsageError(
            f"the report '{path}' is missing: that shard's batch was interrupted, or its "
            "folder was copied in part. Run that shard again (it resumes), then merge."
        )
    try:
        return folder.load(text)
    except SchemaError as e:
        raise UsageError(
            f"the report '{path}' cannot be merged: {e}. Grade that shard again with this "
            "grader ('grade batch ... --force')."
        ) from e
    except ValueError as e:
        raise UsageError(
            f"the report '{path}' is broken ({e}): run that shard's batch again, then merge."
        ) from e


def _order(exercise: str) -> tuple[int, str]:
    """The catalogue's order, as `grade batch all` writes it; unknown ids last."""
    ids = [e.id for e in catalog.all_exercises()]
    return (ids.index(exercise) if exercise in ids else len(ids), exercise)


def _classes(reports: Sequence[SubmissionReport], layout: str) -> list[ClassReport]:
    by_exercise: dict[str, list[SubmissionReport]] = {}
    for r in reports:
        by_exercise.setdefault(r.exercise, []).append(r)
    classes = []
    for ex_id in sorted(by_exercise, key=_order):
        mine = sorted(by_exercise[ex_id], key=lambda r: r.student)
        first = mine[0]
        catalogue = next((r.catalogue for r in mine if r.catalogue), ())
        if not catalogue:
            try:
                catalogue = catalog.find(ex_id).catalogue
            except GraderError:
                catalogue = ()
        classes.append(
            ClassReport(
                exercise=ex_id,
                name=first.name,
                title=first.title,
                catalogue=catalogue,
                reports=tuple(mine),
                layout=layout,
                graded_at=max(r.graded_at for r in mine),  # not now: merging again, the same
                grader_version=session.version(),
            )
        )
    return classes


def _missing(found: Sequence[_Folder]) -> tuple[str, ...]:
    """The shards (of the N the folders name) that no folder is."""
    shards = [f.shard for f in found if f.shard is not None]
    missing = []
    for n in sorted({n for _, n in shards}):
        have = {k for k, m in shards if m == n}
        missing += [f"{k}/{n}" for k in range(1, n + 1) if k not in have]
    return tuple(missing)
