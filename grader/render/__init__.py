"""Renderers: `render(report) -> str`, one module per format; none changes a grade."""

from __future__ import annotations

import re
from collections.abc import Callable

from grader.render import html, json, terminal
from grader.results import SubmissionReport

RENDERERS: dict[str, Callable[[SubmissionReport], str]] = {
    "terminal": terminal.render,
    "json": json.render,
    "html": html.render,
}

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def inert(text: str, limit: int = 2000) -> str:
    """Student text made harmless for a terminal: control characters shown, long text cut."""
    cut = ""
    if len(text) > limit:
        cut = f"… [{len(text) - limit} more characters cut]"
        text = text[:limit]
    return _CONTROL.sub(_escape, text) + cut


def _escape(m: re.Match[str]) -> str:
    code = ord(m.group())
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"
