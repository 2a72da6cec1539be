"""Where in the student's C source a call is made, or a signal's handler is written.

A small tokenizer, not a C parser: comments, string and character literals and line
continuations are understood (a `pipe(` in a comment or a string is no call), and the rest
is identifiers and punctuation. That is enough to point a failure at the line of a
`pipe()`, `dup2()` or `signal()` call, and it never fails on code that does not compile
or that uses macros (pycparser, the maintained pure-Python C parser, needs preprocessed,
valid C99 and would give up on half of what students write).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from grader.results import Location

__all__ = [
    "Grade",
    "Source",
    "Token",
    "calls",
    "definition",
    "handler_of",
    "installs",
    "of",
    "tokens",
]

_TOKEN = re.compile(
    r"""
    (?P<newline>\n)
  | (?P<space>(?:[ \t\f\v\r]|\\\r?\n)+)
  | (?P<comment>//(?:[^\n\\]|\\\r?\n|\\.)*|/\*(?:.|\n)*?(?:\*/|\Z))
  | (?P<string>(?:u8|[uUL])?"(?:[^"\\\n]|\\(?:.|\n))*(?:"|$))
  | (?P<char>(?:u8|[uUL])?'(?:[^'\\\n]|\\(?:.|\n))*(?:'|$))
  | (?P<ident>[A-Za-z_]\w*)
  | (?P<number>\.?\d(?:[eEpP][+-]|[\w.])*)
  | (?P<punct>->|.)
    """,
    re.VERBOSE | re.MULTILINE,
)
# identifiers that may stand before a call (`return pipe(p)`), unlike a type before a name
# being declared or defined (`int pipe(int p[2])`, `void handler(int sig) {`)
_BEFORE_A_CALL = frozenset(
    {"return", "else", "do", "case", "goto", "sizeof", "typeof", "__typeof__", "_Alignof"}
)
_SIGNALS = {"SIGINT": 2, "SIGTERM": 15, "SIGTSTP": 20, "SIGALRM": 14, "SIGCHLD": 17,
            "SIGUSR1": 10, "SIGUSR2": 12, "SIGQUIT": 3, "SIGHUP": 1, "SIGPIPE": 13}  # fmt: skip
_NOT_A_HANDLER = frozenset({"SIG_IGN", "SIG_DFL", "NULL", "sighandler_t", "__sighandler_t"})


@dataclass(frozen=True)
class Token:
    kind: str  # "ident", "number", "string", "char" or "punct"
    text: str
    line: int  # from 1
    column: int  # from 1, in characters, as gcc counts them


def tokens(text: str) -> tuple[Token, ...]:
    """The tokens of C source `text`, without comments and white space."""
    out: list[Token] = []
    line, line_start = 1, 0
    for m in _TOKEN.finditer(text):
        kind = m.lastgroup or "punct"
        if kind not in ("newline", "space", "comment"):
            out.append(Token(kind, m.group(), line, m.start() - line_start + 1))
        newlines = m.group().count("\n")
        if newlines:
            line += newlines
            line_start = m.start() + m.group().rindex("\n") + 1
    return tuple(out)


def _is_call(toks: Sequence[Token], i: int, name: str) -> bool:
    t = toks[i]
    if t.kind != "ident" or t.text != name:
        return False
    if i + 1 >= len(toks) or toks[i + 1].text != "(":
        return False
    prev = toks[i - 1] if i else None
    if prev is None:
        return True
    if prev.text in (".", "->"):  # a member: s.pipe(...)
        return False
    if prev.text == "*" and i >= 2 and toks[i - 2].kind == "ident":
        return toks[i - 2].text in _BEFORE_A_CALL  # `char *name(...)`: a declaration
    return not (prev.kind == "ident" and prev.text not in _BEFORE_A_CALL)


def _arguments(toks: Sequence[Token], open_at: int) -> list[list[Token]]:
    """The arguments of the call whose `(` is toks[open_at], split at top-level commas."""
    args: list[list[Token]] = [[]]
    depth = 0
    for t in toks[open_at + 1 :]:
        if t.kind == "punct" and t.text in "([{":
            depth += 1
        elif t.kind == "punct" and t.text in ")]}":
            if depth == 0:
                break
            depth -= 1
        elif t.text == "," and depth == 0:
            args.append([])
            continue
        args[-1].append(t)
    return args if args != [[]] else []


def _call_indexes(toks: Sequence[Token], name: str) -> list[int]:
    return [i for i in range(len(toks)) if _is_call(toks, i, name)]


def _at(t: Token, file: str) -> Location:
    return Location(file, t.line, t.column)


def calls(text: str, name: str, file: str = "") -> tuple[Location, ...]:
    """Every call of `name` in `text`, in order: `calls(text, "pipe")`."""
    toks = tokens(text)
    return tuple(_at(toks[i], file) for i in _call_indexes(toks, name))


def definition(text: str, name: str, file: str = "") -> Location | None:
    """Where the function `name` is defined (its name, before its parameters and body)."""
    toks = tokens(text)
    for i, t in enumerate(toks):
        if t.kind != "ident" or t.text != name or i + 1 >= len(toks) or toks[i + 1].text != "(":
            continue
        if _is_call(toks, i, name) or (i and toks[i - 1].text in (".", "->")):
            continue
        depth = 0
        for j in range(i + 1, len(toks)):  # past the parameters: a body, not a ";"
            depth += {"(": 1, ")": -1}.get(toks[j].text, 0)
            if depth == 0:
                if j + 1 < len(toks) and toks[j + 1].text == "{":
                    return _at(t, file)
                break
    return None


def _names_signal(arg: Sequence[Token], sig: str) -> bool:
    number = str(_SIGNALS.get(sig, -1))
    return any(t.text == sig or (t.kind == "number" and t.text == number) for t in arg)


def _handler_name(arg: Sequence[Token]) -> str | None:
    """The function named by a handler argument: `h`, `&h`, `(sighandler_t) h`."""
    names = [t.text for t in arg if t.kind == "ident" and t.text not in _NOT_A_HANDLER]
    if not names or any(t.text in ("SIG_IGN", "SIG_DFL") for t in arg):
        return None
    return names[-1]


def _installing(toks: Sequence[Token], sig: str) -> tuple[int, str | None] | None:
    """The signal() or sigaction() call that installs `sig`'s disposition (the last one in
    the text, as a program's last word is what holds), and the handler's name."""
    found: tuple[int, str | None] | None = None
    for name in ("signal", "sigset", "sigaction"):
        for i in _call_indexes(toks, name):
            args = _arguments(toks, i + 1)
            if len(args) < 2 or not _names_signal(args[0], sig):
                continue
            if name == "sigaction":
                handler = _sigaction_handler(toks, i, args[1])
            else:
                handler = _handler_name(args[1])
            if found is None or i > found[0]:
                found = (i, handler)
    return found


def _sigaction_handler(toks: Sequence[Token], call: int, arg: Sequence[Token]) -> str | None:
    """The handler put in the struct passed to sigaction() at toks[call]: the last
    `VAR.sa_handler = h` (or sa_sigaction, or `.sa_handler = h` in an initializer) before
    the call."""
    idents = [t.text for t in arg if t.kind == "ident" and t.text != "NULL"]
    var = idents[-1] if idents else None
    best: str | None = None
    fallback: str | None = None
    for j in range(call):
        if toks[j].text not in ("sa_handler", "sa_sigaction"):
            continue
        if j + 2 >= len(toks) or toks[j + 1].text != "=":
            continue
        handler = _handler_name(_until_end_of_expression(toks, j + 2))
        member_of = toks[j - 2].text if j >= 2 and toks[j - 1].text in (".", "->") else None
        if member_of == var or _in_initializer_of(toks, j, var):
            best = handler
        fallback = handler
    return best if best is not None else fallback


def _until_end_of_expression(toks: Sequence[Token], start: int) -> list[Token]:
    out = []
    for t in toks[start:]:
        if t.text in (";", ",", "}"):
            break
        out.append(t)
    return out


def _in_initializer_of(toks: Sequence[Token], j: int, var: str | None) -> bool:
    """toks[j] is a designated member (`.sa_handler`) in `var = { ... }`."""
    if var is None or j < 1 or toks[j - 1].text != ".":
        return False
    depth = 0
    for k in range(j - 2, -1, -1):
        if toks[k].text == "}":
            depth += 1
        elif toks[k].text == "{":
            if depth == 0:
                return k >= 2 and toks[k - 1].text == "=" and toks[k - 2].text == var
            depth -= 1
        elif toks[k].text == ";" and depth == 0:
            return False
    return False


def installs(text: str, sig: str, file: str = "") -> Location | None:
    """The signal() or sigaction() call that sets `sig`'s disposition ("SIGTSTP")."""
    toks = tokens(text)
    found = _installing(toks, sig)
    return _at(toks[found[0]], file) if found else None


def handler_of(text: str, sig: str, file: str = "") -> Location | None:
    """The definition of the function installed for `sig` by signal() or sigaction(); None
    where none is (no call, SIG_IGN, SIG_DFL, a handler defined elsewhere)."""
    found = _installing(tokens(text), sig)
    if found is None or found[1] is None:
        return None
    return definition(text, found[1], file)


@dataclass(frozen=True)
class Source:
    """One file of the student's submission, and where things are in it."""

    file: str  # its name in the submission: "pipe.c"
    text: str  # "" when it cannot be read: then nothing is found in it

    def calls(self, name: str) -> tuple[Location, ...]:
        return calls(self.text, name, self.file)

    def first_call(self, *names: str) -> Location | None:
        """The first call, in the text, of any of `names`."""
        found = [loc for name in names for loc in self.calls(name)]
        return min(found, key=lambda loc: (loc.line, loc.column or 0)) if found else None

    def definition(self, name: str) -> Location | None:
        return definition(self.text, name, self.file)

    def handler_of(self, sig: str) -> Location | None:
        return handler_of(self.text, sig, self.file)

    def installs(self, sig: str) -> Location | None:
        return installs(self.text, sig, self.file)

    def handler_or_install(self, sig: str) -> Location | None:
        """The handler of `sig` if there is one, else the call that sets its disposition."""
        return self.handler_of(sig) or self.installs(sig)


class Grade(Protocol):
    """What `of` needs of the `grade` fixture (plugin.GradeContext): the submission folder."""

    @property
    def source(self) -> Path: ...


def of(grade: Grade, file: str) -> Source:
    """The student's `file` ("pipe.c") as the `grade` fixture finds it in the submission."""
    try:
        text = (grade.source / file).read_text(errors="replace")
    except OSError:
        text = ""
    return Source(file, text)
