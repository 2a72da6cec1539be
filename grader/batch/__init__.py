"""Grade a class: one sandboxed grade per submission, in parallel, each written as it ends.

plan() finds what to grade (and refuses bad input before anything runs); run() grades it
through a pool of grade processes (batch/pool.py), writes each student's report and pages
into the output folder (batch/folder.py) as each grade ends, keeping only a slim copy of
the report (folder.slim: the batch process does not grow with the class's whole reports),
and from those each exercise's grade sheet and overview at the end, or after control-C
with what was done. A rerun reuses every report whose digests match the submission's files
and the exercise's checks. With a shard (batch/shard.py), only that slice of the class is
graded; batch/merge.py joins the shards.
"""

from __future__ import annotations

import contextlib
import functools
import os
import signal
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from grader import catalog, classfolder, session, unpack
from grader import submission as submission_mod
from grader.batch import folder
from grader.batch.pool import Done, Pool, Task
from grader.batch.shard import Shard
from grader.catalog import Exercise
from grader.errors import ExitCode, GraderError, UsageError
from grader.report import ClassReport, Digests, SchemaError, SubmissionReport
from grader.results import BuildResult, CheckResult, Isolation, Outcome

ALL = "all"
OVERTIME_S = 60.0  # past a grade's own watchdog (grade_s), its process is stopped


@dataclass(frozen=True, eq=False)  # one per job: compared, and hashed, by identity
class Job:
    """One student's submission of one exercise, and where its results go."""

    exercise: Exercise
    student: str
    path: Path  # the student's folder (or unpacked archive), given to submission.discover
    out: Path  # OUT/students/<id>/ (OUT/<exercise>/students/<id>/ for `all`)


@dataclass(frozen=True)
class Plan:
    """What a batch will grade, found and checked before any grade starts."""

    exercises: tuple[Exercise, ...]
    jobs: tuple[Job, ...]
    out: Path
    layout: str
    every_exercise: bool  # `grade batch all`: one folder per exercise under OUT
    problems: tuple[str, ...] = ()  # what the class folder held that is no submission
    shard: Shard | None = None  # `--shard K/N`: only the students of that slice

    def folder(self, exercise: Exercise) -> Path:
        """Where `exercise`'s overview, grade sheet and students go."""
        return self.out / exercise.id if self.every_exercise else self.out

    @property
    def overview(self) -> Path:
        return self.out / folder.INSTRUCTOR_PAGE


@dataclass(frozen=True)
class Started:
    """A grade began; `running` is every grade running now, this one included."""

    job: Job
    running: tuple[Job, ...]


@dataclass(frozen=True)
class Finished:
    """A grade ended, or its earlier report was reused, and its report is written."""

    job: Job
    report: SubmissionReport  # the whole report (the batch keeps only its slim copy)
    reused: bool
    seconds: float  # this grade's wall-clock time, as the batch saw it; 0 when reused
    done: int  # how many of the plan's jobs have ended, this one included
    total: int
    running: tuple[Job, ...]  # what still runs


Event = Started | Finished


@dataclass(frozen=True)
class Summary:
    """How a batch went: each exercise's class (whatever was done), and where it is. The
    classes hold the slim reports (folder.slim): scores, statuses and outcomes; the whole
    reports are the students' report.json."""

    plan: Plan
    classes: tuple[ClassReport, ...]
    graded: int  # grades run by this batch
    reused: int  # reports reused from an earlier batch
    interrupted: bool
    seconds: float
    statuses: dict[str, int] = field(default_factory=dict)  # "graded": 30, ...

    @property
    def done(self) -> int:
        return self.graded + self.reused

    @property
    def exit_code(self) -> int:
        """130 interrupted; 3 when the grader broke on some submission; else 0, whatever
        the students scored (a class always fails some checks: no failure of the batch)."""
        if self.interrupted:
            return ExitCode.INTERRUPTED
        if self.statuses.get("grader error"):
            return ExitCode.INTERNAL
        return ExitCode.PASSED


