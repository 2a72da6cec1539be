"""What the formats share: every check of the catalogue with its result (the page, GitHub's
and the grading platforms' formats read them the same way),
hidden checks, the grade's state in words, and student text made inert inside JSON."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from grader.render.escape import inert
from grader.report import SubmissionReport
from grader.results import CheckResult, CheckSpec, Evidence, Outcome

HIDDEN = ("hidden", "after_due_date")  # kept from the student, as the HTML page keeps them
MAX_TEXT = 20_000  # characters of one field of student text (output, a log, a table cell)
WORDS = {
    Outcome.PASSED: "passed",
    Outcome.FAILED: "failed",
    Outcome.SKIPPED: "skipped",
    Outcome.ERROR: "the grader broke",
    Outcome.NOT_RUN: "not run",
}


def checks(report: SubmissionReport) -> list[tuple[CheckSpec, CheckResult]]:
    """Every check of the catalogue in its order, with its result (not run if it has none),
    then any result the catalogue lacks."""
    results = {c.id: c for c in report.checks}
    catalogue = report.catalogue or tuple(
        CheckSpec(c.id, c.title, c.max_points) for c in report.checks
    )
    out = []
    for spec in catalogue:
        result = results.pop(spec.id, None) or CheckResult(
            spec.id, spec.title, Outcome.NOT_RUN, message="the grade ended before it ran",
            max_points=spec.max_points,
        )  # fmt: skip
        out.append((spec, result))
    out += [(CheckSpec(c.id, c.title, c.max_points), c) for c in results.values()]
    return out


def hidden(spec: CheckSpec) -> bool:
    return spec.visibility in HIDDEN


def exercise_number(report: SubmissionReport) -> str:
    """ "2" for exercise2: the first part of a check's number ("2.3")."""
    m = re.search(r"(\d+)$", report.exercise)
    return m.group(1) if m else "1"


def heading(report: SubmissionReport) -> str:
    """ "exercise2 `pipe`: its title", raw: the caller escapes it for its format."""
    return f"{report.exercise} `{report.name}`: {report.title}" if report.name else report.title


def num(x: float) -> str:
    return f"{x:g}"


def state(report: SubmissionReport) -> str:
    """What is wrong with the grade as a whole, in a sentence, or "" when it was graded."""
    if report.error:
        return (
            f"The grader broke, not your program: {inert(report.error, 2000)}. Your score "
            "may be incomplete: tell your instructor."
        )
    broke = [c.title for c in report.checks if c.outcome is Outcome.ERROR]
    if broke:
        return (
            f"The grader broke while checking “{inert(broke[0], 200)}”"
            + (f" and {len(broke) - 1} more" if len(broke) > 1 else "")
            + ", not your program: those checks score 0 for now; tell your instructor."
        )
    if report.missing_files:
        found = ", ".join(inert(f, 200) for f in report.found_files[:20])
        found = f" (found: {found})" if found else ""
        return (
            f"Not graded: {', '.join(inert(f, 200) for f in report.missing_files)} "
            f"{'is' if len(report.missing_files) == 1 else 'are'} missing from your "
            f"submission{found}. Submit the file under that exact name."
        )
    if not report.build.ok:
        what = {"link": "linking failed", "make": "your Makefile failed"}.get(
            report.build.kind, "it does not compile"
        )
        return f"Not graded: {what}, so no check could run. Fix the errors below and submit again."
    return ""


def hidden_note(pairs: list[tuple[CheckSpec, CheckResult]]) -> str:
    """ "2 hidden checks, worth 4 points, are graded too: …" or ""."""
    kept = [s for s, _ in pairs if hidden(s)]
    if not kept:
        return ""
    n, worth = len(kept), sum(s.max_points for s in kept)
    return (
        f"{n} hidden check{'s' if n != 1 else ''}, worth {num(worth)} point"
        f"{'s' if worth != 1 else ''}, {'are' if n != 1 else 'is'} graded too: "
        "your instructor sees their detail."
    )


def grid(
    ev: Evidence,
    *,
    max_rows: int = 60,
    cell: Callable[[str, int], str] | None = None,
    widths: tuple[int, int] = (200, 400),
) -> list[str]:
    """An evidence's title and rows as aligned plain-text lines, each cell made shown by
    `cell` (inert by default) within `widths` (header, body) characters."""
    show = cell or inert
    lines = [show(ev.title, 200) + ":"]
    if ev.rows:
        rows = [tuple(show(c, widths[1]) for c in r) for r in ev.rows[:max_rows]]
        table = [tuple(show(c, widths[0]) for c in ev.columns), *rows] if ev.columns else rows
        n = max(len(r) for r in table)
        sizes = [max((len(r[i]) for r in table if i < len(r)), default=0) for i in range(n)]
        for row in table:
            lines.append(("  " + "  ".join(c.ljust(sizes[i]) for i, c in enumerate(row))).rstrip())
        if len(ev.rows) > max_rows:
            lines.append(f"  … [{len(ev.rows) - max_rows} more rows cut]")
    return lines


def text_table(ev: Evidence, max_rows: int = 60) -> list[str]:
    """An evidence table as aligned plain-text lines, each cell inert."""
    lines = grid(ev, max_rows=max_rows)
    if ev.text:
        lines.extend("  " + ln for ln in inert(ev.text, MAX_TEXT).splitlines())
    return lines


def plain(result: CheckResult) -> str:
    """What a check found, as plain text: the sandbox's action, expected, actual, evidence."""
    out: list[str] = [inert(a.text, 1000) for a in result.sandbox]
    if result.expected is not None:
        out += ["expected:", inert(result.expected, MAX_TEXT)]
    if result.actual is not None:
        out += ["got:", inert(result.actual, MAX_TEXT)]
    for ev in result.evidence:
        out += text_table(ev)
    out += [f"warning: {inert(w, 1000)}" for w in result.warnings]
    return "\n".join(out)


def said(result: CheckResult) -> str:
    """The check's message and what to do, in one paragraph of plain text."""
    parts = [inert(result.message, 4000)] if result.message else []
    if result.hint and result.outcome is not Outcome.PASSED:
        parts.append(f"What to do: {inert(result.hint, 2000)}")
    if result.lecture and result.outcome is not Outcome.PASSED:
        parts.append(f"Lecture: see the section “{inert(result.lecture, 200)}”.")
    if result.location and result.outcome is not Outcome.PASSED:
        parts.append(f"Where: {inert(result.location.file, 200)}, line {result.location.line}.")
    return "\n".join(parts)


def inert_json(value: Any, limit: int = MAX_TEXT) -> Any:
    """`value` (plain JSON) with every string, keys too, inert and cut at `limit`."""
    if isinstance(value, str):
        return inert(value, limit)
    if isinstance(value, Mapping):
        return {inert(str(k), 200): inert_json(v, limit) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [inert_json(v, limit) for v in value]
    return value
