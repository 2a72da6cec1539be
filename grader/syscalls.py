"""System calls by name and by number on this machine, through libseccomp (pyseccomp).

A leaf: it imports nothing of the grader. The sandbox's seccomp filter and inspection's
"waits in read()" both ask it; without libseccomp, names and numbers are unknown.
"""

from __future__ import annotations

import functools
import sys
from typing import Any


@functools.cache
def binding() -> tuple[Any, str]:
    """pyseccomp, or None and why not (it raises at import when libseccomp is missing)."""
    if not sys.platform.startswith("linux"):
        return None, "seccomp needs Linux"
    try:
        import pyseccomp  # type: ignore[import-untyped]
    except ImportError:
        return None, "pyseccomp is not installed"
    except RuntimeError:  # pyseccomp's "Unable to find libseccomp"
        return None, "libseccomp is not installed"
    except OSError as e:
        return None, f"libseccomp could not be loaded: {e}"
    return pyseccomp, ""


def number(name: str) -> int | None:
    """The number of system call `name` on this machine, or None (unknown, no libseccomp)."""
    seccomp, _ = binding()
    if seccomp is None:
        return None
    found = int(seccomp.resolve_syscall(seccomp.Arch.NATIVE, name))
    return found if found >= 0 else None


@functools.cache
def name(number: int) -> str:
    """The name of system call `number` on this machine, or "" (unknown, no libseccomp)."""
    seccomp, _ = binding()
    if seccomp is None:
        return ""
    try:
        found = seccomp.resolve_syscall(seccomp.Arch.NATIVE, number)
    except Exception:  # an unknown number: the library raises or returns junk
        return ""
    return found.decode() if isinstance(found, bytes) else str(found or "")
