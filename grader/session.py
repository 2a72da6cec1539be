"""Grade one submission: scratch folder, sandboxed worker, results model."""

from __future__ import annotations

import contextlib
import datetime
import os
import shutil
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

import grader
from grader import build_cache, protocol, sandbox, worker
from grader import submission as submission_mod
from grader.catalog import Exercise
from grader.errors import ExerciseError, SandboxError
from grader.private import read_private
from grader.report import Digests, SourceFile, SubmissionReport
from grader.results import BuildResult, CheckResult, CheckSpec, Outcome
from grader.sandbox import confinement, host, inside
from grader.sandbox.cgroup import GradeGroup
from grader.submission import Submission, copy_into


@dataclass(frozen=True)
class GradeOptions:
    keep: bool = False  # keep the scratch folder and say where
    debug: bool = False
    reduced: bool = False  # grade as if user namespaces were unavailable
    student: str = ""  # the student's id, in a batch
    cache: bool = False  # reuse and keep builds in the user's build cache (grader.build_cache)


def grade(exercise: Exercise, submission: Submission, options: GradeOptions) -> SubmissionReport:
    """Build and check `submission` in a fresh sandbox; return the report."""
    caps = sandbox.detect()
    if options.reduced and caps.userns:
        caps = replace(caps, userns=False, why_not="reduced isolation was asked for")
    shares_uid = not caps.userns and not caps.root  # students run as this very user
    with (
        confinement.turn(exercise, caps),
        host.out_of_reach(shares_uid),
        confinement.confined(exercise, caps) as (caps, group),
    ):
        try:
            return _grade(exercise, submission, options, caps, group)
        finally:
            if group is not None:
                group.remove()


