"""Checks that look at the sandbox from inside the worker; run by tests/test_sandbox.py."""

from __future__ import annotations

import errno
import os
import socket
from pathlib import Path

from grader import Grade, Program

SECRET = "IPCGRADE_TEST_SECRET"


def test_init_environment_is_scrubbed(grade: Grade) -> None:
    names = {
        kv.split(b"=", 1)[0].decode()
        for kv in Path("/proc/1/environ").read_bytes().split(b"\0")
        if kv
    }
    assert SECRET not in names
    assert names <= {"PATH", "LANG", "HOME"}, names


def test_student_environment_is_scrubbed(program: Program) -> None:
    run = program.run(env=None)
    env = program.sandbox.start(["/usr/bin/env"])
    env.finish(5)
    names = {line.split("=", 1)[0] for line in env.text().splitlines()}
    assert names <= {"PATH", "LANG", "LC_ALL", "HOME"}, names
    assert run.exit is not None
    assert run.exit.code == 0


def test_student_has_no_capabilities(program: Program) -> None:
    run = program.run()
    caps = dict(line.split(":", 1) for line in run.text().splitlines() if line.startswith("Cap"))
    assert int(caps["CapEff"], 16) == 0, caps
    assert int(caps["CapBnd"], 16) == 0, caps


def test_own_pid_namespace(grade: Grade) -> None:
    assert os.getpid() == 1
    assert all(int(p) < 1000 for p in os.listdir("/proc") if p.isdigit())


def test_private_tmp_and_shm() -> None:
    for folder in ("/tmp", "/dev/shm"):
        st = os.statvfs(folder)
        assert st.f_blocks * st.f_frsize <= 64 * 2**20, folder
    others = [p for p in os.listdir("/tmp") if p.startswith("ipcgrade-")]
    assert others == [], others


def test_user_files_out_of_view(grade: Grade) -> None:
    for folder in ("/home", "/root"):
        if os.path.isdir(folder):
            visible = [p for p in os.listdir(folder) if not Path(folder, p).is_dir()]
            assert visible == [], (folder, visible)
    root = Path(__file__).resolve().parents[2]
    assert not (root / "reference" / "exercise1" / "copy.c").exists()


def test_rest_is_read_only() -> None:
    for path in ("/usr/ipcgrade-probe", "/etc/ipcgrade-probe"):
        try:
            Path(path).write_text("x")
        except OSError as e:
            refused = e.errno
        else:
            os.unlink(path)
            raise AssertionError(f"could write {path}")
        assert refused in (errno.EROFS, errno.EACCES), refused


def test_no_network() -> None:
    s = socket.socket()
    try:
        s.settimeout(2)
        assert s.connect_ex(("127.0.0.1", 22)) != 0
    finally:
        s.close()


def test_own_ipc_namespace() -> None:
    for kind in ("msg", "shm", "sem"):
        lines = Path(f"/proc/sysvipc/{kind}").read_text().splitlines()
        assert len(lines) <= 1, (kind, lines)


def test_ipc_namespace_limits_are_capped() -> None:
    assert int(Path("/proc/sys/kernel/shmmax").read_text()) == 64 * 2**20
    assert int(Path("/proc/sys/kernel/msgmni").read_text()) == 32


def test_loopback_is_up_and_private() -> None:
    server = socket.socket()
    try:
        server.bind(("127.0.0.1", 8080))  # a fixed port: the namespace is the grade's own
        server.listen(1)
        client = socket.create_connection(("127.0.0.1", 8080), timeout=2)
        client.close()
    finally:
        server.close()


def test_student_cannot_read_root_only_files(program: Program) -> None:
    if not os.path.exists("/etc/shadow"):
        return
    run = program.sandbox.start(["cat", "/etc/shadow"])
    run.finish(5)
    assert run.exit is not None
    assert run.exit.code != 0, "a student program read /etc/shadow"
    assert not run.stdout
