"""The `grade` command: parse, call the library, print or write, exit. The only sys.exit."""

from __future__ import annotations

import atexit
import contextlib
import os
import shlex
import signal
import sys
import threading
import traceback
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

import click

# only what --version, --list and the options' help need: a grade's modules (the session,
# the sandbox, pytest's plugin) are imported by the command that runs one
from grader import catalog, destinations
from grader.errors import ExerciseError, ExitCode, GraderError, UsageError
from grader.render import FORMATS, Options, listing

if TYPE_CHECKING:
    from grader import session


class _Ordered(click.Command):
    """A command that remembers the order of its options on the command line: each --out
    belongs to the --format before it."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        _, _, order = self.make_parser(ctx).parse_args(args=list(args))
        ctx.meta["ipcgrade.order"] = [p.name for p in order]
        return super().parse_args(ctx, args)


_FORMAT_HELP = "; ".join(f"{name}: {f.help}" for name, f in FORMATS.items())


@click.command(cls=_Ordered, context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("exercise", required=False)
@click.argument("submission", required=False, type=click.Path(path_type=Path, readable=False))
@click.option(
    "--list",
    "list_",
    is_flag=True,
    help="List the exercises and the files each expects (as JSON with --format json).",
)
@click.option(
    "--format", "-f", "fmts", type=click.Choice(list(FORMATS)), multiple=True, metavar="NAME",
    help="How to write the report [default: terminal]; give several, each followed by its "
    f"own --out FILE. {_FORMAT_HELP}.",
)  # fmt: skip
@click.option("--out", "-o", "outs", type=click.Path(path_type=Path), metavar="FILE",
              multiple=True, help="Write the report of the --format before it to FILE "
              "instead of the terminal.")  # fmt: skip
@click.option("--tap-version", type=click.Choice(["13", "14"]), default="14", show_default=True,
              help="The TAP version of --format tap (13 for Perl's prove).")  # fmt: skip
@click.option("--show", is_flag=True, help="Print EXERCISE's statement (what to write).")
@click.option("--doctor", is_flag=True, help="Show what this machine offers the sandbox; "
              "exit 1 if it cannot give full isolation or lacks a tool.")  # fmt: skip
@click.option("--keep", is_flag=True, help="Keep the scratch folder and say where it is.")
@click.option("--verbose", "-v", is_flag=True,
              help="List the sandbox's layers in the terminal report.")  # fmt: skip
@click.option("--debug", is_flag=True, help="Show internals and tracebacks.")
@click.option("--watch", is_flag=True, help="Grade again each time a file of the "
              "submission changes, showing what now passes and now fails; control-C "
              "stops.")  # fmt: skip
@click.option("--no-cache", is_flag=True, help="Build afresh, neither reusing nor keeping "
              "the programs of a grade of the same sources (or set "
              "IPCGRADE_NO_CACHE=1).")  # fmt: skip
@click.version_option(package_name="ipcgrade")
def grade(
    exercise: str | None,
    submission: Path | None,
    list_: bool,
    fmts: tuple[str, ...],
    outs: tuple[Path, ...],
    tap_version: str,
    show: bool,
    doctor: bool,
    keep: bool,
    verbose: bool,
    debug: bool,
    watch: bool,
    no_cache: bool,
) -> int:
    """Grade EXERCISE (an id like exercise2, or a short name like pipe) in SUBMISSION.

    SUBMISSION is your repository's root (holding exercise2/) or the exercise's folder
    itself; it defaults to the current folder. Exit status: 0 all checks passed, 1 a check
    failed (missing files and build failures too), 2 bad usage, 3 the grader broke, 130
    interrupted (control-C or SIGTERM).

    To grade a whole class: grade batch EXERCISE CLASS_DIR, sliced over machines with
    --shard K/N and joined with grade merge; an autograder for Gradescope, PrairieLearn or
    Autolab: grade package PLATFORM EXERCISE (each has its --help).
    """
    if watch:
        _check_watch(fmts, outs, list_, show, doctor)
    targets = destinations.targets(
        click.get_current_context().meta.get("ipcgrade.order", []), fmts, outs
    )
    fmt, out = targets[0]
    if list_:
        exercises = catalog.all_exercises()
        _deliver(listing.render(exercises, as_json=fmt == "json") + "\n", out)
        return ExitCode.PASSED
    if doctor:
        from grader import doctor as doctor_mod

        findings = doctor_mod.examine()
        _deliver(doctor_mod.render(findings, doctor_mod.isolation()) + "\n", out)
        return ExitCode.PASSED if doctor_mod.healthy(findings) else ExitCode.FAILED
    if exercise is None:
        example = "'grade --show exercise1'" if show else "'grade exercise1' or 'grade copy'"
        raise UsageError(
            f"no exercise given. Name one, for example {example}; 'grade --list' shows them all."
        )
    ex = catalog.find(exercise)
    if show:
        try:
            click.echo(ex.statement.read_text(encoding="utf-8"), nl=False)
        except OSError as e:
            raise ExerciseError(
                f"the statement of {ex.id}, {ex.statement}, cannot be read: {e.strerror}."
            ) from e
        return ExitCode.PASSED
    from grader import session
    from grader.submission import discover

    sub = discover(submission if submission is not None else Path.cwd(), ex)
    options = Options(verbose=verbose, tap_version=int(tap_version),
                      workspace=os.environ.get("GITHUB_WORKSPACE") or None)  # fmt: skip
    grading = session.GradeOptions(keep=keep, debug=debug, cache=not no_cache)
    if watch:
        _watch(ex, submission if submission is not None else Path.cwd(), grading, options)
    with contextlib.ExitStack() as stack:
        # every file opened before grading: a bad path wastes no grade
        dests = [stack.enter_context(destinations.opened(o)) for _, o in targets]
        appends = destinations.appends(targets)
        report = session.grade(ex, sub, grading)
        texts = [FORMATS[f].render(report, options) for f, _ in targets]
        added = [(var, path, fn(report, options)) for var, path, fn in appends]
        for (_, o), dest, text in zip(targets, dests, texts, strict=True):
            _write(text, dest, o)
        for var, path, text in added:
            destinations.append(var, path, text)
    return report.exit_code


def _check_watch(
    fmts: tuple[str, ...], outs: tuple[Path, ...], list_: bool, show: bool, doctor: bool
) -> None:
    """--watch redraws the terminal report: refuse what would write anything else."""
    other = "--list" if list_ else "--show" if show else "--doctor" if doctor else ""
    if other:
        raise UsageError(
            f"--watch grades again on each change; it does not go with {other}. Leave out "
            f"one of them: 'grade EXERCISE --watch' to grade on each save."
        )
    if outs or len(fmts) > 1 or any(f != "terminal" for f in fmts):
        given = " ".join([*(f"--format {f}" for f in fmts), *(f"--out {o}" for o in outs)])
        raise UsageError(
            f"--watch shows the terminal report, redrawn on each change, so it does not go "
            f"with {given}. Leave out --watch to write a report once (for example 'grade "
            "EXERCISE --format json --out report.json'), or leave out the formats and files "
            "to watch."
        )


def _watch(
    exercise: catalog.Exercise, path: Path, grading: session.GradeOptions, options: Options
) -> None:
    """Grade, redraw, wait for a change, again: until control-C (exit 130, in main)."""
    from grader import session, watch
    from grader.submission import discover

    sub = discover(path, exercise)
    with watch.Watcher(sub.folder, watch.triggers(exercise, sub.folder)) as watcher:
        previous = None
        while True:
            sub = discover(path, exercise)  # a file added or removed since
            report = session.grade(exercise, sub, grading)
            click.clear()
            click.echo(_since_last_run(watch.changes(previous, report)), nl=False)
            click.echo(FORMATS["terminal"].render(report, options), nl=False)
            reused = " (build reused: the sources did not change)" if report.build.reused else ""
            where = f"\nwatching {sub.folder}{reused}"
            click.echo(f"{where}: save a file to grade again; control-C to stop", err=True)
            previous = report
            watcher.wait()


def _since_last_run(changed: object) -> str:
    """The lines above a rerun's report: each check that now passes, each that now fails."""
    from grader import watch

    assert isinstance(changed, watch.Changes)
    if not changed:
        return ""
    lines = ["since the last run:"]
    lines += [f"  ✓ now passes: {c.title}" for c in changed.now_passes]
    lines += [f"  ✗ now fails: {c.title}" for c in changed.now_fails]
    return "\n".join(lines) + "\n\n"


