"""exercise7 `prodcons`: a ring buffer in shared memory, semaphores, no spinning, no race."""

from __future__ import annotations

import contextlib
import functools
import os
import signal
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import pytest

import grader
from grader import BuildResult, Failed, Mismatch, Program, Run, Sandbox, evidence, inspection

LECTURE = "Use-case: producer-consumer"
RUNS = 5  # per build, for the race check: every racy variant of tests/ goes wrong on run 1
RACE_N = 20_000
RUN_DEADLINE_S = 5.0
WINDOW_S = 0.2  # how long each waiting process is watched
BUSY_S = 0.06  # seconds running or ready to run, in that window, that mean it spins (30 %)
BUFFER_SIZE = 10
QUIET_S = 0.1  # asleep, with no output and nothing moving, this long: it waits
SPIN_CPU_S = 0.2  # CPU used with no output: it waits by spinning
LOOK_S = 0.02  # how often a run of the race check is looked at for spinning
COMPARED_BYTES = 1 << 20  # a shared mapping compared whole, to see a spinner's memory move
ALONE_S = 5.0  # at most this long for the one left running to wait
FILL_S = 2.0  # at most this long for the held output to fill up (a writer then waits on it)


_UNWRITTEN = "consumed \0 0"  # an item of zeros: printed from memory nobody wrote
_OWN = "a global variable, or a ring mapped after fork(), is each process's own"


def _expected(n: int) -> list[str]:
    return [f"consumed {chr(ord('a') + i % 26)} {i}" for i in range(n)]


@dataclass(frozen=True)
class Verdict:
    ok: bool
    what: str  # "" or "item 1234 lost", "item 7 repeated", "hung", ...


def _judge(run: Run, n: int) -> Verdict:
    if run.timed_out or run.exit is None:
        return Verdict(False, "hung")
    lines = [ln.strip() for ln in run.text().splitlines() if ln.strip()]
    want = _expected(n)
    if lines == want:
        return Verdict(run.succeeded, "" if run.succeeded else run.ended())
    for i, (got, exp) in enumerate(zip(lines, want, strict=False)):
        if got != exp:
            if got in want[:i]:
                return Verdict(False, f"item {i} came twice: {got!r} again")
            if exp not in lines:
                return Verdict(False, f"item {i} ({exp!r}) was lost: next came {got!r}")
            return Verdict(False, f"item {i}: expected {exp!r}, got {got!r}")
    if len(lines) < n:
        return Verdict(False, f"only {len(lines)} of {n} items were consumed")
    return Verdict(False, f"{len(lines) - n} items too many")


def _participants(run: Run) -> list[inspection.ProcessInfo]:
    return [p for p in inspection.in_session(run.pid) if not p.is_zombie]


@pytest.fixture
def prodcons(programs: dict[str, Program]) -> Iterator[Run]:
    """`prodcons RACE_N` started with its output held: neither child can be done before the
    check reads it (`release_output`), as it does at the latest when it ends, continuing
    (SIGCONT) what it held up."""
    run = programs["prodcons"].start(str(RACE_N), hold_output=True)
    yield run
    _signal(_participants(run), signal.SIGCONT)
    run.release_output()


def test_consumes_every_item_in_order(programs: dict[str, Program]) -> None:
    """prodcons N prints `consumed <product> <price>` for the N items, in order, then exits 0"""
    n = 60  # past 'z': products wrap around
    run = programs["prodcons"].start(str(n))
    hung, _ = _ends(run)
    run.finish(2)
    verdict = Verdict(False, hung) if hung else _judge(run, n)
    if verdict.ok:
        return
    got = [ln.strip() for ln in run.text().splitlines()]
    wrap = next((ln for ln in got[26:27] if not ln.startswith("consumed a ")), None)
    why = ""
    if wrap is not None and got[:26] == _expected(n)[:26]:
        why = (f"; item 26 should be product 'a' again, got {wrap!r}: products go "
               "'a' + i % 26, so they wrap after 'z'")  # fmt: skip
    elif got and all(ln in (_UNWRITTEN, "consumed 0") for ln in got[: BUFFER_SIZE + 1]):
        why = (
            "; the consumer printed items nobody made (product '\\0', price 0: memory never "
            "written): the ring it reads from is not the one the producer fills: the buffer "
            f"is not shared ({_OWN})"
        )
    raise Mismatch(
        "\n".join(_expected(n)[:30]) + "\n…",
        run.text() or "(nothing)",
        f"prodcons {n}: {verdict.what or 'the output differs'}{why}",
        hint="the producer makes item i = {'a' + i % 26, i}; the consumer prints "
        "consumed %c %d for each, in order",
        lecture=LECTURE,
        kind="output-differs",
    )


