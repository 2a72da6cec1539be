"""The system tools an exercise's checks run, and what to say where one is missing.

An exercise names them in its `exercise.toml` (`requires = ["ps", "strace"]`); `grade
--doctor` lists, for each missing one, the exercises that need it. A check that cannot judge
without one says so with `@needs("strace")` and is skipped with `reason(...)` where it is
missing, never passed. A leaf: it imports nothing of the grader.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable, Iterable, Sequence
from typing import TypeVar

_F = TypeVar("_F", bound=Callable[..., object])
_NEEDS = "__ipcgrade_needs__"
# what a tool is for, in a skip's reason
_FOR = {"strace": "to see the system calls your program makes"}

# a command looked up on PATH, as `requires` names it: no folder, no space, no option
_COMMAND = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.+-]*$")

# the Debian package of a tool, where it is not named after the tool
_PACKAGES = {
    "ps": "procps",
    "unshare": "util-linux",
    "cat": "coreutils",
    "sleep": "coreutils",
}


def is_command(name: object) -> bool:
    """Whether `name` can be a tool of `requires`: a command's name, looked up on PATH."""
    return isinstance(name, str) and _COMMAND.match(name) is not None


def package(tool: str) -> str:
    """The Debian/Ubuntu package that installs `tool`: "procps" for ps."""
    return _PACKAGES.get(tool, tool)


def install(tools: Sequence[str]) -> str:
    """The command that installs `tools`: "apt install procps strace"."""
    packages = dict.fromkeys(package(t) for t in tools)  # in order, each once
    return "apt install " + " ".join(packages)


def missing(tools: Iterable[str]) -> tuple[str, ...]:
    """Those of `tools` this machine lacks (not on PATH), in order."""
    return tuple(t for t in tools if shutil.which(t) is None)


def listed(names: Sequence[str]) -> str:
    """Names as a sentence lists them: ["ps", "grep", "strace"] → "ps, grep and strace"."""
    if len(names) < 2:
        return "".join(names)
    return ", ".join(names[:-1]) + f" and {names[-1]}"


def reason(tools: Sequence[str], why: str = "") -> str:
    """Why a check that needs the missing `tools` is skipped, and how to install them:
    "needs strace to see the system calls your program makes: it is not installed here
    (apt install strace)". `why` is what the tools are for ("" leaves it unsaid)."""
    if not tools:
        raise ValueError("reason() needs the tools that are missing")
    it = "it is" if len(tools) == 1 else "they are"
    needs = f"needs {listed(tools)} {why}".rstrip()
    return f"{needs}: {it} not installed here ({install(tools)})"


def needs(*tools: str) -> Callable[[_F], _F]:
    """Mark a check that cannot judge without these tools (`@needs("strace")`): where one
    is not installed, the check is skipped with `reason(...)`, never failed nor passed.
    Each must be in its exercise's `requires` (a test holds the exercises to it)."""
    for tool in tools:
        if not is_command(tool):
            raise ValueError(f"needs() takes commands looked up on PATH, not {tool!r}")

    def mark(check: _F) -> _F:
        setattr(check, _NEEDS, (*getattr(check, _NEEDS, ()), *tools))
        return check

    return mark


def needed_by(check: object) -> tuple[str, ...]:
    """The tools `check` was marked as needing (`@needs`)."""
    return tuple(getattr(check, _NEEDS, ()))


def skip_reason(check: object) -> str:
    """Why `check` cannot run here (a tool it needs is missing), or ""."""
    lacking = missing(needed_by(check))
    if not lacking:
        return ""
    why = _FOR.get(lacking[0], "") if len(lacking) == 1 else ""
    return reason(lacking, why)
