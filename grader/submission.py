"""Locate and validate a student's files for one exercise."""

from __future__ import annotations

import hashlib
import os
import re
import shlex
import stat
from dataclasses import dataclass
from pathlib import Path

from grader import catalog
from grader.catalog import Exercise
from grader.errors import SubmissionError

_OTHER_LANGUAGES = {
    ".cpp": "C++",
    ".cc": "C++",
    ".cxx": "C++",
    ".c++": "C++",
    ".py": "Python",
    ".java": "Java",
    ".rs": "Rust",
    ".go": "Go",
    ".js": "JavaScript",
    ".sh": "a shell script",
}
_SKIP_DIRS = {".git", ".hg", ".svn", "__pycache__", ".venv", "node_modules"}
MAX_FILES = 500
MAX_BYTES = 20 * 1024 * 1024


@dataclass(frozen=True)
class Submission:
    path: Path  # what the user named
    folder: Path  # the folder holding the exercise's files
    found: tuple[str, ...]  # expected names that are there
    missing: tuple[str, ...]  # expected names that are not
    problems: tuple[str, ...]  # what looks like a misnamed or misplaced file
    makefile: bool  # the student's own Makefile, used to build

    @property
    def complete(self) -> bool:
        return not self.missing


def _listing(folder: Path) -> list[Path]:
    """Every file under `folder`, relative, skipping version-control folders."""
    out: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if d not in _SKIP_DIRS)
        for name in sorted(filenames):
            out.append((Path(dirpath) / name).relative_to(folder))
            if len(out) > MAX_FILES:
                return out
    return out


def _names(items: list[str]) -> str:
    return ", ".join(items)


def _grade_command(exercise_id: str, folder: Path) -> str:
    """What to type to grade `folder` as `exercise_id`, from the current folder."""
    try:
        rel = folder.resolve().relative_to(Path.cwd().resolve())
    except (OSError, ValueError):
        return f"grade {exercise_id} {shlex.quote(str(folder))}"
    return f"grade {exercise_id}" + ("" if rel == Path(".") else f" {shlex.quote(str(rel))}")


def _named_like(folder_name: str, exercise: Exercise) -> bool:
    """`ex2`, `Exercise_2`, `tp02`, `pipe-lab`: a folder meant to be exercise2's."""
    plain = re.sub(r"[^a-z0-9]", "", folder_name.lower())
    number = re.findall(r"\d+", exercise.id)
    digits = re.findall(r"\d+", plain)
    return exercise.name in plain or (len(digits) == 1 == len(number) and
                                      int(digits[0]) == int(number[0]))  # fmt: skip


def _another_exercise(folder: Path, exercise: Exercise, names: list[str]) -> list[str]:
    """Messages for files at the top that are another exercise's: one per exercise."""
    notes = []
    for other in catalog.all_exercises():
        theirs = [f for f in other.files if f in names and f not in exercise.files]
        if other.id == exercise.id or not theirs:
            continue
        these, look, them = ("these look", "files", "them") if len(theirs) > 1 else (
            "this looks", "file", "it")  # fmt: skip
        notes.append(
            f"found {_names(theirs)}: {these} like {other.id}'s {look} (`{other.name}`), but "
            f"this is {exercise.id} (`{exercise.name}`), which expects "
            f"{_names(list(exercise.files))}. To grade {them} as {other.id}, type: "
            f"{_grade_command(other.id, folder)}"
        )
    return notes


