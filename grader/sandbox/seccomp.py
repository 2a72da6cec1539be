"""A seccomp filter for student processes, built with libseccomp (through pyseccomp).

Everything is allowed except the calls that reach past the sandbox (keyrings, io_uring,
namespaces, mounts, kernel modules, bpf, tracing, terminal injection): those fail with
EPERM. clone3 fails with ENOSYS, since its flags are out of the filter's reach: glibc then
falls back to clone, whose flags it can read. A syscall from another ABI (int 0x80, x32)
kills the process. Where libseccomp or pyseccomp is missing, `unavailable()` says why.
"""

from __future__ import annotations

import ctypes
import errno
import functools
import os
import tempfile
import termios
from collections.abc import Callable
from pathlib import Path
from typing import Any

from grader import syscalls
from grader.syscalls import binding as _binding

BLOCKED: tuple[str, ...] = (
    "ptrace, process_vm_readv/process_vm_writev, pidfd_getfd (unless a tracer is needed)",
    "keyctl/add_key/request_key",
    "io_uring",
    "new namespaces (unshare, setns, clone flags; clone3 gives ENOSYS)",
    "mount, umount2, pivot_root, chroot, new mount API (fsopen, fsmount, move_mount, ...)",
    "bpf",
    "perf_event_open",
    "userfaultfd",
    "kernel modules and kexec",
    "open_by_handle_at",
    "TIOCSTI/TIOCLINUX terminal injection",
    "kill(-1, ...): signalling every process of the uid",
    "system calls of another ABI (int 0x80, x32): the process is killed",
)

_DENIED = (
    "keyctl", "add_key", "request_key",
    "io_uring_setup", "io_uring_enter", "io_uring_register",
    "unshare", "setns",
    "mount", "umount2", "pivot_root", "chroot",
    "fsopen", "fsconfig", "fsmount", "fspick", "move_mount", "open_tree", "mount_setattr",
    "bpf", "perf_event_open", "userfaultfd",
    "kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module",
    "open_by_handle_at",
)  # fmt: skip
_TRACING = ("ptrace", "process_vm_readv", "process_vm_writev", "pidfd_getfd")
_CLONE_NS = (
    0x00020000,  # CLONE_NEWNS
    0x02000000,  # CLONE_NEWCGROUP
    0x04000000,  # CLONE_NEWUTS
    0x08000000,  # CLONE_NEWIPC
    0x10000000,  # CLONE_NEWUSER
    0x20000000,  # CLONE_NEWPID
    0x40000000,  # CLONE_NEWNET
)
_TTY_INJECTION = (termios.TIOCSTI, termios.TIOCLINUX)
_PR_SET_SECCOMP = 22
_SECCOMP_MODE_FILTER = 2


def syscall_number(name: str) -> int | None:
    """The number of system call `name` on this machine, or None (unknown, no libseccomp)."""
    return syscalls.number(name)


@functools.cache
def unavailable() -> str:
    """Empty when the layer works here, else a one-line reason why not (cached)."""
    built = _compiled(allow_ptrace=False)
    return built if isinstance(built, str) else ""


@functools.cache
def program(*, allow_ptrace: bool) -> bytes | None:
    """The filter as raw classic BPF (struct sock_filter[]), or None when unavailable.

    With `allow_ptrace`, ptrace, process_vm_* and pidfd_getfd stay allowed: for a tracer
    (strace) exec'd after the filter is installed.
    """
    built = _compiled(allow_ptrace=allow_ptrace)
    return None if unavailable() or isinstance(built, str) else built


@functools.cache
def _compiled(*, allow_ptrace: bool) -> bytes | str:
    """The program, or why there is none."""
    seccomp, why = _binding()
    if seccomp is None:
        return why
    try:
        actions = Path("/proc/sys/kernel/seccomp/actions_avail").read_text().split()
    except OSError:
        return "the kernel has no seccomp filters (no /proc/sys/kernel/seccomp/actions_avail)"
    if not {"errno", "kill_process"} <= set(actions):
        return f"the kernel's seccomp lacks errno or kill_process (has {' '.join(actions)})"
    try:
        return _build(seccomp, allow_ptrace=allow_ptrace)
    except (OSError, ValueError) as e:
        return f"libseccomp could not build the filter: {e}"


def _build(seccomp: Any, *, allow_ptrace: bool) -> bytes:
    flt = seccomp.SyscallFilter(seccomp.ALLOW)
    flt.set_attr(seccomp.Attr.ACT_BADARCH, seccomp.KILL_PROCESS)
    eperm = seccomp.ERRNO(errno.EPERM)

    def deny(name: str, *args: Any, action: int = eperm) -> None:
        if seccomp.resolve_syscall(seccomp.Arch.NATIVE, name) != -1:  # -1: unknown to it
            flt.add_rule(action, name, *args)

    for name in _DENIED + (() if allow_ptrace else _TRACING):
        deny(name)
    flags_arg = 1 if seccomp.system_arch() in (seccomp.Arch.S390, seccomp.Arch.S390X) else 0
    for flag in _CLONE_NS:
        deny("clone", seccomp.Arg(flags_arg, seccomp.MASKED_EQ, flag, flag))
    for request in _TTY_INJECTION:  # the kernel reads an unsigned int: the high half is noise
        deny("ioctl", seccomp.Arg(1, seccomp.MASKED_EQ, 0xFFFFFFFF, request))
    deny("clone3", action=seccomp.ERRNO(errno.ENOSYS))
    # kill(-1, sig) signals every process the uid may signal: where students run as the
    # user (no namespaces, not root), the user's whole session; a failed fork's -1 passed
    # to kill() does it by mistake
    deny("kill", seccomp.Arg(0, seccomp.MASKED_EQ, 0xFFFFFFFF, 0xFFFFFFFF))
    with tempfile.TemporaryFile() as f:
        flt.export_bpf(f)
        f.seek(0)
        return f.read()


class _SockFprog(ctypes.Structure):
    _fields_ = (("len", ctypes.c_ushort), ("filter", ctypes.POINTER(ctypes.c_char)))


@functools.cache  # one per program: made at each launch, it cost a dlopen and a buffer
def installer(prog: bytes) -> Callable[[], None]:
    """A function for a child between fork and exec that installs `prog`, else exits 126.

    Everything is prepared here, in the parent: the child makes one prctl call through
    ctypes. PR_SET_NO_NEW_PRIVS (or CAP_SYS_ADMIN) must already be in force. The function
    only reads what it holds: one serves every launch.
    """
    if not prog or len(prog) % 8:
        raise ValueError("not a BPF program: its length is not a positive multiple of 8")
    fprog = _SockFprog(len(prog) // 8, ctypes.create_string_buffer(prog, len(prog)))
    prctl = ctypes.CDLL(None, use_errno=True).prctl
    prctl.argtypes = (ctypes.c_int, ctypes.c_ulong, ctypes.c_void_p, ctypes.c_ulong, ctypes.c_ulong)
    prctl.restype = ctypes.c_int
    args = (_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0)  # keep it alive

    def _install() -> None:
        if prctl(*args) != 0:
            os._exit(126)

    return _install
