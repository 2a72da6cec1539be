"""Gradescope's results.json, as its autograder specification describes it
(https://gradescope-autograders.readthedocs.io/en/latest/specs/).

One test per check of the catalogue, numbered "2.3" (exercise 2, third check); its output
is Markdown (`output_format: "md"`): the message, what to do, and the evidence as tables,
student text escaped and raw output in fences it cannot close. Visibility maps one to one:
our "hidden" is Gradescope's "hidden" (never shown to students: a secret check stays
secret even once grades are published, which "after_published" would not keep), and
"after_due_date" is Gradescope's own. Gradescope hides the total score from a student while
a test is hidden. `extra_data` holds the check's JSON (CheckResult.to_dict), its strings
inert: Gradescope stores it, and NUL in a JSON string is what databases refuse.
"""

from __future__ import annotations

import json
import math
from typing import Any

from grader.render import markdown, platform
from grader.render.escape import inert
from grader.report import SubmissionReport
from grader.results import CheckResult, CheckSpec, Outcome

MAX_ROWS = 60  # of one evidence table
MAX_BLOCK = 20_000  # characters of one block of raw output


def _where(report: SubmissionReport, result: CheckResult) -> list[str]:
    """Where in the student's source the mistake is, with that line when the file is known."""
    if result.location is None:
        return []
    loc = result.location
    out = [f"Where: {markdown.escape(loc.file, limit=200)}, line {loc.line}\n"]
    src = next((f for f in report.sources if f.file == loc.file), None)
    lines = src.text.split("\n") if src else []
    if 0 < loc.line <= len(lines):
        out.append(markdown.code_block(f"{loc.line:>4} | {lines[loc.line - 1]}", limit=400))
    return out


def _test_output(report: SubmissionReport, result: CheckResult) -> str:
    """One check's finding as Markdown."""
    out: list[str] = []
    word = platform.WORDS[result.outcome]
    for action in result.sandbox:
        out.append(f"**{markdown.escape(action.text, limit=1000)}**\n")
    if result.message:
        out.append(f"**{markdown.escape(word)}**: {markdown.escape(result.message, limit=4000)}\n")
    elif result.outcome is not Outcome.PASSED:
        out.append(f"**{markdown.escape(word)}**\n")
    if result.outcome is not Outcome.PASSED:
        if result.hint:
            out.append(f"**What to do**: {markdown.escape(result.hint, limit=2000)}\n")
        if result.lecture:
            lecture = markdown.escape(result.lecture, limit=200)
            out.append(f"Lecture: see the section “{lecture}”.\n")
        out += _where(report, result)
    if result.expected is not None:
        out += ["Expected:\n", markdown.code_block(result.expected, limit=MAX_BLOCK)]
    if result.actual is not None:
        out += ["Got:\n", markdown.code_block(result.actual, limit=MAX_BLOCK)]
    for ev in result.evidence:
        out.append(f"**{markdown.escape(ev.title, limit=200)}**\n")
        if ev.rows:
            out.append(markdown.table(ev.columns, ev.rows[:MAX_ROWS], limit=400))
            if len(ev.rows) > MAX_ROWS:
                out.append(f"… {len(ev.rows) - MAX_ROWS} more rows cut\n")
        if ev.text:
            out.append(markdown.code_block(ev.text, limit=MAX_BLOCK))
    for w in result.warnings:
        out.append(f"Warning: {markdown.escape(w, limit=1000)}\n")
    return "\n".join(out)


def _test(
    report: SubmissionReport, spec: CheckSpec, result: CheckResult, number: str
) -> dict[str, Any]:
    return {
        "name": inert(spec.title, 300),
        "name_format": "text",
        "number": number,
        "score": result.points,
        "max_score": spec.max_points,
        "status": "passed" if result.outcome is Outcome.PASSED else "failed",
        "output": _test_output(report, result),
        "output_format": "md",
        "tags": [inert(t, 100) for t in spec.tags],
        "visibility": spec.visibility if spec.visibility in platform.HIDDEN else "visible",
        "extra_data": platform.inert_json(result.to_dict()),
    }


def _output(report: SubmissionReport, pairs: list[tuple[CheckSpec, CheckResult]]) -> str:
    """The submission's summary as Markdown: what is wrong first, then the score."""
    head = platform.heading(report)
    out = [f"**ipcgrade** · {markdown.escape(head, limit=300)}\n"]
    wrong = platform.state(report)
    if wrong:
        out.append(f"**{markdown.escape(wrong)}**\n")
    for problem in report.problems:
        out.append(f"- {markdown.escape(problem, limit=1000)}")
    if report.problems:
        out.append("")
    b = report.build
    if not report.missing_files and not b.ok:
        if b.diagnostics:
            rows = [(d.file, str(d.line), d.severity, d.text) for d in b.diagnostics[:MAX_ROWS]]
            out.append(markdown.table(("file", "line", "severity", "message"), rows, limit=600))
        if b.log:
            out += ["The compiler said:\n", markdown.code_block(b.log, limit=MAX_BLOCK)]
    shown = [(s, c) for s, c in pairs if not platform.hidden(s)]
    counts: dict[str, int] = {}
    for _, c in shown:
        counts[platform.WORDS[c.outcome]] = counts.get(platform.WORDS[c.outcome], 0) + 1
    summary = ", ".join(f"{n} {word}" for word, n in counts.items())
    out.append(f"Visible checks: {markdown.escape(summary or 'none')}.\n")
    note = platform.hidden_note(pairs)
    if note:
        out.append(markdown.escape(note) + "\n")
    if report.isolation.level != "full":
        out.append(f"Isolation: {markdown.escape(report.isolation.level)}.\n")
    return "\n".join(out)


def results(report: SubmissionReport) -> dict[str, Any]:
    """The results.json document, as plain JSON values."""
    pairs = platform.checks(report)
    major = platform.exercise_number(report)
    return {
        "score": report.score,
        "execution_time": math.ceil(report.duration_s),
        "output": _output(report, pairs),
        "output_format": "md",
        "test_output_format": "md",
        "test_name_format": "text",
        "visibility": "visible",
        # run_autograder's stdout may hold anything a student's program printed
        "stdout_visibility": "hidden",
        "extra_data": platform.inert_json(
            {
                "ipcgrade": report.grader_version,
                "exercise": report.exercise,
                "status": report.status,
                "max_score": report.max_score,
                "exit_code": report.exit_code,
                "error": report.error,
                "isolation": report.isolation.to_dict(),
                "graded_at": report.graded_at,
            }
        ),
        "tests": [_test(report, s, c, f"{major}.{i}") for i, (s, c) in enumerate(pairs, 1)],
    }


def render(report: SubmissionReport) -> str:
    """Gradescope's results.json: ASCII JSON, student text escaped inside it."""
    return json.dumps(results(report), indent=2, ensure_ascii=True) + "\n"
