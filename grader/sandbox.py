"""Limits, namespaces and guaranteed cleanup around student code.

Two sides. On the host, `run_worker()` starts the grade's worker (the pytest run) inside
fresh user, PID, IPC, network and mount namespaces made by util-linux's `unshare`, with a
scrubbed environment and a wall-clock watchdog that lives outside and kills the whole
namespace. Inside, `enter()` lays out the worker's view of the file system (size-capped
tmpfs on /tmp and /dev/shm, the scratch folder at /tmp/grade, the user's files out of view,
the rest read-only), and `preexec()` runs in each student process before exec: its own
session, rlimits, no capabilities. Where user namespaces are missing, the same calls give a
reduced isolation and say so.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import os
import resource
import shutil
import signal
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grader.catalog import Limits
from grader.process import Run, wait_exit
from grader.results import Isolation

NO_USERNS_ENV = "IPCGRADE_NO_USERNS"  # "1": grade as if user namespaces were unavailable
INSIDE_SCRATCH = Path("/tmp/grade")
NOBODY = 65534
SAFE_PATH = "/usr/local/bin:/usr/bin:/bin"
TMPFS_MB = 64

_UNSHARE = (
    "--user", "--map-root-user", "--pid", "--fork", "--kill-child", "--mount",
    "--propagation", "private", "--mount-proc", "--ipc", "--net",
)  # fmt: skip
_HIDDEN = ("/home", "/root", "/mnt", "/media", "/srv", "/opt", "/var/tmp", "/run/user")

_libc = ctypes.CDLL(None, use_errno=True)
_PR_SET_DUMPABLE = 4
_PR_CAPBSET_DROP = 24
_PR_SET_CHILD_SUBREAPER = 36
_PR_SET_NO_NEW_PRIVS = 38
_MS_RDONLY, _MS_NOSUID, _MS_NODEV, _MS_REMOUNT = 1, 2, 4, 32
_MS_BIND, _MS_REC = 4096, 16384
_AT_FDCWD, _AT_RECURSIVE = -100, 0x8000
_MOUNT_ATTR_RDONLY = 1
_SYS_MOUNT_SETATTR = 442  # the same number on every architecture (new syscalls are unified)


@dataclass(frozen=True)
class Capabilities:
    """What this machine offers the sandbox, detected once per process."""

    userns: bool
    why_not: str = ""  # why user namespaces are not used
    root: bool = False

    def isolation(self) -> Isolation:
        common = (
            "own session and process group per program",
            "rlimits: CPU, address space, processes, file size, open files, no core dumps",
            "wall-clock watchdog outside the sandbox",
            "output read with a byte cap",
            "scrubbed environment",
            "scratch folder holding only a copy of the submission",
            "stdin never the terminal",
        )
        if self.userns:
            return Isolation(
                level="full",
                layers=(
                    "user namespace",
                    "PID namespace",
                    "IPC namespace",
                    "network namespace (loopback only: no network, ports of its own)",
                    f"mount namespace: private {TMPFS_MB} MiB tmpfs on /tmp and /dev/shm, "
                    "home folders hidden, the rest read-only",
                    "no capabilities for student programs",
                    *((f"student programs run as uid {NOBODY} (nobody)",) if self.root else ()),
                    *common,
                ),
            )
        missing = (
            f"no user namespaces ({self.why_not}): student programs share this machine's "
            "processes, System V IPC objects, network and files",
        )
        extra = (f"student programs run as uid {NOBODY} (nobody)",) if self.root else ()
        return Isolation(level="reduced", layers=(*extra, *common), missing=missing)


@functools.cache
def detect() -> Capabilities:
    """Find out, cheaply (one `unshare` run, about 25 ms), which layers work here."""
    root = os.geteuid() == 0
    if os.environ.get(NO_USERNS_ENV, "") not in ("", "0"):
        return Capabilities(False, f"{NO_USERNS_ENV} is set", root)
    unshare = shutil.which("unshare")
    if unshare is None:
        return Capabilities(False, "util-linux's unshare is not installed", root)
    try:
        probe = subprocess.run(
            [unshare, *_UNSHARE, "--", "true"],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as e:
        return Capabilities(False, f"unshare failed: {e}", root)
    if probe.returncode != 0:
        msg = probe.stderr.decode(errors="replace").strip().splitlines()
        return Capabilities(False, msg[-1] if msg else f"unshare exited {probe.returncode}", root)
    return Capabilities(True, "", root)


# ---- host side ---------------------------------------------------------------------


@dataclass(frozen=True)
class WorkerExit:
    returncode: int
    timed_out: bool
    duration_s: float
    log: str  # the worker's own stdout and stderr (harness messages, never student output)


def worker_env() -> dict[str, str]:
    """The worker's whole environment: nothing of the user's (no tokens, no variables)."""
    return {"PATH": SAFE_PATH, "LANG": "C.UTF-8", "HOME": "/nonexistent"}


def worker_argv(job: Path, caps: Capabilities, package: Path) -> list[str]:
    from grader.worker import BOOT

    # -I: no script folder (the worker runs in a student-writable one), no user site, no
    # PYTHON* variables: the path to grader is given on the command line
    python = [sys.executable, "-I", "-c", BOOT, str(package.resolve().parent.parent), str(job)]
    if caps.userns:
        unshare = shutil.which("unshare") or "unshare"
        if caps.root:  # the user namespace is made, and mapped, by run_worker()
            return [unshare, *_UNSHARE[2:], "--", *python]
        return [unshare, *_UNSHARE, "--", *python]
    return python


_CLONE_NEWUSER = 0x10000000
# As root, the grade's user namespace maps two uids: 0 for the worker and 65534 for the
# students, so that student code is nobody there and on the host (util-linux's
# --map-users needs newuidmap and an /etc/subuid entry, which root usually lacks).
_ROOT_MAP = f"0 0 1\n{NOBODY} {NOBODY} 1\n"


class _UserNamespace:
    """A child that unshares its user namespace in preexec; the parent maps its uids."""

    def __init__(self) -> None:
        self.ready_r, self.ready_w = os.pipe()
        self.go_r, self.go_w = os.pipe()
        self.error = ""
        self._thread = threading.Thread(target=self._map, daemon=True)
        self._thread.start()

    def preexec(self) -> None:
        _die_with_grader()
        if _libc.unshare(_CLONE_NEWUSER) != 0:
            os._exit(125)
        os.write(self.ready_w, str(os.getpid()).encode())
        if os.read(self.go_r, 1) != b"y":
            os._exit(125)

    def _map(self) -> None:
        answer = b"n"
        try:
            pid = int(os.read(self.ready_r, 32) or b"0")
            if pid:
                for name in ("uid_map", "gid_map"):
                    Path(f"/proc/{pid}/{name}").write_text(_ROOT_MAP)
                answer = b"y"
        except (OSError, ValueError) as e:
            self.error = str(e)
        finally:
            os.write(self.go_w, answer)

    def close(self) -> None:
        for fd in (self.ready_w, self.go_r):  # the child's ends: unblocks the thread
            with contextlib.suppress(OSError):
                os.close(fd)
        self._thread.join(5)
        for fd in (self.ready_r, self.go_w):
            with contextlib.suppress(OSError):
                os.close(fd)


def run_worker(
    job: Path,
    caps: Capabilities,
    timeout_s: float,
    log_path: Path,
    package: Path,
    result_fd: int,
) -> WorkerExit:
    """Run the grade's worker and wait for it, killing the whole sandbox at `timeout_s`."""
    start = time.monotonic()
    env = worker_env()
    userns = _UserNamespace() if caps.userns and caps.root else None
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            worker_argv(job, caps, package),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env=env,
            close_fds=True,
            preexec_fn=userns.preexec if userns else _die_with_grader,  # dies with the grader
            # the results file, opened here: a file opened for writing inside the new mount
            # namespace would keep its mounts from becoming read-only (EBUSY)
            pass_fds=(result_fd,),
        )
        if userns is not None:
            userns.close()
        timed_out = False
        try:
            wait_exit(proc.pid, timeout_s)
            proc.wait(timeout=0.5)
        except subprocess.TimeoutExpired:
            timed_out = True
        finally:
            _kill_everything(proc.pid)
            proc.wait()
    text = (read_private(log_path) or "")[-20000:]
    return WorkerExit(proc.returncode, timed_out, time.monotonic() - start, text)


