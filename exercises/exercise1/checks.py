"""exercise1 `copy`: open, dup2 and exec make the process become cat writing into dest."""

from __future__ import annotations

import os
import random
import re
import shutil
import stat
from collections.abc import Iterator
from typing import NamedTuple

import pytest

from grader import SAFE_PATH, Failed, Mismatch, Program, Ref, Run, Sandbox, evidence, inspection

USAGE = re.compile(r"usage:\s*\S*copy\s+<src>\s+<dest>", re.IGNORECASE)
LECTURE = "I/O redirection"
EXECS = ("execlp", "execl", "execvp", "execv", "execve", "execle", "execvpe")
FIFO = "src.fifo"


def _cat_of(run: Run) -> inspection.ProcessInfo | None:
    """The process that runs cat for this copy: the program itself, or a child it forked."""
    try:
        return next((p for p in inspection.tree(run.pid) if p.name == "cat"), None)
    except inspection.ProcessGone:
        return None


def _holds(pid: int, name: str) -> bool:
    try:
        return any(os.path.basename(f.target) == name for f in inspection.fds(pid))
    except inspection.ProcessGone:
        return False


def _reads_fifo_itself(run: Run) -> bool:
    """The program (still itself, not cat) holds the FIFO open: it copies on its own."""
    try:
        return inspection.process(run.pid).name != "cat" and _holds(run.pid, FIFO)
    except inspection.ProcessGone:
        return False


class Held(NamedTuple):
    run: Run
    cat: inspection.ProcessInfo | None  # None: cat never appeared


@pytest.fixture
def held(program: Program, sandbox: Sandbox) -> Iterator[Held]:
    """`copy src.fifo dest` with a FIFO as src: cat blocks reading it, alive to look at.
    Afterwards our end of the FIFO is closed, so cat sees end-of-file and ends."""
    os.mkfifo(sandbox.path(FIFO))
    # O_RDWR: opening does not block, and cat sees no end-of-file while we hold it
    end = os.open(sandbox.path(FIFO), os.O_RDWR | os.O_NONBLOCK)
    run = program.start(FIFO, "dest")
    found: list[inspection.ProcessInfo] = []

    def cat_or_loop() -> bool:
        cat = _cat_of(run)
        if cat is not None and _holds(cat.pid, FIFO):  # cat has opened src: it is reading
            found.append(cat)
            return True
        return not run.alive or _reads_fifo_itself(run)

    run.wait_for(predicate=cat_or_loop, within_s=5)
    yield Held(run, found[0] if found else None)
    os.close(end)
    run.finish(5)


@pytest.fixture
def cat(held: Held) -> inspection.ProcessInfo:
    """cat, reading the FIFO; the check is skipped if the program never became cat."""
    if held.cat is None:
        pytest.skip("needs the program to become cat (see the check above)")
    return held.cat


def test_becomes_cat(program: Program, held: Held) -> None:
    """the process becomes cat (same pid, no fork needed)"""
    run, cat = held
    if cat is not None and cat.pid == run.pid:
        return
    if cat is not None:
        raise Failed(
            f"your program started cat in a child process (pid {cat.pid}) with fork(), "
            f"while copy (pid {run.pid}) waited: the lecture's copy does not fork, it "
            "replaces itself with cat, which keeps its pid and its descriptors",
            hint='drop the fork(): after dup2(fd, 1), call execlp("cat", "cat", src, NULL) '
            "in the process itself",
            lecture=LECTURE,
            evidence=[evidence.processes(inspection.snapshot(run.pid))],
            kind="forks-cat",
            about=[Ref(pid=cat.pid)],
            location=program.source.first_call("fork"),
        )
    if run.alive and _reads_fifo_itself(run):
        raise Failed(
            f"your program (pid {run.pid}) reads src and writes dest itself, with a "
            "read/write loop: it never became cat. The exercise is I/O redirection: "
            "make dest the standard output and let cat do the copying",
            hint='open dest, dup2(fd, 1), close(fd), then execlp("cat", "cat", src, NULL)',
            lecture=LECTURE,
            evidence=[evidence.fds(inspection.snapshot(run.pid), run.pid)],
            kind="copies-without-cat",
            about=[Ref(pid=run.pid)],
            location=program.source.first_call("read"),
        )
    raise Failed(
        f"cat never ran: your program {run.ended() if run.exit else 'went on for 5 s'} "
        "without becoming cat or reading src",
        actual=(run.text("stdout") + run.text("stderr")) or None,
        hint='after dup2(fd, 1), call execlp("cat", "cat", src, NULL)',
        lecture=LECTURE,
        kind="never-becomes-cat",
        location=program.source.first_call(*EXECS),
    )


