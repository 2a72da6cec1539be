"""TAP version 14 (or 13) with a YAML diagnostic block per failure (stub)."""

from __future__ import annotations

from grader.results import SubmissionReport


def render(report: SubmissionReport, *, version: int = 14) -> str:
    raise NotImplementedError("tap")
