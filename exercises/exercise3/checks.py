"""exercise3 `signals`: handlers for SIGTSTP, SIGINT and SIGTERM, driven from a terminal."""

from __future__ import annotations

import itertools
import re
import signal
import time
from difflib import SequenceMatcher

from grader import Evidence, Failed, Program, Ref, Run, Sandbox, Waited, evidence, inspection

LECTURE = "Signal example"
CTRL_C, CTRL_Z = "\x03", "\x1a"
DOT = re.compile(r"^\.\r?$", re.MULTILINE)
PAUSE = re.compile(r"Signal\s*20\s*=>\s*pause", re.IGNORECASE)
END = {
    signal.SIGINT: re.compile(r"Signal\s*2\s*=>\s*End of the program", re.IGNORECASE),
    signal.SIGTERM: re.compile(r"Signal\s*15\s*=>\s*End of the program", re.IGNORECASE),
}
NEEDED = ("SIGINT", "SIGTERM", "SIGTSTP")
TICK_S = 1.0  # the exercise prints a dot every second
DOTS = 3  # dots seen, then the program back in its loop, before the dots check passes
GAP_S = TICK_S + 2  # the longest wait for the next dot: its second, and room for a slow machine
# the pace is judged on the mean gap from the first dot seen to the last: a dot seen late
# (a busy grader) shortens the gap after it, but not the sum of the gaps
FAST_S = 0.7  # dots closer than this on average come faster than one a second
SLOW_S = 1.6  # dots further apart than this on average come slower
PRESS_AFTER = 2  # dots before the first control-Z: the dot after the second is the 4th or later
# what a disposition that is not a handler means, said after it
WHAT_IT_MEANS = {"ignored": " (SIG_IGN: the signal is thrown away)", "default": " (no handler)"}
_UNSAFE = re.compile(r"\b(printf|fprintf|puts|fputs|putchar|malloc|free|exit)\s*\(")


def _short(name: str) -> str:
    """How a failure's kind names a signal: "SIGTSTP" → "tstp"."""
    return name.removeprefix("SIG").lower()


def _text(run: Run) -> str:
    """What the program printed: a terminal turns each newline into CR LF (onlcr), and
    that CR is the terminal's, not the program's; a lone CR the program wrote stays."""
    return run.text().replace("\r\n", "\n")


def _dots(run: Run) -> int:
    return len(DOT.findall(_text(run)))


def _tokens(line: str) -> list[str]:
    return re.findall(r"\w+|[^\w\s]+", line)


def _differs(expected: str, printed: str) -> str:
    """The line closest to `expected` among those printed, and which words differ, or ""."""
    lines = [ln.strip() for ln in printed.splitlines() if ln.strip() and not DOT.match(ln)]
    if not lines:
        return ""

    def likeness(line: str) -> float:
        return SequenceMatcher(None, line.lower(), expected.lower()).ratio()

    closest = max(lines, key=likeness)
    if likeness(closest) < 0.6:
        return ""
    want, got = _tokens(expected), _tokens(closest)
    said = []
    matcher = SequenceMatcher(None, [w.lower() for w in want], [w.lower() for w in got])
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        lost, extra = " ".join(want[i1:i2]), " ".join(got[j1:j2])
        plural = "s" if max(i2 - i1, j2 - j1) > 1 else ""
        if tag == "delete":
            where = f" after `{want[i1 - 1]}`" if i1 else " at the start"
            said.append(f"the word{plural} `{lost}` {'are' if plural else 'is'} missing{where}")
        elif tag == "insert":
            said.append(f"`{extra}` {'are words' if plural else 'is a word'} too many")
        elif tag == "replace":
            said.append(f"`{extra}` stands where the lecture has `{lost}`")
    return f"it printed `{closest}`: {'; '.join(said)}" if said else ""


