"""How a student program is started: the frozen `Launch` spec a Run is built from, and the
spawn on pipes or on a terminal of its own."""

from __future__ import annotations

import contextlib
import fcntl
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Literal

from grader import pty_launcher

if TYPE_CHECKING:
    from grader.catalog import Limits

_F_SETPIPE_SZ = 1031


@dataclass(frozen=True)
class Launch:
    """Everything a Run is started from.

    Args:
        stdin: "null" (/dev/null), "pipe" (`run.send`), or a descriptor to hand over.
        pty: on a terminal of its own, as a shell runs it (its stderr is its stdout).
        hold_output: stdout is not read until `run.release_output()`, through the
            smallest pipe: a writer blocks as soon as its pipe is full.
        wall_s: its wall-clock limit: its process group is killed at it.
        limits: its rlimits (set by `preexec_fn`), to name what it ran out of.
        guard: asked every GUARD_S while the program runs; a non-empty answer (why)
            kills its process group, and becomes `stopped_for`.
        preexec_fds: descriptors `preexec_fn` writes to (a terminal's child closes
            every other before it runs; they close at exec all the same).
        bystander: a process the check runs as scenery (a decoy named firefox): it
            never signals nor messages another, so it cannot end another's wait.
        trace_path: where strace, started as the program's parent, writes its trace.
    """

    argv: tuple[str, ...]
    cwd: Path
    env: Mapping[str, str]
    preexec_fn: Callable[[], None]
    stdin: Literal["null", "pipe"] | int = "null"
    pty: bool = False
    hold_output: bool = False
    output_cap: int = 1 << 20
    wall_s: float = 10.0
    pass_fds: tuple[int, ...] = ()
    executable: str | None = None
    name: str = ""
    run_as: int | None = None
    limits: Limits | None = None
    guard: Callable[[], str] | None = None
    preexec_fds: tuple[int, ...] = ()
    bystander: bool = False
    trace_path: Path | None = None
    program: str = field(init=False)  # how messages name it: "grep"

    def __post_init__(self) -> None:
        object.__setattr__(self, "argv", tuple(self.argv))
        object.__setattr__(self, "pass_fds", tuple(self.pass_fds))
        object.__setattr__(self, "preexec_fds", tuple(self.preexec_fds))
        object.__setattr__(self, "program", self.name or Path(self.argv[0]).name)


@dataclass
class Spawned:
    """A started program's handles: its pid, the terminal's launcher (0 on pipes), its
    stdin, the descriptors its output is read from (-1: none), and what closes them."""

    pid: int
    leader: int
    stdin: IO[bytes] | None
    out_fd: int
    err_fd: int
    terminal: int | None  # the terminal's master side
    _handle: Any

    def close(self) -> None:
        """Close the pipes, or the terminal (its launcher then gets SIGHUP)."""
        if self.terminal is not None:
            with contextlib.suppress(Exception):
                self._handle.close(force=True)
            return
        for f in (self._handle.stdin, self._handle.stdout, self._handle.stderr):
            if f is not None:
                with contextlib.suppress(OSError):
                    f.close()

    def set_returncode(self, code: int) -> None:
        """Tell subprocess that the process was reaped (by os.wait4), so it never is again."""
        if self.terminal is None:
            self._handle.returncode = code


def spawn(launch: Launch) -> Spawned:
    """Start `launch`'s program, on pipes or on a terminal."""
    if launch.pty:
        on = pty_launcher.start(
            launch.argv, executable=launch.executable, cwd=launch.cwd, env=launch.env,
            preexec_fn=launch.preexec_fn, run_as=launch.run_as, preexec_fds=launch.preexec_fds,
        )  # fmt: skip
        return Spawned(on.pid, on.leader, None, on.fd, -1, on.fd, on.child)
    stdin: Any = launch.stdin
    if isinstance(stdin, str):
        stdin = {"pipe": subprocess.PIPE, "null": subprocess.DEVNULL}[stdin]
    popen = subprocess.Popen(
        launch.argv,
        executable=launch.executable,
        cwd=launch.cwd,
        env=dict(launch.env),
        stdin=stdin,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        preexec_fn=launch.preexec_fn,
        close_fds=True,
        pass_fds=launch.pass_fds,
    )
    assert popen.stdout is not None
    assert popen.stderr is not None
    out_fd, err_fd = popen.stdout.fileno(), popen.stderr.fileno()
    if launch.hold_output:  # smallest pipe: a writer blocks as soon as we stop reading
        with contextlib.suppress(OSError):
            fcntl.fcntl(out_fd, _F_SETPIPE_SZ, 4096)
    return Spawned(popen.pid, 0, popen.stdin, out_fd, err_fd, None, popen)
