"""A class's submissions as instructors have them: folders, archives, LMS exports.

The layouts, from what each tool really writes:

- folders: one folder per student, named by the student's id.
- archives: one `.zip`, `.tar.gz`, `.tgz` or `.tar` per student, named by the id.
- moodle: "Download all submissions" (mod/assign) writes one folder per student and plugin,
  `Full Name_<participant id>_assignsubmission_file_` (or `..._onlinetext_`); without
  "download in folders" the files are flat, `Full Name_<id>_assignsubmission_file_<file>`.
  The student's id is the participant id; the name is kept for display.
- canvas: "Download Submissions" (canvas-lms lib/content_zipper.rb) writes flat files
  `<sortable name, lowercase, word characters only>[_LATE]_<user id>_<attachment id>_<file>`
  (anonymous grading: `anon_<anonymous id>` for name and id), text entries as
  `..._text.html`; Attachment.make_unique_filename makes repeated names `pipe-1.c`. Files
  are grouped by user id and given back their names.
- github-classroom: `gh classroom clone student-repos` (github/gh-classroom) clones into
  `<assignment slug>-submissions/`, each repository named `<assignment slug>-<username>`
  as Classroom creates them; the student is the username.

Any of these may also come as one archive of the whole class.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from grader.errors import UsageError
from grader.unpack import archive_stem, is_archive, unpack

LAYOUTS = ("folders", "archives", "moodle", "canvas", "github-classroom")

_MOODLE_DIR = re.compile(r"^(?P<name>.+?)_(?P<id>\d+)_assignsubmission_(?P<plugin>[a-z]+)_?$")
_MOODLE_FILE = re.compile(
    r"^(?P<name>.+?)_(?P<id>\d+)_assignsubmission_(?P<plugin>file)_(?P<f>.+)$"
)
_CANVAS = re.compile(
    r"^(?:(?P<name>[^\W_]+)_)?(?:(?P<late>late)_)?"
    r"(?P<id>\d+|anon_[A-Za-z0-9]+)_(?:(?P<att>\d+)_(?P<f>.+)|(?P<online>text|link)\.html)$",
    re.IGNORECASE,
)
_CANVAS_COPY = re.compile(r"^(?P<stem>.+?)-(?P<n>\d+)(?P<ext>(?:\.[A-Za-z][A-Za-z0-9]*)*)$")
_NOISE = ("__MACOSX", "Thumbs.db", "desktop.ini")


@dataclass(frozen=True)
class Entry:
    """One student's submission, found in a class folder."""

    student: str  # the student's id: a folder's name, a Moodle participant, a GitHub user
    path: Path  # a folder holding their repo root or the exercise's folder (unpacked)
    name: str = ""  # the student's name for display, when the layout gives one


@dataclass(frozen=True)
class ClassFolder:
    layout: str  # "folders", "archives", "moodle", "canvas", "github-classroom"
    entries: tuple[Entry, ...]  # sorted by student id
    problems: tuple[str, ...] = ()  # what was skipped, and why, one sentence each


def find(class_dir: Path, unpack_to: Path) -> ClassFolder:
    """The submissions in `class_dir`; archives are unpacked (safely) under `unpack_to`.

    `class_dir` may be a folder or one archive of the whole class.

    Raises:
        UsageError: `class_dir` is no folder, or holds no submission.
    """
    if is_archive(class_dir):
        root = _single_folder(_unpack_fresh(class_dir, unpack_to / "class"))
    elif class_dir.is_dir():
        root = class_dir
    else:
        raise UsageError(
            f"{class_dir} is no folder or archive of a class: give the folder holding one "
            "folder (or archive) per student, or an LMS's download of all submissions."
        )
    found = _Finder(root, unpack_to).run()
    if not found.entries:
        why = " ".join(found.problems)
        raise UsageError(
            f"{class_dir} holds no submission: expected one folder or archive per student, "
            f"a Moodle or Canvas download, or GitHub Classroom clones. {why}".strip()
        )
    return found


def _visible(folder: Path) -> list[Path]:
    return sorted(
        p for p in folder.iterdir() if not p.name.startswith(".") and p.name not in _NOISE
    )


def _single_folder(folder: Path) -> Path:
    """Down through lone wrapping folders (`class.zip` holding `class/`), not into exercises."""
    while True:
        items = _visible(folder)
        if len(items) != 1 or not items[0].is_dir() or _is_submission(items[0]):
            return folder
        folder = items[0]