def _in_loop(run: Run) -> bool:
    """The program is in its loop: exec'd and asleep (sleep, pause) or printing."""
    try:
        me = inspection.process(run.pid)
    except inspection.ProcessGone:
        return False
    return me.state == "sleeping" and me.exe.endswith("/signals")


def _start(program: Program) -> Run:
    """Start on a terminal and wait until the program sleeps in its loop."""
    run = program.start(pty=True)
    # exit too: a program that ends at once is told so at once, not after the deadline
    waited = run.wait_for(predicate=lambda: _in_loop(run), exit=True, stuck=False, within_s=5)
    if run.exit is not None:
        run.finish(1)  # all it printed before it ended
    if not waited or run.exit is not None:
        raise Failed(
            f"your program (pid {run.pid}) never went to sleep in its loop: it "
            f"{run.exit.describe() if run.exit else 'kept running without sleeping'}",
            actual=_text(run) or None,
            hint="loop forever: sleep(1); then print a dot",
            lecture=LECTURE,
            kind="ends-at-once" if run.exit else "never-sleeps-in-loop",
            about=[Ref(pid=run.pid)],
        )
    return run


def _masks(run: Run) -> inspection.SignalMasks:
    """The program's signal masks; its end is a failure, not the grader's."""
    try:
        return inspection.signal_masks(run.pid)
    except inspection.ProcessGone:
        run.finish(2)  # its end, and all it printed before
        raise Failed(
            f"your program (pid {run.pid}) {run.ended()} on its own; it should print dots "
            "forever, until a signal ends it",
            actual=_text(run) or None,
            hint='while (1) { sleep(1); printf(".\\n"); }',
            lecture=LECTURE,
            kind="ends-on-its-own",
            about=[Ref(pid=run.pid)],
        ) from None


def _masks_evidence(run: Run) -> list[Evidence]:
    try:
        m = inspection.signal_masks(run.pid)
    except inspection.ProcessGone:
        return []
    return [evidence.signals(m, (*NEEDED, "SIGALRM"))]


def _unsafe_handler_warning(sandbox: Sandbox, program: Program) -> None:
    """printf in a handler: not async-signal-safe. A warning, never a failure."""
    text = program.source.text
    handlers = set(re.findall(r"signal\s*\(\s*SIG\w+\s*,\s*(\w+)\s*\)", text))
    handlers |= set(re.findall(r"sa_handler\s*=\s*&?\s*(\w+)", text))
    for name in sorted(handlers - {"SIG_IGN", "SIG_DFL"}):
        body = re.search(rf"\b{name}\s*\([^)]*\)\s*\{{(.*?)\n\}}", text, re.DOTALL)
        calls = sorted(set(_UNSAFE.findall(body.group(1)))) if body else []
        if calls:
            sandbox.warn(
                f"the handler {name}() calls {', '.join(calls)}, which are not "
                "async-signal-safe: a signal arriving inside printf() can deadlock or "
                "garble the output. It works here, as in the lecture; write() and _exit() "
                "are safe in a handler"
            )


def _next_dot(run: Run, seen: list[float]) -> Waited:
    """Wait for a dot after the `seen` ones, and add when each new one was seen (the
    grader may see a dot late, never early). Ends early if the program ends or hangs."""
    before = len(seen)
    waited = run.wait_for(predicate=lambda: _dots(run) > before, exit=True, within_s=GAP_S)
    now = time.monotonic()
    seen.extend([now] * max(0, _dots(run) - before))
    return waited


def _asleep_in(run: Run) -> str:
    """The system call the program goes to sleep in next ("clock_nanosleep", "pause"), or
    "" when it ends, does not sleep within half a second, or the call cannot be read."""
    found: list[str] = []

    def asleep() -> bool:
        w = inspection.blocking.wait_of(run.pid)
        if w.state == "S" and w.call:
            found.append(w.call)
        return bool(found)

    run.wait_for(predicate=asleep, exit=True, within_s=TICK_S / 2, stuck=False)
    return found[0] if found else ""


