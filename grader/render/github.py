"""GitHub Actions: the log and annotations on stdout, the Markdown step summary.

Workflow commands follow the runner's grammar (actions/runner src/Runner.Common/ActionCommand.cs):
a line whose first non-blank characters are `::` is a command, and `##[` anywhere in a line is
one of the legacy kind. Student output therefore only ever goes between `::stop-commands::TOKEN`
and `::TOKEN::`, inside which the runner processes no command, with a fresh random token per run
("Stopping and starting workflow commands" in GitHub's "Workflow commands" reference).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath

from grader.render import markdown, platform, terminal
from grader.render.escape import inert
from grader.report import SubmissionReport
from grader.results import CheckResult, Evidence, Outcome

MAX_ANNOTATIONS = 10  # GitHub shows 10 error (and 10 warning) annotations per step
SUMMARY_LIMIT = 1024 * 1024  # bytes: the runner refuses a step summary over 1 MiB
_BLOCK = 20_000  # characters of one output block in the summary
_MARK = {
    Outcome.PASSED: "✅ passed",
    Outcome.FAILED: "❌ failed",
    Outcome.ERROR: "💥 error",
    Outcome.SKIPPED: "⏭️ skipped",
    Outcome.NOT_RUN: "⏸️ not run",
}


# --- workflow commands -----------------------------------------------------------------


def escape_data(text: str) -> str:
    """A command's message, as @actions/core escapes it (packages/core/src/command.ts)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A command's property value, as @actions/core escapes it (command.ts)."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


@dataclass(frozen=True)
class Annotation:
    """One `::error` or `::warning` command, at a line of the student's source if known."""

    kind: str  # "error" or "warning"
    title: str
    message: str
    file: str | None = None  # relative to the repository's root, as GitHub wants it
    line: int | None = None
    column: int | None = None

    def command(self) -> str:
        props = [("file", self.file), ("line", self.line), ("col", self.column),
                 ("title", self.title)]  # fmt: skip
        given = ",".join(f"{k}={escape_property(str(v))}" for k, v in props if v)
        return f"::{self.kind} {given}::{escape_data(self.message)}"

    def where(self) -> str:
        if not self.file:
            return ""
        return f"{self.file}:{self.line}" if self.line else self.file


def _path(report: SubmissionReport, file: str, workspace: str | None) -> str | None:
    """`file` of the submission as a path from the repository's root; None when outside it.
    A relative submission is taken from the current folder, as the command line gave it."""
    if workspace:
        where = os.path.join(os.path.abspath(report.submission), file)
        path = os.path.relpath(where, os.path.abspath(workspace))
    else:
        path = os.path.normpath(os.path.join(report.submission, file))
    if path == ".." or path.startswith(("../", "/")):
        return None
    return PurePosixPath(path).as_posix()


def _at(kind: str, title: str, message: str, file: str | None, line: int,
        column: int | None) -> Annotation:  # fmt: skip
    if file is None:  # a line of a file GitHub cannot find says nothing
        return Annotation(kind, title, message)
    return Annotation(kind, title, message, file, line, column)


def annotate(report: SubmissionReport, workspace: str | None = None) -> list[Annotation]:
    """Every annotation the report can point at a line with, in order: the compiler's errors
    and warnings, then each failed visible check that knows where the mistake is.

    Args:
        workspace: the repository's root ($GITHUB_WORKSPACE); paths are made relative to it.
    """
    out = []
    for d in report.build.diagnostics:
        kind = {"error": "error", "fatal error": "error", "warning": "warning"}.get(d.severity)
        if kind is None:
            continue
        out.append(_at(kind, f"{d.severity} (the compiler)", inert(d.text, 1000),
                       _path(report, d.file, workspace), d.line, d.column))  # fmt: skip
    for spec, c in platform.checks(report):
        if c.outcome is not Outcome.FAILED or c.location is None or platform.hidden(spec):
            continue
        text = " ".join(said(c).split())
        if c.hint:
            text += f"\nWhat to do: {' '.join(c.hint.split())}"
        loc = c.location
        out.append(_at("error", inert(c.title, 200), inert(text, 1000),
                       _path(report, loc.file, workspace), loc.line, loc.column))  # fmt: skip
    return out


def said(c: CheckResult) -> str:
    said = "; ".join(a.text for a in c.sandbox)
    return f"{said}. {c.message}" if said and c.message else said or c.message


def token_for(text: str) -> str:
    """A fresh random token that `text` does not hold (so it cannot resume commands)."""
    while True:
        token = secrets.token_hex(16)
        if token not in text.lower():  # the runner compares tokens ignoring case
            return token


def quiet(text: str, token: str | None = None) -> str:
    """`text` between ::stop-commands:: markers: no line of it is a workflow command."""
    token = token or token_for(text)
    if token.lower() in text.lower():
        raise ValueError("the stop-commands token occurs in the text it would guard")
    return f"::stop-commands::{token}\n{text.rstrip(chr(10))}\n::{token}::\n"


def render(
    report: SubmissionReport, *, workspace: str | None = None, token: str | None = None
) -> str:
    """The step's log: the student's terminal report where no command runs, then at most
    MAX_ANNOTATIONS annotations (the rest are in the summary).

    Args:
        workspace: the repository's root ($GITHUB_WORKSPACE), for the annotations' paths.
        token: the stop-commands token; a fresh random one by default (tests pass one).
    """
    out = quiet(terminal.render(report), token)
    found = annotate(report, workspace)
    out += "".join(a.command() + "\n" for a in found[:MAX_ANNOTATIONS])
    if len(found) > MAX_ANNOTATIONS:
        out += (f"{len(found) - MAX_ANNOTATIONS} more annotations (GitHub shows "
                f"{MAX_ANNOTATIONS} per step) are listed in the step summary\n")  # fmt: skip
    return out


