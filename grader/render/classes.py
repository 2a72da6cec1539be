"""The index of a batch of several exercises (`grade batch all`): one row per exercise."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape

from grader.report import STATUSES, ClassReport

_STYLE = """
body { font: 15px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 60rem;
       padding: 0 1rem; color: #1b1b1b; background: #fff; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .35rem .6rem; border-bottom: 1px solid #ddd; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
a { color: #0b57d0; }
@media (prefers-color-scheme: dark) {
  body { color: #e6e6e6; background: #161616; } th, td { border-color: #3a3a3a; }
  a { color: #8ab4f8; } }
"""


def _mean(klass: ClassReport) -> str:
    if not klass.reports or not klass.max_score:
        return "none"
    mean = sum(r.score for r in klass.reports) / len(klass.reports)
    return f"{mean:.1f} / {klass.max_score:g}"


def render(classes: Sequence[ClassReport], links: Mapping[str, str]) -> str:
    """One self-contained page (no script, no fetch); `links` maps an exercise's id to its
    overview's relative URL."""
    head = ["exercise", "name", "title", "students", *STATUSES, "mean score"]
    rows = []
    for k in classes:
        counts = {s: sum(r.status == s for r in k.reports) for s in STATUSES}
        link = links.get(k.exercise)
        ident = escape(k.exercise)
        cell = f'<a href="{escape(link)}">{ident}</a>' if link else ident
        cells = [
            cell,
            escape(k.name),
            escape(k.title),
            f'<td class="n">{len(k.reports)}',
            *(f'<td class="n">{counts[s]}' for s in STATUSES),
            f'<td class="n">{escape(_mean(k))}',
        ]
        rows.append(
            "<tr>" + "".join(c if c.startswith("<td") else f"<td>{c}" for c in cells) + "</tr>"
        )
    graded_at = escape(classes[0].graded_at) if classes else ""
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>Class results</title><style>{_STYLE}</style></head><body>"
        f"<h1>Class results</h1><p>Graded {graded_at}: one overview per exercise.</p>"
        "<table><thead><tr>"
        + "".join(f"<th>{escape(h)}</th>" for h in head)
        + "</tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table></body></html>\n"
    )
