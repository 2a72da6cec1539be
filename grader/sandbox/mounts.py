"""Mounts, as the worker lays out its view inside the namespaces: mount(2) through libc, a
whole tree made read-only (mount_setattr, or remounts before Linux 5.12), and the mount
table read from /proc/self/mountinfo."""

from __future__ import annotations

import ctypes
import errno
import os
import re

from grader.sandbox.detect import _libc

MS_RDONLY, MS_NOSUID, MS_NODEV, MS_REMOUNT = 1, 2, 4, 32
MS_BIND, MS_REC = 4096, 16384
_AT_FDCWD, _AT_RECURSIVE = -100, 0x8000
_MOUNT_ATTR_RDONLY = 1
_SYS_MOUNT_SETATTR = 442  # the same number on every architecture (new syscalls are unified)


def mount(src: str | None, target: str, fstype: str | None, flags: int, data: str = "") -> None:
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


class _MountAttr(ctypes.Structure):
    _fields_ = (
        ("attr_set", ctypes.c_uint64),
        ("attr_clr", ctypes.c_uint64),
        ("propagation", ctypes.c_uint64),
        ("userns_fd", ctypes.c_uint64),
    )


def read_only_everything(by_remounts: bool = False) -> str:
    """Make every mount of the grade's root read-only: "" or what could not be.

    One mount_setattr call (Linux 5.12 and later); where there is none (or `by_remounts`,
    for tests), a read-only remount of each mount.
    """
    if not by_remounts:
        attr = _MountAttr(_MOUNT_ATTR_RDONLY, 0, 0, 0)
        rc = _libc.syscall(
            _SYS_MOUNT_SETATTR,
            ctypes.c_int(_AT_FDCWD),
            b"/",
            ctypes.c_uint(_AT_RECURSIVE),
            ctypes.byref(attr),
            ctypes.c_size_t(ctypes.sizeof(attr)),
        )
        if rc == 0:
            return ""
    failed = []
    for point, options in mounts().items():
        # a user namespace may not clear a flag its mount was given outside: keep them all
        flags = MS_REMOUNT | MS_BIND | MS_RDONLY
        flags |= sum(bit for name, bit in _LOCKED_FLAGS.items() if name in options)
        if _libc.mount(None, point, None, ctypes.c_ulong(flags), None) != 0:
            err = ctypes.get_errno()
            if err not in (errno.EINVAL, errno.ENOENT):  # the path leads to no mount (one
                # hidden under a later mount on a folder above it): none anyone can reach
                failed.append(f"{point.decode(errors='replace')} ({os.strerror(err)})")
    if not failed:
        return ""
    more = f" and {len(failed) - 1} more" if len(failed) > 1 else ""
    return f"read-only root: {failed[0]}{more} could not be made read-only"


_LOCKED_FLAGS = {"nosuid": 2, "nodev": 4, "noexec": 8, "noatime": 1024, "nodiratime": 2048,
                 "relatime": 1 << 21}  # fmt: skip


def mounts() -> dict[bytes, set[str]]:
    """Each mount point, with the per-mount options of the mount last listed there (the one
    on top, where several are stacked): /proc/self/mountinfo. Mount points are bytes: a
    folder's name need not be UTF-8. A remount by path reaches the mount a path leads to."""
    found: dict[bytes, set[str]] = {}
    with open("/proc/self/mountinfo", "rb") as f:
        for line in f:
            fields = line.split()
            point = re.sub(rb"\\([0-7]{3})", lambda m: bytes([int(m[1], 8)]), fields[4])
            found[point] = set(fields[5].decode(errors="replace").split(","))
    return found


def under(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip("/") + "/")