def _deliver(text: str, out: Path | None) -> None:
    """`text` to the terminal, or to `out` (--out) when given."""
    with destinations.opened(out) as dest:
        _write(text, dest, out)


def _write(text: str, dest: TextIO | None, out: Path | None) -> None:
    if dest is None or out is None:
        click.echo(text, nl=False)
        return
    destinations.write(text, dest, out)
    click.echo(f"report written to {out}", err=True)


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("exercise")
@click.argument("class_dir", type=click.Path(path_type=Path, readable=False))
@click.option("--out", "-o", type=click.Path(path_type=Path), metavar="DIR",
              help="Write the results into DIR (made if missing).  [default: CLASS_DIR's "
              "name + -graded, beside CLASS_DIR]")  # fmt: skip
@click.option("--jobs", "-j", type=int, metavar="N",
              help="Run N grades at once.  [default: one per core]")  # fmt: skip
@click.option("--force", is_flag=True, help="Regrade every submission, reusing no result.")
@click.option(
    "--shard",
    metavar="K/N",
    help="Grade only the K-th of N slices of the class "
    "(by a hash of each student's id); join the N folders with 'grade merge'.",
)
@click.option("--debug", is_flag=True, help="Show internals and tracebacks.")
@click.option("--watch", is_flag=True, hidden=True)  # refused, with what to do instead
def batch_command(
    exercise: str,
    class_dir: Path,
    out: Path | None,
    jobs: int | None,
    force: bool,
    shard: str | None,
    debug: bool,
    watch: bool,
) -> int:
    """Grade EXERCISE (or all) in every student's submission in CLASS_DIR.

    CLASS_DIR holds one folder (or archive) per student, named by the student's id, each
    holding their repository's root or the exercise's folder. With "all", each student is
    graded in every exercise any of whose files they handed in. Each result is written as
    its grade ends, in DIR/students/ID/ (DIR/EXERCISE/students/ID/ for all): report.json,
    index.html (the instructor's page) and report-student.html; then DIR/grades.csv and
    the overview DIR/index.html. A rerun reuses every result whose submission and checks
    are unchanged; control-C stops, keeps what is done, and the same command resumes.
    With --shard K/N, only that slice of the students is graded (all of a student's
    exercises in one shard): run the N shards (on N machines), then 'grade merge'.

    Exit status: 0 every submission graded (whatever the students scored), 2 bad usage,
    3 the grader broke on some submission (the rest is written), 130 interrupted.
    """
    from grader import batch
    from grader.batch import shard as shard_mod
    from grader.progress import Progress

    if watch:
        raise UsageError(
            "--watch is for one student's loop, 'grade EXERCISE [SUBMISSION] --watch'; a "
            "batch grades each submission once. Leave out --watch (a rerun of the batch "
            "regrades only the submissions that changed)."
        )
    the_shard = shard_mod.parse(shard) if shard is not None else None
    given_jobs = jobs
    jobs = batch.default_jobs() if jobs is None else jobs
    if jobs < 1:
        raise UsageError(
            f"--jobs must be 1 or more (got {jobs}): it is how many grades run at once; "
            "leave it out to run one per core."
        )
    the_plan = batch.plan(exercise, class_dir, out, the_shard)
    with Progress(len(the_plan.jobs), sys.stderr) as shown:
        summary = batch.run(the_plan, jobs, force=force, on_event=shown.event)
    shown.summary(summary)
    if summary.interrupted:
        again = ["grade", "batch", exercise, str(class_dir), *(["--out", str(out)] if out else []),
                 *(["--jobs", str(jobs)] if given_jobs is not None else []),
                 *(["--shard", str(the_shard)] if the_shard else [])]  # fmt: skip
        click.echo(
            f"grade: interrupted: {summary.done} of {len(the_plan.jobs)} submissions are done "
            f"and kept in {the_plan.out}. To resume, run the same command again"
            f"{' (without --force)' if force else ''}: {shlex.join(again)}",
            err=True,
        )
    return summary.exit_code


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("platform", type=click.Choice(["gradescope", "prairielearn", "autolab"]))
@click.argument("exercise")
@click.option("--out", "-o", type=click.Path(path_type=Path), metavar="DIR",
              help="Write the package into DIR (made if missing).  [default: "
              "ipcgrade-PLATFORM-EXERCISE in the current folder]")  # fmt: skip