def _grade(
    exercise: Exercise,
    submission: Submission,
    options: GradeOptions,
    caps: sandbox.Capabilities,
    group: GradeGroup | None,
) -> SubmissionReport:
    start = time.monotonic()
    graded_at = now()
    confinement.remove_stale_scratch()
    # a kept folder's name has no pid: no later grade takes it for a dead grader's leftover
    owner = "kept" if options.keep else str(os.getpid())
    scratch = Path(tempfile.mkdtemp(prefix=f"ipcgrade-{owner}-{exercise.id}-"))
    try:
        # the job, the log and the results stay beside box/, out of its reach
        result_path = scratch / "result.json"
        result_fd = os.open(result_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            # the worker first: it loads its modules while the scratch folder is prepared
            with host.Worker(worker.command(), caps, scratch / "worker.log", result_fd,
                             group) as started:  # fmt: skip
                job, cache, key, hit, digests = _prepare(
                    exercise, submission, options, caps, scratch, result_fd
                )
                started.go(job.to_json())
                exit_ = started.wait(exercise.limits.grade_s)
        finally:
            os.close(result_fd)
        stream = read_results(read_private(result_path) or "")
        tail = "\n".join(exit_.log.strip().splitlines()[-15:])
        checks = stream.checks
        stopped = ""
        if stream.done is None:
            if not (exit_.timed_out and stream.build is not None and stream.running):
                why = (
                    f"it ran longer than {exercise.limits.grade_s:g} s"
                    if exit_.timed_out
                    else f"it exited with status {exit_.returncode} without results"
                )
                raise SandboxError(
                    f"the grade's worker failed: {why}." + (f"\n{tail}" if tail else "")
                )
            # stopped part way: what was found is kept, and the check that never ended is
            # the grader's failure, not the student's
            running = stream.running
            stopped = (
                f"the grade was stopped after {exercise.limits.grade_s:g} s while "
                f"{running.id.rsplit('/', 1)[-1]} ran; this check did not run"
            )
            spec = next((s for s in stream.catalogue if s.id == running.id), None)
            checks = (*checks, CheckResult(
                id=running.id, title=running.title, outcome=Outcome.ERROR,
                max_points=spec.max_points if spec is not None else 1.0,
                message=f"the grade was stopped after {exercise.limits.grade_s:g} s while this "
                "check ran, and the checks after it did not run; this is not your fault: "
                "tell your instructor",
            ))  # fmt: skip
        elif not checks:
            raise ExerciseError(
                f"no check of {exercise.id} ran (pytest exit {stream.done.pytest_exit}); "
                f"is {exercise.checks} broken?\n{tail}"
            )
        checks = in_catalogue(stream.catalogue, checks, stopped)
        isolation = caps.isolation()
        if not caps.userns and (exercise.ipc_keys or caps.student_uid is None):
            isolation = replace(isolation, layers=(
                *isolation.layers,
                "grades take turns (a file lock); System V objects made during a check are "
                "removed after it",
            ))  # fmt: skip
        if stream.missing_layers:
            isolation = replace(isolation, missing=(*isolation.missing, *stream.missing_layers))
        assert stream.build is not None
        build = stream.build
        if cache is not None and key is not None and hit is None and stream.programs:
            with contextlib.suppress(OSError):  # a full disk costs the next grade a build only
                cache.store(key, build, stream.programs)  # a failed build is never kept
        return SubmissionReport(
            exercise=exercise.id,
            title=exercise.title,
            name=exercise.name,
            submission=str(submission.folder),
            build=build,
            checks=checks,
            catalogue=stream.catalogue,
            isolation=isolation,
            missing_files=submission.missing,
            found_files=submission.found,
            problems=submission.problems,
            duration_s=round(time.monotonic() - start, 3),
            kept=str(scratch) if options.keep else None,
            grader_version=version(),
            graded_at=graded_at,
            student=options.student,
            digests=digests,
            sources=tuple(SourceFile(n, t) for n, t in submission_mod.sources(submission)),
        )
    finally:
        if not options.keep:
            shutil.rmtree(scratch, ignore_errors=True)


def _prepare(
    exercise: Exercise,
    submission: Submission,
    options: GradeOptions,
    caps: sandbox.Capabilities,
    scratch: Path,
    result_fd: int,
) -> tuple[protocol.Job, build_cache.Cache | None, str | None, build_cache.Entry | None, Digests]:
    """The scratch folder made ready for the worker: the submission's copy in box/ (all a
    student program sees), the cached build placed there; and the worker's job."""
    box = scratch / "box"
    digests = Digests(submission_mod.digest(submission), exercise.digest(version()))
    copy_into(submission, box / "submission")
    cache, key, hit = _cached_build(exercise, submission, box / "submission", options)
    if caps.root:
        scratch.chmod(0o711)  # students run as nobody: they may pass, not list
    sandbox.hand_to_students(box, caps)
    job = protocol.Job(
        caps=caps,
        scratch=str(box),
        exercise_folder=str(exercise.folder.resolve()),
        result_fd=result_fd,
        missing=tuple(submission.missing),
        makefile=submission.makefile,
        keep=tuple(confinement.keep_paths(exercise)),
        hide=tuple(confinement.hide_paths(submission)),
        own_root=os.environ.get(inside.NO_PIVOT_ENV, "") in ("", "0"),
        by_remounts=os.environ.get(inside.NO_SETATTR_ENV, "") not in ("", "0"),
        debug=options.debug,
        keep_scratch=options.keep,
        prebuilt=hit.build if hit is not None else None,
        send_programs=key is not None and hit is None,
    )
    return job, cache, key, hit, digests


def _cached_build(
    exercise: Exercise, submission: Submission, copy: Path, options: GradeOptions
) -> tuple[build_cache.Cache | None, str | None, build_cache.Entry | None]:
    """The build cache, the key of this build and its entry, if one was kept; a hit's
    programs are placed in `copy`. The key is taken from `copy`, what gcc will read, not
    from the student's folder, which may change during the grade."""
    if not options.cache or build_cache.disabled():
        return None, None, None
    cache = build_cache.Cache()
    try:
        key = build_cache.key(exercise, replace(submission, folder=copy), version())
        hit = cache.lookup(key) if key is not None else None
        if hit is not None:
            build_cache.place(hit.programs, copy)
    except OSError:  # a cache that cannot be read is no cache: the grade builds
        return None, None, None
    return cache, key, hit


def now() -> str:
    """The time, as a report says when it was graded: ISO 8601 in UTC."""
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def version() -> str:
    """The grader's version: the package's own, which tests/test_session.py holds equal to
    the installed metadata's (pyproject's); importlib.metadata's import and scan of
    sys.path would cost every grade about 15 ms."""
    return grader.__version__


@dataclass
class Streamed:
    """What the worker told, an event per line, in order (grader.protocol)."""

    missing_layers: tuple[str, ...] = ()
    catalogue: tuple[CheckSpec, ...] = ()
    build: BuildResult | None = None
    programs: Mapping[str, bytes] | None = None  # what a fresh build made, for the cache
    checks: tuple[CheckResult, ...] = ()
    running: protocol.Running | None = None  # the check started and not yet ended
    done: protocol.Done | None = None  # the last line: pytest's exit


def read_results(text: str) -> Streamed:
    """Read the worker's stream; a line cut short by the worker's end is dropped."""
    got = Streamed()
    for event in protocol.events(text):
        if isinstance(event, protocol.LayersMissing):
            got.missing_layers = event.layers
        elif isinstance(event, protocol.Collected):
            got.catalogue = event.catalogue
        elif isinstance(event, protocol.Built):
            got.build = event.build
        elif isinstance(event, protocol.Programs):
            got.programs = event.programs
        elif isinstance(event, protocol.Running):
            got.running = event
        elif isinstance(event, protocol.Checked):
            got.checks = (*got.checks, event.result)
            got.running = None
        else:
            got.done = event
    return got


def in_catalogue(
    catalogue: tuple[CheckSpec, ...], checks: tuple[CheckResult, ...], stopped: str = ""
) -> tuple[CheckResult, ...]:
    """One result per check of the catalogue, in its order: a check that never ran is
    there as not run, saying why (`stopped`: the grade was stopped part way)."""
    if not catalogue:
        return checks
    by_id: dict[str, CheckResult | None] = {c.id: c for c in checks}
    out = [by_id.pop(spec.id, None) or CheckResult(
        id=spec.id, title=spec.title, outcome=Outcome.NOT_RUN, max_points=spec.max_points,
        message=stopped or "pytest ended the grade before it reached this check; "
        "this check did not run",
    ) for spec in catalogue]  # fmt: skip
    # a result the catalogue lacks is never lost
    return (*out, *(c for c in by_id.values() if c is not None))
