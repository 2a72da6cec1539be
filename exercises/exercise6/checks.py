"""exercise6 `mmap`: a shared mapping of a file, and a shared anonymous page across fork."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import sys
from dataclasses import dataclass

import pytest

from grader import Failed, Mismatch, Program, Run, Sandbox, evidence, inspection, needs, trace

LECTURE = "Mmap"
# every call that can put bytes into a file without a mapping
WRITES = ("write", "pwrite64", "writev", "pwritev", "pwritev2", "sendfile", "copy_file_range",
          "splice")  # fmt: skip
FILE_CALLS = ("openat", "mmap", "munmap", "fstat", "newfstatat", "ftruncate", *WRITES)
FORK_CALLS = ("openat", "mmap", "clone", "clone3", "fork", "vfork", "wait4", "waitid")
FORKS = ("clone", "clone3", "fork", "vfork")
TEXT = "hello mmap"
ORIGINAL = bytes((i * 7 + 3) % 251 for i in range(6000))  # no NUL in the first bytes
N = 100_000
# N for watching the child count: at -O0 it counts for a tenth of a second or more, long
# enough to be seen running and to hold its parent meanwhile; the larger one if the first
# child was done too soon to tell
WATCH_N = (200_000_000, 800_000_000)


@pytest.fixture
def filemapped(programs: dict[str, Program], sandbox: Sandbox) -> Run:
    """`filemap data.bin TEXT`, run to its end, data.bin holding ORIGINAL before."""
    sandbox.path("data.bin").write_bytes(ORIGINAL)
    return programs["filemap"].run("data.bin", TEXT, within_s=10, trace=FILE_CALLS)


def _file_mmaps(run: Run) -> list[trace.Call]:
    """The mmap calls of FILE's descriptor, after it was opened (the loader reuses fd 3)."""
    calls = run.calls()
    opens = [i for i, c in enumerate(calls)
             if c.name == "openat" and ".bin" in c.args and not c.failed]  # fmt: skip
    if not opens:
        return []
    fd = calls[opens[0]].result
    return [c for c in calls[opens[0] :] if c.name == "mmap" and c.args.split(", ")[4:5] == [fd]]


def test_filemap_writes_text_at_start(filemapped: Run, sandbox: Sandbox) -> None:
    """FILE starts with TEXT on disk afterwards, and the rest is byte for byte unchanged"""
    run = filemapped
    got = sandbox.path("data.bin").read_bytes()
    want = TEXT.encode() + ORIGINAL[len(TEXT) :]
    if got == want:
        return
    if got == ORIGINAL:
        private = [c for c in _file_mmaps(run) if "MAP_PRIVATE" in c.args]
        why = (
            "the file was mapped with MAP_PRIVATE: your writes went to a private copy of "
            "the page and never reach the file"
            if private
            else f"nothing was written to it (filemap {run.ended()})"
        )
        raise Failed(
            f"FILE is unchanged on disk: {why}",
            hint="mmap(NULL, pagesize, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)",
            lecture=LECTURE,
            evidence=evidence.calls_of(run),
            kind="map-private" if private else "file-unchanged",
        )
    if got[: len(TEXT)] == TEXT.encode() and got[len(TEXT)] == 0:
        raise Mismatch(
            repr(want[: len(TEXT) + 8]),
            repr(got[: len(TEXT) + 8]),
            "FILE starts with TEXT, but the byte after it is now a NUL ('\\0'): strcpy "
            "copies the string's terminating NUL too, and overwrites the file's next byte",
            hint="copy only the text: memcpy(base, text, strlen(text))",
            lecture=LECTURE,
            kind="writes-terminating-nul",
        )
    diffs = [i for i, (a, b) in enumerate(zip(got, want, strict=False)) if a != b]
    first = diffs[0] if diffs else min(len(got), len(want))
    around = slice(max(0, first - 8), first + 16)
    raise Mismatch(
        repr(want[around]),
        repr(got[around]),
        f"FILE differs from what was expected from byte {first} on "
        f"({len(got)} bytes now, {len(want)} expected); filemap {run.ended()}",
        lecture=LECTURE,
        evidence=evidence.calls_of(run),
        kind="file-differs",
    )