@click.option("--wheel", type=click.Path(path_type=Path), metavar="FILE",
              help="Put this ipcgrade wheel in the package instead of building one from "
              "the checkout.")  # fmt: skip
def package_command(platform: str, exercise: str, out: Path | None, wheel: Path | None) -> int:
    """Write PLATFORM's autograder for EXERCISE: it installs ipcgrade in the platform's
    container and grades each submission there, always leaving the platform a result.

    gradescope: autograder.zip (setup.sh, run_autograder). prairielearn: a Dockerfile, its
    entrypoint `run` and the info.json settings. autolab: autograde-Makefile and
    autograde.tar.
    """
    from grader import package

    ex = catalog.find(exercise)
    built = package.BUILDERS[platform](ex, wheel)
    dest = out if out is not None else Path(f"ipcgrade-{platform}-{ex.id}")
    if dest.exists() and not dest.is_dir():
        raise UsageError(f"--out {dest} is a file: give --out a folder for the package.")
    try:
        dest.mkdir(parents=True, exist_ok=True)
        for f in built.files:
            path = dest / f.name
            path.write_bytes(f.data)
            path.chmod(0o755 if f.executable else 0o644)
    except OSError as e:
        raise UsageError(f"cannot write the package into '{dest}': {e.strerror}.") from e
    click.echo(f"{platform} autograder for {ex.id} written to {dest}:", err=True)
    for f in built.files:
        click.echo(f"  {dest / f.name}", err=True)
    click.echo(built.next_steps, err=True)
    return ExitCode.PASSED


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("folders", nargs=-1, type=click.Path(path_type=Path, readable=False))
@click.option("--out", "-o", type=click.Path(path_type=Path), metavar="DIR",
              help="Write the merged class into DIR (made if missing).  [default: merged, "
              "beside the first FOLDER]")  # fmt: skip
