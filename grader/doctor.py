"""What this machine offers the grader, and what to do about what it lacks (`grade --doctor`)."""

from __future__ import annotations

import os
import platform
import shutil
from dataclasses import dataclass, replace
from pathlib import Path

from grader import catalog, requirements, sandbox
from grader.catalog import Limits
from grader.results import Isolation
from grader.sandbox import cgroup, slots


@dataclass(frozen=True)
class Finding:
    what: str
    ok: bool
    detail: str
    fix: str = ""
    needed: bool = False  # a grade cannot do without it: full isolation, or a tool it runs


def healthy(findings: tuple[Finding, ...]) -> bool:
    """Whether every grade here gets full isolation and every tool it needs."""
    return all(f.ok for f in findings if f.needed)


def _read(path: str) -> str | None:
    try:
        return Path(path).read_text().strip()
    except OSError:
        return None


def examine() -> tuple[Finding, ...]:
    caps = sandbox.detect()
    out = [
        Finding(
            "user namespaces",
            caps.userns,
            "each grade gets its own user, PID, IPC, network and mount namespaces"
            if caps.userns
            else f"unavailable: {caps.why_not}; grades run with reduced isolation",
            needed=True,
        ),
    ]
    if not caps.userns:
        if _read("/proc/sys/kernel/apparmor_restrict_unprivileged_userns") == "1":
            out[-1] = replace(
                out[-1],
                fix="AppArmor restricts unprivileged user namespaces (Ubuntu 23.10 and later): "
                "sudo sysctl kernel.apparmor_restrict_unprivileged_userns=0",
            )
        elif _read("/proc/sys/kernel/unprivileged_userns_clone") == "0":
            out[-1] = replace(out[-1], fix="sudo sysctl kernel.unprivileged_userns_clone=1")
        elif _read("/proc/sys/user/max_user_namespaces") == "0":
            out[-1] = replace(out[-1], fix="sudo sysctl user.max_user_namespaces=15000")
    out += [_tool(*tool) for tool in _tools(catalog.all_exercises())]
    where, why_not = cgroup.find()
    out.append(
        Finding(
            "cgroups",
            where is not None,
            f"v{where.version}: each grade gets memory and process-count limits of its own"
            if where is not None
            else f"not used ({why_not}): memory is limited per process only",
            ""
            if where is not None or os.geteuid() != 0
            else "mount the memory and pids "
            "controllers (v1), or run the grader in a cgroup that delegates them (v2)",
        )
    )
    out.append(
        Finding(
            "seccomp",
            not caps.seccomp_why_not,
            "student programs may not ptrace, use keyrings, io_uring, namespaces, mounts or TIOCSTI"
            if not caps.seccomp_why_not
            else f"not used: {caps.seccomp_why_not}",
            "" if not caps.seccomp_why_not else "sudo apt install libseccomp2",
        )
    )
    root = os.geteuid() == 0
    out.append(
        Finding(
            "user",
            True,
            "root: student programs drop every capability and run as a uid of their own "
            f"per grade ({slots.SLOT_UID_BASE} and up)"
            if root
            else f"uid {os.getuid()}: student programs run as you (as root, each grade "
            "would get a uid of its own)",
        )
    )
    out.append(Finding("kernel", True, f"{platform.system()} {platform.release()}"))
    return tuple(out)


def _tools(exercises: tuple[catalog.Exercise, ...]) -> list[tuple[str, str, str]]:
    """Each tool a grade runs: (tool, what it does, who needs it) for the grader's own, each
    exercise's compiler, then each tool named by the exercises' `requires`."""

    def users(ids: list[str]) -> str:
        if len(ids) == len(exercises):
            return "every exercise needs it"
        return f"{requirements.listed(ids)} need{'s' if len(ids) == 1 else ''} it"

    compilers: dict[str, list[str]] = {}
    required: dict[str, list[str]] = {}
    for ex in exercises:
        compilers.setdefault(ex.build.cc, []).append(ex.id)
        for tool in ex.requires:
            required.setdefault(tool, []).append(ex.id)
    tools = [(cc, "builds the students' programs", users(ids)) for cc, ids in compilers.items()]
    tools += [
        ("make", "builds a student's own Makefile", ""),
        ("unshare", "makes the namespaces", ""),
    ]
    named = {tool for tool, _, _ in tools}
    tools += [(tool, "", users(ids)) for tool, ids in sorted(required.items()) if tool not in named]
    return tools


def _tool(tool: str, does: str, who: str) -> Finding:
    path = shutil.which(tool)
    if path is None:
        detail = "missing: " + "; ".join(
            part for part in (does, who and f"{who} and cannot be graded in full here") if part
        )
    else:
        detail = f"{path}: " + "; ".join(part for part in (does, who) if part)
    return Finding(tool, path is not None, detail,
                   "" if path else f"sudo {requirements.install([tool])}", needed=True)  # fmt: skip


def isolation() -> Isolation:
    """The isolation a grade gets on this machine, as `session.grade` sets it up (as root:
    a uid of its own and, where one can be made, a control group with the default limits)."""
    caps = sandbox.detect()
    if caps.root:
        caps = replace(caps, student_uid=slots.SLOT_UID_BASE)
        where, why_not = cgroup.find()
        if where is not None:
            limits = Limits()
            caps = replace(caps, grade_memory_mb=limits.grade_memory_mb,
                           grade_tasks=limits.grade_tasks, cgroup_why_not="")  # fmt: skip
        else:
            caps = replace(caps, cgroup_why_not=why_not)
    return caps.isolation()


def render(findings: tuple[Finding, ...], iso: Isolation) -> str:
    lines = []
    for f in findings:
        lines.append(f"{'ok ' if f.ok else 'NO '} {f.what:<16} {f.detail}")
        if f.fix:
            lines.append(f"    {'':<16} fix: {f.fix}")
    lines.append(f"\nisolation of every grade on this machine: {iso.level}")
    lines += [f"  layer: {layer}" for layer in iso.layers]
    lines += [f"  missing: {missing}" for missing in iso.missing]
    return "\n".join(lines)
