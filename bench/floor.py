"""The floor of a grade: gcc's time for an exercise's files plus the student programs' own
lifetimes, run as the checks run them, outside the grader.

Each scenario below starts the reference programs with the arguments, input and signals
the exercise's checks use (exercises/EXERCISE/checks.py), one per check that runs them, and
sums each program's lifetime: from its spawn to its reaping, waited on as an event (the
process's exit, a line of its output), never a sleep. What a check waits for itself (a
window in which it measures CPU time, a deadline a correct program never reaches) is not
the program's time and is not in the floor. FLOOR_DOC says, per exercise, what is run.

Run as a script (`python bench/floor.py EXERCISE BUILD_DIR`), it prints the lifetimes as
JSON: the System V exercises run that way inside `unshare --user --ipc`, so their fixed
keys never meet another grade's on this machine.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

FLOOR_DOC = {
    "exercise1": "copy on empty, text, binary and 1 MiB files, over a longer dest, under "
    "umask 000 and 022, with 0/1/3 arguments, a missing src, an unopenable dest, no cat on "
    "PATH: 13 runs",
    "exercise2": "pipe (ps -ef | grep firefox, a decoy firefox running) once per run the "
    "checks start: the output check's and the one flooded run the inspection checks share: "
    "2 runs",
    "exercise3": "signals on its dots: 3 dots (the pace check), 2 dots then SIGTSTP twice, "
    "each followed by its dot (control-Z), SIGINT and SIGTERM once in the loop, the masks "
    "check once in the loop: 5 runs",
    "exercise4": "creator; creator+sender+receiver (twice); creator, receiver waiting, "
    "sender (the receiver's lifetime, the sender's inside it); sender and receiver without a "
    "queue: 11 lifetimes",
    "exercise5": "writer; writer (detach); writer+reader; reader without a segment: 5 runs",
    "exercise6": "filemap on a 6000-byte file (3 checks), on a short file; forkmap 100000 "
    "(twice), forkmap 10: 7 runs",
    "exercise7": "prodcons 20000: 1 (in order) + 4 (waits, shared, ring, no CPU) + 5 per "
    "build for the race check, default and -O2 builds: 15 runs",
    "exercise8": "server on a free port, one echo per client check (echo, in turn x2, "
    "closes x3, spin, restart: two servers), client against an echo server, client "
    "without a server",
}
_UNSHARED = ("exercise4", "exercise5")  # fixed System V keys 1234, 5678


def compile_exercise(exercise_id: str, sources: Path, out: Path) -> tuple[float, list[str]]:
    """Build every program of the exercise (variants too) with its own gcc command, timed."""
    from grader import catalog

    ex = catalog.find(exercise_id)
    spec = ex.build
    total = 0.0
    commands = []
    for source, output, extra in ex.builds:
        argv = [spec.cc, *spec.cflags, *extra, "-o", str(out / output), str(sources / source),
                *spec.ldflags]  # fmt: skip
        t0 = time.perf_counter()
        subprocess.run(argv, check=True, stdin=subprocess.DEVNULL)
        total += time.perf_counter() - t0
        commands.append(" ".join(argv))
    return total, commands


def _life(argv: Sequence[str], cwd: Path, stdin: bytes | None = None,
          env: dict[str, str] | None = None, umask: int | None = None) -> float:  # fmt: skip
    """One program's lifetime, spawn to reaping, its output read to the end."""
    preexec = (lambda: os.umask(umask)) if umask is not None else None
    t0 = time.perf_counter()
    subprocess.run(list(argv), cwd=cwd, input=stdin or b"", capture_output=True, env=env,
                   preexec_fn=preexec, check=False)  # fmt: skip
    return time.perf_counter() - t0


def _ex1(b: Path, w: Path) -> list[float]:
    copy = str(b / "copy")
    out = []
    for i, data in enumerate((b"", b"Hello\nSecond line\n", bytes(range(256)) * 4,
                              os.urandom(1 << 20))):  # fmt: skip
        (w / f"src{i}").write_bytes(data)
        out.append(_life([copy, f"src{i}", f"dest{i}"], w))
    (w / "long").write_bytes(b"OLD CONTENT " * 100)
    out.append(_life([copy, "src1", "long"], w))
    out += [_life([copy, "src1", f"d-umask{u}"], w, umask=u) for u in (0o000, 0o022)]
    out += [_life([copy, *args], w) for args in ((), ("only-src",), ("a", "b", "c"))]
    out.append(_life([copy, "no-such-file", "dest"], w))
    out.append(_life([copy, "src1", "no-such-folder/dest"], w))
    out.append(_life([copy, "src1", "dest-x"], w, env={"PATH": "/nonexistent"}))
    return out


