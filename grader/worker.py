"""Inside the sandbox: the grade's worker runs the exercise's checks with pytest.

Started by `sandbox.host.Worker(command())` as `python -c BOOT`, before its job is ready: it
loads its modules while the host prepares the scratch folder, then reads the job from its
stdin. It is the init of the grade's PID namespace (when there is one), sets up its file
system view, builds the submission, runs pytest with our plugin, and streams its results to
the host, an event per line (grader.protocol).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from grader.sandbox.detect import SAFE_PATH

if TYPE_CHECKING:
    from collections.abc import Callable

    from grader import protocol
    from grader.catalog import Exercise
    from grader.results import BuildResult
    from grader.sandbox import Capabilities

BOOT = (
    "import sys; sys.path.insert(0, sys.argv[1]); "
    "from grader.worker import main; main(sys.argv[2:])"
)


def command() -> list[str]:
    """The worker's command line: this very Python, with the path to the grader given on the
    command line, for `sandbox.host.Worker` (the job comes on its stdin).

    -I: no script folder (the worker runs in a student-writable one), no user site, no
    PYTHON* variables.
    """
    package = Path(__file__).resolve().parent.parent
    return [sys.executable, "-I", "-c", BOOT, str(package)]


# pytest's builtin plugins a grade has no use for: never registered, so never configured
# nor called at each check (`unraisableexception` alone runs gc.collect() twice at the
# end, about 35 ms). What stays: collection, fixtures, assertion rewriting (checks' bare
# asserts keep their messages), skipping, marks, warnings, capture (-s), the terminal
# (--debug's tracebacks), and the fixtures a check may ask for: monkeypatch, recwarn,
# capsys. The faulthandler plugin's one use, a traceback on a crash, main() keeps itself.
UNUSED_PLUGINS = (
    "cacheprovider",  # writes .pytest_cache: nothing of a grade is kept
    "stepwise",
    "doctest",
    "junitxml",
    "pastebin",
    "unittest",  # checks are plain functions
    "legacypath",
    "tmpdir",  # a check's folder is its `sandbox`
    "setuponly",
    "setupplan",
    "debugging",  # no --pdb: the worker has no terminal
    "unraisableexception",
    "threadexception",
    "faulthandler",
    "logging",
    "subtests",
)


def _pytest_args(checks: Path, scratch: Path, debug: bool) -> list[str]:
    return [
        str(checks),
        "-c", os.devnull,  # no configuration file: not the project's, not a student's
        "--rootdir", str(scratch),
        "--confcutdir", str(checks.parent),
        "--import-mode=importlib",
        *(arg for name in UNUSED_PLUGINS for arg in ("-p", f"no:{name}")),
        "-q" if debug else "-qq",
        "--tb=short" if debug else "--tb=no",
        "--no-header",
        "-s",
    ]  # fmt: skip


def start_build(
    exercise: Exercise,
    caps: Capabilities,
    scratch: Path,
    *,
    missing: tuple[str, ...] = (),
    makefile: bool = False,
    prebuilt: BuildResult | None = None,
) -> Callable[[], BuildResult]:
    """The grade's first phase begun: the submission (in `scratch`/submission) to build
    once, before any check runs. Every gcc run (or make) is started here, in the caller's
    thread; the function returned waits for them and gives the build's result, as
    `build()` does. With files missing, nothing is compiled. With `prebuilt` (the build
    cache's hit: the host placed its programs), that result is handed on, marked reused,
    and gcc does not run, as long as every program is there as a regular file."""
    import dataclasses
    import stat
    import time

    from grader import build as build_mod
    from grader.results import BuildResult
    from grader.sandbox import Sandbox

    if missing:
        result = BuildResult(ok=False, kind="missing",
                             errors=tuple(f"{m} is missing" for m in missing))  # fmt: skip
        return lambda: result
    source = scratch / "submission"
    if prebuilt is not None and prebuilt.ok and not makefile:
        start = time.monotonic()
        programs = [source / p for _, p, _ in exercise.builds]
        if all(p.is_file() and not p.is_symlink() and p.stat().st_mode & stat.S_IXUSR
               for p in programs):  # fmt: skip
            reused = dataclasses.replace(prebuilt, reused=True,
                                         duration_s=time.monotonic() - start)  # fmt: skip
            return lambda: reused
    box = Sandbox(scratch / "build-log", exercise.limits, caps, home=source)
    try:
        pending = build_mod.start(source, exercise, box, makefile=makefile)
    except BaseException:
        box.cleanup()
        raise

    def finish() -> BuildResult:
        try:
            return pending.finish()
        finally:
            box.cleanup()

    return finish


def build(
    exercise: Exercise,
    caps: Capabilities,
    scratch: Path,
    *,
    missing: tuple[str, ...] = (),
    makefile: bool = False,
    prebuilt: BuildResult | None = None,
) -> BuildResult:
    """The grade's first phase, start to end (`start_build()`, then waiting for it)."""
    return start_build(exercise, caps, scratch, missing=missing, makefile=makefile,
                       prebuilt=prebuilt)()  # fmt: skip


def _begin_build(
    exercise: Exercise, caps: Capabilities, scratch: Path, job: protocol.Job
) -> Callable[[], tuple[BuildResult, BaseException | None]]:
    """The build phase begun; the function returned gives its result, and what broke it:
    the grader's failure (gcc or make missing), which each check then reports, never a
    lost report."""
    from grader.results import BuildResult

    def broken(e: BaseException) -> Callable[[], tuple[BuildResult, BaseException | None]]:
        return lambda: (BuildResult(ok=False, kind="missing"), e)

    try:
        finish = start_build(exercise, caps, scratch, missing=job.missing,
                             makefile=job.makefile, prebuilt=job.prebuilt)  # fmt: skip
    except Exception as e:
        return broken(e)

    def result() -> tuple[BuildResult, BaseException | None]:
        try:
            return finish(), None
        except Exception as e:
            return broken(e)()

    return result


def _built(
    exercise: Exercise, caps: Capabilities, scratch: Path, job: protocol.Job
) -> tuple[BuildResult, BaseException | None]:
    """The build phase's result, start to end, and what broke it (see `_begin_build`)."""
    return _begin_build(exercise, caps, scratch, job)()


def _read_job() -> str:
    """The job, as the host writes it to the worker's stdin (`Worker.go()`); then stdin is
    /dev/null, as it was before the worker read its job from it."""
    chunks = []
    while chunk := os.read(0, 1 << 16):
        chunks.append(chunk)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    return b"".join(chunks).decode()


def _job_ready() -> bool:
    import select

    return bool(select.select([0], [], [], 0)[0])


def main(argv: list[str]) -> None:
    sys.dont_write_bytecode = True
    os.environ.clear()
    os.environ.update({"PATH": SAFE_PATH, "LANG": "C.UTF-8",
                       "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"})  # fmt: skip
    # what the grade needs up to the build, loaded before the job comes: the host is still
    # preparing the scratch folder
    import faulthandler

    from grader import catalog, protocol, sandbox
    from grader.sandbox import box  # noqa: F401  (the build's Sandbox)

    # and pytest too, while the job is still to come; otherwise it is imported during the
    # build, which it overlaps
    if not _job_ready():
        import pytest

        from grader import plugin  # noqa: F401
    job = protocol.Job.from_json(_read_job())
    caps = job.caps
    for fd in caps.cgroup_fds:  # joined by student processes between fork and exec only
        os.set_inheritable(fd, False)
    scratch = Path(job.scratch)
    out = job.result_fd  # opened by the host, out of students' reach
    os.set_inheritable(out, False)  # and out of their processes

    def emit(event: protocol.Event) -> None:
        """One line per event, as it happens (see session.read_results)."""
        os.write(out, event.to_line().encode())

    if caps.userns:
        missing = sandbox.enter(
            scratch,
            list(job.keep),
            list(job.hide),
            own_root=job.own_root,
            keep_scratch=job.keep_scratch,
            by_remounts=job.by_remounts,
        )
        emit(protocol.LayersMissing(tuple(missing)))
        scratch = sandbox.INSIDE_SCRATCH
        sandbox.hand_to_students(scratch, caps)  # a copy, made here
    else:
        sandbox.become_subreaper()
    os.chdir(scratch)
    sandbox.protect_worker()

    faulthandler.enable()  # a crash of the worker leaves its traceback in the log

    exercise = catalog._load(Path(job.exercise_folder))
    # the build first: every gcc run (or make) forked here, in this thread, before pytest
    # is imported, which it then overlaps. No fork may happen while another thread
    # imports (the child could be left a lock no one will release before it execs): the
    # threads the runs bring (their output's readers, their reapers, the build's timer)
    # fork nothing, and nothing forks during the import
    building = _begin_build(exercise, caps, scratch, job)
    import pytest

    from grader.plugin import Collector, GradeContext

    built, broke = building()
    emit(protocol.Built(built))
    if job.send_programs and built.ok and not built.reused and not job.makefile:
        from grader import build_cache

        # now, before any check has run a student program that could change them
        programs = build_cache.read_programs(scratch / "submission", exercise)
        if programs is not None:
            emit(protocol.Programs(programs))
    ctx = GradeContext(
        exercise=exercise,
        caps=caps,
        scratch=scratch,
        missing=job.missing,
        makefile=job.makefile,
        build_result=built,
        build_error=broke,
        emit=emit,
    )
    collector = Collector(ctx)
    code = pytest.main(_pytest_args(exercise.checks, scratch, job.debug), plugins=[collector])
    emit(protocol.Done(int(code)))
    os.close(out)
    sys.stdout.flush()
    os._exit(0)  # init of the namespace: skip interpreter teardown and its stray threads
