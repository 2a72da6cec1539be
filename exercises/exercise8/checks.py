"""exercise8 `sockets`: a TCP echo server and its client, seen in the kernel's socket table."""

from __future__ import annotations

import secrets
import signal
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from grader import Failed, Mismatch, Program, Run, evidence, inspection

LECTURE = "Socket"
CLIENTS = 21
TEXT = "hello sockets"
WINDOW_S = 0.2  # how long a server with no client is watched
BUSY_S = 0.06  # seconds running or ready to run, in that window, that mean it spins (30 %)


def _free_port() -> int:
    """A port nobody uses: in the grade's own network namespace, or on a shared machine."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def port() -> int:
    return _free_port()


def _listens(run: Run, port: int) -> bool:
    return any(s.local[1] == port for s in inspection.sockets.listening(run.pid))


def _server(program: Program, port: int) -> Run:
    """Start the server and wait until it listens on `port` (seen in the socket table)."""
    run = program.start(str(port))
    run.wait_for(predicate=lambda: inspection.sockets.listening(run.pid), exit=True, within_s=5)
    if _listens(run, port):
        return run
    elsewhere = inspection.sockets.listening(run.pid) if run.alive else ()
    if elsewhere:
        raise Failed(
            f"server {port} listens on {elsewhere[0].describe()}, not on port {port}: a "
            "client connecting to the port it was given finds nobody",
            hint="addr.sin_port = htons(atoi(argv[1])); bind to that port",
            lecture=LECTURE,
            kind="wrong-port",
        )
    raise Failed(
        f"server {port} never listened on port {port}: it {run.ended()}",
        actual=run.text("stderr") or None,
        hint="socket(AF_INET, SOCK_STREAM, 0), bind to 127.0.0.1:PORT, listen(fd, 5)",
        lecture=LECTURE,
        kind="never-listens",
    )


def _connect(port: int, server: Run | None = None, n: int = 1) -> socket.socket:
    """A connection to the student's server; a refused one is the server's failure."""
    try:
        return socket.create_connection(("127.0.0.1", port), timeout=5)
    except OSError as e:
        state = f": the server {server.ended()}" if server is not None and not server.alive else ""
        raise Failed(
            f"client {n} could not connect to 127.0.0.1:{port} ({e.strerror or e}){state}",
            hint="the server goes back to accept() after each client, forever",
            lecture=LECTURE,
            kind="connection-refused",
        ) from e


def _echo(s: socket.socket, line: bytes) -> bytes:
    """Send `line`, read until its newline comes back (or the server closes or stalls)."""
    got = b""
    try:
        s.sendall(line)
        while b"\n" not in got:  # a line came back (and maybe more: the check judges)
            chunk = s.recv(4096)
            if not chunk:
                break
            got += chunk
    except OSError:  # reset, timeout: the caller judges what came back
        pass
    return got


def _accepts(run: Run) -> bool:
    """The server is asleep in accept(), waiting for the next client."""
    w = inspection.blocking.wait_of(run.pid)
    return w.state == "S" and w.call in ("accept", "accept4")


def _fd_count(pid: int) -> int:
    return len(inspection.fds(pid))


def test_server_listens_on_port(programs: dict[str, Program], port: int) -> None:
    """server PORT listens on 127.0.0.1:PORT (seen in the kernel's socket table)"""
    _server(programs["server"], port)


def test_server_echoes_lines(programs: dict[str, Program], port: int) -> None:
    """the server sends back every line of a connection"""
    _server(programs["server"], port)
    with _connect(port) as s:
        for line in (b"hello\n", b"a second, longer line\n", b"third\n"):
            got = _echo(s, line)
            if got != line:
                raise Mismatch(
                    repr(line),
                    repr(got),
                    "the server did not echo the line back",
                    hint="write back exactly the bytes read, until read returns 0",
                    lecture=LECTURE,
                    kind="no-echo" if not got else "echo-differs",
                )


def test_server_serves_clients_in_turn(programs: dict[str, Program], port: int) -> None:
    """the server serves one client after another"""
    server = _server(programs["server"], port)
    for n in (1, 2, 3):
        if not server.alive:
            raise Failed(
                f"the server served {n - 1} client(s) and then {server.ended()}: it served one "
                "client and exited, where it must go back to accept() for the next",
                hint="loop: while (1) { c = accept(...); echo until read returns 0; close(c); }",
                lecture=LECTURE,
                kind="serves-one-client",
            )
        with _connect(port, server, n) as s:
            if _echo(s, b"ping\n") != b"ping\n":
                raise Failed(
                    f"client {n} got no echo"
                    + (f": the server {server.ended()}" if not server.alive else ""),
                    lecture=LECTURE,
                    kind="no-echo",
                )
        # did it leave after that client? At most 0.2 s to end, or to be back in accept()
        server.wait_for(predicate=lambda: _accepts(server), exit=True, within_s=0.2)


def test_server_closes_each_connection(programs: dict[str, Program], port: int) -> None:
    """the server's descriptors stay the same after many clients (each connection closed)"""
    server = _server(programs["server"], port)
    before = _fd_count(server.pid)
    for n in range(1, CLIENTS + 1):
        if not server.alive:
            pytest.skip(f"needs a server that serves {CLIENTS} clients (it {server.ended()})")
        with _connect(port, server, n) as s:
            if _echo(s, b"x\n") != b"x\n":  # a connection never served proves nothing
                pytest.skip(f"needs a server that echoes each client: client {n} of {CLIENTS} "
                            "got no echo back")  # fmt: skip
    if server.wait_for(predicate=lambda: _fd_count(server.pid) <= before, exit=True,
                       within_s=3) and server.alive:  # fmt: skip
        return
    if not server.alive:
        pytest.skip(f"needs a server that serves {CLIENTS} clients (it {server.ended()})")
    after = _fd_count(server.pid)
    raise Failed(
        f"the server's fd count grew from {before} to {after} after {CLIENTS} clients: the "
        "descriptor accept() returns for each connection is never closed, so a long-running "
        "server runs out of descriptors",
        hint="close(client_fd) when read() returns 0",
        lecture=LECTURE,
        evidence=[evidence.fds(inspection.snapshot(pids=[server.pid]), server.pid)],
        kind="connection-fd-not-closed",
    )


def test_server_does_not_spin(programs: dict[str, Program], port: int) -> None:
    """once its client has left, the server waits asleep (it does not spin on read)"""
    server = _server(programs["server"], port)
    with _connect(port) as s:
        if _echo(s, b"bye\n") != b"bye\n":  # never served: there was no client to leave
            pytest.skip("needs a server that echoes a client: it sent no echo of its line")
    # let it notice that the client left: at most 0.2 s to be back in accept() (one that
    # spins on read() never is)
    server.wait_for(predicate=lambda: _accepts(server), exit=True, within_s=0.2)
    busy = server.busy(WINDOW_S, past_s=BUSY_S) if server.alive else None
    if busy is None:
        pytest.skip(f"needs a server that goes on after its client (it {server.ended()})")
    used, watched_s = busy
    if used > BUSY_S:
        raise Failed(
            f"after its client left, the server (pid {server.pid}) wanted a CPU for "
            f"{used:.2f} s of {watched_s:.2f} s: read() returns 0 at end of file, and a loop "
            "that goes on reading spins, burning a CPU for nothing",
            hint="when read() returns 0, the client has closed: close the connection and go "
            "back to accept()",
            lecture=LECTURE,
            kind="spins-on-end-of-file",
        )


def test_server_restarts_with_open_connection(programs: dict[str, Program], port: int) -> None:
    """a server restarted while a connection is still open can bind its port (SO_REUSEADDR)"""
    first = _server(programs["server"], port)
    with _connect(port) as s:
        if _echo(s, b"still here\n") != b"still here\n":  # never accepted: no open connection
            pytest.skip("needs a server that echoes a client, to restart it while that "
                        "connection is open: it sent no echo of its line")  # fmt: skip
        first.signal(signal.SIGKILL)
        first.wait_for(exit=True, within_s=5)
        second = programs["server"].start(str(port))
        if second.wait_for(predicate=lambda: _listens(second, port), exit=True, within_s=5) \
                and _listens(second, port):  # fmt: skip
            return
    said = second.text("stderr")
    raise Failed(
        f"restarted while a connection was still open, the server {second.ended()} without "
        "listening"
        + (': "Address already in use"' if "in use" in said.lower() else "")
        + f". The old connection keeps port {port} busy for a while after the server died; "
        "SO_REUSEADDR lets a new server bind it at once",
        actual=said or None,
        hint="int one = 1; setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one); "
        "before bind()",
        lecture=LECTURE,
        kind="no-reuseaddr" if "in use" in said.lower() else "restart-fails",
    )


def _disguise(line: bytes) -> bytes:
    """`line` with each letter replaced by a random one (spaces, newline and length kept):
    a reply the client cannot know beforehand, read the way an echo is."""
    while True:
        out = bytes(secrets.choice(_LETTERS) if chr(b).isalpha() else b for b in line)
        if out != line or not any(chr(b).isalpha() for b in line):
            return out


_LETTERS = b"abcdefghijklmnopqrstuvwxyz"


@dataclass
class _Exchange:
    """What the grader's server got from the client, and the answer it sent back."""

    received: bytes = b""
    sent: bytes = b""
    over: threading.Event = field(default_factory=threading.Event)


def _answer_once(listener: socket.socket, exchange: _Exchange) -> None:
    """The grader's server: reads one line, sends back `_disguise(line)`, closes."""
    try:
        conn, _ = listener.accept()
        with conn:
            conn.settimeout(5)
            data = b""
            while not data.endswith(b"\n"):
                chunk = conn.recv(4096)
                if not chunk:
                    break
                data += chunk
            exchange.received, exchange.sent = data, _disguise(data)
            conn.sendall(exchange.sent)
    except OSError:
        pass
    finally:
        exchange.over.set()


@pytest.fixture
def answering(port: int) -> Iterator[_Exchange]:
    """The grader's server listening on `port`, answering one client once."""
    exchange = _Exchange()
    with socket.create_server(("127.0.0.1", port), backlog=1) as listener:  # SO_REUSEADDR
        listener.settimeout(10)
        helper = threading.Thread(target=_answer_once, args=(listener, exchange), daemon=True)
        helper.start()
        yield exchange
    helper.join(5)


def test_client_prints_the_echo(programs: dict[str, Program], port: int,
                                answering: _Exchange) -> None:  # fmt: skip
    """client PORT TEXT prints the line the server sends back, and exits 0"""
    run = programs["client"].run(str(port), TEXT, within_s=10)
    answering.over.wait(5)  # the exchange is over once the client has gone
    got = answering.received
    reply = answering.sent.decode(errors="replace").rstrip("\n")
    lines = run.text().splitlines()
    # the grader's server does not echo: it answers with TEXT's letters changed, a line
    # only a client that reads its socket and prints what came back can show
    about = (
        f"The grader's server answered {TEXT!r} with {reply!r} (the same length, its "
        "letters changed, so that only a client that prints what it read can show it)"
    )
    if TEXT in lines and reply != TEXT:
        raise Failed(
            f"the client printed {TEXT!r}, its own argument, not the line the server sent "
            f"back. {about}: whatever the client read, it did not print it",
            actual=run.text() or None,
            hint="read() from the socket until the \\n comes back, and print those bytes",
            lecture=LECTURE,
            kind="prints-own-argument",
        )
    if not reply or reply not in lines or not run.succeeded:
        raise Mismatch(
            f"{reply or TEXT} (then exit status 0)",
            (run.text() or "(nothing)") + f" — {run.ended()}",
            "the client did not print the line the server sent back and exit 0"
            + (f". {about}" if reply else f": the server got {got!r} from it"),
            hint="send TEXT and \\n, read until the \\n comes back, print it, close",
            lecture=LECTURE,
            kind="reply-not-printed",
        )
    if TEXT.encode() not in got:
        raise Failed(
            f"the client printed the server's answer, but the server got {got!r} from it, "
            f"not {TEXT!r} and a newline",
            hint="send TEXT and \\n to the server, then print what read() gives back",
            lecture=LECTURE,
            kind="sends-wrong-line",
        )


def test_client_without_server_fails(programs: dict[str, Program], port: int) -> None:
    """client with no server: an error message and a non-zero status"""
    run = programs["client"].run(str(port), "anyone there?", within_s=10)
    if run.exit is not None and run.exit.signal == signal.SIGPIPE:
        raise Failed(
            "with no server, the client was killed by SIGPIPE: connect() failed, was not "
            "checked, and writing on the unconnected socket raised SIGPIPE",
            hint='if (connect(...) < 0) { perror("connect"); exit(1); }',
            lecture=LECTURE,
            kind="connect-not-checked",
        )
    why = run.reported_failure()
    if why is not None:
        raise Failed(
            f"with no server, the client did not report that it could not connect: {why}",
            actual=run.text("stderr") or None,
            hint='check connect(): if it returns -1, perror("connect") and exit(1)',
            lecture=LECTURE,
            kind="connect-failure-not-reported",
        )