@needs("strace")
def test_filemap_mapping_is_shared(filemapped: Run) -> None:
    """filemap maps FILE read/write with MAP_SHARED"""
    run = filemapped
    maps = _file_mmaps(run)
    if not maps:
        raise Failed(
            "filemap never mapped FILE: no mmap() of its descriptor",
            hint="open FILE with O_RDWR, then mmap(NULL, pagesize, PROT_READ | PROT_WRITE, "
            "MAP_SHARED, fd, 0)",
            lecture=LECTURE,
            evidence=evidence.calls_of(run),
            kind="file-never-mapped",
        )
    m = maps[0]
    if "MAP_SHARED" not in m.args or "PROT_WRITE" not in m.args:
        raise Failed(
            f"filemap mapped FILE as {m.describe()}: "
            + (
                "MAP_PRIVATE gives the process its own copy of the page (the map shows "
                "'p'): your writes never reach the file"
                if "MAP_PRIVATE" in m.args
                else "not writable"
            )
            + ". The exercise asks for MAP_SHARED, read/write",
            hint="PROT_READ | PROT_WRITE, MAP_SHARED",
            lecture=LECTURE,
            evidence=evidence.calls_of(run, names=("mmap",)),
            kind="map-private" if "MAP_PRIVATE" in m.args else "mapping-not-writable",
        )


@needs("strace")
def test_filemap_uses_no_write(filemapped: Run, sandbox: Sandbox) -> None:
    """filemap changes FILE through the mapping only, with no write() call"""
    run = filemapped
    writes = [c for c in run.calls() if c.name in WRITES
              and not re.match(r"[12],", c.args)]  # fmt: skip
    if writes:
        raise Failed(
            f"filemap wrote to FILE with {writes[0].name}(): {writes[0].describe()}. The "
            "exercise writes through the mapping: the bytes change in memory, and the kernel "
            "carries them to the file",
            hint="memcpy(base, text, strlen(text)) into the MAP_SHARED mapping, no write()",
            lecture=LECTURE,
            evidence=evidence.calls_of(run),
            kind="writes-with-write-call",
        )
    if not sandbox.path("data.bin").read_bytes().startswith(TEXT.encode()):
        # no write, and no TEXT either: how FILE is changed was never seen
        pytest.skip(f"needs a filemap that puts TEXT into FILE (filemap {run.ended()} and "
                    "FILE does not start with TEXT), to see how it does")  # fmt: skip