def _ex2(b: Path, w: Path) -> list[float]:
    sleep = shutil.which("sleep") or "/bin/sleep"
    decoy = subprocess.Popen(["firefox", "600"], executable=sleep)
    try:
        return [_life([str(b / "pipe")], w) for _ in range(2)]
    finally:
        decoy.kill()
        decoy.wait()


def _until(
    proc: subprocess.Popen[bytes],
    test: Callable[[bytes], bool],
    seen: bytearray,
    within_s: float = 60,
) -> None:
    """Read the program's output until `test` holds for all of it, or it ends; a program
    silent past `within_s` is a broken measurement, not a floor."""
    assert proc.stdout is not None
    fd = proc.stdout.fileno()
    deadline = time.monotonic() + within_s
    while not test(bytes(seen)):
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            proc.kill()
            raise RuntimeError(f"{proc.args!r}: no output for {within_s:g} s")
        chunk = os.read(fd, 4096)
        if not chunk:
            return
        seen += chunk


def _catches(pid: int, signals: Sequence[signal.Signals], within_s: float = 10) -> None:
    """Wait until the program has installed its handlers for `signals` (SigCgt in
    /proc/PID/status), as the checks do: a signal sent before that would meet the default
    action, or one ignored by whoever started the benchmark."""
    want = 0
    for s in set(signals):
        want |= 1 << (s - 1)
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        with open(f"/proc/{pid}/status") as f:
            caught = next(int(ln.split()[1], 16) for ln in f if ln.startswith("SigCgt:"))
        if caught & want == want:
            return
        time.sleep(0.001)  # sleep: polling interval of an event wait (no event for sigaction)
    raise RuntimeError(f"pid {pid} did not install handlers for {list(signals)}")


def _dots(data: bytes) -> int:
    return sum(1 for line in data.split(b"\n")[:-1] if line.strip() == b".")


def _more_dots(have: int, data: bytes) -> bool:
    return _dots(data) > have


def _ex3(b: Path, w: Path) -> list[float]:
    def run(dots: int, signals: Sequence[signal.Signals], end: signal.Signals) -> float:
        t0 = time.perf_counter()
        proc = subprocess.Popen([str(b / "signals")], cwd=w, stdout=subprocess.PIPE)
        seen = bytearray()
        _catches(proc.pid, (*signals, end))
        _until(proc, lambda d: _dots(d) >= dots, seen)
        for sig in signals:  # each followed by the dot it must be followed by
            proc.send_signal(sig)
            _until(proc, functools.partial(_more_dots, _dots(bytes(seen))), seen)
        proc.send_signal(end)
        _until(proc, lambda d: False, seen)
        proc.wait()
        return time.perf_counter() - t0

    tstp = signal.SIGTSTP
    return [run(3, (), signal.SIGTERM), run(2, (tstp, tstp), signal.SIGTERM),
            run(0, (), signal.SIGINT), run(0, (), signal.SIGTERM),
            run(0, (), signal.SIGTERM)]  # fmt: skip


def _remove_ipc(key: int) -> None:
    import sysv_ipc

    for kind in (sysv_ipc.MessageQueue, sysv_ipc.SharedMemory):
        with contextlib.suppress(sysv_ipc.Error):  # ExistentialError is one
            kind(key).remove()


def _ex4(b: Path, w: Path) -> list[float]:
    c, s, r = (str(b / p) for p in ("creator", "sender", "receiver"))
    out = [_life([c], w)]
    _remove_ipc(1234)
    for _ in range(2):
        out += [_life([c], w), _life([s], w), _life([r], w)]
        _remove_ipc(1234)
    out.append(_life([c], w))
    t0 = time.perf_counter()
    receiver = subprocess.Popen([r], cwd=w, stdout=subprocess.PIPE)
    _life([s], w)  # within the receiver's lifetime: counted once, as part of it
    receiver.communicate()
    out.append(time.perf_counter() - t0)
    _remove_ipc(1234)
    out += [_life([s], w), _life([r], w)]
    _remove_ipc(1234)
    return out


def _ex5(b: Path, w: Path) -> list[float]:
    wr, rd = str(b / "writer"), str(b / "reader")
    out = [_life([wr, "hello segment"], w)]
    _remove_ipc(5678)
    out.append(_life([wr, "detach me"], w))
    _remove_ipc(5678)
    out += [_life([wr, "hello reader"], w), _life([rd], w)]
    _remove_ipc(5678)
    out.append(_life([rd], w))
    _remove_ipc(5678)
    return out


