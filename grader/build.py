"""Build the student's programs with gcc or their own Makefile, as sandboxed student code."""

from __future__ import annotations

import re
import shutil
import time
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from grader import stops
from grader.catalog import Exercise
from grader.results import BuildResult, Diagnostic
from grader.sandbox import Sandbox

if TYPE_CHECKING:
    from grader.process import Run

_DIAG = re.compile(
    r"^(?P<file>[^\s:][^:]*):(?P<line>\d+):(?:(?P<col>\d+):)? "
    r"(?P<kind>fatal error|error|warning|note): (?P<text>.*)$"
)
_LINK = re.compile(
    r"undefined reference to|ld returned|collect2|multiple definition of|cannot find -l"
)
BUILD_WALL_S = 60.0
_NOT_BUILT = "was not built"  # "prodcons-O2 was not built: ...", a build warning


def _classify(
    log: str, folder: Path
) -> tuple[tuple[str, ...], tuple[str, ...], str, tuple[Diagnostic, ...]]:
    """The compiler's error and warning lines, whether it failed compiling or linking, and
    every diagnostic (notes too) parsed, its file relative to `folder`."""
    errors: list[str] = []
    warnings: list[str] = []
    found: list[Diagnostic] = []
    for line in log.splitlines():
        m = _DIAG.match(line)
        if m is None:
            continue
        col = int(m["col"]) if m["col"] is not None else None
        found.append(Diagnostic(_relative(m["file"], folder), int(m["line"]), col, m["kind"],
                                m["text"].strip()))  # fmt: skip
        if m["kind"] != "note":
            (warnings if m["kind"] == "warning" else errors).append(line.strip())
    if errors:
        return tuple(errors), tuple(warnings), "compile", tuple(found)
    link = [ln.strip() for ln in log.splitlines() if _LINK.search(ln)]
    return tuple(link), tuple(warnings), "link" if link else "compile", tuple(found)


def _relative(file: str, folder: Path) -> str:
    """ "copy.c" for gcc's "copy.c", "./copy.c" or the folder's own absolute path to it."""
    path = Path(file)
    if path.is_absolute():
        for base in (folder, folder.resolve()):
            if path.is_relative_to(base):
                return str(path.relative_to(base))
        return file
    return str(Path(*path.parts)) if path.parts else file


def _start(argv: list[str], cwd: Path, sandbox: Sandbox) -> Run:
    limits = replace(sandbox.limits, wall_s=BUILD_WALL_S, cpu_s=max(sandbox.limits.cpu_s, 30),
                     memory_mb=max(sandbox.limits.memory_mb, 1024), processes=64)  # fmt: skip
    return sandbox.start(argv, cwd=cwd, limits=limits, env={"TMPDIR": str(cwd)})


def _ended(run: Run) -> tuple[int | None, str]:
    """Wait for a started build command: (status, log)."""
    run.finish(BUILD_WALL_S)
    log = (run.text("stdout") + run.text("stderr")).strip()
    if run.stopped_for:
        log += stops.build_stopped(run.stopped_for)
    code = run.exit.code if run.exit is not None else None
    return code, log


def _run(argv: list[str], cwd: Path, sandbox: Sandbox) -> tuple[int | None, str]:
    return _ended(_start(argv, cwd, sandbox))


def _gcc_argv(exercise: Exercise, source: str, output: str,
              extra: tuple[str, ...]) -> tuple[str, list[str]]:  # fmt: skip
    """The exercise's own gcc command building `output` from `source`: (as shown, argv)."""
    spec = exercise.build
    flags = [*spec.cflags, *extra]
    argv = [spec.cc, *flags, "-fdiagnostics-color=never", "-o", output, source, *spec.ldflags]
    return " ".join([spec.cc, *flags, "-o", output, source, *spec.ldflags]), argv


def _gcc(folder: Path, exercise: Exercise, sandbox: Sandbox, source: str, output: str,
         extra: tuple[str, ...]) -> tuple[str, int | None, str]:  # fmt: skip
    """Build `output` from `source` with the exercise's own gcc command: (command, status, log)."""
    command, argv = _gcc_argv(exercise, source, output, extra)
    code, log = _run(argv, folder, sandbox)
    return command, code, log


def not_built(result: BuildResult, program: str) -> str | None:
    """Why the build variant `program` ("prodcons-O2") was not made, if the build said so."""
    return next((w for w in result.warnings if w.startswith(f"{program} {_NOT_BUILT}")), None)