def test_filemap_short_file_handled(programs: dict[str, Program], sandbox: Sandbox) -> None:
    """a FILE too short for TEXT is grown or reported, never a crash (SIGBUS)"""
    for content, what in ((b"", "an empty FILE"), (b"abc", "a FILE of 3 bytes")):
        path = sandbox.path("short.bin")
        path.write_bytes(content)
        run = programs["filemap"].run("short.bin", TEXT, within_s=10, trace=FILE_CALLS)
        got = path.read_bytes()
        if run.exit is not None and run.exit.signal is not None:
            bus = run.exit.signal_name == "SIGBUS"
            raise Failed(
                f"with {what}, filemap was killed by {run.exit.signal_name}"
                + (
                    ": the file is shorter than the page you mapped, and touching a page of "
                    "the mapping past the end of the file raises SIGBUS"
                    if bus
                    else ""
                )
                + ". Check the file's size with fstat first: report that TEXT does not fit, "
                "or grow the file (ftruncate) before writing",
                hint="struct stat st; fstat(fd, &st); if (st.st_size < strlen(text)) { report "
                "and exit(1), or ftruncate(fd, strlen(text)) }",
                lecture=LECTURE,
                evidence=evidence.calls_of(run, names=("fstat", "newfstatat", "ftruncate", "mmap")),
                kind="sigbus-on-short-file" if bus else "killed-on-short-file",
            )
        if run.succeeded and got.startswith(TEXT.encode()):
            continue  # grown to hold TEXT: as right as reporting the error
        if run.reported_failure() is None:
            continue  # reported
        quiet = run.exit is not None and not run.stderr.strip()
        how = run.ended() + (" without an error message" if quiet else "")
        now = f"FILE holds {got[:24]!r}" if got else "FILE is still empty"
        raise Failed(
            f"with {what}, filemap {how}, and {now}: TEXT does not fit in it. Either report "
            "it (a message on stderr, a non-zero status) or grow the file (ftruncate) so that "
            "TEXT fits before writing through the mapping",
            actual=run.text("stderr") or None,
            hint="fstat(fd, &st) tells the file's size; bytes written into the mapping past "
            "the end of the file never reach it",
            lecture=LECTURE,
            evidence=evidence.calls_of(run, names=("fstat", "newfstatat", "ftruncate", "mmap")),
            kind="short-file-not-handled",
        )


def _counter(run: Run) -> int | None:
    m = re.search(r"counter\s*=\s*(-?\d+)", run.text())
    return int(m.group(1)) if m else None


def _forks(calls: tuple[trace.Call, ...]) -> list[trace.Call]:
    """The parent's successful forks (a thread, CLONE_THREAD, is not a child process)."""
    parent = calls[0].pid if calls else None
    return [c for c in calls if c.pid == parent and c.name in FORKS and not c.failed
            and "CLONE_THREAD" not in c.args]  # fmt: skip


def _shared_anonymous(calls: tuple[trace.Call, ...]) -> list[trace.Call]:
    """The writable MAP_SHARED mmaps with no file behind them: MAP_ANONYMOUS, or /dev/zero
    (the kernel makes a shared mapping of /dev/zero an anonymous shared page)."""
    zero = {c.result for c in calls if c.name == "openat" and '"/dev/zero"' in c.args
            and not c.failed}  # fmt: skip
    return [
        c for c in calls if c.name == "mmap" and "MAP_SHARED" in c.args
        and "PROT_WRITE" in c.args
        and ("MAP_ANONYMOUS" in c.args or c.args.split(", ")[4:5] in ([z] for z in zero))
    ]  # fmt: skip


def test_forkmap_counts_to_n(programs: dict[str, Program]) -> None:
    """forkmap N prints `counter = N`: the child's additions reach the parent"""
    run = programs["forkmap"].run(str(N), within_s=10, trace=FORK_CALLS)
    got = _counter(run)
    calls = run.calls()
    if got == N and run.succeeded:
        if not calls or _forks(calls):
            _child_counts(programs["forkmap"])  # the output alone: a parent may count too
            return
        raise Failed(
            f"forkmap {N} printed counter = {N}, but it never forked: it counted by itself, "
            "so no child's additions reached it through the shared page",
            hint="fork() after the mmap; the child adds 1 N times, the parent waits and prints",
            lecture=LECTURE,
            evidence=evidence.calls_of(run, names=("mmap", *FORKS, "wait4", "waitid")),
            kind="never-forks",
        )
    shared = bool(_shared_anonymous(calls))
    waited = any(c.name in ("wait4", "waitid") for c in calls)
    why = ""
    if calls and not _forks(calls):
        why = ": it never forked a child to count"
    elif calls and not shared and got == 0:
        why = (": the counter's page is not MAP_SHARED (MAP_PRIVATE), so after fork the child "
               "increments its own copy and the parent never sees it")  # fmt: skip
    elif calls and shared and not waited:
        why = ": the parent printed the counter without waiting for the child to finish"
    raise Mismatch(
        f"counter = {N}",
        run.text() or "(nothing)",
        f"forkmap {N} printed {'counter = ' + str(got) if got is not None else 'no counter'} "
        f"and {run.ended()}{why}",
        hint="mmap(NULL, pagesize, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0) "
        "before fork()",
        lecture=LECTURE,
        evidence=evidence.calls_of(run, names=("mmap", "clone", "clone3", "wait4")),
        kind="wrong-counter",
    )


