"""Renderers: one module per format, each turning the results model into text; none
changes a grade. `FORMATS` is what `grade --format NAME` offers."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from grader.render import (
    autolab,
    classroom,
    github,
    gradescope,
    html,
    json,
    junit,
    prairielearn,
    tap,
    terminal,
)
from grader.results import SubmissionReport


@dataclass(frozen=True)
class Options:
    """What the command line says about how to render (the same for every format)."""

    verbose: bool = False  # terminal: list the sandbox's layers
    tap_version: int = 14  # tap: 14, or 13 for consumers that reject 14 (Perl's prove)
    workspace: str | None = None  # github: the repository's root ($GITHUB_WORKSPACE)


Render = Callable[[SubmissionReport, Options], str]


@dataclass(frozen=True)
class Format:
    """A format: `render` is what goes to the terminal (or to --out FILE); `appends` name
    environment variables (GITHUB_STEP_SUMMARY, GITHUB_OUTPUT) whose file gets that text
    appended when the variable is set, as a CI runner expects."""

    render: Render
    help: str
    appends: tuple[tuple[str, Render], ...] = ()


FORMATS: dict[str, Format] = {
    "terminal": Format(
        lambda r, o: terminal.render(r, verbose=o.verbose), "the student's report (default)"
    ),
    "json": Format(lambda r, o: json.render(r), 'the results model, "schema": 2'),
    "html": Format(lambda r, o: html.render(r), "one self-contained page"),
    "junit": Format(lambda r, o: junit.render(r), "JUnit XML (strict junit-10.xsd)"),
    "junit-gitlab": Format(
        lambda r, o: junit.render(r, gitlab=True), "JUnit XML with GitLab's file and line"
    ),
    "tap": Format(
        lambda r, o: tap.render(r, version=o.tap_version), "TAP 14 (or --tap-version 13)"
    ),
    "gradescope": Format(lambda r, o: gradescope.render(r), "Gradescope's results.json"),
    "prairielearn": Format(lambda r, o: prairielearn.render(r), "PrairieLearn's results.json"),
    "autolab": Format(lambda r, o: autolab.render(r), "Autolab's feedback and autoresult lines"),
    "github": Format(
        lambda r, o: github.render(r, workspace=o.workspace),
        "GitHub Actions: annotations and log; the summary to $GITHUB_STEP_SUMMARY",
        appends=(("GITHUB_STEP_SUMMARY", lambda r, o: github.summary(r, workspace=o.workspace)),),
    ),
    "classroom": Format(
        lambda r, o: classroom.render(r),
        "GitHub Classroom's grader result; the output to $GITHUB_OUTPUT",
        appends=(("GITHUB_OUTPUT", lambda r, o: classroom.output(r)),),
    ),
}

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def inert(text: str, limit: int = 2000) -> str:
    """Student text made harmless for a terminal: control characters shown, long text cut."""
    cut = ""
    if len(text) > limit:
        cut = f"… [{len(text) - limit} more characters cut]"
        text = text[:limit]
    return _CONTROL.sub(_escape, text) + cut


def _escape(m: re.Match[str]) -> str:
    code = ord(m.group())
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"
