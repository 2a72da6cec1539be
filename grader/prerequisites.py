"""What a check needs from the machine: a check says it once, and is skipped where it is
missing, saying what to install."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from typing import TypeVar

_F = TypeVar("_F", bound=Callable[..., object])
_ATTRIBUTE = "__ipcgrade_needs__"


def needs(*tools: str) -> Callable[[_F], _F]:
    """Mark a check that cannot judge without these programs (`@needs("strace")`): where
    one is not installed, the check is skipped with the reason, never failed."""

    def mark(check: _F) -> _F:
        setattr(check, _ATTRIBUTE, (*getattr(check, _ATTRIBUTE, ()), *tools))
        return check

    return mark


def missing(check: object) -> tuple[str, ...]:
    """The tools `check` was marked as needing that are not installed here."""
    return tuple(t for t in getattr(check, _ATTRIBUTE, ()) if shutil.which(t) is None)


def reason(tools: tuple[str, ...]) -> str:
    """Why a check that needs `tools` was skipped."""
    from grader import trace

    if tools == ("strace",):
        return trace.MISSING
    names = " and ".join(tools)
    return f"needs {names}, which is not installed here (apt install {' '.join(tools)})"