@click.option("--summary", type=click.Path(path_type=Path), metavar="FILE",
              help="Also append the class as a Markdown table to FILE, for example "
              '"$GITHUB_STEP_SUMMARY".')  # fmt: skip
def merge_command(folders: tuple[Path, ...], out: Path | None, summary: Path | None) -> int:
    """Join the output folders of 'grade batch --shard K/N' into one class.

    Writes into DIR what one unsharded batch writes: students/ID/ (report.json, index.html,
    report-student.html), grades.csv and the overview index.html (per exercise, and the
    index of exercises, for all). Nothing is regraded; merging again gives the same files.
    A student in two folders is an error naming both. Exit status: 0 merged, 2 bad usage.
    """
    from grader.batch import merge
    from grader.render import class_summary

    if not folders:
        raise UsageError(
            "no folder to merge: give the output folders of every shard, for example "
            "'grade merge shard-1 shard-2 shard-3 --out class-report'."
        )
    if out is None:
        out = folders[0].absolute().parent / "merged"
    if out.exists() and not out.is_dir():
        raise UsageError(f"cannot merge into '{out}': it is a file. Give --out a folder.")
    if summary is not None and (summary.is_dir() or not summary.absolute().parent.is_dir()):
        raise UsageError(
            f"cannot append the summary to '{summary}': give --summary a file in a folder "
            "that exists."
        )
    merged = merge.merge(folders, out)
    if merged.missing:
        click.echo(
            f"grade: warning: no folder of shard {', '.join(merged.missing)} was given: the "
            "merged class lacks those students. Merge again with every shard's folder.",
            err=True,
        )
    if summary is not None:
        try:
            with open(summary, "a", encoding="utf-8") as f:
                f.write(class_summary.render(merged.classes, merged.missing))
        except OSError as e:
            raise UsageError(f"cannot append the summary to '{summary}': {e.strerror}.") from e
    students = len({r.student for k in merged.classes for r in k.reports})
    click.echo(
        f"merged {students} students from {merged.folders} folders into {out}; open "
        f"{merged.overview}",
        err=True,
    )
    return ExitCode.PASSED


