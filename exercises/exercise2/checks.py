"""exercise2 `pipe`: ps and grep joined by one pipe, ending by themselves."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import pytest

from grader import (
    BuildResult,
    Failed,
    Grade,
    Location,
    Mismatch,
    Program,
    Ref,
    Run,
    Sandbox,
    evidence,
    inspection,
)

LECTURE = "Pipe"
# ps -ef then prints ~480 KB: more than the pipes and grep's buffer hold, in lines that ps
# prints whole (it cuts a line at 128 KiB, as the kernel does one argument); a decoy is a
# process to start, so a few long ones rather than many short ones
FLOOD_DECOYS = 4
FLOOD_ARG = 120_000
EXECS = ("execlp", "execl", "execvp", "execv", "execve", "execle", "execvpe")
SHELLS = frozenset({"sh", "bash", "dash", "zsh", "ksh", "busybox"})
WAITS = ("wait4", "waitid")
ORPHAN_S = 1.0  # a child still running this long after the program ended is an orphan
_WAITID_PID = re.compile(r"si_pid=(\d+)")


def _pipe_call(program: Program) -> Location | None:
    """Where the student's pipe.c makes its pipe: where a pipe mistake points."""
    return program.source.first_call("pipe", "pipe2")


def _decoy(sandbox: Sandbox, argv0: str = "firefox") -> Run:
    """A process named firefox (a copy of sleep under that name) for grep to find."""
    link = sandbox.path("firefox")
    if not link.exists():
        link.symlink_to(shutil.which("sleep") or "/bin/sleep")
    return sandbox.start([argv0, "600"], executable=str(link), name="firefox", bystander=True)


def _ps_lines(sandbox: Sandbox) -> list[str]:
    run = sandbox.start(["ps", "-ef"])
    run.finish(10)
    return run.text().splitlines()


def _key(line: str) -> tuple[str, ...]:
    """A ps -ef line without the columns that change with time (C, STIME, TIME)."""
    f = line.split(None, 7)
    return (f[0], f[1], f[2], f[5], f[7]) if len(f) == 8 else (line,)


def _is_grep_itself(line: str) -> bool:
    f = line.split(None, 7)
    return len(f) == 8 and f[7].split()[:1] == ["grep"]


@dataclass(frozen=True)
class End:
    """How the flooded program went on once its output was read."""

    ended: bool  # it ended by itself within 5 s
    stuck: inspection.Snapshot | None  # its processes when it did not: who holds what
    hang: inspection.blocking.Hang | None  # the hang its wait gave up on
    outlived: tuple[inspection.ProcessInfo, ...]  # ps and grep, running ORPHAN_S after it


class Flood:
    """The program run while ps has more to write than the pipes hold, as it was once it
    settled (ps and grep alive, its output held). One run serves every check that judges
    it, whatever their order: each reads what was seen then, and its end is waited for
    once, by whichever check asks first."""

    def __init__(
        self,
        run: Run,
        snap: inspection.Snapshot | None,
        ours: frozenset[int],
        log: tuple[str, ...],
        traced: bool,
        close: Callable[[], None],
    ) -> None:
        self.run = run
        self.snap = snap  # None: ps and grep were never both running
        self.ours = ours  # inodes of the grader's own pipes (the program's stdout, stderr)
        self.log = log  # its sandbox's lines: "started ./pipe as pid 7", ...
        self.traced = traced  # its waits traced, where strace sees the program's own pid
        self.hang = run.hang  # as it was when it settled, whatever a check waits for later
        self.close = close  # kill it and its decoys: once its last check is done
        self._end: End | None = None
        self._ended_first: str | None = None

    def one(self, name: str) -> inspection.ProcessInfo | None:
        found = self.snap.named(name) if self.snap is not None else ()
        return found[0] if found else None

    @property
    def ended(self) -> str | None:
        """How it had ended while its output was still held, ps and grep outliving it;
        None if it had not."""
        if self._end is not None:
            return self._ended_first
        return None if self.run.alive else self.run.ended()

    def end(self) -> End:
        """Read all of its output and wait for its end (at most 5 s, less on a hang)."""
        if self._end is None:
            self._ended_first = self.ended
            self._end = self._wait_end()
        return self._end

    def _wait_end(self) -> End:
        run = self.run
        if not _finish(run):
            procs = inspection.in_session(run.pid)
            return End(False, inspection.snapshot(pids=[p.pid for p in procs]), run.hang, ())
        children = [p for p in (self.one("ps"), self.one("grep")) if p is not None]
        # a child may still be closing down when the program's end is seen: ps closes the
        # pipe (grep sees end-of-file) before it has finished exiting
        run.wait_for(
            predicate=lambda: not any(map(inspection.still_running, children)),
            within_s=ORPHAN_S,
        )
        return End(True, None, None, tuple(filter(inspection.still_running, children)))


