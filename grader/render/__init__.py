"""Renderers: one module per format, each turning the results model into text; none
changes a grade. `FORMATS` is what `grade --format NAME` offers.

A format names its renderer's module and imports it on first use: `grade --version` or a
terminal report need not import PyYAML (tap), ElementTree (junit) or jinja2 (html).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from grader.report import SubmissionReport


@dataclass(frozen=True)
class Options:
    """What the command line says about how to render (the same for every format)."""

    verbose: bool = False  # terminal: list the sandbox's layers
    tap_version: int = 14  # tap: 14, or 13 for consumers that reject 14 (Perl's prove)
    workspace: str | None = None  # github: the repository's root ($GITHUB_WORKSPACE)


Render = Callable[[SubmissionReport, Options], str]


def _no_args(options: Options) -> Mapping[str, Any]:
    return {}


@dataclass(frozen=True)
class Renderer:
    """`grader.render.MODULE.FUNCTION(report, **args(options))`, MODULE imported on the
    first call."""

    module: str  # "junit": grader/render/junit.py
    function: str = "render"
    args: Callable[[Options], Mapping[str, Any]] = _no_args

    def __call__(self, report: SubmissionReport, options: Options) -> str:
        fn = getattr(importlib.import_module(f"{__name__}.{self.module}"), self.function)
        text: str = fn(report, **self.args(options))
        return text


@dataclass(frozen=True)
class Format:
    """A format: `render` is what goes to the terminal (or to --out FILE); `appends` name
    environment variables (GITHUB_STEP_SUMMARY, GITHUB_OUTPUT) whose file gets that text
    appended when the variable is set, as a CI runner expects."""

    render: Render
    help: str
    appends: tuple[tuple[str, Render], ...] = ()


def _workspace(o: Options) -> Mapping[str, Any]:
    return {"workspace": o.workspace}


FORMATS: dict[str, Format] = {
    "terminal": Format(
        Renderer("terminal", args=lambda o: {"verbose": o.verbose}),
        "the student's report (default)",
    ),
    "json": Format(Renderer("json"), 'the results model, "schema": 2'),
    "html": Format(Renderer("html"), "one self-contained page"),
    "junit": Format(Renderer("junit"), "JUnit XML (strict junit-10.xsd)"),
    "junit-gitlab": Format(
        Renderer("junit", args=lambda o: {"gitlab": True}), "JUnit XML with GitLab's file and line"
    ),
    "tap": Format(
        Renderer("tap", args=lambda o: {"version": o.tap_version}), "TAP 14 (or --tap-version 13)"
    ),
    "gradescope": Format(Renderer("gradescope"), "Gradescope's results.json"),
    "prairielearn": Format(Renderer("prairielearn"), "PrairieLearn's results.json"),
    "autolab": Format(Renderer("autolab"), "Autolab's feedback and autoresult lines"),
    "github": Format(
        Renderer("github", args=_workspace),
        "GitHub Actions: annotations and log; the summary to $GITHUB_STEP_SUMMARY",
        appends=(("GITHUB_STEP_SUMMARY", Renderer("github", "summary", _workspace)),),
    ),
    "classroom": Format(
        Renderer("classroom"),
        "GitHub Classroom's grader result; the output to $GITHUB_OUTPUT",
        appends=(("GITHUB_OUTPUT", Renderer("classroom", "output")),),
    ),
}
