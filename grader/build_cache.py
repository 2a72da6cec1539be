"""The build cache: a submission's built programs kept for a rerun with the same sources.

A student reruns `grade` after each edit; when the sources did not change, gcc would make
the very same programs again. An entry is keyed by what the build reads: the submission's
files (names and bytes; the programs it makes and editors' temporary files left out), the
exercise's build settings and the compiler (its path, size and date); it holds the
programs and their BuildResult. It lives in the user's cache folder
(`$XDG_CACHE_HOME/ipcgrade/builds/<key>/`, else `~/.cache/ipcgrade/builds/<key>/`), 0700,
and is never shared: `grade batch` does not use it (two students' equal sources would share
one binary), nor does a build with the student's Makefile (a Makefile may read anything),
and a failed build is never stored.

The programs are read once gcc made them, before any check runs a student program, without
following links, regular files only, under a size cap (the folder is the students'); placed
back by replacing whatever the submission had at their names, never writing through it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import stat
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from grader.catalog import Exercise
from grader.results import BuildResult
from grader.sandbox.detect import SAFE_PATH
from grader.submission import Submission, file_body

NO_CACHE_ENV = "IPCGRADE_NO_CACHE"  # set (not "0"): no grade reads or writes the cache
FORMAT = "1"  # of an entry; a change makes every older entry a miss
MAX_ENTRIES = 64  # the oldest used are removed past this
MAX_PROGRAM_BYTES = 16 * 2**20  # one program; a larger one is not cached
MAX_RESULT_BYTES = 4 * 2**20  # an entry's build.json
_SKIP_DIRS = {".git", ".hg", ".svn", "__pycache__", ".venv", "node_modules"}
_ENTRY_FILES = ("build.json", "programs.json")


def disabled() -> bool:
    """True when IPCGRADE_NO_CACHE asks for no cache."""
    return os.environ.get(NO_CACHE_ENV, "") not in ("", "0")


def folder() -> Path:
    """The cache's folder: `$XDG_CACHE_HOME/ipcgrade/builds` (an absolute XDG_CACHE_HOME,
    as the XDG spec wants), else `~/.cache/ipcgrade/builds`."""
    base = os.environ.get("XDG_CACHE_HOME", "")
    root = Path(base) if os.path.isabs(base) else Path.home() / ".cache"
    return root / "ipcgrade" / "builds"


def editor_temporary(name: str) -> bool:
    """A file an editor writes beside the one being edited: vim's `.pipe.c.swp` and `4913`,
    emacs's `.#pipe.c`, `#pipe.c#` and `pipe.c~`, a `pipe.c.tmp` about to be renamed."""
    return (
        name.startswith((".", "#"))
        or name.endswith(("~", ".swp", ".swx", ".tmp"))
        or name == "4913"
    )


def _outputs(exercise: Exercise) -> set[str]:
    return {program for _, program, _ in exercise.builds}


def _inputs(submission: Submission, exercise: Exercise) -> list[Path]:
    """The submission's files the build may read, relative, sorted: every file the grade
    copies (as submission.copy_into does), but the programs the build writes and editors'
    temporary files. Headers, other C files, data files: all count."""
    outputs = _outputs(exercise)
    out: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(submission.folder):
        dirnames[:] = sorted(d for d in dirnames if d not in _SKIP_DIRS)
        here = Path(dirpath).relative_to(submission.folder)
        for name in sorted(filenames):
            if editor_temporary(name) or (here == Path(".") and name in outputs):
                continue
            out.append(here / name)
    return out


def _compiler(cc: str) -> str:
    """The compiler as the build finds it on the worker's PATH: its real path, size and
    modification time (an upgrade changes them), without running it."""
    found = shutil.which(cc, path=SAFE_PATH)
    if found is None:
        return f"{cc}: not found"
    real = os.path.realpath(found)
    try:
        st = os.stat(real)
    except OSError:
        return f"{real}: unreadable"
    return f"{real} {st.st_size} {st.st_mtime_ns}"


def key(exercise: Exercise, submission: Submission, grader_version: str) -> str | None:
    """The entry's key for building `submission` as `exercise`; None when the build must
    not be cached (the student's Makefile, files missing, a file that cannot be read)."""
    if submission.makefile or submission.missing:
        return None
    spec = exercise.build
    h = hashlib.sha256()
    settings = {
        "format": FORMAT,
        "grader": grader_version,
        "exercise": exercise.id,
        "cc": spec.cc,
        "cflags": list(spec.cflags),
        "ldflags": list(spec.ldflags),
        "builds": [[s, p, list(x)] for s, p, x in exercise.builds],
        "compiler": _compiler(spec.cc),
    }
    h.update(json.dumps(settings, sort_keys=True).encode() + b"\0")
    for rel in _inputs(submission, exercise):
        try:
            body = file_body(submission.folder / rel, cap=None)
        except OSError:
            return None
        if body is not None:  # a FIFO or a device is not copied into the grade
            h.update(os.fsencode(str(rel)) + b"\0" + hashlib.sha256(body).digest())
    return h.hexdigest()


@dataclass(frozen=True)
class Entry:
    """A cached build: its result and its programs, by name."""

    build: BuildResult
    programs: Mapping[str, bytes]