# --- the step summary ------------------------------------------------------------------


def _md(text: str, limit: int = 2000) -> str:
    """Student text as inline Markdown on one line, its white space folded."""
    return markdown.escape(text, limit=limit, collapse=True, github=True)


def _code(text: str) -> str:
    return markdown.code_block(text.rstrip("\n") or "(nothing)", limit=_BLOCK, info="text")


def _table(columns: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    return markdown.table(columns, rows, limit=300, collapse=True, github=True)


def _evidence(ev: Evidence) -> str:
    parts = [f"**{_md(ev.title, 200)}**"]
    if ev.rows:
        parts.append(_table(ev.columns, list(ev.rows[:50])))
        if len(ev.rows) > 50:
            parts.append(f"*… {len(ev.rows) - 50} more rows cut*")
    if ev.text:
        parts.append(_code(ev.text))
    return "\n\n".join(parts)


def _details(c: CheckResult) -> tuple[str, str]:
    """A failure folded: its head (message, hint) and its evidence, apart so it can be cut."""
    what = said(c)
    title = markdown.tag(c.title, limit=200)
    head = [f"<details><summary>{_MARK[c.outcome]}: <b>{title}</b></summary>", ""]
    if what:
        head += [_md(what), ""]
    if c.hint:
        head += [f"**What to do:** {_md(c.hint)}", ""]
    if c.lecture:
        head += [f"**Lecture:** the section “{_md(c.lecture, 100)}”", ""]
    head += [f"**Warning:** {_md(w)}\n" for w in c.warnings]
    body = []
    if c.expected is not None:
        body += ["**Expected:**", "", _code(c.expected), ""]
    if c.actual is not None:
        body += ["**Got:**", "", _code(c.actual), ""]
    for ev in c.evidence:
        body += [_evidence(ev), ""]
    return "\n".join(head), "\n".join(body)


def summary(
    report: SubmissionReport, *, workspace: str | None = None, limit: int = SUMMARY_LIMIT
) -> str:
    """The Markdown for $GITHUB_STEP_SUMMARY: score and status, a table of the visible
    checks, each failure folded with its evidence, the annotations past MAX_ANNOTATIONS;
    under `limit` bytes, evidence cut with a note where it would not fit."""
    every = platform.checks(report)
    shown = [(s, c) for s, c in every if not platform.hidden(s)]
    hidden = [s for s, _ in every if platform.hidden(s)]
    verdict = "all checks passed" if report.passed else report.status
    if report.status == "graded" and not report.passed:
        verdict = "not passed"
    head = [
        f"## {_md(report.exercise, 100)} {_md(report.name, 100)}: {platform.num(report.score)}"
        f"/{platform.num(report.max_score)} points, {_md(verdict, 100)}",
        "",
    ]
    if report.error:
        head += [f"**The grader failed:** {_md(report.error)}", ""]
    if report.missing_files:
        head += [f"**Missing files:** {_md(', '.join(report.missing_files))}", ""]
    if not report.build.ok and not report.missing_files:
        head += ["**The build failed:**", "", _code(report.build.log or "(no output)"), ""]
    rows = [(_MARK[c.outcome], c.title, f"{platform.num(c.points)}/{platform.num(s.max_points)}")
            for s, c in shown]  # fmt: skip
    head += [_table(("outcome", "check", "points"), rows), ""]
    if hidden:
        worth = platform.num(sum(s.max_points for s in hidden))
        head += [f"*{len(hidden)} hidden checks, worth {worth} points, are not shown.*", ""]
    found = annotate(report, workspace)
    tail = []
    if len(found) > MAX_ANNOTATIONS:
        tail += [f"### Annotations beyond the {MAX_ANNOTATIONS} GitHub shows", ""]
        tail += [f"- {a.kind} {_md(a.where(), 300)}: **{_md(a.title, 200)}** {_md(a.message)}"
                 for a in found[MAX_ANNOTATIONS:]]  # fmt: skip
        tail.append("")
    out = "\n".join(head) + "\n"
    end = "\n".join(tail)
    cut_note = ("*Evidence cut here: a step summary holds at most 1 MiB; the step's log "
                "shows the whole report.*\n\n")  # fmt: skip
    room = limit - _size(out) - _size(end) - 2 * _size(cut_note) - 200
    folded = [c for _, c in shown
              if c.outcome not in (Outcome.PASSED, Outcome.NOT_RUN) or c.warnings]  # fmt: skip
    cut = False
    for i, c in enumerate(folded):
        brief, body = _details(c)
        full = f"{brief}\n{body}</details>\n\n"
        short = f"{brief}\n{cut_note}</details>\n\n"
        if not cut and _size(full) <= room:
            piece = full
        elif _size(short) <= room:
            piece, cut = short, True
        else:
            out += (f"*{len(folded) - i} more failures cut: a step summary holds at most "
                    "1 MiB; the step's log shows the whole report.*\n\n")  # fmt: skip
            break
        out += piece
        room -= _size(piece)
    return out + end


def _size(text: str) -> int:
    return len(text.encode("utf-8"))
