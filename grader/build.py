"""Build the student's programs with gcc or their own Makefile, as sandboxed student code."""

from __future__ import annotations

import re
import shutil
import time
from dataclasses import replace
from pathlib import Path

from grader import stops
from grader.catalog import Exercise
from grader.results import BuildResult, Diagnostic
from grader.sandbox import Sandbox

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


def _run(argv: list[str], cwd: Path, sandbox: Sandbox) -> tuple[int | None, str]:
    limits = replace(sandbox.limits, wall_s=BUILD_WALL_S, cpu_s=max(sandbox.limits.cpu_s, 30),
                     memory_mb=max(sandbox.limits.memory_mb, 1024), processes=64)  # fmt: skip
    run = sandbox.start(argv, cwd=cwd, limits=limits, env={"TMPDIR": str(cwd)})
    run.finish(BUILD_WALL_S)
    log = (run.text("stdout") + run.text("stderr")).strip()
    if run.stopped_for:
        log += stops.build_stopped(run.stopped_for)
    code = run.exit.code if run.exit is not None else None
    return code, log


def _gcc(folder: Path, exercise: Exercise, sandbox: Sandbox, source: str, output: str,
         extra: tuple[str, ...]) -> tuple[str, int | None, str]:  # fmt: skip
    """Build `output` from `source` with the exercise's own gcc command: (command, status, log)."""
    spec = exercise.build
    flags = [*spec.cflags, *extra]
    argv = [spec.cc, *flags, "-fdiagnostics-color=never", "-o", output, source, *spec.ldflags]
    code, log = _run(argv, folder, sandbox)
    return " ".join([spec.cc, *flags, "-o", output, source, *spec.ldflags]), code, log


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


def compile(folder: Path, exercise: Exercise, sandbox: Sandbox, *, makefile: bool) -> BuildResult:
    """Build every program of `exercise` from the C files in `folder`, in place.

    With the student's Makefile, `make` builds the programs, and the exercise's variants
    (`-O2` builds, say) are then built with the exercise's own gcc command.
    """
    start = time.monotonic()
    spec = exercise.build
    commands: list[str] = []
    if makefile:
        make = shutil.which("make") or "make"
        argv = [make, "--no-print-directory", *exercise.programs.values()]
        code, log = _run(argv, folder, sandbox)
        absent = [p for p in exercise.programs.values() if not (folder / p).is_file()]
        errors, warnings, kind, diagnostics = _classify(log, folder)
        ok = code == 0 and not absent
        commands.append(" ".join(["make", *argv[2:]]))
        if not ok and not errors:
            errors = (f"make exited with status {code}" if code else
                      f"your Makefile did not build {', '.join(absent)}",)  # fmt: skip
            kind = "make"
        if ok:
            more, more_logs, notes = _variants_after_make(folder, exercise, sandbox)
            commands += more
            log = "\n".join(x for x in (log, *more_logs) if x)
            warnings += tuple(w for w in notes if w not in warnings)
        return BuildResult(ok, tuple(commands), log, warnings, errors if not ok else (),
                           "" if ok else kind, time.monotonic() - start,
                           diagnostics)  # fmt: skip
    logs: list[str] = []
    all_warnings: list[str] = []
    all_diagnostics: list[Diagnostic] = []
    for source, output, extra in exercise.builds:
        command, code, log = _gcc(folder, exercise, sandbox, source, output, extra)
        commands.append(command)
        logs.append(log)
        errors, warnings, kind, diagnostics = _classify(log, folder)
        all_warnings.extend(warnings)
        all_diagnostics.extend(diagnostics)
        if code != 0:
            if not errors:
                errors = (log.splitlines()[-1] if log else f"{spec.cc} exited with status {code}",)
            return BuildResult(False, tuple(commands), "\n".join(logs), tuple(all_warnings),
                               errors, kind, time.monotonic() - start,
                               tuple(all_diagnostics))  # fmt: skip
    return BuildResult(True, tuple(commands), "\n".join(x for x in logs if x),
                       tuple(all_warnings), (), "", time.monotonic() - start,
                       tuple(all_diagnostics))  # fmt: skip