def test_stdout_is_dest(program: Program, sandbox: Sandbox, cat: inspection.ProcessInfo) -> None:
    """fd 1 of cat is dest; fds 0 and 2 are untouched"""
    fds = {f.fd: f for f in inspection.fds(cat.pid)}
    dest = os.path.realpath(sandbox.path("dest"))
    seen = [evidence.fds(inspection.snapshot(pids=[cat.pid]), cat.pid)]
    out = fds.get(1)
    if out is None or os.path.realpath(out.target) != dest:
        where = out.describe() if out else "closed"
        raise Failed(
            f"fd 1 (standard output) of cat (pid {cat.pid}) is {where}, not dest: cat "
            "writes to its fd 1, so dest stays empty",
            hint="dup2(fd, 1) makes descriptor 1 a copy of the one open() returned",
            lecture=LECTURE,
            evidence=seen,
            kind="stdout-not-dest",
            about=[Ref(pid=cat.pid, fd=1)],
            location=program.source.first_call("dup2", "dup"),
        )
    for n, want in ((0, "the grader's standard input"), (2, "the grader's error pipe")):
        got = fds.get(n)
        if got is None or got.kind != ("dev" if n == 0 else "pipe"):
            raise Failed(
                f"fd {n} of cat (pid {cat.pid}) is {got.describe() if got else 'closed'}; "
                f"it should still be {want}: only standard output is redirected",
                hint="redirect only descriptor 1: dup2(fd, 1)",
                lecture=LECTURE,
                evidence=seen,
                kind="stdin-redirected" if n == 0 else "stderr-redirected",
                about=[Ref(pid=cat.pid, fd=n)],
                location=program.source.first_call("dup2", "dup"),
            )


def test_no_leaked_descriptor(
    program: Program, sandbox: Sandbox, cat: inspection.ProcessInfo
) -> None:
    """the descriptor open() returned is closed before exec (no leak into cat)"""
    dest = os.path.realpath(sandbox.path("dest"))
    leaks = [f for f in inspection.fds(cat.pid) if f.fd > 2 and os.path.realpath(f.target) == dest]
    if leaks:
        leak = leaks[0]
        raise Failed(
            f"fd {leak.fd} → dest still open in cat (pid {cat.pid}): the descriptor "
            "open() returned was not closed after dup2(), so cat inherits it",
            hint="call close(fd) after dup2(fd, 1): fd 1 is enough",
            lecture=LECTURE,
            evidence=[evidence.fds(inspection.snapshot(pids=[cat.pid]), cat.pid)],
            kind="descriptor-leaked-into-cat",
            about=[Ref(pid=cat.pid, fd=leak.fd)],
            location=program.source.first_call("dup2", "dup"),
        )


def _describe(data: bytes) -> str:
    preview = data[:60].decode("utf-8", errors="backslashreplace")
    return f"{len(data)} bytes" + (f", starting {preview!r}" if data else "")


def _copy(program: Program, sandbox: Sandbox, content: bytes, name: str) -> tuple[Run, bytes]:
    src = f"src-{name}"
    sandbox.path(src).write_bytes(content)
    run = program.run(src, f"dest-{name}")
    dest = sandbox.path(f"dest-{name}")
    return run, dest.read_bytes() if dest.is_file() else b""