def _ended_on_its_own(run: Run, when: str = "", pressed_at: int | None = None) -> Failed:
    """The program ended by itself (`pressed_at`: the dots before control-Z was pressed)."""
    run.finish(1)  # all it printed before it ended, counted after
    if pressed_at is not None:
        when = f" ({_dots(run) - pressed_at} since control-Z was pressed)"
    return Failed(
        f"your program (pid {run.pid}) {run.ended()} on its own after printing {_dots(run)} "
        f"dot(s){when}; it should go on printing a dot every second, forever, until a signal "
        "ends it",
        actual=_text(run) or "(nothing)",
        hint='loop forever, while (1) { sleep(1); printf(".\\n"); }, with nothing that '
        "leaves the loop: only the SIGINT and SIGTERM handlers end the program",
        lecture=LECTURE,
        kind="ends-on-its-own",
        about=[Ref(pid=run.pid)],
    )


def _gaps(seen: list[float]) -> str:
    return ", ".join(f"{b - a:.2f} s" for a, b in itertools.pairwise(seen))


def test_prints_a_dot_every_second(program: Program) -> None:
    """prints a dot on a line of its own every second, and goes on until a signal ends it"""
    run = _start(program)
    seen: list[float] = []  # when each dot was seen
    calls: list[str] = []  # the call it went back to sleep in after each dot
    waited = None
    while len(seen) < DOTS and run.exit is None:
        waited = _next_dot(run, seen)
        if not waited:
            break
        calls.append(_asleep_in(run))
    if run.exit is not None:
        raise _ended_on_its_own(run)
    if len(seen) < DOTS:
        assert waited is not None
        raise _too_few_dots(run, seen, waited)
    pace = (seen[-1] - seen[0]) / (len(seen) - 1)
    if pace < FAST_S:
        raise Failed(
            f"your program (pid {run.pid}) printed its dots {pace:.2f} s apart on average "
            f"({_gaps(seen)} between two dots seen): faster than one a second",
            actual=_text(run),
            hint="wait a whole second between two dots: sleep(1) (usleep() counts "
            "microseconds: usleep(1000000) is a second)",
            lecture=LECTURE,
            kind="dots-too-fast",
            about=[Ref(pid=run.pid)],
        )
    if pace > SLOW_S:
        raise Failed(
            f"your program (pid {run.pid}) printed its dots every {pace:.1f} s "
            f"({_gaps(seen)} between two dots seen) instead of every second",
            actual=_text(run),
            hint="sleep one second between two dots, sleep(1), and nothing else that takes "
            "time in the loop",
            lecture=LECTURE,
            kind="dots-too-slow",
            about=[Ref(pid=run.pid)],
        )
    # goes on: after its dots it sleeps again in the call it slept in between them (the
    # loop's), or, when that is not seen, prints one more dot
    if calls[-1] and len(set(calls)) == 1:
        return
    waited = _next_dot(run, seen)
    if run.exit is not None:
        raise _ended_on_its_own(run)
    if waited:
        return
    stuck = _stuck(run, waited)
    where = f"nothing moves: {stuck}" if stuck else _why_no_dot(run, tstp=False)
    raise Failed(
        f"after its first {DOTS} dots, your program (pid {run.pid}) printed no other for "
        f"{waited.waited_s:.1f} s: {where}. It has left the loop that prints the dots, which "
        "should go on until a signal ends the program",
        actual=_text(run),
        hint='loop forever, while (1) { sleep(1); printf(".\\n"); }: nothing after that '
        "loop is ever reached",
        lecture=LECTURE,
        evidence=_wait_evidence(run),
        kind="leaves-the-loop",
        about=[Ref(pid=run.pid)],
    )


def _stuck(run: Run, waited: Waited) -> str:
    """What the program waits on when the wait saw it hang (nothing moves), or ""."""
    hang = waited.hang
    return next((b.says for b in hang.blocked if b.pid == run.pid), "") if hang else ""


