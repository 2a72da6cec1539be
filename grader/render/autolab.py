"""Autolab's feedback: a readable report, the formatted-feedback line, and the autoresult.

Autolab reads the autoresult `{"scores": {...}}` from the last line of the output and the
formatted feedback (`"_presentation": "semantic"`, docs/features/formatted-feedback.md) from
the line before it (assessments_controller.rb, parseFeedback); the whole output is the
student's "Raw Output". So both lines are ASCII JSON, no student text can add a line, and
what comes before them is plain text with control characters shown, never sent.

The scores are keyed by the check's name ("test_grep_sees_end_of_file"), the instructor's
problem names in Autolab: names are unique in an exercise and do not change when a title is
reworded, and Autolab's parser rewrites `word:` in the autoresult, which a name (letters,
digits, "_") never holds. Autolab has no hidden problems, so the hidden checks are one
problem, "hidden_checks", their points summed, and none of their detail appears anywhere.
Tango keeps only the first 1000 KB of the output, so this text stays small (MAX_BYTES): the
autoresult is never cut off.
"""

from __future__ import annotations

import json
from typing import Any

from grader.render import platform
from grader.render.escape import inert
from grader.report import SubmissionReport
from grader.results import CheckResult, Outcome

HIDDEN_KEY = "hidden_checks"
MAX_HINT = 1500  # characters of one stage's hint
MAX_BYTES = 256 * 1024  # of the readable part


def scores(report: SubmissionReport) -> dict[str, float]:
    """The autoresult's scores: one per visible check by name, then the hidden ones summed."""
    out: dict[str, float] = {}
    kept = 0.0
    any_hidden = False
    for spec, result in platform.checks(report):
        if platform.hidden(spec):
            kept += result.points
            any_hidden = True
        else:
            out[spec.name] = out.get(spec.name, 0.0) + result.points
    if any_hidden:
        out[HIDDEN_KEY] = kept
    return out


def _stage_entry(result: CheckResult) -> dict[str, Any]:
    entry: dict[str, Any] = {"passed": result.outcome is Outcome.PASSED}
    if result.outcome is not Outcome.PASSED:
        parts = [platform.WORDS[result.outcome]]
        if result.message:
            parts.append(result.message)
        if result.hint:
            parts.append(f"what to do: {result.hint}")
        entry["hint"] = inert(" — ".join(" ".join(p.split()) for p in parts), MAX_HINT)
    return entry


def feedback(report: SubmissionReport) -> dict[str, Any]:
    """The formatted feedback: a Build stage, then a Checks stage with a hint per failure."""
    pairs = platform.checks(report)
    b = report.build
    build: dict[str, Any] = {"files found": {"passed": not report.missing_files}}
    if report.missing_files:
        build["files found"]["hint"] = platform.state(report)
    else:
        build["compiles"] = {"passed": b.ok}
        if not b.ok:
            first = "; ".join(str(d) for d in b.diagnostics[:5] if d.severity != "note")
            build["compiles"]["hint"] = inert(
                platform.state(report) + (f" {first}" if first else ""), MAX_HINT
            )
    if report.status == "grader error":
        build["grader"] = {"passed": False, "hint": platform.state(report)}
    stage: dict[str, Any] = {}
    for spec, result in pairs:
        if platform.hidden(spec):
            continue
        key = inert(spec.title, 200)
        if key in stage or key.startswith("_"):  # Autolab skips keys starting with "_"
            key = f"{key} ({spec.name})"
        stage[key] = _stage_entry(result)
    stage["_order"] = list(stage)
    build["_order"] = list(build)
    return {
        "_presentation": "semantic",
        "stages": ["Build", "Checks"],
        "Build": build,
        "Checks": stage,
        "_scores_order": list(scores(report)),
    }


def _readable(report: SubmissionReport) -> str:
    """The report as plain text, for Autolab's raw output: visible checks only."""
    pairs = platform.checks(report)
    head = platform.heading(report)
    out = [f"ipcgrade · {inert(head, 300)}"]
    wrong = platform.state(report)
    if wrong:
        out.append(wrong)
    out += [f"problem: {inert(p, 1000)}" for p in report.problems]
    b = report.build
    if not report.missing_files and not b.ok:
        out += [inert(str(d), 1000) for d in b.diagnostics[:30]]
    for spec, result in pairs:
        if platform.hidden(spec):
            continue
        pts = f"{platform.num(result.points)}/{platform.num(spec.max_points)}"
        out.append(f"[{platform.WORDS[result.outcome]}] {inert(spec.title, 300)} ({pts})")
        if result.outcome is Outcome.PASSED:
            continue
        for text in (platform.said(result), platform.plain(result)):
            out += ["    " + ln for ln in text.splitlines()]
    note = platform.hidden_note(pairs)
    if note:
        out.append(note)
    out.append(f"score {platform.num(report.score)}/{platform.num(report.max_score)}")
    text = "\n".join(out)
    if len(text.encode("utf-8")) > MAX_BYTES:
        text = text.encode("utf-8")[:MAX_BYTES].decode("utf-8", "ignore")
        text += "\n… cut: Autolab keeps only the start of a long output"
    return text


def render(report: SubmissionReport) -> str:
    """The readable report, then the formatted-feedback line, then the autoresult last."""
    line = json.dumps(feedback(report), ensure_ascii=True, separators=(", ", ": "))
    result = json.dumps({"scores": scores(report)}, ensure_ascii=True, separators=(", ", ": "))
    return f"{_readable(report)}\n{line}\n{result}\n"