def test_copies_bytes(program: Program, sandbox: Sandbox) -> None:
    """dest holds exactly the bytes of src (empty, text, binary, 1 MiB)"""
    rng = random.Random(1)
    cases = {
        "empty": b"",
        "text": "Hello, Hà Nội!\nSecond line\n".encode(),
        "binary": bytes(range(256)) * 4 + b"\0\0end",
        "1MiB": rng.randbytes(1 << 20),
    }
    for name, content in cases.items():
        run, got = _copy(program, sandbox, content, name)
        if got != content:
            first = next((i for i, (a, b) in enumerate(zip(got, content, strict=False)) if a != b),
                         min(len(got), len(content)))  # fmt: skip
            raise Mismatch(
                _describe(content),
                _describe(got),
                f"copying a {name} src: dest differs from src from byte {first} on "
                f"(your program {run.ended()})",
                hint="dest must hold exactly src's bytes: cat writes them to fd 1, so fd 1 "
                "must be dest",
                lecture=LECTURE,
                kind="copy-differs",
            )
        if not run.succeeded:
            raise Failed(
                f"copying a {name} src worked, but your program "
                f"{run.ended()}; a copy that "
                "worked exits with status 0",
                actual=run.text("stderr") or None,
                kind="copy-exit-status-nonzero",
            )


def test_truncates_longer_dest(program: Program, sandbox: Sandbox) -> None:
    """an existing, longer dest is emptied first (O_TRUNC)"""
    old = b"OLD CONTENT " * 100
    new = b"new text\n"
    sandbox.path("dest-long").write_bytes(old)
    sandbox.path("src-short").write_bytes(new)
    run = program.run("src-short", "dest-long")
    got = sandbox.path("dest-long").read_bytes()
    if got != new and run.exit is not None and not run.succeeded:
        raise Failed(
            f"copying over an existing dest: your program {run.ended()}",
            actual=run.text("stderr") or None,
            lecture=LECTURE,
            kind="copy-over-existing-dest-fails",
        )
    if got != new:
        stale = len(got) - len(new) if got.startswith(new) else None
        why = (
            f"the first {len(new)} bytes are src's, then {stale} bytes of the old dest remain"
            if stale
            else "it is not src's content"
        )
        raise Mismatch(
            _describe(new),
            _describe(got),
            f"dest was {len(old)} bytes before the copy and is {len(got)} bytes after: {why}. "
            "open() without O_TRUNC writes over the start of the old file and leaves its tail",
            hint="open dest with O_CREAT | O_WRONLY | O_TRUNC",
            lecture=LECTURE,
            kind="dest-not-truncated",
            location=program.source.first_call("open", "creat"),
        )


def test_dest_mode_0644(program: Program, sandbox: Sandbox) -> None:
    """dest is created with mode 0644 (rw-r--r--)"""
    sandbox.path("src").write_bytes(b"x\n")
    for umask in (0o000, 0o022):
        name = f"dest-umask{umask:03o}"
        program.run("src", name, umask=umask)
        path = sandbox.path(name)
        if not path.exists():
            raise Failed(
                f"dest was not created (under umask {umask:03o})",
                lecture=LECTURE,
                kind="dest-not-created",
            )
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode != 0o644:
            raise Mismatch(
                "0644 (rw-r--r--)",
                f"{mode:04o} ({stat.filemode(path.stat().st_mode)[1:]})",
                f"under umask {umask:03o}, dest was created with mode {mode:04o}; the "
                "exercise asks for 0644: the owner reads and writes, the others only read",
                hint="pass S_IRUSR | S_IWUSR | S_IRGRP | S_IROTH (0644) as open()'s third argument",
                lecture=LECTURE,
                kind="wrong-dest-mode",
                location=program.source.first_call("open", "creat"),
            )