def _too_few_dots(run: Run, seen: list[float], waited: Waited) -> Failed:
    """Why fewer than DOTS dots came: it hangs, prints them otherwise, or not at all."""
    text = _text(run)
    hint = 'print the dot with its newline, printf(".\\n"), or call fflush(stdout)'
    if stuck := _stuck(run, waited):
        assert waited.hang is not None
        why = f"nothing moves: {stuck}; no alarm() has woken it in {waited.hang.settle_s:g} s"
        hint = "arm alarm(1) before each pause(), with a SIGALRM handler, or sleep(1)"
        kind = "pause-without-alarm"
    elif _asleep_in_pause(run):
        # no hang is said (an alarm() may be pending: the kernel does not show it), but
        # no dot came either: where it waits says why
        why = _why_no_dot(run, tstp=False) + ", and no alarm() has woken it meanwhile"
        hint = "arm alarm(1) before each pause(), with a SIGALRM handler, or sleep(1)"
        kind = "pause-without-alarm"
    elif "." in DOT.sub("", text):
        why = "dots were printed but not one per line"
        kind = "dots-not-one-per-line"
    elif seen:
        why = f"none came in the {GAP_S:g} s after the last one, when a dot comes every second"
        hint = 'loop forever: while (1) { sleep(1); printf(".\\n"); }'
        kind = "dots-stop"
    else:
        why = (
            "nothing appeared: output without a newline stays in stdio's buffer until "
            "it fills (4 KiB on a terminal)"
        )
        kind = "no-dot-appears"
    return Failed(
        f"after {time.monotonic() - run.started:.1f} s, the terminal showed {len(seen)} "
        f"dot(s) on their own line, not one a second: {why}",
        actual=text or "(nothing)",
        hint=hint,
        lecture=LECTURE,
        kind=kind,
        about=[Ref(pid=run.pid)],
    )


def test_handlers_installed_before_the_loop(program: Program) -> None:
    """SIGINT, SIGTERM and SIGTSTP are caught from the loop's first second"""
    run = _start(program)
    masks = _masks(run)
    missing = [s for s in NEEDED if s not in masks.caught]
    if not missing:
        return
    said = []
    for name in missing:
        how = masks.disposition(name)
        said.append(f"{name} is {how}{WHAT_IT_MEANS.get(how, '')}")
    late = run.wait_for(
        predicate=lambda: all(s in inspection.signal_masks(run.pid).caught for s in NEEDED),
        within_s=2 * TICK_S + 1,
    )
    when = (
        "they are installed only after the loop has started: a key pressed before then "
        "finds no handler"
        if late
        else f"no handler is ever installed for {' or '.join(missing)}"
    )
    raise Failed(
        f"when your program (pid {run.pid}) first slept in its loop, {'; '.join(said)}: "
        f"{when}. Install every handler before the loop",
        hint="call signal(SIGTSTP, handler), signal(SIGINT, handler) and "
        "signal(SIGTERM, handler) (or sigaction) before while (1)",
        lecture=LECTURE,
        evidence=_masks_evidence(run),
        kind="handlers-installed-late" if late else _missing_kind(masks, missing),
        about=[Ref(pid=run.pid, name=name) for name in missing],
        location=program.source.installs(missing[0]),
    )


def _missing_kind(masks: inspection.SignalMasks, missing: list[str]) -> str:
    """The kind of a disposition that is not a handler: "no-tstp-handler", "int-ignored";
    for several signals, each one's, joined by "-and-"."""
    kinds = []
    for name in missing:
        how = masks.disposition(name)
        kinds.append(f"{_short(name)}-{how}" if how in ("ignored", "blocked")
                     else f"no-{_short(name)}-handler")  # fmt: skip
    return "-and-".join(kinds)