def _is_submission(folder: Path) -> bool:
    """An exercise's folder, a student's clone or Moodle folder: never a mere wrapper."""
    return (
        folder.name.startswith("exercise")
        or (folder / ".git").exists()
        or _MOODLE_DIR.match(folder.name) is not None
    )


def _unpack_fresh(archive: Path, dest: Path) -> Path:
    if dest.exists():
        shutil.rmtree(dest)
    unpack(archive, dest)
    return dest


def _rel(path: Path, root: Path) -> str:
    return os.path.relpath(path, root)


class _Finder:
    def __init__(self, root: Path, unpack_to: Path) -> None:
        self.root = root
        self.unpack_to = unpack_to
        self.problems: list[str] = []
        self.items = _visible(root)
        self.dirs = [p for p in self.items if p.is_dir()]
        self.files = [p for p in self.items if p.is_file()]

    def run(self) -> ClassFolder:
        dir_names = [d.name for d in self.dirs]
        file_names = [f.name for f in self.files]
        if any(_MOODLE_DIR.match(n) for n in dir_names) or any(
            _MOODLE_FILE.match(n) for n in file_names
        ):
            return self._moodle()
        if (
            self.files
            and not self.dirs
            and sum(bool(_CANVAS.match(n)) for n in file_names) * 2 > len(file_names)
        ):
            return self._canvas()
        prefix = self._classroom_prefix()
        if prefix:
            return self._classroom(prefix)
        archives = [f for f in self.files if is_archive(f)]
        if archives and len(archives) >= len(self.dirs):
            return self._archives(archives)
        return self._folders()

    # -- the layouts --------------------------------------------------------------------------

    def _folders(self) -> ClassFolder:
        self._stray(self.files, "not a student's folder")
        return self._done("folders", [(d.name, d, "") for d in self.dirs])

    def _archives(self, archives: list[Path]) -> ClassFolder:
        found = [(d.name, d, "") for d in self.dirs]  # a folder already unpacked goes first
        for a in archives:
            student = archive_stem(a.name)
            path = self._unpack_student(a, self.unpack_to / "archives" / student)
            if path is not None:
                found.append((student, path, ""))
        others = [f for f in self.files if f not in archives]
        self._stray(others, "not an archive (.zip, .tar.gz, .tgz, .tar)")
        return self._done("archives", found)

    def _moodle(self) -> ClassFolder:
        found: list[tuple[str, Path, str]] = []
        by_id: dict[str, list[tuple[str, Path, str]]] = {}
        for d in self.dirs:
            m = _MOODLE_DIR.match(d.name)
            if m is None:
                self.problems.append(f"{d.name}/ skipped: not a Moodle submission folder.")
                continue
            by_id.setdefault(m["id"], []).append((m["plugin"], d, m["name"]))
        flat: dict[str, list[Path]] = {}
        names: dict[str, str] = {}
        for f in self.files:
            m = _MOODLE_FILE.match(f.name)
            if m is None:
                self.problems.append(f"{f.name} skipped: not a Moodle submission file.")
                continue
            flat.setdefault(m["id"], []).append(f)
            names[m["id"]] = m["name"]
        for pid, files in flat.items():
            dest = self._fresh(self.unpack_to / "moodle" / pid)
            for f in files:
                m = _MOODLE_FILE.match(f.name)
                assert m is not None
                shutil.copyfile(f, dest / m["f"])
            by_id.setdefault(pid, []).append(("file", dest, names[pid]))
        for pid, folders in sorted(by_id.items()):
            files_first = sorted(folders, key=lambda t: t[0] != "file")
            plugin, path, name = files_first[0]
            for _, other, _ in files_first[1:]:
                self.problems.append(
                    f"{other.name} skipped: participant {pid} also has {path.name}, "
                    "which is graded (file submissions before online text)."
                )
            if plugin != "file":
                self.problems.append(
                    f"{path.name}: participant {pid} handed in online text only; "
                    "graded as it is (it will show missing files)."
                )
            unpacked = self._inner_archive(path, self.unpack_to / "moodle-zips" / pid)
            if unpacked is not None:
                found.append((pid, unpacked, name))
        return self._done("moodle", found)

    def _canvas(self) -> ClassFolder:
        groups: dict[str, list[tuple[str, Path]]] = {}
        names: dict[str, str] = {}
        for f in self.files:
            m = _CANVAS.match(f.name)
            if m is None:
                self.problems.append(f"{f.name} skipped: not named as Canvas names submissions.")
                continue
            if m["online"]:
                self.problems.append(
                    f"{f.name} skipped: an online {m['online']} entry, not a file submission."
                )
                continue
            groups.setdefault(m["id"], []).append((m["f"], f))
            names[m["id"]] = m["name"] or ""
        found = []
        for uid, files in sorted(groups.items()):
            dest = self._fresh(self.unpack_to / "canvas" / uid)
            for original, f in self._canvas_names(uid, files):
                shutil.copyfile(f, dest / original)
            path = self._inner_archive(dest, self.unpack_to / "canvas-zips" / uid)
            if path is not None:
                found.append((uid, path, names[uid]))
        return self._done("canvas", found)

    def _canvas_names(self, uid: str, files: list[tuple[str, Path]]) -> list[tuple[str, Path]]:
        """Undo Canvas's `-1`: the highest copy of each name is the one handed in last."""
        best: dict[str, tuple[int, Path]] = {}
        for original, f in files:
            m = _CANVAS_COPY.match(original)
            base, n = (m["stem"] + m["ext"], int(m["n"])) if m else (original, 0)
            if base in best:
                kept = max(best[base], (n, f))
                dropped = f if kept[1] != f else best[base][1]
                self.problems.append(
                    f"{dropped.name} skipped: user {uid} also has {kept[1].name}, a later "
                    f"upload of {base}."
                )
                best[base] = kept
            else:
                best[base] = (n, f)
        return [(base, f) for base, (_, f) in sorted(best.items())]

    def _classroom_prefix(self) -> str:
        """`<slug>-`, if the folders are GitHub Classroom clones; "" otherwise."""
        if not self.dirs:
            return ""
        names = [d.name for d in self.dirs]
        if self.root.name.endswith("-submissions"):
            prefix = self.root.name.removesuffix("-submissions") + "-"
            if all(n.startswith(prefix) and len(n) > len(prefix) for n in names):
                return prefix
        if len(names) < 2 or not any((d / ".git").exists() for d in self.dirs):
            return ""
        common = os.path.commonprefix(names)  # noqa: RUF071 -- names, not paths
        prefix = common[: common.rfind("-") + 1]
        return prefix if all(len(n) > len(prefix) for n in names) else ""

    def _classroom(self, prefix: str) -> ClassFolder:
        self._stray(self.files, "not a student's clone")
        return self._done(
            "github-classroom", [(d.name.removeprefix(prefix), d, "") for d in self.dirs]
        )

    # -- helpers ------------------------------------------------------------------------------

    def _fresh(self, dest: Path) -> Path:
        if dest.exists():
            shutil.rmtree(dest)
        dest.mkdir(parents=True)
        return dest

    def _unpack_student(self, archive: Path, dest: Path) -> Path | None:
        """The student's unpacked archive, or None (said in problems) when refused."""
        try:
            return _single_folder(_unpack_fresh(archive, dest))
        except UsageError as e:
            self.problems.append(f"{_rel(archive, self.root)} skipped: {e.message}")
            return None

    def _inner_archive(self, folder: Path, dest: Path) -> Path | None:
        """A folder holding just one archive (a student's upload of their repo): unpacked."""
        items = _visible(folder)
        if len(items) == 1 and is_archive(items[0]):
            return self._unpack_student(items[0], dest)
        return folder

    def _stray(self, files: Iterable[Path], why: str) -> None:
        for f in files:
            self.problems.append(f"{f.name} skipped: {why}.")

    def _done(self, layout: str, found: list[tuple[str, Path, str]]) -> ClassFolder:
        entries: dict[str, Entry] = {}
        for student, path, name in found:
            if not _visible(path):
                self.problems.append(f"{_rel(path, self.root)} skipped: it is empty.")
                continue
            if student in entries:
                self.problems.append(
                    f"{_rel(path, self.root)} skipped: {student} already has "
                    f"{_rel(entries[student].path, self.root)} (the first found is graded)."
                )
                continue
            entries[student] = Entry(student, path, name)
        ordered = tuple(entries[s] for s in sorted(entries))
        return ClassFolder(layout, ordered, tuple(self.problems))
