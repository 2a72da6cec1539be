"""Tests for grader.inspection, on real processes the tests start and reap themselves."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest
from conftest import wait_until

from grader import evidence
from grader.inspection import (
    FdEntry,
    ProcessGone,
    ProcessInfo,
    Snapshot,
    fds,
    process,
    runnable_s,
    snapshot,
    tree,
)
from grader.inspection.pipes import pipes
from grader.results import Evidence

Spawn = Callable[..., subprocess.Popen[bytes]]

# A parent that forgot to close the write end: the root sh keeps it as fd 1, its child `sleep`
# writes into it on fd 1, its child `cat` reads it on fd 0. The read end comes in as stdin and
# moves to fd 3, because sh gives a background job /dev/null as stdin before its redirections.
# The root waits, so that it reaps its children (see _kill_tree).
_FORGETFUL_PARENT = (
    "exec 3<&0 </dev/null; sleep 60 3<&- & cat <&3 >/dev/null 3<&- & exec 3<&-; wait"
)


@pytest.fixture
def spawn() -> Iterator[Spawn]:
    """Start processes in their own session; kill and reap each one and its descendants."""
    started: list[subprocess.Popen[bytes]] = []

    def start(argv: list[str], **kwargs: Any) -> subprocess.Popen[bytes]:
        for stream in ("stdin", "stdout", "stderr"):
            kwargs.setdefault(stream, subprocess.DEVNULL)
        proc = subprocess.Popen(argv, start_new_session=True, **kwargs)
        started.append(proc)
        return proc

    yield start
    for proc in started:
        # returncode None: not reaped yet, so its pid (= its group id) cannot be reused
        if proc.returncode is None:
            _kill_tree(proc.pid)
        proc.wait(timeout=5)


def _kill_tree(root_pid: int) -> None:
    """Kill the descendants first and give their parent time to reap them, then the group.

    Killing the whole group at once orphans the grandchildren, and where pid 1 does not reap
    (a container) each would stay a zombie for good; hence trees whose root waits.
    """
    descendants = psutil.Process(root_pid).children(recursive=True)
    for d in descendants:
        with contextlib.suppress(psutil.NoSuchProcess):
            d.kill()
    psutil.wait_procs(descendants, timeout=5)  # a pid is gone once its parent reaped it
    with contextlib.suppress(ProcessLookupError):
        os.killpg(root_pid, signal.SIGKILL)


@pytest.fixture
def closing() -> Iterator[Callable[[int], int]]:
    """Register an fd of the test process to be closed at the end of the test."""
    opened: list[int] = []

    def register(fd: int) -> int:
        opened.append(fd)
        return fd

    yield register
    for fd in opened:
        with contextlib.suppress(OSError):
            os.close(fd)


def _info(pid: int, name: str, ppid: int = 1) -> ProcessInfo:
    return ProcessInfo(
        pid=pid,
        ppid=ppid,
        name=name,
        exe="",
        argv=(),
        state="sleeping",
        pgid=pid,
        sid=pid,
        uid=0,
        cpu_s=0.0,
        started=0.0,
    )


def _pipe_fd(pid: int, fd: int, inode: int, access: str, kind: str = "pipe") -> FdEntry:
    flags = {"r": os.O_RDONLY, "w": os.O_WRONLY, "rw": os.O_RDWR}.get(access, -1)
    return FdEntry(pid, fd, kind, f"pipe:[{inode}]", flags, access, 0, inode)


def test_fds_of_a_child_name_each_kind(
    spawn: Spawn, closing: Callable[[int], int], tmp_path: Path
) -> None:
    dest = tmp_path / "dest"
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    r, _w = (closing(fd) for fd in os.pipe())
    # O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer
    fifo_fd = closing(os.open(fifo, os.O_RDONLY | os.O_NONBLOCK))
    sock, peer = socket.socketpair()
    sock_fd, sock_inode = sock.fileno(), os.fstat(sock.fileno()).st_ino
    deleted_fd = closing(os.open(tmp_path / "gone", os.O_WRONLY | os.O_CREAT))
    os.unlink(tmp_path / "gone")
    dir_fd = closing(os.open(tmp_path, os.O_RDONLY | os.O_DIRECTORY))
    with sock, peer, open(dest, "wb") as out:
        child = spawn(
            ["sleep", "60"],
            stdin=r,
            stdout=out,
            stderr=subprocess.DEVNULL,
            pass_fds=(fifo_fd, sock_fd, deleted_fd, dir_fd),
        )
    pipe_inode = os.fstat(r).st_ino

    entries = fds(child.pid)
    table = {e.fd: e for e in entries}

    assert [e.fd for e in entries] == sorted(table)
    assert all(e.pid == child.pid for e in entries)
    stdin = table[0]
    assert (stdin.kind, stdin.end, stdin.access, stdin.inode) == ("pipe", "read", "r", pipe_inode)
    assert stdin.target == f"pipe:[{pipe_inode}]"
    assert stdin.describe() == f"fd 0 → read end of pipe {pipe_inode}"
    stdout = table[1]
    assert (stdout.kind, stdout.target, stdout.access) == ("file", os.path.realpath(dest), "w")
    assert stdout.end is None
    assert stdout.describe() == f"fd 1 → {os.path.realpath(dest)}"
    assert (table[2].kind, table[2].target) == ("dev", "/dev/null")
    assert table[2].describe() == "fd 2 → /dev/null"
    named = table[fifo_fd]
    assert (named.kind, named.end, named.inode) == ("fifo", "read", os.stat(fifo).st_ino)
    assert named.flags & os.O_NONBLOCK
    assert named.describe() == f"fd {fifo_fd} → read end of FIFO {os.path.realpath(fifo)}"
    assert (table[sock_fd].kind, table[sock_fd].inode) == ("socket", sock_inode)
    assert table[sock_fd].describe() == f"fd {sock_fd} → socket {sock_inode}"
    assert table[deleted_fd].kind == "file"
    assert table[deleted_fd].target.endswith(" (deleted)")
    assert table[dir_fd].kind == "dir"


def test_fds_of_this_process_show_position_anon_inodes_and_ttys(
    closing: Callable[[int], int],
) -> None:
    r, w = (closing(fd) for fd in os.pipe())
    os.write(w, b"hello")
    event = closing(os.eventfd(0))
    try:
        master, slave = (closing(fd) for fd in os.openpty())
    except OSError as e:
        pytest.skip(f"no pseudo-terminals here: {e}")

    table = {e.fd: e for e in fds(os.getpid())}

    assert (table[w].end, table[w].access) == ("write", "w")
    assert table[w].describe() == f"fd {w} → write end of pipe {table[w].inode}"
    assert table[r].inode == table[w].inode
    assert table[event].kind == "anon"
    assert table[event].target == "anon_inode:[eventfd]"
    assert (table[slave].kind, table[slave].access) == ("tty", "rw")
    assert table[slave].target.startswith("/dev/pts/")
    assert table[master].kind == "tty"


def test_fds_position_of_a_regular_file(tmp_path: Path) -> None:
    with open(tmp_path / "f", "wb", buffering=0) as f:
        f.write(b"hello")
        entry = next(e for e in fds(os.getpid()) if e.fd == f.fileno())
    assert (entry.pos, entry.kind, entry.access) == (5, "file", "w")


def test_snapshot_finds_who_holds_each_end_of_a_pipe(spawn: Spawn) -> None:
    r, w = os.pipe()
    try:
        root = spawn(["sh", "-c", _FORGETFUL_PARENT], stdin=r, stdout=w)
    finally:
        # only the tree may hold the pipe, or this process would show up as a writer
        os.close(r)
        os.close(w)

    def settled() -> Snapshot | None:
        # names change at exec, after the children's redirections are done
        shot = snapshot(root.pid)
        names = sorted(p.name for p in shot.processes)
        done = names == ["cat", "sh", "sleep"] and shot.fd(root.pid, 3) is None
        return shot if done else None

    shot = wait_until(settled, within_s=5)

    cat = shot.named("cat")[0]
    writer = next(p for p in shot.children(root.pid) if p.name == "sleep")
    assert shot.processes[0].pid == root.pid
    assert {p.pid for p in shot.children(root.pid)} == {cat.pid, writer.pid}
    pipe = shot.pipe_into("cat")
    assert pipe is not None
    assert [(e.pid, e.fd, e.end) for e in pipe.readers] == [(cat.pid, 0, "read")]
    assert sorted((e.pid, e.fd) for e in pipe.writers) == sorted([(root.pid, 1), (writer.pid, 1)])
    assert shot.holders(pipe.inode, "read") == pipe.readers
    assert shot.holders(pipe.inode, "write") == pipe.writers
    assert shot.pipe(pipe.inode) == pipe
    assert pipe.inode in shot.pipes
    assert pipe.readers[0].label == f"cat (pid {cat.pid}) as fd 0"
    assert shot.pipe_into("sleep") is None  # sleep reads /dev/null
    assert shot.holders(pipe.inode + 1, "read") == ()
    with pytest.raises(ValueError, match="read"):
        shot.holders(pipe.inode, "both")

    rows = evidence.processes(shot)
    assert isinstance(rows, Evidence)
    assert rows.columns == ("pid", "ppid", "program", "state", "descriptors")
    assert len(rows.rows) == len(shot.processes) == 3
    cat_row = next(row for row in rows.rows if row[0] == str(cat.pid))
    assert cat_row[:3] == (str(cat.pid), str(root.pid), "cat")
    assert f"fd 0 → read end of pipe {pipe.inode}" in cat_row[4]
    table = evidence.fds(shot, cat.pid)
    assert table.columns == ("fd", "kind", "target", "access")
    assert table.rows[0] == ("0", "pipe", f"pipe:[{pipe.inode}]", "r")
    assert f"(pid {cat.pid})" in table.title


def test_tree_lists_the_root_first_then_its_descendants(spawn: Spawn) -> None:
    root = spawn(["sh", "-c", "sleep 60 & wait"])
    found = wait_until(lambda: len(tree(root.pid)) == 2 and tree(root.pid), within_s=5)
    assert found[0].pid == root.pid
    assert found[1].ppid == root.pid
    assert found[1].pgid == found[0].pgid == root.pid  # start_new_session
    assert found[0].sid == root.pid
    assert found[0].uid == os.getuid()
    assert found[0].label == f"{found[0].name} (pid {root.pid})"


def test_process_describes_a_running_child(spawn: Spawn) -> None:
    child = spawn(["sleep", "60"])
    # Popen returns once exec has closed the descriptors; the new argv comes a moment later
    info = wait_until(lambda: (found := process(child.pid)).argv and found, within_s=5)
    assert (info.pid, info.ppid, info.name) == (child.pid, os.getpid(), "sleep")
    assert info.argv == ("sleep", "60")
    assert os.path.basename(info.exe) == "sleep"
    assert info.state in ("sleeping", "running")
    assert info.cpu_s >= 0.0
    assert info.started > 0.0


def test_an_unreaped_child_is_a_zombie(spawn: Spawn) -> None:
    child = spawn(["true"])  # the fixture reaps it only at teardown
    info = wait_until(lambda: process(child.pid).is_zombie and process(child.pid), within_s=5)
    assert (info.state, info.exe, info.argv, info.name) == ("zombie", "", (), "true")
    assert fds(child.pid) == ()


def test_a_sigstopped_child_is_stopped(spawn: Spawn) -> None:
    child = spawn(["sleep", "60"])
    os.kill(child.pid, signal.SIGSTOP)
    info = wait_until(lambda: process(child.pid).is_stopped and process(child.pid), within_s=5)
    assert info.state == "stopped"
    assert not info.is_zombie


def test_a_reaped_process_is_gone() -> None:
    child = subprocess.Popen(["true"])
    child.wait()

    with pytest.raises(ProcessGone) as gone:
        process(child.pid)
    assert gone.value.pid == child.pid
    assert str(child.pid) in str(gone.value)
    with pytest.raises(ProcessGone):
        fds(child.pid)
    with pytest.raises(ProcessGone):
        tree(child.pid)
    with pytest.raises(ProcessGone):
        snapshot(child.pid)
    shot = snapshot(pids=[child.pid, os.getpid()])
    assert [p.pid for p in shot.processes] == [os.getpid()]
    assert shot.process(child.pid) is None
    assert shot.fd(child.pid, 0) is None


def test_snapshot_of_everything_includes_this_process() -> None:
    shot = snapshot()
    me = shot.process(os.getpid())
    assert me is not None
    assert shot.fds[os.getpid()]
    assert shot.fd(os.getpid(), 0) is not None
    with pytest.raises(ValueError, match="not both"):
        snapshot(os.getpid(), pids=[os.getpid()])


def test_pipes_joins_fds_by_inode() -> None:
    procs = (_info(10, "ps"), _info(11, "grep"), _info(12, "odd"))
    table = {
        10: (_pipe_fd(10, 1, 99, "w"), _pipe_fd(10, 4, 99, "w")),
        11: (_pipe_fd(11, 0, 99, "r"), _pipe_fd(11, 5, 42, "")),
        12: (_pipe_fd(12, 3, 99, "rw"), _pipe_fd(12, 6, 77, "r", kind="fifo")),
    }

    joined = pipes(procs, table)

    assert set(joined) == {99, 42}  # a FIFO is not an anonymous pipe
    assert [e.label for e in joined[99].writers] == [
        "ps (pid 10) as fd 1",
        "ps (pid 10) as fd 4",
        "odd (pid 12) as fd 3",
    ]
    assert [(e.pid, e.fd, e.end) for e in joined[99].readers] == [(11, 0, "read"), (12, 3, "read")]
    assert (joined[42].readers, joined[42].writers) == ((), ())
    assert pipes(procs[:1], {}) == {}


def test_snapshot_keeps_its_own_copy_of_the_fd_table() -> None:
    procs = (_info(10, "ps"), _info(11, "grep"))
    table: dict[int, tuple[FdEntry, ...]] = {
        10: (_pipe_fd(10, 1, 99, "w"),),
        11: (_pipe_fd(11, 0, 99, "r"),),
    }
    shot = Snapshot(processes=procs, fds=table, taken_at=0.0)
    table[11] = ()

    assert shot.pipe_into("grep") == shot.pipe(99)
    assert shot.holders(99, "write")[0].label == "ps (pid 10) as fd 1"
    assert shot.children(1) == procs
    assert evidence.fds(shot, 12).title == "file descriptors of pid 12"


def test_runnable_time_counts_a_spinner_whole_even_on_a_busy_machine() -> None:
    """Twice as many spinners as CPUs, and one more: each gets well under half of the
    window's CPU time, but is ready to run all of it; a sleeper is neither."""
    n = 2 * (os.cpu_count() or 1) + 1
    spinners = [subprocess.Popen(["sh", "-c", "while :; do :; done"]) for _ in range(n)]
    sleeper = subprocess.Popen(["sleep", "30"])
    try:
        before = [runnable_s(p.pid) for p in (*spinners, sleeper)]
        start = time.monotonic()
        time.sleep(0.5)  # sleep: the measuring window, not a wait for a process
        window = time.monotonic() - start
        used = [runnable_s(p.pid) - b for p, b in zip((*spinners, sleeper), before, strict=True)]
    finally:
        for p in (*spinners, sleeper):
            p.kill()
            p.wait()
    assert min(used[:-1]) > 0.6 * window, used
    assert used[-1] < 0.05 * window, used