def _flood(
    program: Program, sandbox: Sandbox, close: Callable[[], None], trace: tuple[str, ...] = ()
) -> Iterator[Flood]:
    """Start the program under a flood; afterwards read all of its output (held so far)."""
    for _ in range(FLOOD_DECOYS):
        _decoy(sandbox, "firefox --profile=" + "x" * FLOOD_ARG)
    run = program.start(hold_output=True, trace=trace)
    ours = frozenset(
        f.inode for f in inspection.fds(os.getpid()) if f.kind == "pipe" and f.inode is not None
    )
    calm: list[inspection.Snapshot] = []

    def settled() -> bool:
        # /proc/PID/stat alone, every few ms: inspection.in_session would read each
        # process's command line too, the decoys' 120 KB ones included
        procs = inspection.blocking.session(run.pid)
        names = {p.name for p in procs if p.state != "Z"}
        quiet = all(p.state in ("S", "Z", "T") for p in procs)  # asleep, ended or stopped
        if not ({"ps", "grep"} <= names and quiet):
            calm.clear()
            # ended, and nothing of it left that may still become ps or grep (a child
            # between its fork and its exec)
            return not run.alive and not names
        snap = inspection.snapshot(pids=[p.pid for p in procs])
        calm.append(snap)
        # twice in a row, a few ms apart: the processes are blocked, not between two calls
        return len(calm) >= 2 and calm[-1].pipes.keys() == calm[-2].pipes.keys()

    # stuck: a program that hangs before ps and grep both run (a wait for ps before grep
    # is forked) is named at once, not after the deadline
    run.wait_for(predicate=settled, within_s=8, stuck=True)
    yield Flood(run, calm[-1] if calm else None, ours, tuple(sandbox.log), bool(trace), close)
    run.release_output()


@pytest.fixture(scope="module")
def flooded(grade: Grade, build: BuildResult) -> Iterator[Flood | None]:
    """The program run once under a flood, for every check that judges it, with its waits
    traced where strace sees the program's own pid: in a sandbox of its own, set up before
    any of those checks' (a check's clean-up spares what ran before it began), and killed
    after the last of them, before any other check can meet its decoys."""
    if not build.ok:
        yield None  # each check's `program` skips, saying why
        return
    box = Sandbox(grade.scratch / "checks" / "flood", grade.exercise.limits, grade.caps)
    closed = []

    def close() -> None:
        if not closed:
            closed.append(True)
            box.cleanup()

    try:
        ((c_file, name),) = grade.exercise.programs.items()
        program = Program(name, grade.source / name, box, source_file=c_file)
        yield from _flood(program, box, close, WAITS if box.traces_from_outside else ())
    finally:
        close()


@pytest.fixture
def flood(
    request: pytest.FixtureRequest, program: Program, sandbox: Sandbox, flooded: Flood | None
) -> Iterator[Flood]:
    """The program run while ps has more to write than the pipes hold."""
    assert flooded is not None, "without a build, `program` skips first"
    for line in flooded.log:  # the check's log shows the run it judges
        sandbox.note(line)
    yield flooded
    judges = [i for i in request.session.items if "flood" in getattr(i, "fixturenames", ())]
    if judges and request.node is judges[-1]:
        flooded.close()


def _finish(run: Run, within_s: float = 5) -> bool:
    """Read all of the program's output; did it end by itself within `within_s`?"""
    run.release_output()
    return bool(run.wait_for(exit=True, within_s=within_s, stuck=True))


def _both(
    flood: Flood,
) -> tuple[inspection.Snapshot, inspection.ProcessInfo, inspection.ProcessInfo]:
    """The flood's snapshot, and ps and grep in it; without them both, the check is skipped."""
    ps, grep = flood.one("ps"), flood.one("grep")
    if flood.snap is None or ps is None or grep is None:
        pytest.skip(
            "needs ps and grep running at the same time (see the check of ps's fd 1 and "
            "grep's fd 0)"
        )
    return flood.snap, ps, grep