def _variants_after_make(
    folder: Path, exercise: Exercise, sandbox: Sandbox
) -> tuple[list[str], list[str], list[str]]:
    """The exercise's variant builds (prodcons-O2) for a submission built by its Makefile.

    The Makefile builds the programs as the student wants them; the variants are built
    beside them with the exercise's own gcc command from the required source files, since
    a Makefile knows nothing of them. When that command fails (the program needs a file or
    a flag only the Makefile knows), the variant is absent, the build still passes, and a
    warning says why. Returns the commands run, their logs and the warnings.
    """
    commands: list[str] = []
    logs: list[str] = []
    warnings: list[str] = []
    programs = set(exercise.programs.values())
    for source, output, extra in exercise.builds:
        if output in programs:
            continue
        (folder / output).unlink(missing_ok=True)  # never a stale file of the student's
        command, code, log = _gcc(folder, exercise, sandbox, source, output, extra)
        commands.append(command)
        if log:
            logs.append(log)
        errors, found, _, _ = _classify(log, folder)
        warnings.extend(found)
        if code == 0 and (folder / output).is_file():
            continue
        (folder / output).unlink(missing_ok=True)
        why = errors[0] if errors else log.splitlines()[-1] if log else f"status {code}"
        warnings.append(
            f"{output} {_NOT_BUILT}: your Makefile built {exercise.programs[source]}, but the "
            f"exercise's own command for its {' '.join(extra)} build, `{command}`, failed: {why}"
        )
    return commands, logs, warnings


class Pending:
    """A build under way: its commands started by `start()`, in the caller's thread; the
    caller may do other work (not fork from another thread) until `finish()`."""

    def __init__(self, folder: Path, exercise: Exercise, sandbox: Sandbox, *,
                 makefile: bool) -> None:  # fmt: skip
        self.folder = folder
        self.exercise = exercise
        self.sandbox = sandbox
        self.makefile = makefile
        self.started = time.monotonic()
        self._runs: list[tuple[str, Run]] = []  # (command as shown, its run), in order
        if makefile:
            make = shutil.which("make") or "make"
            argv = [make, "--no-print-directory", *exercise.programs.values()]
            self._runs.append((" ".join(["make", *argv[2:]]), _start(argv, folder, sandbox)))
        else:  # every gcc run at once: each builds its own output from the student's files
            for source, output, extra in exercise.builds:
                command, argv = _gcc_argv(exercise, source, output, extra)
                self._runs.append((command, _start(argv, folder, sandbox)))

    def _ended_s(self, upto: int) -> float:
        """Seconds from the start to the end of run `upto` and of every run before it (all
        finished by then), each as its reaper saw it: not when the caller came back for it."""
        ends = [run.ended_at or time.monotonic() for _, run in self._runs[: upto + 1]]
        return max(ends) - self.started

    def finish(self) -> BuildResult:
        """Wait for the build's commands and tell how it went: the first failure, in the
        order of `exercise.builds`, is the build's (what a run after it made is ignored)."""
        return self._make() if self.makefile else self._gcc()

    def _make(self) -> BuildResult:
        folder, exercise = self.folder, self.exercise
        command, run = self._runs[0]
        code, log = _ended(run)
        absent = [p for p in exercise.programs.values() if not (folder / p).is_file()]
        errors, warnings, kind, diagnostics = _classify(log, folder)
        ok = code == 0 and not absent
        commands = [command]
        if not ok and not errors:
            errors = (f"make exited with status {code}" if code else
                      f"your Makefile did not build {', '.join(absent)}",)  # fmt: skip
            kind = "make"
        duration = self._ended_s(0)
        if ok:
            variants_start = time.monotonic()
            more, more_logs, notes = _variants_after_make(folder, exercise, self.sandbox)
            duration += time.monotonic() - variants_start
            commands += more
            log = "\n".join(x for x in (log, *more_logs) if x)
            warnings += tuple(w for w in notes if w not in warnings)
        return BuildResult(ok, tuple(commands), log, warnings, errors if not ok else (),
                           "" if ok else kind, duration, diagnostics)  # fmt: skip

    def _gcc(self) -> BuildResult:
        folder, spec = self.folder, self.exercise.build
        commands: list[str] = []
        logs: list[str] = []
        all_warnings: list[str] = []
        all_diagnostics: list[Diagnostic] = []
        for n, (command, run) in enumerate(self._runs):
            code, log = _ended(run)
            commands.append(command)
            logs.append(log)
            errors, warnings, kind, diagnostics = _classify(log, folder)
            all_warnings.extend(warnings)
            all_diagnostics.extend(diagnostics)
            if code != 0:
                if not errors:
                    errors = (log.splitlines()[-1] if log else
                              f"{spec.cc} exited with status {code}",)  # fmt: skip
                return BuildResult(False, tuple(commands), "\n".join(logs),
                                   tuple(all_warnings), errors, kind, self._ended_s(n),
                                   tuple(all_diagnostics))  # fmt: skip
        return BuildResult(True, tuple(commands), "\n".join(x for x in logs if x),
                           tuple(all_warnings), (), "", self._ended_s(len(self._runs) - 1),
                           tuple(all_diagnostics))  # fmt: skip


def start(folder: Path, exercise: Exercise, sandbox: Sandbox, *, makefile: bool) -> Pending:
    """Start building every program of `exercise` from the C files in `folder`, in place:
    every gcc run at once (or the student's `make`), to `finish()` later."""
    return Pending(folder, exercise, sandbox, makefile=makefile)


def compile(folder: Path, exercise: Exercise, sandbox: Sandbox, *, makefile: bool) -> BuildResult:
    """Build every program of `exercise` from the C files in `folder`, in place.

    With the student's Makefile, `make` builds the programs, and the exercise's variants
    (`-O2` builds, say) are then built with the exercise's own gcc command.
    """
    return start(folder, exercise, sandbox, makefile=makefile).finish()