def _children(run: Run) -> list[inspection.ProcessInfo]:
    """The processes the program forked that still run (orphans included)."""
    return [p for p in _participants(run) if p.pid != run.pid]


def _forked(run: Run) -> list[inspection.ProcessInfo]:
    """Wait (at most 3 s) until the program has forked its producer and consumer, or has
    ended; the children seen then. With one child (the parent producing or consuming
    itself) this waits the 3 s."""
    run.wait_for(predicate=lambda: len(_children(run)) >= 2, exit=True, within_s=3)
    return _children(run)


def _alone(run: Run) -> str:
    """Why no child was seen, for a message."""
    if run.alive:
        return f"prodcons (pid {run.pid}) ran alone for 3 s: it forked no producer or consumer"
    return f"prodcons {run.ended()} and no producer or consumer it forked was seen running"


def test_parent_waits_for_both(prodcons: Run) -> None:
    """the program ends after the producer and the consumer, leaving no orphan"""
    run = prodcons
    children = _forked(run)  # its output is held: the children cannot be done
    if run.alive and children:
        run.release_output()
        hung, _ = _ends(run)
        if hung:
            pytest.skip(f"needs a prodcons that ends: prodcons {RACE_N} {hung}")
        left = _participants(run)  # as soon as it has ended
        if not left:
            return
    elif not run.alive:
        left = _participants(run)
        if not left and children:
            pytest.skip(
                f"needs a producer and a consumer that run: prodcons {run.ended()}, and "
                "its children had ended too, with its output not yet read"
            )
        if not left:
            pytest.skip(f"needs a producer and a consumer to wait for: {_alone(run)}")
    else:
        pytest.skip(f"needs a producer and a consumer to wait for: {_alone(run)}")
    raise Failed(
        f"your program (pid {run.pid}) {run.ended()} while "
        f"{', '.join(p.label for p in left)} still ran: they became orphans, and whoever "
        "started prodcons thinks it is done before its output is",
        hint="the parent waits for both children: waitpid() for each",
        lecture=LECTURE,
        evidence=[evidence.process_list(left, "processes left running")],
        kind="children-orphaned",
    )


def test_buffer_is_shared(prodcons: Run) -> None:
    """producer and consumer share the ring buffer (a shared mapping, seen in their maps)"""
    run = prodcons
    if not _forked(run):
        raise Failed(
            f"{_alone(run)}: the exercise has a producer and a consumer process share "
            "the ring buffer",
            hint="fork() a producer and a consumer after putting the buffer in shared "
            "memory (mmap with MAP_SHARED | MAP_ANONYMOUS)",
            lecture=LECTURE,
            kind="no-producer-and-consumer",
        )
    run.idle(0.2)  # let both children reach their loops
    procs = _children(run)
    unshared, looked = [], 0
    for p in procs:
        try:
            if not inspection.memory.shared_writable(p.pid):
                unshared.append(p)
            looked += 1
        except inspection.ProcessGone:
            continue
    if not looked:
        pytest.skip("needs a producer and a consumer that keep running: the children of "
                    "prodcons ended before their memory maps could be read")  # fmt: skip
    if unshared:
        raise Failed(
            f"{', '.join(p.label for p in unshared)} has no shared writable memory: the "
            "buffer is not shared. After fork(), each process has its own copy of every "
            "global variable, so the producer fills its copy and the consumer waits on "
            "its own, forever empty",
            hint="put the buffer, in, out and the semaphores in memory shared before "
            "fork(): mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, "
            "-1, 0)",
            lecture=LECTURE,
            evidence=[evidence.process_list(procs, "processes of prodcons")],
            kind="buffer-not-shared",
        )
    _same_memory(run, procs)


