"""PrairieLearn's external-grader results.json (docs/externalGrading.md, "Grading results",
in github.com/PrairieLearn/PrairieLearn).

`gradable` is false when files are missing, when the program does not compile, and when
the grader broke: PrairieLearn then charges no attempt. `score` is score/max_score (0-1).
PrairieLearn has no hidden tests, so the hidden checks are one test, "Hidden checks", with
their points summed and none of their detail (as the HTML page counts them without showing
them); the total stays the sum of the tests' points. Text fields are plain text (PrairieLearn
shows them in <pre>, ANSI colours read): control characters are shown as `\\x1b`, never sent.

PrairieLearn's grader host refuses a results file over 1 MiB (apps/grader-host/src/index.ts:
`Buffer.byteLength(data) > 1024 * 1024`): the largest outputs and messages are cut, each to
the same length and ending with a note, until the whole file is under it.
"""

from __future__ import annotations

import json
from typing import Any

from grader.render import platform
from grader.render.escape import inert
from grader.report import SubmissionReport
from grader.results import CheckResult, CheckSpec

LIMIT = 1024 * 1024  # bytes of the whole file, UTF-8, PrairieLearn's limit
CUT = "\n… output cut: the results must stay under 1 MiB"


def _test(spec: CheckSpec, result: CheckResult) -> dict[str, Any]:
    return {
        "name": inert(spec.title, 300),
        "description": f"{platform.WORDS[result.outcome]} · {inert(spec.name, 200)}",
        "points": result.points,
        "max_points": spec.max_points,
        "message": platform.said(result),
        "output": platform.plain(result),
    }


def _hidden(pairs: list[tuple[CheckSpec, CheckResult]]) -> dict[str, Any] | None:
    kept = [(s, c) for s, c in pairs if platform.hidden(s)]
    if not kept:
        return None
    return {
        "name": "Hidden checks",
        "description": f"{len(kept)} check{'s' if len(kept) != 1 else ''} kept hidden",
        "points": sum(c.points for _, c in kept),
        "max_points": sum(s.max_points for s, _ in kept),
        "message": platform.hidden_note(pairs),
        "output": "",
    }


def _output(report: SubmissionReport) -> str:
    b = report.build
    out: list[str] = [f"problem: {inert(p, 1000)}" for p in report.problems]
    if not report.missing_files and not b.ok:
        out += [inert(str(d), 1000) for d in b.diagnostics[:60]]
        if b.log:
            out += ["the compiler said:", inert(b.log, platform.MAX_TEXT)]
    return "\n".join(out)


def results(report: SubmissionReport) -> dict[str, Any]:
    """The results.json document, before any cut for size."""
    pairs = platform.checks(report)
    wrong = platform.state(report)
    gradable = not (report.missing_files or not report.build.ok
                    or report.status == "grader error")  # fmt: skip
    score = report.score / report.max_score if report.max_score else 0.0
    tests = [_test(s, c) for s, c in pairs if not platform.hidden(s)]
    secret = _hidden(pairs)
    if secret:
        tests.append(secret)
    doc: dict[str, Any] = {
        "gradable": gradable,
        "score": min(1.0, max(0.0, score)),
        "message": wrong or f"score {platform.num(report.score)}/{platform.num(report.max_score)}",
        "output": _output(report),
        "tests": tests,
    }
    if not gradable:
        doc["format_errors"] = [wrong]
    return doc


def _size(doc: dict[str, Any]) -> int:
    return len(_dump(doc).encode("utf-8"))


def _dump(doc: dict[str, Any]) -> str:
    return json.dumps(doc, indent=2, ensure_ascii=True) + "\n"


def _cut(text: str, size: int) -> str:
    """`text` cut to at most `size` bytes as a JSON string (with the note)."""
    room = size - len(json.dumps(CUT))
    lo, hi = 0, len(text)
    while lo < hi:  # the longest prefix whose JSON fits
        mid = (lo + hi + 1) // 2
        if len(json.dumps(text[:mid])) <= room:
            lo = mid
        else:
            hi = mid - 1
    return text[:lo] + CUT


def fit(doc: dict[str, Any], limit: int = LIMIT) -> dict[str, Any]:
    """`doc` with its outputs cut until its file is under `limit`: the largest first, all
    cut to one length, so every long output keeps as much of its start as the others."""
    fields: list[tuple[dict[str, Any], str]] = [(doc, "output")]
    fields += [(t, key) for t in doc["tests"] for key in ("output", "message")]
    size = _size(doc)
    if size < limit:
        return doc
    lengths = [len(json.dumps(where[key])) for where, key in fields]
    room = limit - 1 - (size - sum(lengths))  # for the fields' JSON strings
    least = len(json.dumps(CUT)) + 2
    lo, hi = least, max(lengths)
    if sum(min(n, least) for n in lengths) > room:
        raise ValueError("the PrairieLearn results cannot be cut under 1 MiB")
    while lo < hi:  # the longest length every field can keep
        mid = (lo + hi + 1) // 2
        if sum(min(n, mid) for n in lengths) <= room:
            lo = mid
        else:
            hi = mid - 1
    for (where, key), n in zip(fields, lengths, strict=True):
        if n > lo:
            where[key] = _cut(where[key], lo)
    return doc


def render(report: SubmissionReport) -> str:
    """PrairieLearn's results.json, under 1 MiB."""
    return _dump(fit(results(report)))