def _die_with_grader() -> None:
    _libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG


def read_private(path: Path, cap: int = 64 * 2**20) -> str | None:
    """A file the worker wrote, read without following links and with a size cap."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
            return None
        data = f.read(cap)
    return data.decode("utf-8", errors="replace") or None


def _kill_everything(pid: int) -> None:
    """Kill the worker, its process group and every descendant it still has.

    With namespaces, killing `unshare` and its child (the namespace's init) ends every
    process inside. Without, students live in sessions of their own: collect the
    descendants first (the worker is their subreaper), then kill them all.
    """
    import psutil

    try:
        victims = psutil.Process(pid).children(recursive=True)
    except psutil.Error:
        victims = []
    for sig in (signal.SIGSTOP, signal.SIGKILL):  # stop first: no new forks while we kill
        for p in victims:
            with contextlib.suppress(psutil.Error):
                p.send_signal(sig)
    with contextlib.suppress(OSError):
        os.killpg(pid, signal.SIGKILL)


# ---- inside the sandbox ------------------------------------------------------------


def _mount(src: str | None, target: str, fstype: str | None, flags: int, data: str = "") -> None:
    rc = _libc.mount(
        src.encode() if src else None,
        target.encode(),
        fstype.encode() if fstype else None,
        ctypes.c_ulong(flags),
        data.encode() if data else None,
    )
    if rc != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"mount {target}: {os.strerror(err)}")


# The grade's IPC namespace may not hold more than this: a segment cannot take the machine's
# memory (tmpfs-backed shared memory counts against the host, not the grade).
IPC_LIMITS = {
    "shmmax": 64 * 2**20,  # bytes in one segment
    "shmall": 64 * 2**20 // 4096,  # pages in all segments
    "shmmni": 64,  # segments
    "msgmni": 32,  # queues
    "msgmnb": 65536,  # bytes in one queue
    "msgmax": 8192,  # bytes in one message
    "semmni": 32,  # semaphore sets
}


def _cap_ipc_namespace() -> list[str]:
    missing = []
    for name, value in IPC_LIMITS.items():
        path = Path("/proc/sys/kernel") / name
        try:
            if name == "semmni":  # "semmsl semmns semopm semmni"
                fields = path.with_name("sem").read_text().split()
                fields[3] = str(value)
                path.with_name("sem").write_text(" ".join(fields))
            else:
                path.write_text(str(value))
        except (OSError, IndexError) as e:
            missing.append(f"IPC limit {name} ({e})")
    return missing


def _loopback_up() -> list[str]:
    """The grade's network namespace has only `lo`, down: bring it up for socket exercises."""
    import fcntl
    import socket
    import struct

    siocgifflags, siocsifflags, iff_up = 0x8913, 0x8914, 0x1
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            req = struct.pack("16sH14x", b"lo", 0)
            flags = struct.unpack("16sH14x", fcntl.ioctl(s, siocgifflags, req))[1]
            fcntl.ioctl(s, siocsifflags, struct.pack("16sH14x", b"lo", flags | iff_up))
    except OSError as e:
        return [f"loopback in the network namespace ({e})"]
    return []


class _MountAttr(ctypes.Structure):
    _fields_ = (
        ("attr_set", ctypes.c_uint64),
        ("attr_clr", ctypes.c_uint64),
        ("propagation", ctypes.c_uint64),
        ("userns_fd", ctypes.c_uint64),
    )


def _read_only_everything() -> bool:
    attr = _MountAttr(_MOUNT_ATTR_RDONLY, 0, 0, 0)
    rc = _libc.syscall(
        _SYS_MOUNT_SETATTR,
        ctypes.c_int(_AT_FDCWD),
        b"/",
        ctypes.c_uint(_AT_RECURSIVE),
        ctypes.byref(attr),
        ctypes.c_size_t(ctypes.sizeof(attr)),
    )
    return bool(rc == 0)


def _under(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip("/") + "/")


_inside = False  # set by enter(): this process is the worker inside the grade's namespaces


def enter(scratch: Path, keep: Iterable[str], hide: Iterable[str]) -> list[str]:
    """Lay out the worker's file system inside its fresh mount namespace.

    Args:
        scratch: the host scratch folder; it appears at /tmp/grade, writable.
        keep: folders the worker needs (Python, the grader, the exercises): kept visible,
            read-only, even inside a hidden folder.
        hide: more folders to hide (the source checkout's reference/, other students).

    Returns the layers that could not be set up (empty when all worked).
    """
    global _inside
    _inside = True
    missing: list[str] = []
    keep_paths = sorted({os.path.realpath(k) for k in keep if os.path.isdir(k)})
    held = {k: os.open(k, os.O_PATH | os.O_DIRECTORY) for k in keep_paths}
    scratch_fd = os.open(scratch, os.O_PATH | os.O_DIRECTORY)
    missing.extend(_cap_ipc_namespace())
    missing.extend(_loopback_up())
    if not _read_only_everything():
        missing.append("read-only root (mount_setattr unavailable)")
    flags = _MS_NOSUID | _MS_NODEV

    def cover(folder: str, options: str) -> None:
        """A fresh tmpfs over `folder`, with the kept folders under it bound back read-only."""
        _mount("tmpfs", folder, "tmpfs", flags, options)
        for k in keep_paths:
            if _under(k, folder) and k != folder:
                os.makedirs(k, exist_ok=True)
                _mount(f"/proc/self/fd/{held[k]}", k, None, _MS_BIND | _MS_REC)
                _mount(None, k, None, _MS_REMOUNT | _MS_BIND | _MS_RDONLY | flags)

    cover("/tmp", f"size={TMPFS_MB}m,mode=1777")
    INSIDE_SCRATCH.mkdir()
    _mount(f"/proc/self/fd/{scratch_fd}", str(INSIDE_SCRATCH), None, _MS_BIND | _MS_REC)
    _mount(None, str(INSIDE_SCRATCH), None, _MS_REMOUNT | _MS_BIND | flags)
    if os.path.isdir("/dev/shm"):
        _mount("tmpfs", "/dev/shm", "tmpfs", flags, f"size={TMPFS_MB}m,mode=1777")
    folders = [h for h in (*_HIDDEN, *hide) if os.path.isdir(h) and not _under(h, "/tmp")]
    for folder in sorted(set(folders), key=len):
        if any(_under(folder, other) and other != folder for other in folders):
            continue  # hidden already with its parent
        cover(folder, "size=1m,mode=755")
    for fd in (*held.values(), scratch_fd):
        os.close(fd)
    return missing


def become_subreaper() -> None:
    """Orphaned student processes become the worker's children: it can find and kill them."""
    _libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


def protect_worker() -> None:
    """No ptrace of the worker by student code of the same uid; ignore stray signals."""
    _libc.prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0)
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT):
        signal.signal(sig, signal.SIG_IGN)


