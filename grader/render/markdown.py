"""Student text as Markdown that stays text: escaped inline, fenced blocks, tables.

Control characters are shown as `\\x1b` (grader.render.escape) before anything else, so NUL,
ANSI sequences and bidi overrides never reach a Markdown renderer. Inline, every character
that Markdown or HTML reads as syntax is escaped: `& < >` as HTML entities (a `<script>`
stays text even for a renderer that lets inline HTML through; no backslash before them,
which would show the entity's name) and the punctuation of Markdown with a backslash (and
a first `-`, `+`, `=` or `1.`, which would start a list); with `github=True`, also what
GitHub alone reads: autolinks (`www.`, `http:`, `a@b.c`), @mentions, :emoji: and $math$.
A newline, which would end a table row or a paragraph, is shown as `↵`, or with
`collapse=True` folded like all white space. Text inside raw HTML, where Markdown is not
read (`tag`), gets entities only. A code block's fence is longer than any run of backticks
in its text, so the text cannot close it.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence

from grader.render.escape import inert

_PUNCT = re.compile(r"([\\`*_\[\]#|~])")
_GITHUB = re.compile(r"([\\`*_\[\]#|~.:@$])")  # and autolinks, @mentions, :emoji:, $math$
_LEADING = re.compile(r"^(\s*)([-+=]|\d+(?=[.)]))")  # a list, a heading's underline
_TICKS = re.compile(r"`+")


def _inert(text: str, limit: int | None) -> str:
    return inert(text, len(text) if limit is None else limit)


def escape(
    text: str, *, limit: int | None = None, collapse: bool = False, github: bool = False
) -> str:
    """`text` as inline Markdown that shows exactly as written, on one line: a newline
    shown as `↵`, or with `collapse` every run of white space folded into one space;
    `github`: for GitHub's renderer (autolinks, mentions, emoji, math stay text too).
    `limit` cuts it (characters) with a visible marker."""
    shown = _inert(str(text), limit)
    if collapse:
        shown = " ".join(shown.split())
    shown = html.escape(shown, quote=False)
    shown = (_GITHUB if github else _PUNCT).sub(r"\\\1", shown)
    shown = _LEADING.sub(lambda m: m.group(1) + _lead(m.group(2)), shown)
    return " ↵ ".join(shown.split("\n"))


def _lead(mark: str) -> str:
    """A mark that would start a list or a heading at the start of a line, made text."""
    if mark.isdigit():
        return mark + "\\"  # "1." stays text as "1\."
    return "\\" + mark


def tag(text: str, *, limit: int | None = None) -> str:
    """`text` inside raw HTML (a <summary>), where Markdown is not read: entities only,
    quotes too, its white space folded onto one line."""
    return html.escape(" ".join(_inert(str(text), limit).split()), quote=True)


def code_block(text: str, *, limit: int | None = None, info: str = "") -> str:
    """`text` in a fenced code block no line of it can close, ending with a newline;
    `info` is the fence's info string (a language: "text")."""
    shown = _inert(str(text), limit)
    longest = max((len(m.group()) for m in _TICKS.finditer(shown)), default=0)
    fence = "`" * max(3, longest + 1)
    if not shown.endswith("\n"):
        shown += "\n"
    return f"{fence}{info}\n{shown}{fence}\n"


def table(columns: Sequence[str], rows: Sequence[Sequence[str]], *,
          limit: int | None = None, collapse: bool = False,
          github: bool = False) -> str:  # fmt: skip
    """A GitHub-flavoured table, every cell escaped (`limit`: characters per cell;
    `collapse`, `github`: as `escape`'s); rows shorter than the header are padded, longer
    ones get blank header cells."""
    width = max([len(columns), *(len(r) for r in rows)], default=0)
    if width == 0:
        return ""

    def line(cells: Sequence[str]) -> str:
        shown = [escape(c, limit=limit, collapse=collapse, github=github) for c in cells]
        padded = shown + [""] * (width - len(cells))
        return "| " + " | ".join(c or " " for c in padded) + " |"

    out = [line(columns), "|" + "---|" * width, *(line(r) for r in rows)]
    return "\n".join(out) + "\n"