def _same_memory(run: Run, children: list[inspection.ProcessInfo]) -> None:
    """Fail unless the producer and the consumer map the same shared memory, and neither
    has shared memory of its own (mapped after fork, so the other's is another)."""
    group = children if len(children) >= 2 else [*_participants(run)]
    held: dict[int, dict[tuple[str, int], inspection.memory.Mapping]] = {}
    for p in group:
        try:
            held[p.pid] = {m.identity: m for m in inspection.memory.shared_writable(p.pid)}
        except inspection.ProcessGone:
            continue
    if len(held) < 2:
        return  # one left to look at: nothing to compare
    names = {p.pid: p.label for p in group}
    common = set.intersection(*(set(h) for h in held.values()))
    own = {pid: [m for key, m in h.items() if key not in common] for pid, h in held.items()}
    if common and not any(own.values()):
        return
    mine = [(pid, ms[0]) for pid, ms in own.items() if ms]
    why = (
        "A mapping made after fork() belongs to the process that made it (the other's is "
        "other memory, at the same address maybe), so the producer fills its ring and the "
        "consumer reads its own, which nobody fills"
    )
    # no common mapping leaves each with mappings of its own: `mine` is never empty here
    each = "; ".join(f"{names[pid]} has {m.describe()}, inode {m.inode}" for pid, m in mine)
    first = next(iter(held.values()))
    before = "".join(f": only what is mapped before fork() is shared, as {first[k].describe()} "
                     "is here" for k in sorted(common)[:1])  # fmt: skip
    what = (f"the ring buffer is mapped after fork(), so each child has its own: {each}, "
            f"which the other does not map. {why}{before}")  # fmt: skip
    raise Failed(
        what,
        hint="mmap the ring (buffer, in, out) with MAP_SHARED | MAP_ANONYMOUS in the parent, "
        "before the first fork(), with the semaphores",
        lecture=LECTURE,
        evidence=[evidence.maps({pid: h.values() for pid, h in held.items()}, names)],
        kind="ring-mapped-after-fork",
    )


class _Waits:
    """A predicate: `pid` has ended, or it waits: asleep (not writing its output) with
    nothing moving for QUIET_S, or spinning, SPIN_CPU_S of CPU with no new output."""

    def __init__(self, run: Run, pid: int) -> None:
        self.run, self.pid = run, pid
        self.ended = False
        self.spins = False
        self._key: object = None
        self._since = time.monotonic()
        self._out = -1
        self._cpu = 0

    def __call__(self) -> bool:
        try:
            w = inspection.blocking.wait_of(self.pid)
        except inspection.ProcessGone:
            w = None
        if w is None or w.state in ("Z", "X"):
            self.ended = True
            return True
        now, out, cpu = time.monotonic(), len(self.run.stdout), w.moved[2] + w.moved[3]
        if out != self._out:  # it printed: it does not wait, whatever it does
            self._out, self._cpu, self._key, self._since = out, cpu, None, now
            return False
        if cpu - self._cpu >= SPIN_CPU_S * _TICKS:
            self.spins = True
            return True
        key = w.fingerprint if w.state == "S" and w.call not in ("write", "writev") else None
        if key is None or key != self._key:
            self._key, self._since = key, now
            return False
        return now - self._since >= QUIET_S


_TICKS = os.sysconf("SC_CLK_TCK")


def test_items_pass_through_the_ring(
    prodcons: Run, programs: dict[str, Program], sandbox: Sandbox
) -> None:
    """items go through the ring: with the producer or the consumer stopped, the other waits"""
    disturbed = _hold_each_up(prodcons)
    if disturbed:  # this check ended it, not the program itself: once more, afresh
        sandbox.note(f"{disturbed}; prodcons {RACE_N} was run once more")
        prodcons.kill_group()
        disturbed = _hold_each_up(programs["prodcons"].start(str(RACE_N), hold_output=True))
    if disturbed:
        pytest.skip(f"could not judge, twice: {disturbed}")