def _own_folder(path: Path) -> bool:
    """`path` is a real folder of this user's, that no one else may read: made 0700 if
    missing. False (the cache is not used) for a link, another's folder, a file."""
    try:
        for p in (path.parent, path):  # ipcgrade/ and builds/: neither for others to list
            p.parent.mkdir(parents=True, exist_ok=True)
            with contextlib.suppress(FileExistsError):
                p.mkdir(mode=0o700)
        st = path.lstat()
    except OSError:
        return False
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.geteuid():
        return False
    if stat.S_IMODE(st.st_mode) & 0o077:
        try:
            path.chmod(0o700)
        except OSError:
            return False
    return True


def read_file(path: Path, cap: int) -> bytes | None:
    """A file's bytes, never through a link, a regular file only, at most `cap` bytes;
    None otherwise (a link, a FIFO, a device, too big, gone)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as f:
        st = os.fstat(f.fileno())
        if not stat.S_ISREG(st.st_mode) or st.st_size > cap:
            return None
        data = f.read(cap + 1)
    return data if len(data) <= cap else None


def read_programs(built: Path, exercise: Exercise) -> dict[str, bytes] | None:
    """Every program of `exercise` as the build left it in `built`, read safely (see
    read_file); None if one is missing, not a regular file or too big: nothing is cached."""
    out: dict[str, bytes] = {}
    for name in sorted(_outputs(exercise)):
        data = read_file(built / name, MAX_PROGRAM_BYTES)
        if data is None:
            return None
        out[name] = data
    return out


def place(programs: Mapping[str, bytes], dest: Path) -> None:
    """Put cached programs into the grade's copy of the submission: whatever is at a
    program's name (a stale binary, a student's link) is removed first, never written
    through."""
    for name, data in programs.items():
        target = dest / name
        with contextlib.suppress(FileNotFoundError):
            if target.is_dir() and not target.is_symlink():
                shutil.rmtree(target)
            else:
                target.unlink()
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC,
                     0o755)  # fmt: skip
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(target, 0o755)  # whatever the umask took


class Cache:
    """The user's build cache, in `root` (created 0700)."""

    def __init__(self, root: Path | None = None, max_entries: int = MAX_ENTRIES) -> None:
        self.root = root if root is not None else folder()
        self.max_entries = max_entries

    def usable(self) -> bool:
        return _own_folder(self.root)

    def lookup(self, key: str) -> Entry | None:
        """The entry of `key`, or None (a miss, or an entry that does not read back whole)."""
        if not self.usable():
            return None
        entry = self.root / key
        raw = read_file(entry / "build.json", MAX_RESULT_BYTES)
        index = read_file(entry / "programs.json", MAX_RESULT_BYTES)
        if raw is None or index is None:
            return None
        try:
            build = BuildResult.from_dict(json.loads(raw))
            sums = {str(n): str(s) for n, s in json.loads(index).items()}
        except (ValueError, KeyError, TypeError, AttributeError):
            return None
        programs: dict[str, bytes] = {}
        for name, digest in sums.items():
            if "/" in name or name in ("", ".", "..", *_ENTRY_FILES):
                return None
            data = read_file(entry / name, MAX_PROGRAM_BYTES)
            if data is None or hashlib.sha256(data).hexdigest() != digest:
                return None  # cut short, or changed: rebuild
            programs[name] = data
        if not build.ok or not programs:
            return None
        with contextlib.suppress(FileNotFoundError):
            os.utime(entry)  # used: the last to be removed
        return Entry(build, programs)

    def store(self, key: str, build: BuildResult, programs: Mapping[str, bytes]) -> bool:
        """Keep a successful build; a failed one, or one without programs, is never kept.
        Written into a temporary folder renamed into place: a reader sees all or nothing."""
        if not build.ok or not programs or not self.usable():
            return False
        if any("/" in n or n in ("", ".", "..", *_ENTRY_FILES) for n in programs):
            return False
        final = self.root / key
        if final.exists():
            return False
        tmp = Path(tempfile.mkdtemp(prefix=f".{key[:16]}-", dir=self.root))
        try:
            for name, data in programs.items():
                (tmp / name).write_bytes(data)
                (tmp / name).chmod(0o700)
            sums = {n: hashlib.sha256(d).hexdigest() for n, d in programs.items()}
            (tmp / "programs.json").write_text(json.dumps(sums))
            (tmp / "build.json").write_text(json.dumps(build.to_dict()))
            for name in _ENTRY_FILES:
                (tmp / name).chmod(0o600)
            os.rename(tmp, final)
        except OSError:
            shutil.rmtree(tmp, ignore_errors=True)
            return False
        self._trim()
        return True

    def _trim(self) -> None:
        """Remove the entries used longest ago, past max_entries."""
        try:
            entries = [
                p for p in self.root.iterdir()
                if not p.name.startswith(".") and p.is_dir() and not p.is_symlink()
            ]  # fmt: skip
            by_age = sorted(entries, key=lambda p: p.stat().st_mtime_ns)
        except OSError:
            return
        for old in by_age[: max(0, len(by_age) - self.max_entries)]:
            shutil.rmtree(old, ignore_errors=True)
        now = time.time()
        for p in self.root.glob(".*-*"):  # a store that died: an hour is long enough
            with contextlib.suppress(FileNotFoundError):
                if now - p.lstat().st_mtime > 3600:
                    shutil.rmtree(p, ignore_errors=True)
