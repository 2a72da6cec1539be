"""JUnit XML as pytest writes it (stub: issue 12 fills it in)."""

from __future__ import annotations

from grader.results import SubmissionReport


def render(report: SubmissionReport, *, gitlab: bool = False) -> str:
    raise NotImplementedError("junit")
