"""The catalogue as `grade --list` shows it: a table of the exercises, or JSON."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from grader.catalog import Exercise


def render(exercises: Sequence[Exercise], *, as_json: bool = False) -> str:
    """Each exercise's id, short name, the files it expects and its title (and points)."""
    if as_json:
        listed = [
            {"id": e.id, "name": e.name, "files": list(e.files), "title": e.title,
             "points": e.max_score}
            for e in exercises
        ]  # fmt: skip
        return json.dumps(listed, indent=2, ensure_ascii=True)
    rows = [("id", "name", "files", "title")]
    rows += [(e.id, e.name, " ".join(e.files), e.title) for e in exercises]
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    return "\n".join("  ".join(r[i].ljust(widths[i]) for i in range(3)) + "  " + r[3] for r in rows)
