"""Student text made inert: control characters shown as escapes, long text cut visibly.

Every renderer imports this leaf (it imports nothing of the grader), so none needs
grader.render's package, which names the formats, to escape a string.
"""

from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def inert(text: str, limit: int = 2000) -> str:
    """Student text made harmless for a terminal: control characters shown, long text cut."""
    text = str(text)  # a template's value may be a str subclass (Markup) or not a str
    cut = ""
    if len(text) > limit:
        cut = f"… [{len(text) - limit} more characters cut]"
        text = text[:limit]
    return _CONTROL.sub(_escape, text) + cut


def _escape(m: re.Match[str]) -> str:
    code = ord(m.group())
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"