def _hold_each_up(run: Run) -> str:
    """Hold up (SIGSTOP) all but one of the producer and the consumer, each in turn, and
    fail if the one left goes on alone. Why this check ended the program, if it did (see
    `_disturbed`), else ""."""
    children = _forked(run)
    if not children:
        pytest.skip(f"needs a producer and a consumer to hold up: {_alone(run)}")
    group = children if len(children) >= 2 else _participants(run)
    _fill_output(run, group)
    for watched in group:
        _signal(others := [p for p in group if p.pid != watched.pid], signal.SIGSTOP)
        before = _wait(watched.pid)  # stopped a turn ago, maybe in a semop()
        _signal([watched], signal.SIGCONT)  # the one left can only wait
        run.release_output()
        lines = _lines(run)
        waits = _Waits(run, watched.pid)
        run.wait_for(predicate=waits, within_s=ALONE_S)
        more = _lines(run) - lines
        if not waits.ended and _lines(run) < RACE_N:
            continue  # it waits for the one held up (or, past ALONE_S, has not gone on)
        did = f"printed all {RACE_N} items" if _lines(run) >= RACE_N else "ended"
        if did == "ended" and (why := _disturbed(run, before)):
            return why
        held = ", ".join(p.label for p in others)
        role, how = (("the consumer", "take its items from the producer") if more
                     else ("the producer", "give its items to the consumer"))  # fmt: skip
        raise Failed(
            f"with {held} stopped (SIGSTOP), {role}, {watched.label}, went on alone and "
            f"{did} ({more} more lines of output): it did not {how} through the ring. "
            "Items that go through the ring buffer cannot "
            f"get more than BUFFER_SIZE ({BUFFER_SIZE}) ahead of a stopped producer or "
            "consumer: the consumer waits on an empty ring, the producer on a full one",
            hint="the producer puts each item it makes in the shared ring and the consumer "
            "prints the items it takes from there, never items it makes up itself",
            lecture=LECTURE,
            evidence=[evidence.process_list(_participants(run), "processes of prodcons")],
            kind="consumer-does-not-wait" if more else "producer-does-not-wait",
        )
    if len(group) < 2:
        pytest.skip(f"needs a producer and a consumer to hold up: {_alone(run)}")
    return ""


def _wait(pid: int) -> inspection.blocking.Wait | None:
    with contextlib.suppress(inspection.ProcessGone):
        return inspection.blocking.wait_of(pid)
    return None


def _fill_output(run: Run, group: list[inspection.ProcessInfo]) -> None:
    """Let the program run (at most FILL_S) until one of `group` waits on its held output,
    asleep in write(): stopped there, it goes on once continued, whereas one stopped in a
    semop() would take it for an error (see `_disturbed`)."""

    def writing() -> bool:
        waits = [_wait(p.pid) for p in group]
        return any(w and w.state == "S" and w.call in ("write", "writev") for w in waits)

    run.wait_for(predicate=writing, exit=True, within_s=FILL_S)


def _disturbed(run: Run, before: inspection.blocking.Wait | None) -> str:
    """Why the end of a process this check had stopped (SIGSTOP, `before`) and continued
    was the check's doing, or "": a semop() that a stop signal interrupts fails with EINTR
    once continued, even without a signal handler (signal(7)), and a program that rightly
    takes a failed semop() for an error ends."""
    if before is None or before.state != "T":
        return ""  # it was not stopped: it ended by itself
    said = run.wait_for(output="Interrupted system call", stream="stderr", within_s=0.5)
    if before.call not in ("semop", "semtimedop") and not said:
        return ""
    return (
        f"{before.name} (pid {before.pid}) ended once continued (SIGCONT), this check having "
        f"stopped it (SIGSTOP) in {before.call or 'its loop'}()"
        + (' (it said "Interrupted system call")' if said else "")
        + ": a semop() interrupted by a stop signal fails with EINTR (signal(7)): the "
        "check ended it, not a mistake of the program"
    )


def _lines(run: Run) -> int:
    return run.stdout.count(b"\n")


def test_waiting_uses_no_cpu(prodcons: Run) -> None:
    """a producer on a full buffer, and a consumer on an empty one, sleep: no busy waiting"""
    run = prodcons
    if not _forked(run):
        pytest.skip(f"needs a producer and a consumer to watch: {_alone(run)}")
    procs = _participants(run)
    _fill_output(run, procs)  # so that the consumer is stopped in write(), not in a semop()
    watched = 0
    for waiter in procs:
        others = [p for p in procs if p.pid != waiter.pid]
        _signal(others, signal.SIGSTOP)  # hold everyone else up: the one left can only wait
        # at most 0.2 s to reach its wait: asleep (a spinning one never is)
        run.wait_for(predicate=functools.partial(_asleep, waiter.pid), exit=True, within_s=0.2)
        busy = run.busy(WINDOW_S, pid=waiter.pid, past_s=BUSY_S)
        _signal(others, signal.SIGCONT)
        if busy is None:
            continue  # gone: nothing was measured
        watched += 1
        runnable, watched_s = busy
        if runnable > BUSY_S:
            raise Failed(
                f"{waiter.label} wanted a CPU for {runnable:.2f} s of {watched_s:.2f} s while "
                "it could "
                "only wait (the other processes were held up and stdout was full): it burns "
                "a CPU while it waits, spinning in a loop like the lecture's "
                "while (nb == BUFFER_SIZE); instead of sleeping",
                hint="wait on semaphores: sem_wait(&empty) before producing, "
                "sem_wait(&full) before consuming (sem_init(&s, 1, value) in shared "
                "memory)",
                lecture=LECTURE,
                evidence=[evidence.process_list(_participants(run), "processes of prodcons")],
                kind="busy-waiting",
            )
    if watched < 2:
        pytest.skip(f"needs a producer and a consumer that keep running: {watched} of the "
                    f"{len(procs)} processes of prodcons could be watched while the "
                    "others were held up")  # fmt: skip