def student_env(home: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {"PATH": SAFE_PATH, "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "HOME": str(home)}
    env.update(extra or {})
    return env


def _cap_last() -> int:
    try:
        return int(Path("/proc/sys/kernel/cap_last_cap").read_text())
    except (OSError, ValueError):
        return 40


_CAP_LAST = _cap_last()


def _nproc_budget(processes: int, caps: Capabilities) -> int:
    """RLIMIT_NPROC counts every process of the uid, not only the grade's.

    Inside a user namespace the count starts afresh; outside, the student shares a uid with
    the user's other processes (or with other nobody processes), so they are added.
    """
    if caps.userns:
        return processes
    uid = NOBODY if caps.root else os.getuid()
    mine = 0
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                mine += entry.stat().st_uid == uid
    return mine + processes


def preexec(
    limits: Limits, caps: Capabilities, *, new_session: bool = True, umask: int = 0o022
) -> Callable[[], None]:
    """What runs in each student process between fork and exec (async-signal-safe enough).

    Own session and process group, default signal dispositions, rlimits, umask 022, no
    capabilities (inside the user namespace it would otherwise be root there), and, as real
    root without namespaces, the nobody uid.
    """
    mb = 1024 * 1024
    rlimits = (
        (resource.RLIMIT_CPU, limits.cpu_s),
        (resource.RLIMIT_AS, limits.memory_mb * mb),
        (resource.RLIMIT_NPROC, _nproc_budget(limits.processes, caps)),
        (resource.RLIMIT_FSIZE, limits.file_mb * mb),
        (resource.RLIMIT_NOFILE, limits.open_files),
        (resource.RLIMIT_CORE, 0),
    )
    # A terminal's launcher is Python, which nobody may not be able to run (a pyenv under
    # /root): it drops to nobody itself, in the child, just before exec.
    drop_uid = caps.root and new_session
    # ... and it needs its capabilities for that: setuid() then clears them all (with
    # no_new_privs, nothing gives them back).
    keep_caps = caps.root and not new_session

    def _child() -> None:
        if new_session:  # a pty child already leads its own session (pexpect did it)
            os.setsid()
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT):
            signal.signal(sig, signal.SIG_DFL)
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
        os.umask(umask)
        for which, value in rlimits:
            resource.setrlimit(which, (value, value))
        for cap in range(0 if keep_caps else _CAP_LAST + 1):  # needs CAP_SETPCAP: while root
            _libc.prctl(_PR_CAPBSET_DROP, cap, 0, 0, 0)
        if drop_uid:
            os.setgroups([])
            os.setgid(NOBODY)
            os.setuid(NOBODY)
        _libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)

    return _child