def test_ctrl_z_pauses_and_keeps_running(program: Program, sandbox: Sandbox) -> None:
    """control-Z prints `Signal 20 => pause` and the program keeps running"""
    _unsafe_handler_warning(sandbox, program)
    run = _start(program)
    # control-Z once the dots have come for a while, and twice: the dot that must follow
    # the second message is then past the few a loop of three turns prints, and a handler
    # reset to SIG_DFL by its first call (SA_RESETHAND) shows at the second
    seen: list[float] = []
    while len(seen) < PRESS_AFTER and run.exit is None and _next_dot(run, seen):
        pass
    _asleep_in(run)
    if run.exit is not None:
        raise _ended_on_its_own(run, ", before control-Z was pressed")
    pressed_at = _dots(run)
    for nth in ("", "the second "):
        sandbox.note(f"pressed control-Z after {_dots(run)} dot(s)")
        _press_ctrl_z(run, sandbox, nth, program)
        _asleep_in(run)
        if run.exit is not None:
            raise _ended_on_its_own(run, pressed_at=pressed_at)


def _press_ctrl_z(run: Run, sandbox: Sandbox, nth: str, program: Program) -> None:
    """Press control-Z (`nth`: "" or "the second "): the message must come, then a dot,
    and the program must not stop."""
    src = program.source
    said = len(PAUSE.findall(_text(run)))
    run.send(CTRL_Z)
    run.wait_for(
        predicate=lambda: len(PAUSE.findall(_text(run))) > said,
        state="stopped",
        exit=True,
        within_s=TICK_S + 1,
    )
    if run.exit is not None:
        run.finish(2)  # all it printed before it ended
    if _stopped(run) and nth:
        raise Failed(
            f"the second control-Z stopped your program (pid {run.pid} is in state stopped), "
            "though the first printed `Signal 20 => pause`: running the handler reset "
            "SIGTSTP to its default action, stop. SA_RESETHAND in sa_flags does that, and so "
            "does signal() with System V semantics (when _POSIX_C_SOURCE is defined)",
            hint="install the handler with sigaction() and sa_flags = 0 or SA_RESTART (no "
            "SA_RESETHAND), or call signal() again at the start of the handler",
            lecture=LECTURE,
            evidence=_masks_evidence(run),
            kind="tstp-handler-reset",
            about=[Ref(pid=run.pid, name="SIGTSTP")],
            location=src.installs("SIGTSTP"),
        )
    if _stopped(run):
        raise Failed(
            f"control-Z stopped your program (pid {run.pid} is in state stopped): no handler "
            "for SIGTSTP was installed, so the default action, stop, was taken",
            hint="install a SIGTSTP handler that prints Signal 20 => pause and returns",
            lecture=LECTURE,
            evidence=_masks_evidence(run),
            kind="no-tstp-handler",
            about=[Ref(pid=run.pid, name="SIGTSTP")],
            location=src.installs("SIGTSTP"),
        )
    messages = list(PAUSE.finditer(_text(run)))
    if len(messages) <= said:
        since = _text(run)[messages[-1].end() if messages else 0 :]  # not the first message
        differs = _differs("Signal 20 => pause", since)
        raise Failed(
            f"after {nth}control-Z, your program did not print `Signal 20 => pause`"
            + (f": {differs}" if differs else "")
            + (f"; it {run.ended()}" if run.exit else ""),
            expected="Signal 20 => pause",
            actual=_text(run) or "(nothing)",
            lecture=LECTURE,
            evidence=_masks_evidence(run),
            kind="wrong-pause-message" if differs else "no-pause-message",
            about=[Ref(pid=run.pid, name="SIGTSTP")],
            location=src.handler_or_install("SIGTSTP"),
        )
    # going on running is seen as a dot after the message, nothing less: alive and not
    # stopped is also a program asleep for good inside its handler
    after = messages[said].end()
    waited = run.wait_for(
        predicate=lambda: DOT.search(_text(run), after) is not None,
        exit=True,
        within_s=TICK_S + 2,
    )
    if DOT.search(_text(run), after) is not None:
        return
    if run.hang is not None:
        sandbox.note(f"nothing moved: {run.hang.text}")
    if run.exit is not None:
        run.finish(2)
        if DOT.search(_text(run), after) is not None:
            return  # it went on, then ended: the caller says so
        raise Failed(
            f"after {nth}`Signal 20 => pause`, your program {run.ended()}: on "
            "SIGTSTP it must go on running",
            actual=_text(run),
            hint="the SIGTSTP handler prints its message and returns; it does not exit",
            lecture=LECTURE,
            kind="tstp-handler-ends-program",
            about=[Ref(pid=run.pid, name="SIGTSTP")],
            location=src.handler_or_install("SIGTSTP"),
        )
    kind = _no_dot_kind(run)
    raise Failed(
        f"after {nth}`Signal 20 => pause`, your program (pid {run.pid}) printed no dot "
        f"for {waited.waited_s:.1f} s: {_why_no_dot(run)}. On SIGTSTP it must go on "
        "running: the next dot follows within a second",
        actual=_text(run),
        hint=_no_dot_hint(run),
        lecture=LECTURE,
        evidence=_wait_evidence(run),
        kind=kind,
        about=[Ref(pid=run.pid, name="SIGTSTP")],
        # in the handler, or stopped by it: there; else the loop in main() is at fault
        location=src.handler_or_install("SIGTSTP") if kind != "no-dot-after-tstp" else None,
    )