def _children_of(pid: int) -> list[int]:
    """Its children's pids, cheap enough to poll (/proc/PID/task/PID/children)."""
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(c) for c in f.read().split()]
    except (OSError, ValueError):
        return []


def _state(pid: int) -> str:
    """Its state ("running", "sleeping", "stopped", "zombie"), "gone" once reaped."""
    with contextlib.suppress(inspection.ProcessGone):
        return inspection.process(pid).state
    return "gone"


def _holding(pid: int, n: int) -> set[tuple[tuple[str, int], int]]:
    """Where the shared writable pages of `pid` hold `n` (an int, or a long's low half):
    (the mapping's identity, offset)."""
    want = n.to_bytes(4, sys.byteorder)
    found = set()
    for m in inspection.memory.shared_writable(pid):
        data = inspection.memory.contents(pid, m)
        found |= {(m.identity, o) for o in range(0, len(data) - 3, 4) if data[o : o + 4] == want}
    return found


@dataclass(frozen=True)
class _Watched:
    """What holding forkmap's parent while its child counted showed."""

    seen: str  # "added" (the evidence), "missing", "already", "late", "unseen"
    child: int = 0


def _watch(program: Program, n: int) -> _Watched:
    """Run `forkmap n`; once its child is seen, hold the parent (SIGSTOP) until the child
    has ended, and look at the parent's shared pages before and after: the child's
    additions are seen if the counter came to hold n while the parent could do nothing."""
    run = program.start(str(n))
    try:
        watched = _look(program, run, n)
    except inspection.ProcessGone:
        watched = _Watched("late")
    with contextlib.suppress(ProcessLookupError):
        os.kill(run.pid, signal.SIGCONT)
    run.finish(10)
    return watched


def _look(program: Program, run: Run, n: int) -> _Watched:
    run.wait_for(predicate=lambda: _children_of(run.pid), exit=True, within_s=5)
    kids = _children_of(run.pid)
    if not kids:
        return _Watched("unseen")
    child = kids[0]
    with contextlib.suppress(ProcessLookupError):
        os.kill(run.pid, signal.SIGSTOP)
    program.sandbox.note(f"held forkmap (pid {run.pid}) with SIGSTOP, its child "
                         f"(pid {child}) running")  # fmt: skip
    run.wait_for(state="stopped", exit=True, within_s=5)
    done = _state(child)  # from here on, the held parent cannot wait for it
    if done in ("dead", "gone") or _state(run.pid) != "stopped":
        return _Watched("late", child)  # the parent had waited for it, or ended
    before = _holding(run.pid, n)
    # a zombie it stays, its parent held
    run.wait_for(predicate=lambda: _state(child) in ("zombie", "dead", "gone"), within_s=8)
    if _state(child) not in ("zombie", "dead", "gone"):
        return _Watched("late", child)  # still counting after 8 s: nothing to tell yet
    after = _holding(run.pid, n)
    if after - before:
        return _Watched("added", child)
    if not after:
        return _Watched("missing", child)
    return _Watched("late" if done == "zombie" else "already", child)


