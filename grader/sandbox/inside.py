"""Inside the namespaces: the worker's view of the file system, network and IPC limits."""

from __future__ import annotations

import ctypes
import os
import shutil
import signal
from collections.abc import Iterable
from pathlib import Path

from grader.sandbox import mounts
from grader.sandbox.detect import _PR_SET_CHILD_SUBREAPER, _PR_SET_DUMPABLE, TMPFS_MB, _libc
from grader.sandbox.mounts import (
    MS_BIND,
    MS_NODEV,
    MS_NOSUID,
    MS_RDONLY,
    MS_REC,
    MS_REMOUNT,
    mount,
    under,
)

INSIDE_SCRATCH = Path("/tmp/grade")
_HIDDEN = ("/home", "/root", "/mnt", "/media", "/srv", "/opt", "/var/tmp", "/run/user")

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


_inside = False  # set by enter(): this process is the worker inside the grade's namespaces

# What the grade's root holds besides the kept folders: the system's programs and libraries
# (and, as symbolic links where they are links, /bin, /lib...), /etc, /proc and /sys; and a
# /dev of its own (_make_dev).
_ROOT_ENTRIES = ("usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32", "etc", "proc", "sys")
_DEVICES = ("null", "zero", "full", "random", "urandom", "tty")
_SYS_PIVOT_ROOT = {"x86_64": 155, "aarch64": 41, "riscv64": 41, "ppc64le": 203, "s390x": 217}
_MNT_DETACH = 2
NO_PIVOT_ENV = "IPCGRADE_NO_PIVOT"  # "1": no root of its own (the fallback, for tests)
NO_SETATTR_ENV = "IPCGRADE_NO_MOUNT_SETATTR"  # "1": read-only by remounts (as before 5.12)
_HOLD = "/.hold"


def entered() -> bool:
    return _inside


def enter(
    scratch: Path,
    keep: Iterable[str],
    hide: Iterable[str] = (),
    *,
    own_root: bool = True,
    keep_scratch: bool = False,
    by_remounts: bool = False,
) -> list[str]:
    """Lay out the worker's file system inside its fresh mount namespace.

    The grade gets a root of its own (pivot_root onto a tmpfs, as bubblewrap does) that
    holds only the system's programs, libraries and /etc, the kept folders, a private
    tmpfs on /tmp and /dev/shm, and a copy of the scratch folder at /tmp/grade: home folders, other
    students' work, the reference solutions and everything else on the machine are simply
    not there. All of it is read-only but /tmp, /tmp/grade and /dev/shm.

    Args:
        scratch: the host scratch folder; it appears at /tmp/grade, writable.
        keep: folders the worker needs (Python, the grader, the exercises), read-only.
        hide: where no root of its own can be made, folders to hide besides home folders
            (the checkout's reference solutions, the other students' submissions).
        own_root: False to do without a root of its own (IPCGRADE_NO_PIVOT, for tests).
        keep_scratch: the scratch folder itself at /tmp/grade (for `--keep`), where it is
            otherwise copied into the grade's size-capped /tmp.
        by_remounts: read-only by remounting each mount, as where mount_setattr is missing
            (IPCGRADE_NO_MOUNT_SETATTR, for tests).

    Returns the layers that could not be set up (empty when all worked).
    """
    global _inside
    _inside = True
    missing: list[str] = []
    keep_paths = sorted({os.path.realpath(k) for k in keep if os.path.isdir(k)})
    # never a folder holding the scratch folder (other grades' scratch folders are there)
    keep_paths = [k for k in keep_paths if not under(os.path.realpath(scratch), k)]
    held = {k: os.open(k, os.O_PATH | os.O_DIRECTORY) for k in keep_paths}
    scratch_fd = os.open(scratch, os.O_PATH | os.O_DIRECTORY)
    # where each is bound from: its descriptor, or, once the old root is gone, a place
    # in the new one (a descriptor on a detached mount cannot be bound)
    source = {k: f"/proc/self/fd/{fd}" for k, fd in held.items()}
    source[str(INSIDE_SCRATCH)] = f"/proc/self/fd/{scratch_fd}"
    missing.extend(_cap_ipc_namespace())
    missing.extend(_loopback_up())
    why_not = _new_root(keep_paths, source) if own_root else f"{NO_PIVOT_ENV} is set"
    if why_not:
        missing.append(
            f"a root of its own ({why_not}): the machine's is shown read-only, with home "
            "folders, reference solutions and other submissions hidden"
        )
    if why_not_read_only := mounts.read_only_everything(by_remounts):
        missing.append(why_not_read_only)
    flags = MS_NOSUID | MS_NODEV

    def cover(folder: str, options: str, writable: bool = False) -> None:
        """A fresh tmpfs over `folder`, with the kept folders under it bound back read-only."""
        mount("tmpfs", folder, "tmpfs", flags, options)
        for k in keep_paths:
            if under(k, folder) and k != folder:
                os.makedirs(k, exist_ok=True)
                mount(source[k], k, None, MS_BIND | MS_REC)
                mount(None, k, None, MS_REMOUNT | MS_BIND | MS_RDONLY | flags)
        if not writable:
            mount(None, folder, None, MS_REMOUNT | MS_BIND | MS_RDONLY | flags)

    if why_not:  # the machine's root, read-only: hide what is most private in it
        folders = [h for h in (*_HIDDEN, *hide) if os.path.isdir(h) and not under(h, "/tmp")]
        for folder in sorted(folders, key=len):
            if not any(under(folder, other) and other != folder for other in folders):
                cover(folder, "size=1m,mode=755")
    cover("/tmp", f"size={TMPFS_MB}m,mode=1777", writable=True)
    if keep_scratch:  # on the machine's disk, to be looked at after the grade
        INSIDE_SCRATCH.mkdir()
        mount(source[str(INSIDE_SCRATCH)], str(INSIDE_SCRATCH), None, MS_BIND | MS_REC)
        mount(None, str(INSIDE_SCRATCH), None, MS_REMOUNT | MS_BIND | flags)
    else:  # a copy in the grade's /tmp: whatever it writes, the machine's disk never fills
        shutil.copytree(source[str(INSIDE_SCRATCH)], INSIDE_SCRATCH, symlinks=True)
    if os.path.isdir("/dev/shm"):
        mount("tmpfs", "/dev/shm", "tmpfs", flags, f"size={TMPFS_MB}m,mode=1777")
    for path in source.values():
        if path.startswith(_HOLD) and _libc.umount2(path.encode(), _MNT_DETACH) != 0:
            missing.append(f"{path}: {os.strerror(ctypes.get_errno())}")
    for fd in (*held.values(), scratch_fd):
        os.close(fd)
    return missing


