"""The `grade` command: parse, call the library, print or write, exit. The only sys.exit."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import stat
import sys
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

import click

from grader import catalog, session
from grader.errors import ExerciseError, ExitCode, GraderError, UsageError
from grader.render import RENDERERS, terminal
from grader.submission import discover


def _list(fmt: str) -> str:
    if fmt == "json":
        exercises = [
            {"id": e.id, "name": e.name, "files": list(e.files), "title": e.title,
             "points": e.max_score}
            for e in catalog.all_exercises()
        ]  # fmt: skip
        return json.dumps(exercises, indent=2, ensure_ascii=True)
    rows = [("id", "name", "files", "title")]
    rows += [(e.id, e.name, " ".join(e.files), e.title) for e in catalog.all_exercises()]
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    return "\n".join("  ".join(r[i].ljust(widths[i]) for i in range(3)) + "  " + r[3] for r in rows)


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("exercise", required=False)
@click.argument("submission", required=False, type=click.Path(path_type=Path, readable=False))
@click.option(
    "--list",
    "list_",
    is_flag=True,
    help="List the exercises and the files each expects (as JSON with --format json).",
)
@click.option(
    "--format", "-f", "fmt", type=click.Choice(sorted(RENDERERS)), default="terminal",
    show_default=True, help="How to write the report.",
)  # fmt: skip
@click.option("--out", "-o", type=click.Path(path_type=Path), metavar="FILE",
              help="Write the report to FILE instead of the terminal.")  # fmt: skip
@click.option("--show", is_flag=True, help="Print EXERCISE's statement (what to write).")
@click.option("--doctor", is_flag=True, help="Show what this machine offers the sandbox; "
              "exit 1 if it cannot give full isolation or lacks a tool.")  # fmt: skip
@click.option("--keep", is_flag=True, help="Keep the scratch folder and say where it is.")
@click.option("--verbose", "-v", is_flag=True,
              help="List the sandbox's layers in the terminal report.")  # fmt: skip
@click.option("--debug", is_flag=True, help="Show internals and tracebacks.")
@click.version_option(package_name="ipcgrade")
def grade(
    exercise: str | None,
    submission: Path | None,
    list_: bool,
    fmt: str,
    out: Path | None,
    show: bool,
    doctor: bool,
    keep: bool,
    verbose: bool,
    debug: bool,
) -> int:
    """Grade EXERCISE (an id like exercise2, or a short name like pipe) in SUBMISSION.

    SUBMISSION is your repository's root (holding exercise2/) or the exercise's folder
    itself; it defaults to the current folder. Exit status: 0 all checks passed, 1 a check
    failed (missing files and build failures too), 2 bad usage, 3 the grader broke, 130
    interrupted (control-C or SIGTERM).
    """
    if list_:
        _deliver(_list(fmt) + "\n", out)
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
    sub = discover(submission if submission is not None else Path.cwd(), ex)
    with _report_file(out) as dest:  # opened before grading: a bad path wastes no grade
        report = session.grade(ex, sub, session.GradeOptions(keep=keep, debug=debug))
        verbose_terminal = verbose and fmt == "terminal"
        text = terminal.render(report, verbose=True) if verbose_terminal else RENDERERS[fmt](report)
        _write(text, dest, out)
    return report.exit_code


def _deliver(text: str, out: Path | None) -> None:
    """`text` to the terminal, or to `out` (--out) when given."""
    with _report_file(out) as dest:
        _write(text, dest, out)


def _write(text: str, dest: TextIO | None, out: Path | None) -> None:
    if dest is None:
        click.echo(text, nl=False)
        return
    try:
        if stat.S_ISREG(os.fstat(dest.fileno()).st_mode):
            dest.truncate(0)  # only now: a grade that fails leaves an old report whole
        dest.write(text)
        dest.flush()
    except OSError as e:
        raise UsageError(f"cannot write the report to '{out}': {e.strerror}.") from e
    click.echo(f"report written to {out}", err=True)


@contextlib.contextmanager
def _report_file(out: Path | None) -> Iterator[TextIO | None]:
    """`out` opened for the report, or a UsageError saying why it cannot be; a file made
    here is removed again when the grade does not get as far as writing it."""
    if out is None:
        yield None
        return
    cannot = f"cannot write the report to '{out}'"
    if out.is_dir():
        raise UsageError(
            f"{cannot}: it is a folder. Give --out a file name, for example "
            f"'--out {out / 'report.json'}'."
        )
    existed = out.exists()
    try:
        dest = open(out, "a", encoding="utf-8")  # noqa: SIM115 (closed below)
    except FileNotFoundError as e:
        parent = out.parent
        raise UsageError(
            f"{cannot}: the folder '{parent}' does not exist. Make it first "
            f"(mkdir -p '{parent}') or give --out a path in a folder that exists."
        ) from e
    except PermissionError as e:
        raise UsageError(
            f"{cannot}: permission denied. Give --out a path in a folder you can write, "
            "for example your home folder."
        ) from e
    except OSError as e:
        raise UsageError(f"{cannot}: {e.strerror}. Give --out another path.") from e
    written = False
    try:
        yield dest
        written = True
    finally:
        dest.close()
        if not written and not existed:
            with contextlib.suppress(OSError):
                out.unlink()


def _terminated(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # unwinds the grade: its scratch folder and sandbox go


def main(argv: list[str] | None = None) -> None:
    """Entry point of `grade`: turns every outcome into its exit status."""
    with contextlib.suppress(ValueError):  # not the main thread: leave signals alone
        signal.signal(signal.SIGTERM, _terminated)
    debug = "--debug" in (argv if argv is not None else sys.argv[1:])
    try:
        code = grade.main(args=argv, standalone_mode=False)
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
