"""How a grade is confined on the host, around its worker: what the worker sees of the
machine and what it does not, its turn where a fixed System V key could collide, and, as
root, a uid of its own and a control group; and the scratch folders of dead graders removed.
Imported by the session only, with the host side (`host.py`)."""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

from grader import catalog
from grader.catalog import Exercise
from grader.sandbox import cgroup, slots
from grader.sandbox.cgroup import GradeGroup
from grader.sandbox.detect import Capabilities
from grader.submission import Submission


def keep_paths(exercise: Exercise) -> list[str]:
    """Folders the worker needs to see: Python, its packages, the grader, the exercises.

    Only Python's own folders and its site-packages: never the folder `grade` was started
    from, nor PYTHONPATH's, which `sys.path` also holds (they may hold reference solutions).
    """
    import site
    import sysconfig

    package = Path(__file__).resolve().parents[1]  # grader/
    paths = {
        sys.prefix,
        sys.base_prefix,
        sys.exec_prefix,
        str(Path(sys.executable).resolve().parent),
        *sysconfig.get_paths().values(),
        *site.getsitepackages(),
        str(package),
        str(catalog.root() / "exercises"),
        str(catalog.root() / "reports"),
        str(exercise.folder.resolve()),
    }
    return sorted(p for p in paths if Path(p).is_dir())


def remove_stale_scratch() -> None:
    """Remove the scratch folders of graders that died without cleaning up (SIGKILL).

    A folder kept with --keep is named `ipcgrade-kept-...`, never matched here: it stays
    until the user removes it.
    """
    folder = Path(tempfile.gettempdir())
    for entry in os.scandir(folder):
        match = re.match(r"ipcgrade-(\d+)-", entry.name)
        try:
            ours = entry.is_dir(follow_symlinks=False) and entry.stat().st_uid == os.getuid()
        except OSError:
            continue
        if match and ours and not os.path.exists(f"/proc/{match[1]}"):
            shutil.rmtree(entry.path, ignore_errors=True)


def hide_paths(submission: Submission) -> list[str]:
    """Where the grade cannot have a root of its own: the checkout's reference solutions
    and tests, and the folder holding the other students' submissions, to hide."""
    root = catalog.root()
    hide = [str(root / name) for name in ("reference", "tests", "examples", "bench")]
    parent = submission.folder.resolve().parent
    if len(parent.parts) > 2:  # not "/" nor a top-level system folder
        hide.append(str(parent))
    return [h for h in hide if Path(h).is_dir()]


@contextlib.contextmanager
def turn(exercise: Exercise, caps: Capabilities) -> Iterator[None]:
    """Without IPC namespaces, grades of a fixed-key exercise take turns (a file lock); and
    all grades, where students run as the user (not root): each check's cleanup removes
    the System V objects of the user's uid made during it, another grade's included."""
    if caps.userns or not (exercise.ipc_keys or caps.student_uid is None):
        yield
        return
    path = Path(tempfile.gettempdir()) / "ipcgrade-sysv.lock"
    # read-only: any user can lock a file another user made (keys collide across users)
    fd = os.open(path, os.O_RDONLY | os.O_CREAT | os.O_NOFOLLOW, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


@contextlib.contextmanager
def confined(
    exercise: Exercise, caps: Capabilities
) -> Iterator[tuple[Capabilities, GradeGroup | None]]:
    """As root: the grade's own student uid (a slot) and its control group."""
    if not caps.root:
        yield caps, None
        return
    with slots.student_uid() as uid:
        caps = replace(caps, student_uid=uid)
        group = None
        where, why_not = cgroup.find()
        if where is not None:
            cgroup.remove_stale(where)
            limits = exercise.limits
            try:
                group = GradeGroup(where, limits.grade_memory_mb, limits.grade_tasks)
            except OSError as e:
                why_not = f"could not make the grade's cgroup: {e}"
        if group is not None:
            caps = replace(caps, grade_memory_mb=group.memory_mb, grade_tasks=group.tasks,
                           oom_file=str(group.oom_file), cgroup_why_not="",
                           cgroup_fds=tuple(group.open("students")))  # fmt: skip
        else:
            caps = replace(caps, cgroup_why_not=why_not)
        yield caps, group
