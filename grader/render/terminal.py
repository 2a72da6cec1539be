"""The report as a student reads it in a terminal: a line per check, failures explained."""

from __future__ import annotations

import re
import textwrap

from grader.render import platform
from grader.render.escape import inert
from grader.report import SubmissionReport
from grader.results import CheckResult, Evidence, Isolation, Outcome

_MARK = {
    Outcome.PASSED: "PASS",
    Outcome.FAILED: "FAIL",
    Outcome.SKIPPED: "SKIP",
    Outcome.ERROR: "ERROR",
    Outcome.NOT_RUN: "----",
}
_INDENT = " " * 8


def _para(label: str, text: str) -> list[str]:
    body = textwrap.fill(
        inert(" ".join(text.split())), width=92, initial_indent=_INDENT + label,
        subsequent_indent=_INDENT + " " * len(label),
    )  # fmt: skip
    return body.splitlines()


def _block(label: str, text: str, limit: int = 1200) -> list[str]:
    lines = [_INDENT + label]
    shown = inert(text, limit).splitlines() or ["(nothing)"]
    for line in shown[:25]:
        lines.append(_INDENT + "  | " + line)
    if len(shown) > 25:
        lines.append(_INDENT + f"  | … [{len(shown) - 25} more lines cut]")
    return lines


def _wrap(text: str) -> list[str]:
    return textwrap.wrap(inert(text, 1000), width=96, subsequent_indent="    ")


def _evidence(ev: Evidence) -> list[str]:
    lines = [_INDENT + inert(ev.title, 200) + ":"]
    if ev.rows:
        rows = [tuple(inert(c, 120) for c in r) for r in ev.rows[:20]]
        table = [tuple(ev.columns), *rows] if ev.columns else rows
        n = max(len(r) for r in table)
        widths = [max((len(r[i]) for r in table if i < len(r)), default=0) for i in range(n)]
        for row in table:
            cells = [c.ljust(widths[i]) for i, c in enumerate(row)]
            lines.append(_INDENT + "  " + "  ".join(cells).rstrip())
        if len(ev.rows) > 20:
            lines.append(_INDENT + f"  … [{len(ev.rows) - 20} more rows cut]")
    if ev.text:
        lines.extend(_INDENT + "  " + ln for ln in inert(ev.text, 1500).splitlines()[:20])
    return lines


def _check(c: CheckResult) -> list[str]:
    lines = [f"  {_MARK[c.outcome]:<5} {inert(c.title, 200)}"]
    if c.outcome is Outcome.PASSED:
        for w in c.warnings:
            lines.extend(_para("warning: ", w))
        return lines
    # what the sandbox did comes first, as the first words of the failure
    said = "; ".join(a.text for a in c.sandbox)
    message = f"{said}. {c.message}" if said and c.message else said or c.message
    if message:
        lines.extend(_para("", message))
    if c.outcome in (Outcome.SKIPPED, Outcome.NOT_RUN):
        return lines
    if c.expected is not None:
        lines.extend(_block("expected:", c.expected))
    if c.actual is not None:
        lines.extend(_block("got:", c.actual))
    for ev in c.evidence:
        lines.extend(_evidence(ev))
    if c.hint:
        lines.extend(_para("what to do: ", c.hint))
    if c.lecture:
        lines.extend(_para("lecture: ", f"see the section “{c.lecture}”"))
    for w in c.warnings:
        lines.extend(_para("warning: ", w))
    return lines


def _head(text: str) -> str:
    """What a layer is, without its details: "no control group (not root): memory is..."
    is "no control group"."""
    while True:
        plain = re.sub(r"\s*\([^()]*\)", "", text)
        if plain == text:
            return text.split(":", 1)[0].strip()
        text = plain


def _isolation(iso: Isolation, verbose: bool) -> list[str]:
    if iso.level == "full":
        line = "isolation: full"
    else:
        line = f"isolation: {iso.level}: " + ("; ".join(_head(m) for m in iso.missing) or "?")
    lines = _wrap(line)
    if verbose:
        for layer in iso.layers:
            lines.extend(_wrap(f"  layer: {layer}"))
        for missing in iso.missing:
            lines.extend(_wrap(f"  missing: {missing}"))
    return lines


def render(report: SubmissionReport, *, verbose: bool = False) -> str:
    """The report; `verbose` adds the sandbox's layers, and what is missing of them."""
    head = platform.heading(report)
    out = [f"ipcgrade · {inert(head, 200)}",
           f"submission: {inert(report.submission, 300)}"]  # fmt: skip
    out.extend(_isolation(report.isolation, verbose))
    for problem in report.problems:
        out.append(f"  ! {inert(problem, 500)}")
    b = report.build
    if report.missing_files:
        out.append(f"build: not attempted, missing {', '.join(report.missing_files)}")
    elif b.ok:
        note = f", {len(b.warnings)} warning(s)" if b.warnings else ""
        out.append(f"build: ok ({b.duration_s:.2f} s{note})")
        for w in b.warnings[:10]:
            out.append(f"  warning: {inert(w, 300)}")
    else:
        what = {"link": "linking failed", "make": "your Makefile failed"}.get(
            b.kind, "compilation failed"
        )
        out.append(f"build: {what}")
        for e in b.errors[:10]:
            out.append(f"  {inert(e, 300)}")
    out.append("")
    for c in report.checks:
        out.extend(_check(c))
    counts = report.counts()
    out.append("")
    summary = ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in counts.items() if n)
    verdict = "all checks passed" if report.passed else "not passed"
    out.append(f"score {report.score:g}/{report.max_score:g} — {summary} — {verdict} "
               f"({report.duration_s:.2f} s)")  # fmt: skip
    if report.kept:
        out.append(f"scratch folder kept in {report.kept}")
    return "\n".join(out) + "\n"