def _child_counts(program: Program) -> None:
    """Fail unless the child's additions are seen reaching the parent's page."""
    watched = _Watched("unseen")
    for n in WATCH_N:
        watched = _watch(program, n)
        if watched.seen == "added":
            return
        if watched.seen == "missing":
            break
    who = f"its child (pid {watched.child})" if watched.child else "its child"
    why = {
        "missing": f"{who} ended while the parent was held (SIGSTOP), and then the parent's "
        f"shared page did not hold {n}: the child's additions never reached the page the "
        "parent prints from",
        "already": f"the parent's shared page held {n} while {who} was still running, with "
        "the parent held (SIGSTOP): the parent had counted by itself",
        "late": f"{who} was done every time before the parent could be held to look",
        "unseen": f"no child of forkmap was ever seen running: with N = {n:,}, a child "
        "that adds 1 N times runs for a good tenth of a second, so this child did not count",
    }[watched.seen]
    raise Failed(
        f"forkmap printed counter = N, but the child's additions were not seen reaching the "
        f"parent: {why}. The parent must print what the child counted in the shared page, "
        "not count, or print N, by itself",
        hint="the child: for (i = 0; i < n; i++) (*counter)++; the parent: waitpid(), then "
        'printf("counter = %d\\n", *counter); with your own Makefile\'s -O2 the loop may '
        "become one addition: declare the counter volatile",
        lecture=LECTURE,
        kind="parent-counts-itself",
    )


@needs("strace")
def test_forkmap_page_is_shared(programs: dict[str, Program]) -> None:
    """forkmap's counter lives in a MAP_SHARED | MAP_ANONYMOUS page mapped before fork"""
    run = programs["forkmap"].run("10", within_s=10, trace=FORK_CALLS)
    calls = run.calls()
    forks = _forks(calls)
    if not forks:
        raise Failed(
            f"forkmap never forked (it {run.ended()}): there was no child to share a page with",
            hint="mmap a MAP_SHARED | MAP_ANONYMOUS page, then fork(): the child counts in it",
            lecture=LECTURE,
            evidence=evidence.calls_of(run, names=("mmap", *FORKS)),
            kind="never-forks",
        )
    before = calls[: calls.index(forks[0])]
    if _shared_anonymous(before):
        return
    anon = [c for c in before if c.name == "mmap" and "MAP_ANONYMOUS" in c.args
            and "PROT_WRITE" in c.args]  # fmt: skip
    private = [c for c in anon if "MAP_PRIVATE" in c.args and "MAP_STACK" not in c.args]
    raise Failed(
        "forkmap mapped no shared anonymous page before fork()"
        + (
            f": {private[-1].describe()} is MAP_PRIVATE (the map shows 'p'): after fork, "
            "each process has its own copy"
            if private
            else ""
        ),
        hint="MAP_SHARED | MAP_ANONYMOUS, before fork(), so that both processes see one page",
        lecture=LECTURE,
        evidence=evidence.calls_of(run, names=("mmap", "clone", "clone3")),
        kind="map-private" if private else "no-shared-page-before-fork",
    )


@needs("strace")
def test_forkmap_parent_waits(programs: dict[str, Program]) -> None:
    """forkmap's parent waits for the child before it reads the counter"""
    run = programs["forkmap"].run(str(N), within_s=10, trace=FORK_CALLS)
    calls = run.calls()
    forks = _forks(calls)
    if not forks:
        pytest.skip(f"needs a forkmap that forks a child to wait for (it {run.ended()} "
                    "without forking)")  # fmt: skip
    children = {c.result for c in forks}
    waited = [c for c in calls[calls.index(forks[0]) :] if c.pid == calls[0].pid
              and c.name in ("wait4", "waitid") and not c.failed
              and (c.name == "waitid" or c.result in children)]  # fmt: skip
    if not waited:
        raise Failed(
            "forkmap's parent never waits for its child (no wait() or waitpid() that "
            "returned it): it may read the counter before the child is done (it printed "
            f"{_counter(run)!r})",
            hint="waitpid(child, NULL, 0) before printing the counter",
            lecture=LECTURE,
            evidence=evidence.calls_of(run, names=("clone", "clone3", "wait4", "waitid")),
            kind="parent-does-not-wait",
        )