def test_output_matches_shell(program: Program, sandbox: Sandbox) -> None:
    """prints what `ps -ef | grep firefox` prints, and exits with grep's status"""
    _decoy(sandbox)
    expected = [ln for ln in _ps_lines(sandbox) if "firefox" in ln and not _is_grep_itself(ln)]
    run = program.start()
    waited = run.wait_for(exit=True, within_s=5, stuck=True)
    if waited:
        run.wait_for(eof=True, within_s=2)  # children may still be writing after the parent
    else:
        _did_not_end(run, waited.hang, program)
    run.finish(2)
    got = run.text().splitlines()
    mine = [ln for ln in got if not _is_grep_itself(ln)]
    if sorted(map(_key, mine)) != sorted(map(_key, expected)):
        raise Mismatch(
            "\n".join(expected),
            run.text() or "(nothing)",
            "your program's output is not what `ps -ef | grep firefox` prints here: grep "
            "must read ps's output from the pipe and print only the lines naming firefox",
            hint="ps writes into the pipe (dup2(p[1], 1)); grep reads from it "
            "(dup2(p[0], 0)); each execs with its arguments: ps -ef, grep firefox",
            lecture=LECTURE,
            kind="output-differs",
        )
    if not run.succeeded:
        raise Failed(
            f"the output is right, but your program {run.ended()}; "
            "grep found firefox, so the pipeline's status (grep's) is 0",
            actual=run.text("stderr") or None,
            hint="end with grep's status: exec grep in the parent, or waitpid() for the grep "
            "child and exit with WEXITSTATUS(status)",
            lecture=LECTURE,
            kind="wrong-exit-status",
        )


def _did_not_end(run: Run, hang: inspection.blocking.Hang | None, program: Program) -> None:
    """Fail a check whose program has not ended: who blocks on what, when it is stuck."""
    procs = hang.blocked if hang else inspection.in_session(run.pid)
    snap = inspection.snapshot(pids=[p.pid for p in procs])
    why = _why_grep_waits(snap, run.pid)
    about: list[Ref] = []
    where = None
    if why is not None:
        message, fix, kind, about = why
        where = _pipe_call(program)
    elif hang is not None:
        message = f"every one of its processes is asleep, waiting on another: {hang.text}"
        fix = "every process must end: close the pipe ends it does not use, and wait only "
        fix += "for children that end"
        kind = "processes-wait-on-each-other"
        about = [Ref(pid=b.pid) for b in hang.blocked]
    else:
        message = "it was still running after 5 s"
        fix = "every process must end: the parent waits for its children, then exits"
        kind = "does-not-end"
    raise Failed(
        f"your program (pid {run.pid}) did not end: {message}",
        actual=run.text() or None,
        hint=fix,
        lecture=LECTURE,
        evidence=[evidence.processes(snap)],
        kind=kind,
        about=about,
        location=where,
    )


def _why_grep_waits(
    snap: inspection.Snapshot, parent: int
) -> tuple[str, str, str, list[Ref]] | None:
    """Why grep never sees end-of-file (a write end of its pipe still open), the fix, the
    mistake's kind and what the message is about."""
    pipe = snap.pipe_into("grep")
    grep = snap.named("grep")
    if pipe is None or not pipe.writers or not grep:
        return None
    w = pipe.writers[0]
    if w.pid == grep[0].pid:
        who, kind = "grep itself", "grep-keeps-write-end"
        fix = "close p[1] in the process that becomes grep, before execlp"
    elif w.pid == parent:
        who, kind = f"the parent ({w.name}, pid {w.pid})", "parent-keeps-write-end"
        fix = "close both ends of the pipe in the parent right after fork()"
    else:
        who = f"{w.name} (pid {w.pid})"
        kind = "ps-keeps-write-end" if w.name == "ps" else "child-keeps-write-end"
        fix = "close both ends of the pipe in every process that does not use them"
    return (
        f"grep (pid {grep[0].pid}) never sees end-of-file: {who} still holds the write end "
        f"of pipe {pipe.inode} as fd {w.fd}. ps has finished, but a pipe reports end-of-file "
        "only when every write end is closed, so grep waits forever",
        fix,
        kind,
        [Ref(pid=w.pid, fd=w.fd, inode=pipe.inode), Ref(pid=grep[0].pid, fd=0, inode=pipe.inode)],
    )