def _new_root(keep_paths: list[str], source: dict[str, str]) -> str:
    """Make a tmpfs holding the allowed folders the grade's root; "" or why it could not.

    What must appear under the grade's /tmp (the scratch folder, kept folders there) is
    bound at /.hold/N first, and `source` is updated: it is bound to its place once the
    grade's /tmp is made.
    """
    import platform

    from grader.sandbox import seccomp

    number = _SYS_PIVOT_ROOT.get(platform.machine()) or seccomp.syscall_number("pivot_root")
    if number is None:
        return f"pivot_root's number on {platform.machine()} is not known here"
    new = "/tmp"  # a staging place that always exists; the grade's /tmp comes later
    moved: dict[str, str] = {}
    try:
        mount("tmpfs", new, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,mode=755")
        for name in _ROOT_ENTRIES:
            src, target = f"/{name}", f"{new}/{name}"
            if os.path.islink(src):
                os.symlink(os.readlink(src), target)
            elif os.path.isdir(src):
                os.mkdir(target)
                mount(src, target, None, MS_BIND | MS_REC)
        for path in keep_paths:
            if any(under(path, f"/{n}") for n in _ROOT_ENTRIES) or under(path, "/tmp"):
                continue  # visible already, or held for the grade's /tmp below
            os.makedirs(new + path, exist_ok=True)
            mount(source[path], new + path, None, MS_BIND | MS_REC)
        for n, (path, src) in enumerate(source.items()):
            if under(path, "/tmp"):
                os.makedirs(f"{new}{_HOLD}/{n}")
                mount(src, f"{new}{_HOLD}/{n}", None, MS_BIND | MS_REC)
                moved[path] = f"{_HOLD}/{n}"
        _make_dev(f"{new}/dev")
        os.mkdir(f"{new}/tmp")
        os.mkdir(f"{new}/.old")
        if _libc.syscall(number, new.encode(), f"{new}/.old".encode()) != 0:
            raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()))
        os.chdir("/")
        if _libc.umount2(b"/.old", _MNT_DETACH) != 0:
            raise OSError(ctypes.get_errno(), "umount of the old root")
        os.rmdir("/.old")
    except OSError as e:
        return f"pivot_root: {e}"
    source.update(moved)
    return ""


def _make_dev(dev: str) -> None:
    """A /dev of the grade's own, as bubblewrap's --dev makes: the harmless devices, and a
    fresh instance of devpts, so that no terminal of the machine's (the user's own among
    them) can be opened, and the machine's ptys cannot be used up."""
    os.mkdir(dev)
    mount("tmpfs", dev, "tmpfs", MS_NOSUID, "size=64k,mode=755")
    for name in _DEVICES:
        if os.path.exists(f"/dev/{name}"):
            open(f"{dev}/{name}", "w").close()  # a mount point
            mount(f"/dev/{name}", f"{dev}/{name}", None, MS_BIND)
    os.mkdir(f"{dev}/pts")
    mount("devpts", f"{dev}/pts", "devpts", MS_NOSUID, "newinstance,ptmxmode=0666,mode=620")
    os.symlink("pts/ptmx", f"{dev}/ptmx")
    os.mkdir(f"{dev}/shm")
    for name, target in (("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"),
                         ("stdout", "/proc/self/fd/1"), ("stderr", "/proc/self/fd/2")):  # fmt: skip
        os.symlink(target, f"{dev}/{name}")


def become_subreaper() -> None:
    """Orphaned student processes become the worker's children: it can find and kill them."""
    _libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


def protect_worker() -> None:
    """No ptrace of the worker by student code of the same uid; ignore stray signals."""
    _libc.prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0)
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT):
        signal.signal(sig, signal.SIG_IGN)
