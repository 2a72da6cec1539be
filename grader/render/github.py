"""GitHub Actions: annotations and the log on stdout, the step summary (stub)."""

from __future__ import annotations

from grader.results import SubmissionReport


def render(report: SubmissionReport) -> str:
    raise NotImplementedError("github")


def summary(report: SubmissionReport) -> str:
    raise NotImplementedError("github summary")