def test_ps_writes_into_grep(program: Program, flood: Flood) -> None:
    """ps's fd 1 is the pipe's write end and grep's fd 0 its read end"""
    if flood.snap is None:
        if flood.hang is not None:
            what = f"did not end: {flood.hang.text}"
            kind = "hangs-before-grep-runs"
        elif flood.ended is not None:
            what = flood.ended
            kind = "ends-before-grep-runs"
        else:
            what = "did not have them both running within 8 s"
            kind = "ps-and-grep-never-together"
        raise Failed(
            f"ps and grep were never running at the same time: your program {what}",
            actual=flood.run.text("stderr") or None,
            hint="fork: one process execs ps -ef with fd 1 on the pipe's write end, the "
            "other grep firefox with fd 0 on its read end",
            lecture=LECTURE,
            kind=kind,
        )
    snap, ps, grep = _both(flood)
    out, into = snap.fd(ps.pid, 1), snap.fd(grep.pid, 0)
    seen = [evidence.processes(snap)]
    shell = next((p for p in snap.processes if p.name in SHELLS), None)
    if shell is not None:
        raise Failed(
            f"a shell, {shell.label}, runs ps and grep: it made their pipe, not your "
            "program (system() or an exec of sh -c)",
            hint="make the pipe yourself: pipe(), then fork() and, in each process, dup2() "
            "and execlp() of ps -ef and of grep firefox",
            lecture=LECTURE,
            evidence=seen,
            kind="shell-makes-the-pipe",
            about=[Ref(pid=shell.pid)],
            location=program.source.first_call("system", "popen", *EXECS),
        )
    if out is None or out.kind != "pipe" or out.end != "write" or out.inode in flood.ours:
        shown = out.describe() if out else "closed"
        raise Failed(
            f"fd 1 of ps (pid {ps.pid}) is {shown}, not the write end of your pipe: ps "
            "writes its list on fd 1, so it never reaches grep",
            hint="in the process that runs ps: dup2(p[1], 1) before execlp",
            lecture=LECTURE,
            evidence=seen,
            kind="ps-stdout-not-pipe",
            about=[Ref(pid=ps.pid, fd=1, inode=out.inode if out else None)],
            location=program.source.first_call("dup2", "dup"),
        )
    if into is None or into.inode != out.inode or into.end != "read":
        shown = into.describe() if into else "closed"
        raise Failed(
            f"fd 0 of grep (pid {grep.pid}) is {shown}, not the read end of pipe "
            f"{out.inode} that ps writes into",
            hint="in the process that runs grep: dup2(p[0], 0) before execlp",
            lecture=LECTURE,
            evidence=seen,
            kind="grep-stdin-not-pipe",
            about=[
                Ref(pid=grep.pid, fd=0, inode=into.inode if into else None),
                Ref(inode=out.inode),
            ],
            location=program.source.first_call("dup2", "dup"),
        )


def test_no_stray_pipe_ends(program: Program, flood: Flood) -> None:
    """no process holds a pipe end it does not use"""
    snap, ps, grep = _both(flood)
    used = {(ps.pid, 1), (grep.pid, 0)}
    for inode, pipe in sorted(snap.pipes.items()):
        if inode in flood.ours:
            continue
        for holder in (*pipe.writers, *pipe.readers):
            if (holder.pid, holder.fd) in used:
                continue
            who = "grep itself" if holder.pid == grep.pid else holder.label
            role = (
                "grep" if holder.pid == grep.pid
                else "ps" if holder.pid == ps.pid
                else "parent" if holder.pid == flood.run.pid
                else "child"
            )  # fmt: skip
            why = (
                "grep never sees end-of-file while a write end is open anywhere"
                if holder.end == "write"
                else "nobody reads from it there; only grep reads the pipe"
            )
            raise Failed(
                f"{holder.name} (pid {holder.pid}) holds the {holder.end} end of pipe "
                f"{inode} as fd {holder.fd}, which it never uses: {why}",
                hint="after fork() and dup2(), every process closes both p[0] and p[1]: "
                f"here {who} forgot p[{0 if holder.end == 'read' else 1}]",
                lecture=LECTURE,
                evidence=[evidence.processes(snap)],
                kind=f"{role}-keeps-{holder.end}-end",
                about=[Ref(pid=holder.pid, fd=holder.fd, inode=inode)],
                location=_pipe_call(program),
            )


