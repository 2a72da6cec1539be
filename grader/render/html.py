"""The report as a self-contained HTML page, and a class's overview (jinja2 templates)."""

from __future__ import annotations

from collections.abc import Mapping

from grader.results import ClassReport, SubmissionReport


def render(report: SubmissionReport, *, instructor: bool = False) -> str:
    """One student's report, one file; `instructor` also shows the hidden checks."""
    from html import escape

    return f"<!doctype html><title>{escape(report.exercise)}</title><p>{escape(report.title)}"


def overview(klass: ClassReport, links: Mapping[str, str]) -> str:
    """The class overview; `links` maps a student's id to their report's relative path."""
    from html import escape

    return f"<!doctype html><title>{escape(klass.exercise)}</title>"