def _asleep(pid: int) -> bool:
    return inspection.blocking.wait_of(pid).state == "S"


def _signal(procs: Iterable[inspection.ProcessInfo], sig: int) -> None:
    for p in procs:
        with contextlib.suppress(ProcessLookupError):
            os.kill(p.pid, sig)


class _Spins:
    """A predicate for a run's wait: the program's processes spin on a value nothing changes
    any more (while (nb == 0);). They have used SPIN_CPU_S of CPU between them with no new
    output and their shared memory unchanged meanwhile, none asleep writing its output.

    Load-independent: a process waiting for a CPU uses none, and a correct consumer's
    output grows by a 4 KiB block (stdout to a pipe is block-buffered) every ~270 items, a
    few ms of CPU. A busy-waiting program that still progresses, its two spinners taking
    turns on one CPU, may use a few hundred ms of CPU per block, but its ring changes
    meanwhile. Whenever in doubt (memory that cannot be read, a mapping too large to
    compare), it is no spin: the run's deadline judges it."""

    def __init__(self, run: Run) -> None:
        self.run = run
        self.waits: tuple[inspection.blocking.Wait, ...] = ()  # as last seen
        self.used: dict[int, float] = {}  # seconds of CPU of each since anything moved
        self._next = 0.0
        self._out = -1
        self._base: dict[int, int] = {}  # each one's CPU ticks when something last moved
        self._memory: object = None

    def __call__(self) -> bool:
        now = time.monotonic()
        if now < self._next:
            return False
        self._next = now + LOOK_S
        waits = inspection.blocking.sample(inspection.blocking.members(self.run.pid))
        out = sum(self.run.output_seen)
        if not waits:
            return False  # one ended while we looked: something moved
        ticks = {w.pid: w.moved[2] + w.moved[3] for w in waits}
        if out != self._out:
            self._out, self._base, self._memory = out, ticks, None
            return False
        self.waits = waits
        self.used = {pid: (t - self._base.get(pid, 0)) / _TICKS for pid, t in ticks.items()}
        if sum(self.used.values()) < SPIN_CPU_S / 4:
            return False  # far from it: the memory is not read for nothing
        memory = _shared_memory(w.pid for w in waits)
        if memory is None or memory != self._memory:
            self._base, self._memory = ticks, memory  # it moved (or cannot be known)
            return False
        if sum(self.used.values()) < SPIN_CPU_S:
            return False
        # one asleep writing waits for its output to be read: nothing else need spin
        return not any(w.state == "S" and w.call in ("write", "writev") for w in waits)

    def text(self) -> str:
        """Who spins and what the others do, for a message."""
        spinning = [w for w in self.waits if self.used.get(w.pid, 0) > 0]
        rest = [w for w in self.waits if w not in spinning]
        who = " and ".join(f"{w.name} (pid {w.pid})" for w in spinning)
        cpu = sum(self.used.values())
        said = (f"{who} used {cpu:.1f} s of CPU with no new output and the shared memory "
                f"unchanged: {'they spin' if len(spinning) > 1 else 'it spins'} in a loop "
                "like the lecture's while (nb == 0); on a value that nothing changes any "
                "more")  # fmt: skip
        for w in rest:
            doing = f"waits in {w.call}()" if w.state == "S" and w.call else _STATE.get(
                w.state, f"is in state {w.state}")  # fmt: skip
            said += f"; {w.name} (pid {w.pid}) {doing}"
        return said


def _shared_memory(pids: Iterable[int]) -> tuple[bytes, ...] | None:
    """The bytes of every shared writable mapping the processes have, each read once; None
    when one cannot be read, or is too large to compare whole."""
    seen: dict[tuple[str, int], bytes] = {}
    try:
        for pid in pids:
            for m in inspection.memory.shared_writable(pid):
                if m.identity in seen:
                    continue
                if m.size > COMPARED_BYTES:
                    return None
                seen[m.identity] = inspection.memory.contents(pid, m, COMPARED_BYTES)
    except inspection.ProcessGone:
        return None
    return tuple(seen[k] for k in sorted(seen))


