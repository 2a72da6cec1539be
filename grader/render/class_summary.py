"""A class as a Markdown table, for a CI job's summary (`grade merge --summary FILE`)."""

from __future__ import annotations

import re
from collections.abc import Sequence

from grader.render.escape import inert
from grader.report import STATUSES, ClassReport

LIMIT = 1024 * 1024  # GitHub refuses a step summary over 1 MiB
# what Markdown or GitHub's HTML would read as syntax: escaped with a backslash
_MARKUP = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~&:@$=\"'])")


def _text(text: str, limit: int = 80) -> str:
    """Student text as literal Markdown: control characters shown, markup escaped."""
    return _MARKUP.sub(r"\\\1", inert(text, limit).replace("\n", " "))


def _number(value: float) -> str:
    return f"{round(value, 2):g}"


def render(classes: Sequence[ClassReport], missing: Sequence[str] = (), limit: int = LIMIT) -> str:
    """One section per exercise: who scored what, and how many of each status. Rows past
    `limit` bytes are left out, with a line saying how many (grades.csv has them all)."""
    head = ["## Class results", ""]
    if missing:
        head += [f"**Shards missing:** {', '.join(missing)}: this class is incomplete.", ""]
    parts = ["\n".join(head) + "\n"]
    for k in classes:
        counts = ", ".join(
            f"{n} {s}" for s in STATUSES if (n := sum(r.status == s for r in k.reports))
        )
        mean = sum(r.score for r in k.reports) / len(k.reports) if k.reports else 0.0
        parts.append(
            f"### {_text(k.exercise)} {_text(k.name)}: {_text(k.title, 200)}\n\n"
            f"{len(k.reports)} students ({counts or 'none'}), mean "
            f"{_number(mean)} / {_number(k.max_score)}\n\n"
            "| student | score | percent | status |\n|---|---:|---:|---|\n"
        )
        for r in k.reports:
            percent = 100 * r.score / k.max_score if k.max_score else 0.0
            parts.append(
                f"| {_text(r.student)} | {_number(r.score)} / {_number(k.max_score)} | "
                f"{_number(percent)} % | {r.status} |\n"
            )
        parts.append("\n")
    out: list[str] = []
    size = 0
    for i, part in enumerate(parts):
        cost = len(part.encode("utf-8"))
        if size + cost > limit - 200:  # room for the note
            left = sum(p.startswith("| ") for p in parts[i:])
            out.append(f"\n*{left} rows left out: the summary's limit is {limit} bytes; "
                       "grades.csv has every student.*\n")  # fmt: skip
            break
        out.append(part)
        size += cost
    return "".join(out)
