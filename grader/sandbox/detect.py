"""Which isolation layers this machine offers, detected once per process."""

from __future__ import annotations

import ctypes
import functools
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

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
_libc = ctypes.CDLL(None, use_errno=True)
_PR_SET_DUMPABLE = 4
_PR_CAPBSET_DROP = 24
_PR_SET_CHILD_SUBREAPER = 36
_PR_SET_NO_NEW_PRIVS = 38


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
