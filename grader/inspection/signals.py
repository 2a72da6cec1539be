"""A process's signal masks (/proc/PID/status): caught, blocked, ignored, pending."""

from __future__ import annotations

import signal
from dataclasses import dataclass

from grader.inspection.tree import ProcessGone


@dataclass(frozen=True)
class SignalMasks:
    pid: int
    caught: frozenset[str]  # a handler is installed (SigCgt)
    blocked: frozenset[str]  # sigprocmask (SigBlk)
    ignored: frozenset[str]  # SIG_IGN (SigIgn)
    pending: frozenset[str]  # raised, not yet delivered (SigPnd, ShdPnd)

    def disposition(self, name: str) -> str:
        """ "caught", "ignored", "blocked" (with a handler or not) or "default"."""
        if name in self.blocked:
            return "blocked"
        if name in self.ignored:
            return "ignored"
        if name in self.caught:
            return "caught"
        return "default"


def _names(mask: int) -> frozenset[str]:
    out = set()
    for bit in range(64):
        if mask >> bit & 1:
            number = bit + 1
            try:
                out.add(signal.Signals(number).name)
            except ValueError:
                out.add(f"SIG{number}")
    return frozenset(out)


def signal_masks(pid: int) -> SignalMasks:
    """The signal masks of `pid`, as sets of names like "SIGINT"."""
    try:
        with open(f"/proc/{pid}/status") as f:
            fields = dict(line.split(":", 1) for line in f if ":" in line)
    except (FileNotFoundError, ProcessLookupError) as e:
        raise ProcessGone(pid) from e
    except PermissionError as e:
        raise ProcessGone(pid, "cannot be read (permission denied)") from e

    def mask(key: str) -> int:
        return int(fields.get(key, "0").strip() or "0", 16)

    return SignalMasks(
        pid=pid,
        caught=_names(mask("SigCgt")),
        blocked=_names(mask("SigBlk")),
        ignored=_names(mask("SigIgn")),
        pending=_names(mask("SigPnd") | mask("ShdPnd")),
    )