_SHARED_PAGE = """
import mmap, os, sys
page = mmap.mmap(-1, 4096, flags=mmap.MAP_SHARED)
page.write(b"ipcgrade-marker")
child = os.fork()
if child:
    print(child, flush=True)
sys.stdin.read()
"""


def test_two_processes_sharing_a_page_map_one_identity_with_its_bytes() -> None:
    """exercise7 tells one shared ring from two by the mappings' device and inode, and
    exercise6 reads the parent's page through /proc/PID/mem."""
    import sys

    from grader.inspection import memory

    proc = subprocess.Popen(
        [sys.executable, "-c", _SHARED_PAGE], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    try:
        assert proc.stdout is not None
        child = int(proc.stdout.readline())
        mine = {m.identity: m for m in memory.shared_writable(proc.pid) if m.size == 4096}
        theirs = {m.identity for m in memory.shared_writable(child) if m.size == 4096}
        common = set(mine) & theirs
        assert len(common) == 1, (mine, theirs)
        page = mine[common.pop()]
        assert page.inode != 0
        assert memory.contents(proc.pid, page).startswith(b"ipcgrade-marker")
        assert memory.contents(child, page, limit=8) == b"ipcgrade"
    finally:
        proc.communicate(b"")
    with pytest.raises(ProcessGone):
        memory.contents(proc.pid, page)