def _misplaced(
    path: Path, folder: Path, exercise: Exercise, files: list[Path], missing: tuple[str, ...]
) -> list[str]:
    """Messages for expected files found in a subfolder, one per subfolder."""
    by_parent: dict[Path, list[str]] = {}
    for rel in files:
        if rel.name in missing and rel.parent != Path("."):
            by_parent.setdefault(rel.parent, []).append(str(rel))
    notes = []
    for parent, rels in by_parent.items():
        it = "it" if len(rels) == 1 else "them"
        if folder != path or folder.name in (exercise.id, exercise.name):
            notes.append(f"found {_names(rels)}; move {it} to the top of {folder.name}/")
        elif len(parent.parts) == 1 and _named_like(parent.name, exercise):
            notes.append(
                f"found {_names(rels)}: the folder {parent}/ should be named {exercise.id}/ "
                f"(rename it), or grade that folder: {_grade_command(exercise.id, folder / parent)}"
            )
        else:
            notes.append(
                f"found {_names(rels)}; move {it} to the top of {folder}, or grade its "
                f"folder: {_grade_command(exercise.id, folder / parent)}"
            )
    return notes


def _lookalikes(
    path: Path, folder: Path, exercise: Exercise, files: list[Path], found: tuple[str, ...]
) -> list[str]:
    """Messages for what looks like the missing files: another exercise's, another name,
    case or language, in a subfolder. Each said once."""
    missing = tuple(f for f in exercise.files if f not in found)
    top = [f.name for f in files if f.parent == Path(".")]
    unclaimed = [n for n in top if n not in found]
    notes = _another_exercise(folder, exercise, unclaimed)
    others = {f for e in catalog.all_exercises() if e.id != exercise.id for f in e.files}
    unclaimed = [n for n in unclaimed if n not in others or n in exercise.files]
    for expected in missing:
        stem, _ = os.path.splitext(expected)
        for name in list(unclaimed):
            rstem, rext = os.path.splitext(name)
            if name.lower() == expected.lower():
                notes.append(f"found {name}; names are case-sensitive: rename it to {expected}")
            elif rext.lower() in _OTHER_LANGUAGES and rstem.lower() == stem.lower():
                lang = _OTHER_LANGUAGES[rext.lower()]
                notes.append(
                    f"found {name}, which is {lang}; this exercise is in C and expects {expected}"
                )
            else:
                continue
            unclaimed.remove(name)
    notes.extend(_misplaced(path, folder, exercise, files, missing))
    extensions = {os.path.splitext(m)[1] for m in missing}
    strays = [n for n in unclaimed if os.path.splitext(n)[1] in extensions]
    if strays:
        notes.append(f"found {_names(strays)}; this exercise expects {_names(list(missing))}")
    return list(dict.fromkeys(notes))


def discover(path: Path, exercise: Exercise) -> Submission:
    """Find `exercise`'s files in `path`: a repo root holding exerciseN/, or that folder.

    Raises:
        SubmissionError: `path` does not exist, is not a folder, or cannot be read.
    """
    if not path.exists():
        raise SubmissionError(
            f"the submission path '{path}' does not exist. Give the folder that holds "
            f"{exercise.id}/ (your repository's root), or the {exercise.id}/ folder itself."
        )
    if not path.is_dir():
        raise SubmissionError(
            f"the submission path '{path}' is a file, not a folder. Give the folder that "
            f"holds {exercise.id}/ or its files ({', '.join(exercise.files)})."
        )
    if not os.access(path, os.R_OK | os.X_OK):
        raise SubmissionError(
            f"the submission folder '{path}' cannot be read (permission denied). "
            "Check its permissions (chmod u+rx) or run grade as its owner."
        )
    folder = path
    for candidate in (exercise.id, exercise.name):
        sub = path / candidate
        if sub.is_dir() and not any((path / f).is_file() for f in exercise.files):
            folder = sub
            break
    if not os.access(folder, os.R_OK | os.X_OK):
        raise SubmissionError(
            f"the folder '{folder}' cannot be read (permission denied). "
            "Check its permissions (chmod u+rx)."
        )
    files = _listing(folder)
    top = {str(f) for f in files if f.parent == Path(".")}
    found = tuple(f for f in exercise.files if f in top)
    missing = tuple(f for f in exercise.files if f not in top)
    problems: list[str] = []
    if missing:
        problems.extend(_lookalikes(path, folder, exercise, files, found))
        if not problems:
            here = sorted(top) or ["no files"]
            shown = ", ".join(here[:8]) + (", …" if len(here) > 8 else "")
            problems.append(
                f"{exercise.id} expects {', '.join(missing)} in {folder}; found {shown}"
            )
    for rel in files:
        if rel.parent == Path(".") and rel.suffix.lower() in _OTHER_LANGUAGES:
            lang = _OTHER_LANGUAGES[rel.suffix.lower()]
            note = f"found {rel}, which is {lang}; this exercise is in C"
            if not any(str(rel) in p for p in problems):
                problems.append(note)
    makefile = any(n in top for n in ("Makefile", "makefile", "GNUmakefile"))
    return Submission(
        path=path,
        folder=folder,
        found=found,
        missing=missing,
        problems=tuple(problems),
        makefile=makefile,
    )