def _where(run: Run) -> inspection.blocking.Wait | None:
    """Where the program waits (its state, call, mask), or None once it has gone."""
    try:
        return inspection.blocking.wait_of(run.pid)
    except inspection.ProcessGone:
        return None


def _no_dot_kind(run: Run) -> str:
    """Why no dot follows `Signal 20 => pause`, as a kind: where the process is."""
    w = _where(run)
    if w is None:
        return "no-dot-after-tstp"
    if w.state == "T":
        return "tstp-handler-stops"
    if _in_tstp_handler(w):
        return "tstp-handler-never-returns"
    return "no-dot-after-tstp"


def _stopped(run: Run) -> bool:
    try:
        return inspection.process(run.pid).state == "stopped"
    except inspection.ProcessGone:
        return False


def _in_tstp_handler(w: inspection.blocking.Wait) -> bool:
    """SIGTSTP is blocked, as the kernel blocks it while its handler runs."""
    return bool(w.blocked_signals >> (signal.SIGTSTP - 1) & 1)


def _asleep_in_pause(run: Run) -> bool:
    w = _where(run)
    return w is not None and w.state == "S" and w.call in ("pause", "rt_sigsuspend")


def _why_no_dot(run: Run, tstp: bool = True) -> str:
    """Where the program is, from the process itself: its state, its call, its mask
    (`tstp`: after control-Z, so whether it is still inside the SIGTSTP handler)."""
    w = _where(run)
    if w is None:
        return "it has ended"
    if w.state == "T":
        return (
            "it is stopped (state T): the handler stopped it itself (raise(SIGSTOP), or "
            "SIG_DFL and raise(SIGTSTP))"
        )
    where = {
        "S": f"asleep in {w.call}()" if w.call else "asleep",
        "R": "running (state R) without printing",
        "D": "in an uninterruptible wait",
    }.get(w.state, f"in state {w.state}")
    if w.wchan and w.wchan != "0":
        where += f" (kernel function {w.wchan})"
    said = f"it is neither stopped nor ended, but {where}"
    if tstp and _in_tstp_handler(w):
        said += (
            ", with SIGTSTP blocked: the kernel blocks a signal while its handler runs, so "
            "it is still inside the SIGTSTP handler, which never returned"
        )
    elif tstp:
        said += (
            ", outside the SIGTSTP handler (SIGTSTP is not blocked): the handler has "
            "returned, and no dot comes from the loop in main()"
        )
    if w.call in ("pause", "rt_sigsuspend"):
        said += f"; {w.call}() returns only when another caught signal arrives, and none comes"
    return said