_STATE = {"R": "is running", "S": "is asleep", "T": "is stopped", "Z": "has ended", "D": "waits"}


def _ends(run: Run) -> tuple[str, bool]:
    """Wait until `run` ends: ("", False) when it did, else why it is hung (it is then
    killed) and whether it hung spinning. A hang
    is said once seen: every process asleep waiting on another (grader.waiting's hang) or
    spinning (`_Spins`); RUN_DEADLINE_S at the latest."""
    spins = _Spins(run)
    waited = run.wait_for(exit=True, predicate=spins, stuck=True, within_s=RUN_DEADLINE_S)
    if not run.alive:
        return "", False
    if waited.hang is not None:
        what = f"hung: {waited.hang.text}"
    elif waited:
        what = f"hung: {spins.text()}"
    else:
        states = "; ".join(
            f"{p.label} is {p.state} and used {p.cpu_s:.1f} s of CPU" for p in _participants(run)
        )
        what = f"hung: after {RUN_DEADLINE_S:g} s, {states or 'no process was left'}"
    run.kill_group()
    return what, bool(waited) and waited.hang is None


def _run_once(program: Program) -> tuple[Verdict, str, bool]:
    """One run of `prodcons RACE_N`, judged: its verdict, what to say of it, and whether it
    hung spinning (see `_ends`)."""
    run = program.start(str(RACE_N))
    what, spun = _ends(run)
    if not what:
        run.finish(2)
        verdict = _judge(run, RACE_N)
        return verdict, verdict.what, False
    return Verdict(False, "hung"), what, spun


def test_no_race_across_runs(
    programs: dict[str, Program], build: BuildResult, sandbox: Sandbox
) -> None:
    """no item lost or repeated, no hang, over many runs with a large N, also built with -O2"""
    summary: list[str] = []
    first: str | None = None
    spun = False  # the first hang was a spin
    for name in ("prodcons", "prodcons-O2"):
        program = programs.get(name)
        if program is None:
            why = grader.not_built(build, name) or f"{name} was not built"
            sandbox.warn(
                f"{why}. So these runs used only your Makefile's build, and a mistake that "
                "shows only when the code is optimised (a shared variable read once, because "
                "it is not volatile) was not looked for"
            )
            continue
        bad = 0
        hung_at = 0
        for i in range(RUNS):
            verdict, what, spinning = _run_once(program)
            if not verdict.ok:
                bad += 1
                if first is None:
                    first, spun = f"{name}, run {i + 1}: {what}", spinning
                if verdict.what == "hung":
                    hung_at = i + 1  # a build that hangs once is not run again
                    break
        flag = " with -O2" if name.endswith("-O2") else ""
        if hung_at:
            before = ""
            if hung_at > 1:
                before = f" ({bad - 1} of the {hung_at - 1} before it went wrong)"
            summary.append(f"run {hung_at}{flag} hung{before}, so it was not run again")
        else:
            summary.append(f"{bad} of {RUNS} runs{flag} went wrong")
    if first is not None and repr(_UNWRITTEN) in first:
        raise Failed(
            f"over {RUNS} runs of prodcons {RACE_N} per build: {'; '.join(summary)}. First: "
            f"{first}, an item nobody made (product '\\0', price 0: memory never written). "
            "The consumer reads a ring that the "
            f"producer does not fill: the buffer is not shared ({_OWN})",
            hint="mmap the ring with MAP_SHARED | MAP_ANONYMOUS in the parent, before fork()",
            lecture=LECTURE,
            kind="buffer-not-shared",
        )
    if first is not None:
        hung = "hung" in first
        plain_variable = hung and spun and "O2" in first
        raise Failed(
            f"over {RUNS} runs of prodcons {RACE_N} per build: {'; '.join(summary)}. "
            f"First: {first}"
            + (
                ". A loop that waits on a plain variable (while (nb == 0);) is compiled with "
                "-O2 into a loop that reads it once: the other process's change is never seen"
                if plain_variable
                else ""
            ),
            hint="synchronise with semaphores, not with a shared counter: nb++ and nb-- from "
            "two processes race (read, add, write back), losing or repeating items",
            lecture=LECTURE,
            kind="waits-on-plain-variable" if plain_variable else "hangs" if hung else "race",
        )