def default_jobs() -> int:
    """The cores this process may run on (its affinity, as taskset or a container set it)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def default_out(class_dir: Path) -> Path:
    """`CLASS_DIR-graded`, beside the class folder: never inside it, where a rerun would
    take it for a student (`grade batch exercise2 .` included)."""
    real = class_dir.resolve()
    return real.parent / f"{unpack.archive_stem(real.name)}-graded"


def plan(
    exercise_name: str, class_dir: Path, out: Path | None = None, shard: Shard | None = None
) -> Plan:
    """Find the submissions in `class_dir` and what to grade in each.

    `exercise_name` is an exercise (its id or short name), or "all": every exercise any of
    whose files is in a student's submission, for that student. With `shard`, only the
    students of that slice (who may be none: the shard then writes an empty class).

    Raises:
        UsageError: an unknown exercise; `class_dir` missing, not a folder, or holding no
            submission; `out` a file, or inside `class_dir`.
    """
    every = exercise_name.strip().lower() == ALL
    exercises = catalog.all_exercises() if every else (catalog.find(exercise_name),)
    _check_class_dir(class_dir)
    out = out if out is not None else default_out(class_dir)
    _check_out(out, class_dir)
    found = classfolder.find(class_dir, out / ".unpacked")
    if not found.entries:
        raise UsageError(
            f"the class folder '{class_dir}' holds no submission: it should hold one folder "
            "(or .zip or .tar.gz archive) per student, named by the student's id, each with "
            "the student's repository or exercise folder inside."
            + (f" Skipped: {' '.join(found.problems)}" if found.problems else "")
        )
    jobs = [
        Job(ex, entry.student, entry.path,
            folder.student_folder(out / ex.id if every else out, entry.student))
        for entry in found.entries
        if shard is None or shard.holds(entry.student)
        for ex in exercises
        if not every or _holds(entry.path, ex)
    ]  # fmt: skip
    if not jobs and shard is None:
        raise UsageError(
            f"no student in '{class_dir}' has a file of any exercise (for example "
            f"{', '.join(exercises[0].files)}, in {exercises[0].id}/ or at the top of the "
            "student's folder); 'grade --list' shows the files each exercise expects."
        )
    graded = tuple(ex for ex in exercises if any(j.exercise is ex for j in jobs))
    if not every:
        graded = exercises  # an empty shard still has its (empty) sheet and overview
    return Plan(graded, tuple(jobs), out, found.layout, every, found.problems, shard)


def _check_class_dir(class_dir: Path) -> None:
    if not class_dir.exists():
        raise UsageError(
            f"the class folder '{class_dir}' does not exist. Give the folder holding one "
            "folder (or archive) per student, for example 'grade batch exercise2 "
            "submissions/'."
        )
    if not class_dir.is_dir() and not unpack.is_archive(class_dir):
        raise UsageError(
            f"the class folder '{class_dir}' is a file, not a folder nor an archive (.zip, "
            ".tar.gz, .tgz, .tar). Give the folder that holds the students' submissions "
            "(one folder or archive per student), or the class's archive."
        )
    if not os.access(class_dir, os.R_OK | (os.X_OK if class_dir.is_dir() else 0)):
        raise UsageError(
            f"the class folder '{class_dir}' cannot be read (permission denied). Check "
            "its permissions (chmod u+rx) or run grade as its owner."
        )


def _check_out(out: Path, class_dir: Path) -> None:
    if out.exists() and not out.is_dir():
        raise UsageError(
            f"cannot write the batch's results to '{out}': it is a file. Give --out a "
            f"folder (made if missing), for example '--out {out.parent / 'graded'}'."
        )
    real_out, real_class = out.resolve(), class_dir.resolve()
    if real_out == real_class or real_class in real_out.parents:
        raise UsageError(
            f"the output folder '{out}' is inside the class folder '{class_dir}', where a "
            "rerun would take it for a student's submission. Give --out a folder outside "
            f"it, for example '--out {real_class.parent / (real_class.name + '-graded')}'."
        )


def _holds(path: Path, exercise: Exercise) -> bool:
    """Whether any of `exercise`'s files is in the student's folder (its exercise folder,
    or at the top): `grade batch all` grades only what each student handed in."""
    try:
        return bool(submission_mod.discover(path, exercise).found)
    except GraderError:
        return False


def run(
    the_plan: Plan,
    jobs: int,
    force: bool = False,
    on_event: Callable[[Event], None] = lambda _: None,
) -> Summary:
    """Grade the plan, `jobs` grades at a time; each report is written as its grade ends.

    A KeyboardInterrupt (control-C; the CLI turns SIGTERM into one) stops the running
    grades (each removes its sandbox), keeps what is done, writes the grade sheets and
    overviews of it, and returns a summary saying it was interrupted.

    Raises:
        UsageError: `jobs` is below 1, or the output folder cannot be written.
    """
    if jobs < 1:
        raise UsageError(
            f"--jobs must be 1 or more (got {jobs}): it is how many grades run at once; "
            "leave it out to run one per core."
        )
    started = time.monotonic()
    graded_at = session.now()
    version = session.version()
    checks = {ex.id: ex.digest(version) for ex in the_plan.exercises}
    # slim copies (folder.slim): what the sheets and overviews need, not whole reports
    reports: dict[Job, SubmissionReport] = {}
    shared: dict[Any, Any] = {}  # the slim reports' frozen parts, one of each
    total = len(the_plan.jobs)
    reused = 0

    def started_one(key: tuple[Job, Digests], running: tuple[tuple[Job, Digests], ...]) -> None:
        on_event(Started(key[0], tuple(j for j, _ in running)))

    def done_one(done: Done[tuple[Job, Digests]]) -> None:
        job, wanted = done.key
        report = _report(job, wanted, done)
        with _shielded(defer=True):  # a control-C now: the report kept, not its slim copy
            folder.write_result(job.out, report, pages=False)
            reports[job] = folder.slim(report, shared)
            # its pages are rendered while the grades run: no slot waits on them
            pool.later(functools.partial(folder.write_pages, job.out, report, always=True))
        on_event(Finished(job, report, False, done.seconds, len(reports), total,
                          tuple(j for j, _ in pool.running_keys())))  # fmt: skip

    def tasks() -> Iterator[Task[tuple[Job, Digests]]]:
        """Each job to grade, found as the pool has a free slot: the digests and the reuse
        of earlier reports are worked out while the grades before run."""
        nonlocal reused
        for job in the_plan.jobs:
            wanted = Digests(_digest(job), checks[job.exercise.id])
            old = None if force else folder.reusable(job.out, job.student, wanted)
            if old is None:
                deadline = job.exercise.limits.grade_s + OVERTIME_S
                yield Task((job, wanted), job.exercise.id, job.path, deadline)
                continue
            pool.later(functools.partial(folder.write_pages, job.out, old))
            reports[job] = folder.slim(old, shared)
            reused += 1
            on_event(Finished(job, old, True, 0.0, len(reports), total,
                              tuple(j for j, _ in pool.running_keys())))  # fmt: skip

    pool: Pool[tuple[Job, Digests]] = Pool(jobs, started_one, done_one)
    interrupted = False
    try:
        pool.run(tasks())
    except KeyboardInterrupt:
        interrupted = True
        with _shielded():
            pool.stop()
            pool.flush()  # the pages of the reports kept
    except BaseException:
        with _shielded():
            pool.stop()
        raise
    finally:
        pool.close()
    with _shielded():
        return _finish(the_plan, reports, len(reports) - reused, reused, interrupted,
                       started, graded_at, version)  # fmt: skip


def _report(job: Job, wanted: Digests, done: Done[tuple[Job, Digests]]) -> SubmissionReport:
    """The grade's report, with the student's id; or a "grader error" report saying why
    there is none."""
    if done.report:
        try:
            return replace(folder.load(done.report), student=job.student)
        except (SchemaError, ValueError) as e:
            return _broken(job, wanted, f"the grade's report could not be read: {e}")
    if done.overtime:
        why = (f"it ran longer than {job.exercise.limits.grade_s + OVERTIME_S:g} s, past "
               "its own watchdog, and was stopped")  # fmt: skip
    elif done.returncode < 0:
        why = f"its process was killed by {signal.Signals(-done.returncode).name}"
    else:
        why = f"it exited with status {done.returncode} without a report"
    return _broken(
        job, wanted, f"the grade failed: {why}" + (f": {done.said}" if done.said else "")
    )


def _broken(job: Job, digests: Digests, error: str) -> SubmissionReport:
    """A grade the grader broke on: every check not run, 0 points, `error` saying why."""
    specs = job.exercise.catalogue
    why = "the grade broke before this check ran: the grader's fault, not the student's"
    return SubmissionReport(
        exercise=job.exercise.id,
        title=job.exercise.title,
        name=job.exercise.name,
        submission=str(job.path),
        build=BuildResult(ok=False),
        checks=tuple(
            CheckResult(s.id, s.title, Outcome.NOT_RUN, message=why, max_points=s.max_points)
            for s in specs
        ),
        isolation=Isolation("reduced", missing=("the grade broke: its isolation is unknown",)),
        grader_version=session.version(),
        graded_at=session.now(),
        student=job.student,
        catalogue=specs,
        digests=digests,
        error=error,
    )


def _finish(
    the_plan: Plan,
    reports: dict[Job, SubmissionReport],
    graded: int,
    reused: int,
    interrupted: bool,
    started: float,
    graded_at: str,
    version: str,
) -> Summary:
    """Write each exercise's grade sheet and overview (and, for `all`, the top index), and
    the folder's manifest."""
    klasses = []
    for ex in the_plan.exercises:
        mine = sorted(((j, r) for j, r in reports.items() if j.exercise is ex),
                      key=lambda jr: jr[0].student)  # fmt: skip
        klasses.append(ClassReport(
            exercise=ex.id,
            name=ex.name,
            title=ex.title,
            catalogue=next((r.catalogue for _, r in mine if r.catalogue), ()) or ex.catalogue,
            reports=tuple(r for _, r in mine),
            layout=the_plan.layout,
            graded_at=graded_at,
            grader_version=version,
        ))  # fmt: skip
    folder.write_classes(the_plan.out, klasses, the_plan.every_exercise)
    folder.write_manifest(
        the_plan.out,
        None if the_plan.shard is None else str(the_plan.shard),
        the_plan.layout,
        the_plan.every_exercise,
        [j.out / folder.REPORT for j in the_plan.jobs],
    )
    statuses: dict[str, int] = {}
    for r in reports.values():
        statuses[r.status] = statuses.get(r.status, 0) + 1
    return Summary(the_plan, tuple(klasses), graded, reused, interrupted,
                   round(time.monotonic() - started, 3), statuses)  # fmt: skip


def _digest(job: Job) -> str:
    """The submission's digest; "" when it cannot be found (then graded, never reused:
    the grade's own process says what is wrong)."""
    try:
        return submission_mod.digest(submission_mod.discover(job.path, job.exercise))
    except GraderError:
        return ""


@contextlib.contextmanager
def _shielded(*, defer: bool = False) -> Iterator[None]:
    """No control-C (or SIGTERM) inside the block. Ignored while the batch stops its grades
    and writes the summary (both bounded by pool.GRACE_S; cut short they would lose what is
    done); with `defer`, taken right after the block instead, never lost."""
    caught: list[int] = []
    saved = []
    handler: Any = (lambda signum, frame: caught.append(signum)) if defer else signal.SIG_IGN
    with contextlib.suppress(ValueError):  # not the main thread: signals are not ours
        for sig in (signal.SIGINT, signal.SIGTERM):
            saved.append((sig, signal.signal(sig, handler)))
    try:
        yield
    finally:
        for sig, old in saved:
            signal.signal(sig, old)
    if caught:
        raise KeyboardInterrupt