def _no_dot_hint(run: Run) -> str:
    w = _where(run)
    if w is not None and not _in_tstp_handler(w):
        return (
            'the loop in main() goes on forever, while (1) { sleep(1); printf(".\\n"); }, '
            "whatever signal comes, and each dot reaches the terminal (its newline, or "
            "fflush(stdout))"
        )
    return (
        "the SIGTSTP handler prints its message and returns at once, with no pause(), "
        "sleep() or loop in it; the loop in main() goes on printing the dots"
    )


def _wait_evidence(run: Run) -> list[Evidence]:
    w = _where(run)
    return [evidence.waiting(w)] if w is not None else []


def _ends(run: Run, sig: int, how: str, masks: inspection.SignalMasks, program: Program) -> None:
    """Judge how the program ended after `how`; `masks` were read just before."""
    src = program.source
    name = signal.Signals(sig).name
    about = [Ref(pid=run.pid, name=name)]
    if not run.wait_for(exit=True, within_s=TICK_S + 2):
        how_taken = masks.disposition(name)
        why = {
            "blocked": f"{name} is blocked (sigprocmask), so it is never delivered",
            "ignored": f"{name} is ignored (SIG_IGN)",
        }.get(how_taken, f"the {name} handler returned without exiting")
        raise Failed(
            f"after {how}, your program (pid {run.pid}) kept running: {why}",
            hint=f"a {name} handler prints its message and calls exit(0)",
            lecture=LECTURE,
            evidence=_masks_evidence(run),
            kind=f"{_short(name)}-{how_taken}"
            if how_taken in ("blocked", "ignored")
            else f"{_short(name)}-handler-does-not-exit",
            about=about,
            location=src.handler_or_install(name),
        )
    assert run.exit is not None
    run.finish(2)  # all it printed before it ended: the terminal's last bytes come after
    if run.exit.signal == sig:
        raise Failed(
            f"{how} killed your program with no message (killed by {name}): no handler "
            f"for {name} was installed, so the default action, terminate, was taken",
            hint=f"install a {name} handler that prints Signal {sig} => End of the program "
            "and calls exit(0)",
            lecture=LECTURE,
            kind=f"no-{_short(name)}-handler",
            about=about,
            location=src.installs(name),  # one installed too late, if any
        )
    if not END[sig].search(_text(run)):
        wanted = f"Signal {sig} => End of the program"
        differs = _differs(wanted, _text(run))
        raise Failed(
            f"after {how}, your program {run.ended()} without printing `{wanted}`"
            + (f": {differs}" if differs else ""),
            expected=wanted,
            actual=_text(run) or "(nothing)",
            lecture=LECTURE,
            kind="wrong-end-message" if differs else "no-end-message",
            about=about,
            location=src.handler_or_install(name),
        )
    if not run.succeeded:
        raise Failed(
            f"after {how}, your program printed its message but {run.ended()}; the "
            "exercise asks for exit status 0",
            hint="end the handler with exit(0)",
            lecture=LECTURE,
            kind="end-exit-status-nonzero",
            about=about,
            location=src.handler_or_install(name),
        )


def test_ctrl_c_ends_with_message(program: Program, sandbox: Sandbox) -> None:
    """control-C prints `Signal 2 => End of the program` and exits with status 0"""
    run = _start(program)
    masks = _masks(run)
    sandbox.note("pressed control-C")
    run.send(CTRL_C)
    _ends(run, signal.SIGINT, "control-C", masks, program)


def test_sigterm_ends_with_message(program: Program, sandbox: Sandbox) -> None:
    """kill -TERM prints `Signal 15 => End of the program` and exits with status 0"""
    run = _start(program)
    masks = _masks(run)
    sandbox.note(f"sent SIGTERM to pid {run.pid}")
    run.signal(signal.SIGTERM)
    _ends(run, signal.SIGTERM, "SIGTERM", masks, program)