SUBCOMMANDS: dict[str, click.Command] = {
    "batch": batch_command,
    "package": package_command,
    "merge": merge_command,
}


def _terminated(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # unwinds the grade: its scratch folder and sandbox go


def main(argv: list[str] | None = None) -> None:
    """Entry point of `grade`: turns every outcome into its exit status."""
    try:
        _main(argv)
    except SystemExit as e:
        code = 0 if e.code is None else e.code
        if argv is None and isinstance(code, int) and _ready_to_exit():
            # the `grade` command itself, its output written and its exit functions run:
            # skip the interpreter's teardown, which frees every module and object one by
            # one (about 27 ms of a grade's 0.7 s). Only as the command: a caller of
            # main(argv) goes on running
            os._exit(int(code))
        raise


def _ready_to_exit() -> bool:
    """Run what the interpreter's exit would run that matters (the atexit functions:
    weakref finalizers, a temporary folder's removal) and flush stdout and stderr: True
    when all is done. False with a thread still running, or an output that cannot be
    flushed (a closed pipe), which the normal exit reports as Python does."""
    if threading.active_count() != 1:  # no thread whose work an exit would cut
        return False
    atexit._run_exitfuncs()  # what the interpreter's exit runs first; then none is left
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        return False
    return True


def _main(argv: list[str] | None) -> None:
    with contextlib.suppress(ValueError):  # not the main thread: leave signals alone
        signal.signal(signal.SIGTERM, _terminated)
    args = list(argv if argv is not None else sys.argv[1:])
    debug = "--debug" in args
    # `grade batch|package|merge ...` are commands of their own; anything else is `grade
    # EXERCISE ...` (no exercise has those names), so `grade exercise2` needs no subcommand
    command: click.Command = grade
    prog = "grade"
    if args[:1] and args[0] in SUBCOMMANDS:
        command, prog = SUBCOMMANDS[args[0]], f"grade {args[0]}"
        args = args[1:]
    try:
        code = command.main(args=args, prog_name=prog, standalone_mode=False)
    except GraderError as e:
        e.show()
        if debug and e.exit_code == ExitCode.INTERNAL:
            traceback.print_exc()
        sys.exit(int(e.exit_code))
    except click.exceptions.Exit as e:  # --help, --version
        sys.exit(e.exit_code)
    except click.ClickException as e:
        e.show()
        sys.exit(ExitCode.USAGE)
    except (click.exceptions.Abort, KeyboardInterrupt):  # control-C, or SIGTERM (below)
        click.echo("grade: interrupted", err=True)
        sys.exit(ExitCode.INTERRUPTED)
    except Exception as e:
        if debug:
            traceback.print_exc()
        click.echo(
            f"grade: internal error: {type(e).__name__}: {e}. This is a bug in the grader, "
            "not in your code; rerun with --debug and send the output to your instructor.",
            err=True,
        )
        sys.exit(ExitCode.INTERNAL)
    sys.exit(int(code) if isinstance(code, int) else 0)