def test_usage_on_wrong_argument_count(program: Program, sandbox: Sandbox) -> None:
    """the wrong number of arguments prints `usage: copy <src> <dest>`"""
    for args in ((), ("only-src",), ("a", "b", "c")):
        run = program.run(*args)
        said = run.text("stdout") + run.text("stderr")
        created = sorted(os.listdir(sandbox.workdir))
        if not USAGE.search(said) or created:
            extra = f"; it created {', '.join(created)}" if created else ""
            raise Failed(
                f"with {len(args)} argument(s) ({' '.join(args) or 'none'}), your program "
                f"{run.ended()} without printing the "
                f"usage line{extra}",
                expected="usage: copy <src> <dest>",
                actual=said or "(nothing)",
                hint='check argc first: if (argc != 3) { printf("usage: copy <src> <dest>\\n"); '
                "return 1; }",
                lecture=LECTURE,
                kind="no-usage-message",
            )


def test_missing_src_reported(program: Program, sandbox: Sandbox) -> None:
    """a missing src is reported on stderr with a non-zero status"""
    run = program.run("no-such-file", "dest")
    why = run.reported_failure()
    left = sorted(set(os.listdir(sandbox.workdir)) - {"dest"})
    if why or left:
        raise Failed(
            f"copying a src that does not exist: {why or 'it created ' + ', '.join(left)}. "
            "A failed copy must say why on stderr and end with a non-zero status",
            actual=run.text("stderr") or None,
            hint='when a call fails, perror("...") names the cause; then exit(1)',
            lecture=LECTURE,
            kind="missing-src-not-reported",
        )


def test_unopenable_dest_reported(program: Program, sandbox: Sandbox) -> None:
    """a dest that cannot be opened is reported with perror and a non-zero status"""
    sandbox.path("src").write_bytes(b"data\n")
    run = program.run("src", "no-such-folder/dest")
    why = run.reported_failure()
    left = sorted(set(os.listdir(sandbox.workdir)) - {"src"})
    if why or left:
        raise Failed(
            f"copying into no-such-folder/dest, which cannot be opened: "
            f"{why or 'it created ' + ', '.join(left)}",
            actual=run.text("stderr") or None,
            hint='if open() returns -1, call perror("open") and exit with a non-zero status',
            lecture=LECTURE,
            kind="unopenable-dest-not-reported",
            location=program.source.first_call("open", "creat"),
        )


def _cat_paths() -> tuple[str, ...]:
    """Every path a program may exec cat by: each folder of the students' PATH, /bin and
    /usr/bin, and where cat really is."""
    folders = {*SAFE_PATH.split(":"), "/bin", "/usr/bin"}
    real = shutil.which("cat")
    paths = {f"{folder.rstrip('/')}/cat" for folder in folders if folder}
    return tuple(sorted(paths | ({os.path.realpath(real)} if real else set())))


def test_exec_failure_reported(program: Program, sandbox: Sandbox) -> None:
    """a failed exec (no cat to run) is reported with a non-zero status"""
    sandbox.path("src").write_bytes(b"data\n")
    if sandbox.traces_from_outside:  # any exec of cat fails: execlp, execvp, execl("/bin/cat")
        run = program.run("src", "dest", failing_execs=_cat_paths())
        how = "every exec of cat made to fail (ENOENT)"
        execs = [c for c in run.calls() if c.name == "execve" and c.failed]
        if not execs and run.succeeded:
            pytest.skip("your program never exec'd cat (it copies by itself), so no exec failed")
    else:
        run = program.run("src", "dest", env={"PATH": "/nonexistent"})
        how = "no cat to be found (PATH=/nonexistent)"
        dest = sandbox.path("dest")
        if run.succeeded and dest.is_file():
            pytest.skip(
                "dest was copied although no cat could be found on PATH: your program copies "
                'by itself, or runs cat by its full path (execl("/bin/cat", ...)), so no exec '
                "failed for this check to see"
            )
    why = run.reported_failure()
    if why:
        raise Failed(
            f"with {how}, your exec call fails and returns: {why}. A program that cannot "
            "exec must say so and end with a non-zero status",
            actual=run.text("stderr") or None,
            hint='exec returns only on failure: follow it with perror("execlp"); exit(1);',
            lecture=LECTURE,
            kind="exec-failure-not-reported",
            location=program.source.first_call(*EXECS),
        )