def hand_to_students(folder: Path, caps: Capabilities) -> None:
    """As real root, give the scratch folder to the nobody uid that student code runs as."""
    if not caps.root:
        return
    for dirpath, dirnames, filenames in os.walk(folder):
        for name in (*dirnames, *filenames):
            os.lchown(os.path.join(dirpath, name), NOBODY, NOBODY)
    os.chown(folder, NOBODY, NOBODY)


# ---- one check's processes ---------------------------------------------------------


class Sandbox:
    """The processes one check starts, in a fresh working folder; all killed at the end."""

    def __init__(
        self, workdir: Path, limits: Limits, caps: Capabilities, *, home: Path | None = None
    ) -> None:
        self.workdir = workdir
        self.limits = limits
        self.caps = caps
        self.home = home or workdir
        self.log: list[str] = []
        self.warnings: list[str] = []
        self.since = int(time.time())  # IPC objects created from now on are this check's
        self.runs: list[Run] = []
        workdir.mkdir(parents=True, exist_ok=True)
        hand_to_students(workdir, caps)

    def note(self, line: str) -> None:
        self.log.append(line)

    def warn(self, text: str) -> None:
        """Advice shown with the check's result that does not fail it."""
        self.warnings.append(text)

    def stops(self) -> list[str]:
        """What the sandbox stopped, in plain words, for the check's message."""
        return [f"the sandbox stopped {r.name} (pid {r.pid}): it {r.stopped_for}"
                for r in self.runs if r.stopped_for]  # fmt: skip

    def path(self, name: str) -> Path:
        return self.workdir / name

    def start(
        self,
        argv: Sequence[str],
        *,
        cwd: Path | None = None,
        env: dict[str, str] | None = None,
        limits: Limits | None = None,
        umask: int = 0o022,
        trace: Sequence[str] = (),
        **kwargs: Any,
    ) -> Run:
        """Start `argv` as a student process: own session, rlimits, scrubbed environment.

        Args:
            trace: system calls to record with strace (`run.calls()` reads them).
        """
        lim = limits or self.limits
        trace_path = None
        if trace:
            from grader import trace as tracing

            traces = self.workdir.parent / f".{self.workdir.name}-traces"
            traces.mkdir(exist_ok=True)
            hand_to_students(traces, self.caps)  # strace runs as the student
            trace_path = traces / f"{len(self.runs)}.strace"
            argv = tracing.wrap(argv, kwargs.pop("executable", None), trace_path, trace)
        hand_to_students(self.workdir, self.caps)  # files the check wrote there, too
        run = Run(
            argv,
            cwd=cwd or self.workdir,
            env=student_env(self.home, env),
            preexec_fn=preexec(
                lim, self.caps, new_session=not kwargs.get("pty", False), umask=umask
            ),
            run_as=NOBODY if self.caps.root else None,
            cpu_limit_s=lim.cpu_s,
            output_cap=lim.output_kb * 1024,
            wall_s=lim.wall_s,
            **kwargs,
        )
        run.trace_path = trace_path
        self.runs.append(run)
        shown = " ".join(a if len(a) < 60 else a[:40] + "…" for a in argv[:8])
        self.note(f"started {shown} as pid {run.pid}")
        return run

    def cleanup(self) -> None:
        """Kill every process the check started, and what they started; reap them."""
        for run in self.runs:
            run.kill_group()
        _kill_stragglers()
        for run in self.runs:
            run.close()
        _reap_orphans()
        remove_ipc_objects(self.caps, since=self.since)