def test_grep_sees_end_of_file(program: Program, flood: Flood) -> None:
    """grep sees end-of-file and the program ends by itself"""
    if flood.snap is None and flood.hang is not None:
        raise Failed(
            f"your program (pid {flood.run.pid}) did not end: {flood.hang.text}",
            hint="start ps and grep first, then wait for them: a wait for ps before grep runs "
            "never ends once ps fills the pipe",
            lecture=LECTURE,
            kind="hangs-before-grep-runs",
            about=[Ref(pid=b.pid) for b in flood.hang.blocked],
        )
    _both(flood)  # the subject: without ps and grep there is no end-of-file to judge
    end = flood.end()
    if end.ended:
        return
    snap = end.stuck
    assert snap is not None
    why = _why_grep_waits(snap, flood.run.pid)
    if why is None:
        hang = end.hang
        stuck = f": {hang.text}" if hang else " within 5 s after ps was done"
        raise Failed(
            f"your program (pid {flood.run.pid}) did not end{stuck}",
            hint="every process must end: the parent waits for its children, then exits",
            lecture=LECTURE,
            evidence=[evidence.processes(snap)],
            kind="processes-wait-on-each-other" if hang else "does-not-end",
            about=[Ref(pid=b.pid) for b in hang.blocked] if hang else [],
        )
    message, fix, kind, about = why
    raise Failed(message, hint=fix, lecture=LECTURE, evidence=[evidence.processes(snap)],
                 kind=kind, about=about, location=_pipe_call(program))  # fmt: skip


def test_parent_waits_for_children(flood: Flood) -> None:
    """the program ends after ps and grep, leaving no orphan"""
    snap, ps, grep = _both(flood)
    run = flood.run
    parent = snap.process(run.pid)
    if parent is not None and parent.name == "ps":
        raise Failed(
            f"your program (pid {parent.pid}) became ps itself: it ends when ps does, "
            f"before grep (pid {grep.pid}), which is left an orphan, and its exit status "
            "is ps's, not grep's",
            hint="exec grep in the parent (as in the lecture) and ps in the child, or fork "
            "both and waitpid() for each",
            lecture=LECTURE,
            evidence=[evidence.processes(snap)],
            kind="parent-becomes-ps",
            about=[Ref(pid=parent.pid), Ref(pid=grep.pid)],
        )
    if flood.ended is not None:
        _orphaned(run, snap, (ps, grep), flood.ended)
    end = flood.end()
    if not end.ended:
        pytest.skip("your program did not end (see the end-of-file check)")
    if end.outlived:
        _orphaned(run, snap, end.outlived, "ended")
    if parent is None or parent.name == "grep" or not flood.traced:
        return  # it became grep: the pipeline's end is its own
    mine = [p for p in (ps, grep) if p.ppid == parent.pid]
    reaped = set()
    for call in run.calls():
        if call.pid != parent.pid or call.name not in WAITS or call.failed:
            continue
        found = _WAITID_PID.search(call.args) if call.name == "waitid" else None
        result = call.result.split()[0]  # "?" for a call the process's end cut short
        if found or result.isdigit():
            reaped.add(int(found[1]) if found else int(result))
    unwaited = [p for p in mine if p.pid not in reaped]
    if unwaited:
        names = " and ".join(p.label for p in unwaited)
        raise Failed(
            f"your program (pid {parent.pid}) ended without waiting for {names}: "
            "no wait() or waitpid() of it returned, so the shell that started your "
            "program may go on before the pipeline's output is all there, and its "
            "status is not grep's",
            hint="waitpid() for each child, and exit with grep's WEXITSTATUS(status)",
            lecture=LECTURE,
            evidence=[*evidence.calls_of(run, names=WAITS), evidence.processes(snap)],
            kind="parent-does-not-wait",
            about=[Ref(pid=p.pid) for p in unwaited],
        )


def _orphaned(
    run: Run, snap: inspection.Snapshot, left: Sequence[inspection.ProcessInfo], ended: str
) -> None:
    names = " and ".join(p.label for p in left)
    raise Failed(
        f"your program (pid {run.pid}) {ended} while {names} still ran: they became "
        "orphans, and the shell that started your program thinks it is done before its "
        "output is",
        hint="the parent waits for its children: waitpid() for each (or exec grep in the "
        "parent itself, as in the lecture)",
        lecture=LECTURE,
        evidence=[evidence.processes(snap)],
        kind="children-orphaned",
        about=[Ref(pid=p.pid) for p in left],
    )
