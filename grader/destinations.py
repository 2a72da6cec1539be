"""Where each report goes: every --format paired with its --out, the CI runner's files a
format appends to, and the report files, opened before grading and written after it.

Each function returns data or raises UsageError saying what to do; none prints or exits.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

from grader.errors import UsageError
from grader.render import FORMATS, Render


def targets(
    order: list[str], fmts: tuple[str, ...], outs: tuple[Path, ...]
) -> list[tuple[str, Path | None]]:
    """Each --format with the --out that follows it (None: the terminal). One of each, in
    either order, pair up; with several formats each --out follows its --format."""
    if len(fmts) <= 1 and len(outs) <= 1:
        return [(fmts[0] if fmts else "terminal", outs[0] if outs else None)]
    pairs: list[list[Any]] = [[f, None] for f in fmts]
    f_at = o_at = -1
    for name in order:
        if name == "fmts":
            f_at += 1
        elif name == "outs":
            o_at += 1
            if f_at < 0:
                raise UsageError(
                    f"--out {outs[o_at]} comes before any --format: with several formats, "
                    "give each --out right after its --format, as in "
                    "'--format junit --out junit.xml --format json --out report.json'."
                )
            if pairs[f_at][1] is not None:
                raise UsageError(
                    f"--format {pairs[f_at][0]} has two --out files ({pairs[f_at][1]} and "
                    f"{outs[o_at]}): give each --format one --out, right after it."
                )
            pairs[f_at][1] = outs[o_at]
    shown = [f for f, o in pairs if o is None]
    if len(shown) > 1:
        raise UsageError(
            f"the formats {', '.join(shown)} would all write to the terminal: give every "
            "--format but one an --out FILE after it."
        )
    files = [Path(o).absolute() for _, o in pairs if o is not None]
    twice = sorted({str(p) for p in files if files.count(p) > 1})
    if twice:
        raise UsageError(
            f"two formats would write to the same file ({', '.join(twice)}): give each "
            "--format its own --out FILE."
        )
    return [(f, o) for f, o in pairs]


def appends(targets: list[tuple[str, Path | None]]) -> list[tuple[str, Path, Render]]:
    """The CI runner's files (GITHUB_STEP_SUMMARY, ...) the formats append to, where the
    variable is set; checked before grading, like --out."""
    found = []
    for f, _ in targets:
        for var, fn in FORMATS[f].appends:
            if os.environ.get(var):
                path = Path(os.environ[var])
                if path.is_dir() or not path.parent.is_dir():
                    raise UsageError(
                        f"${var} is '{path}', which is not a file this runner can append to: "
                        f"unset it, or point it at a file in a folder that exists."
                    )
                found.append((var, path, fn))
    return found


def append(var: str, path: Path, text: str) -> None:
    """`text` appended to the CI runner's file `path` (named by $`var`)."""
    try:
        with open(path, "a", encoding="utf-8") as f:
            f.write(text)
    except OSError as e:
        raise UsageError(f"cannot append to ${var} ('{path}'): {e.strerror}.") from e


@contextlib.contextmanager
def opened(out: Path | None) -> Iterator[TextIO | None]:
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


def write(text: str, dest: TextIO, out: Path) -> None:
    """The report `text` written to `dest`, the file `out` opened before grading."""
    try:
        if stat.S_ISREG(os.fstat(dest.fileno()).st_mode):
            dest.truncate(0)  # only now: a grade that fails leaves an old report whole
        dest.write(text)
        dest.flush()
    except OSError as e:
        raise UsageError(f"cannot write the report to '{out}': {e.strerror}.") from e