def _kill_stragglers() -> None:
    """Kill what escaped its process group (setsid, double fork): the worker's descendants."""
    import psutil

    me = os.getpid()
    try:
        victims = psutil.Process(me).children(recursive=True)
    except psutil.Error:
        return
    for sig in (signal.SIGSTOP, signal.SIGKILL):
        for p in victims:
            with contextlib.suppress(psutil.Error):
                p.send_signal(sig)


def _reap_orphans() -> None:
    """Collect zombies adopted by the worker (it is their init or subreaper)."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def remove_ipc_objects(caps: Capabilities, since: int | None = None) -> None:
    """Remove the System V objects the grade made.

    Inside the grade's own IPC namespace, every object is the grade's: all go. Without
    namespaces (reduced isolation, where fixed-key grades are serialized by a lock), the
    objects of the student's uid created since `since` go. Never anything else: outside a
    grade, the objects are the machine's.
    """
    import sysv_ipc

    if caps.userns and not _inside:
        return
    owner = NOBODY if caps.root else os.getuid()

    removers = {
        "msg": sysv_ipc.remove_message_queue,
        "shm": sysv_ipc.remove_shared_memory,
        "sem": sysv_ipc.remove_semaphore,
    }
    for name, remove in removers.items():
        try:
            with open(f"/proc/sysvipc/{name}") as f:
                header = f.readline().split()
                rows = [dict(zip(header, line.split(), strict=False)) for line in f if line.strip()]
        except OSError:
            continue
        ids = [
            int(r[header[1]]) for r in rows
            if caps.userns
            or (since is not None and int(r["uid"]) == owner and int(r["ctime"]) >= since)
        ]  # fmt: skip
        for ident in ids:
            with contextlib.suppress(sysv_ipc.Error, OSError):
                remove(ident)