def _ex6(b: Path, w: Path) -> list[float]:
    original = bytes((i * 7 + 3) % 251 for i in range(6000))
    out = []
    for _ in range(3):
        (w / "data.bin").write_bytes(original)
        out.append(_life([str(b / "filemap"), "data.bin", "Hello mmap"], w))
    (w / "short.bin").write_bytes(b"abc")
    out.append(_life([str(b / "filemap"), "short.bin", "Hello mmap"], w))
    out += [_life([str(b / "forkmap"), n], w) for n in ("100000", "10", "100000")]
    return out


def _ex7(b: Path, w: Path) -> list[float]:
    out = [_life([str(b / "prodcons"), "20000"], w) for _ in range(5)]
    for prog in ("prodcons", "prodcons-O2"):
        out += [_life([str(b / prog), "20000"], w) for _ in range(5)]
    return out


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _connect(port: int, deadline: float) -> socket.socket:
    # the server's listen() is the event, and a connect the only way to see it from here:
    # a refused one is retried at once, yielding the CPU to the server (no fixed sleep)
    while True:
        try:
            return socket.create_connection(("127.0.0.1", port), timeout=5)
        except ConnectionRefusedError:
            if time.monotonic() > deadline:
                raise
            os.sched_yield()


def _ex8(b: Path, w: Path) -> list[float]:
    out = []
    for clients in (1, 2, 3, 1, 1):  # echo, in turn, closes, spin, restart
        port = _free_port()
        t0 = time.perf_counter()
        server = subprocess.Popen([str(b / "server"), str(port)], cwd=w)
        for _ in range(clients):
            with _connect(port, time.monotonic() + 5) as conn:
                conn.sendall(b"hello\n")
                conn.recv(4096)
        server.terminate()
        server.wait()
        out.append(time.perf_counter() - t0)
    port = _free_port()
    with socket.socket() as listener:  # an echo server for the client
        listener.bind(("127.0.0.1", port))
        listener.listen()
        t0 = time.perf_counter()
        client = subprocess.Popen([str(b / "client"), str(port), "hello"], cwd=w,
                                  stdout=subprocess.PIPE)  # fmt: skip
        conn, _ = listener.accept()
        with conn:
            conn.sendall(conn.recv(4096))
        client.communicate()
        out.append(time.perf_counter() - t0)
    out.append(_life([str(b / "client"), str(_free_port()), "anyone there?"], w))
    return out


SCENARIOS: dict[str, Callable[[Path, Path], list[float]]] = {
    "exercise1": _ex1, "exercise2": _ex2, "exercise3": _ex3, "exercise4": _ex4,
    "exercise5": _ex5, "exercise6": _ex6, "exercise7": _ex7, "exercise8": _ex8,
}  # fmt: skip


def lifetimes(exercise_id: str, built: Path) -> list[float]:
    """The lifetimes of the exercise's programs, run as its checks run them."""
    if exercise_id in _UNSHARED and shutil.which("unshare"):
        argv = ["unshare", "--user", "--map-root-user", "--ipc", sys.executable, __file__,
                exercise_id, str(built)]  # fmt: skip
        done = subprocess.run(argv, capture_output=True, text=True, check=False)
        if done.returncode == 0:
            got: list[float] = json.loads(done.stdout)
            return got
    with tempfile.TemporaryDirectory(prefix="ipcgrade-floor-") as work:
        return SCENARIOS[exercise_id](built, Path(work))


def measure(exercise_id: str, root: Path) -> dict[str, Any]:
    """gcc's time and the programs' lifetimes for reference/EXERCISE."""
    with tempfile.TemporaryDirectory(prefix="ipcgrade-floor-build-") as tmp:
        gcc_s, commands = compile_exercise(exercise_id, root / "reference" / exercise_id,
                                           Path(tmp))  # fmt: skip
        lives = lifetimes(exercise_id, Path(tmp))
    return {"gcc_s": gcc_s, "programs_s": sum(lives), "runs": len(lives),
            "floor_s": gcc_s + sum(lives), "gcc": commands}  # fmt: skip


if __name__ == "__main__":
    with tempfile.TemporaryDirectory(prefix="ipcgrade-floor-") as _work:
        print(json.dumps(SCENARIOS[sys.argv[1]](Path(sys.argv[2]), Path(_work))))
