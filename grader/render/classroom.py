"""GitHub Classroom's grader result (stub)."""

from __future__ import annotations

from grader.results import SubmissionReport


def render(report: SubmissionReport) -> str:
    raise NotImplementedError("classroom")


def output(report: SubmissionReport) -> str:
    raise NotImplementedError("classroom output")