def file_body(path: Path, cap: int | None = MAX_BYTES) -> bytes | None:
    """What a digest of `path` reads: a link's target (`b"link:..."`), a regular file's
    bytes (past `cap`, its size instead), None for anything else (a grade copies neither
    FIFOs nor devices). OSError when it cannot be read."""
    st = path.lstat()
    if stat.S_ISLNK(st.st_mode):
        return b"link:" + os.fsencode(os.readlink(path))
    if stat.S_ISREG(st.st_mode):
        return path.read_bytes() if cap is None or st.st_size <= cap else b"size:%d" % st.st_size
    return None


def digest(submission: Submission) -> str:
    """ "sha256:..." of every file a grade copies (names and bytes, links by their target):
    a result whose digest matches was graded from these very files."""
    h = hashlib.sha256()
    for rel in _listing(submission.folder):
        try:
            body = file_body(submission.folder / rel)
        except OSError:
            body = b"unreadable"
        if body is not None:
            h.update(os.fsencode(str(rel)) + b"\0" + hashlib.sha256(body).digest())
    return "sha256:" + h.hexdigest()


SOURCE_BYTES = 256 * 1024  # what a report keeps of one source file


def sources(submission: Submission) -> tuple[tuple[str, str], ...]:
    """(name, text) of the expected files found, and the Makefile, for a report to show
    beside the compiler's diagnostics; a file past SOURCE_BYTES is cut."""
    names = [*submission.found, *(["Makefile"] if submission.makefile else [])]
    out = []
    for name in names:
        try:
            with open(submission.folder / name, "rb") as f:
                data = f.read(SOURCE_BYTES)
        except OSError:
            continue
        out.append((name, data.decode("utf-8", errors="replace")))
    return tuple(out)


def copy_into(submission: Submission, dest: Path) -> None:
    """Copy the submission's folder into `dest` (the grade's scratch folder).

    Symbolic links are copied as links: they are resolved inside the sandbox, where the
    rest of the user's files are out of view.

    Raises:
        SubmissionError: the folder holds more than MAX_FILES files or MAX_BYTES bytes.
    """
    total = 0
    dest.mkdir(parents=True, exist_ok=True)  # an empty submission still gets its folder
    files = _listing(submission.folder)
    if len(files) > MAX_FILES:
        raise SubmissionError(
            f"the submission folder '{submission.folder}' holds more than {MAX_FILES} files; "
            "grade the exercise folder itself, not a folder above it."
        )
    for rel in files:
        src = submission.folder / rel
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        st = src.lstat()
        if stat.S_ISLNK(st.st_mode):
            target.symlink_to(os.readlink(src))
            continue
        if not stat.S_ISREG(st.st_mode):
            continue  # a FIFO, a socket, a device: nothing to grade, and reading could hang
        size = st.st_size
        total += size
        if total > MAX_BYTES:
            raise SubmissionError(
                f"the submission folder '{submission.folder}' holds more than "
                f"{MAX_BYTES // 2**20} MiB; remove build products and data files first."
            )
        try:
            target.write_bytes(src.read_bytes())
        except PermissionError as e:
            raise SubmissionError(
                f"the file '{src}' cannot be read (permission denied); fix its permissions."
            ) from e
        target.chmod(st.st_mode & 0o755 | 0o600)
