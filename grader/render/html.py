"""The report as a self-contained HTML page, and a class's overview (jinja2 templates).

Python prepares what the templates show (which checks, a diff, the lines around a
diagnostic, the pictures' geometry) as plain values; the templates, all autoescaped,
turn them into markup. Nothing derived from a student reaches a page unescaped: the one
`Markup` below wraps our own stylesheet and script.
"""

from __future__ import annotations

import base64
import difflib
import hashlib
import statistics
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import jinja2
from markupsafe import Markup
from pygments import lex
from pygments.formatters import HtmlFormatter
from pygments.lexer import Lexer
from pygments.lexers import CLexer, TextLexer, get_lexer_for_filename
from pygments.token import STANDARD_TYPES, _TokenType
from pygments.util import ClassNotFound

from grader import catalog
from grader.render import diagram, platform
from grader.render.escape import inert
from grader.report import ClassReport, SourceFile, SubmissionReport
from grader.results import CheckResult, CheckSpec, Evidence, Outcome

MAX_ROWS = 60  # of one evidence table
MAX_DIFF_LINES = 300
MAX_LINE = 400  # characters of one line of output or source
MAX_DIAGNOSTICS = 20
RADIUS = 3  # lines of source shown either side of a diagnostic


def templates() -> Path:
    """Where the templates are: beside exercises/, in the wheel or the checkout."""
    return catalog.root() / "reports" / "templates"


def stylesheet() -> Path:
    return catalog.root() / "reports" / "static" / "report.css"


@cache
def _env() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(templates()),
        autoescape=True,  # every template, .svg.j2 too: student text is data
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["inert"] = inert
    env.filters["num"] = _num
    env.filters["short"] = _short
    return env


def _short(text: str, n: int) -> str:
    """Student text cut to `n` characters for a label in a picture, … marking a cut."""
    shown = inert(text, 4 * n)
    return shown if len(shown) <= n else shown[: n - 1] + "…"


def _num(x: float) -> str:
    return f"{x:.2f}".rstrip("0").rstrip(".") if x != int(x) else str(int(x))


@cache
def _css() -> Markup:
    """The stylesheet and Pygments' token colours, light and dark: our text, not a student's."""
    base = stylesheet().read_text(encoding="utf-8")
    light = HtmlFormatter(style="default").get_style_defs(".hl")
    dark = HtmlFormatter(style="monokai").get_style_defs(".hl")
    dark = "\n".join(ln for ln in dark.splitlines() if not ln.startswith((".hl {", "pre {")))
    css = f"{base}\n{light}\n@media screen and (prefers-color-scheme: dark) {{\n{dark}\n}}\n"
    return Markup(css.replace("</", "<\\/"))


@cache
def _script() -> tuple[Markup, str]:
    """The overview's script and its CSP hash."""
    text = (templates() / "_table.js").read_text(encoding="utf-8")
    digest = base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()
    return Markup(text), f"'sha256-{digest}'"


# --- one student's report --------------------------------------------------------------


@dataclass(frozen=True)
class Segment:
    text: str
    cls: str = ""  # "ws" a shown whitespace, "eol" no newline at end


@dataclass(frozen=True)
class DiffRow:
    op: str  # "same", "del" (expected only), "add" (actual only)
    old: int | None
    new: int | None
    segments: tuple[Segment, ...]


@dataclass(frozen=True)
class Diff:
    rows: tuple[DiffRow, ...]
    cut: int  # rows not shown
    same: bool
    expected: str  # whole, inert
    actual: str


def _lines(text: str) -> list[tuple[str, bool]]:
    """Lines of `text`, each with whether a newline ends it."""
    parts = text.split("\n")
    out = [(p, True) for p in parts[:-1]]
    if parts[-1]:
        out.append((parts[-1], False))
    return out


def _visible(line: str, newline: bool) -> tuple[Segment, ...]:
    """A line with its tabs, trailing spaces and a missing newline made visible."""
    body = line.rstrip(" ")
    trailing = len(line) - len(body)
    segs: list[Segment] = []
    for i, piece in enumerate(inert(body, MAX_LINE).split("\t")):
        if i:
            segs.append(Segment("→", "ws"))
        if piece:
            segs.append(Segment(piece))
    if trailing:
        segs.append(Segment("·" * min(trailing, 80), "ws"))
    if not newline:
        segs.append(Segment("⌀ no newline at end", "eol"))
    return tuple(segs)


def diff(expected: str, actual: str) -> Diff:
    """Expected against actual, line by line (difflib), whitespace shown."""
    old, new = _lines(expected), _lines(actual)
    rows: list[DiffRow] = []
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            rows += [DiffRow("same", i1 + k + 1, j1 + k + 1, _visible(*old[i1 + k]))
                     for k in range(i2 - i1)]  # fmt: skip
            continue
        rows += [DiffRow("del", i + 1, None, _visible(*old[i])) for i in range(i1, i2)]
        rows += [DiffRow("add", None, j + 1, _visible(*new[j])) for j in range(j1, j2)]
    return Diff(
        tuple(rows[:MAX_DIFF_LINES]), max(0, len(rows) - MAX_DIFF_LINES), old == new,
        inert(expected, 20000), inert(actual, 20000),
    )  # fmt: skip


@dataclass(frozen=True)
class SourceLine:
    number: int
    tokens: tuple[Segment, ...]  # cls: Pygments' short class
    marked: bool


@dataclass(frozen=True)
class Window:
    file: str
    lines: tuple[SourceLine, ...]
    column: int | None
    caret: str = ""  # under the marked line: blanks (tabs kept, to line up) and "^"


def _token_class(t: _TokenType) -> str:
    while t not in STANDARD_TYPES and t.parent is not None:
        t = t.parent
    return str(STANDARD_TYPES.get(t, ""))


def _lexer(file: str) -> Lexer:
    if file.endswith((".c", ".h")):
        return CLexer()
    try:
        return get_lexer_for_filename(file)
    except ClassNotFound:
        return TextLexer()


@lru_cache(maxsize=16)
def _highlighted(file: str, text: str) -> tuple[tuple[Segment, ...], ...]:
    """Each line of a source file as Pygments' tokens; their text is shown inert."""
    lines: list[list[Segment]] = [[]]
    for ttype, value in lex(text, _lexer(file)):
        cls = _token_class(ttype)
        for i, piece in enumerate(value.split("\n")):
            if i:
                lines.append([])
            if piece:
                lines[-1].append(Segment(inert(piece, MAX_LINE), cls))
    return tuple(tuple(ln) for ln in lines)


def _find(sources: Sequence[SourceFile], file: str) -> SourceFile | None:
    for s in sources:
        if s.file == file:
            return s
    base = Path(file).name
    return next((s for s in sources if Path(s.file).name == base), None)


def window(sources: Sequence[SourceFile], file: str, line: int,
           column: int | None = None) -> Window | None:  # fmt: skip
    """The lines around `line` of `file`, highlighted, that line marked."""
    src = _find(sources, file)
    if src is None or line < 1:
        return None
    lines = _highlighted(src.file, src.text)
    if line > len(lines):
        return None
    lo, hi = max(1, line - RADIUS), min(len(lines), line + RADIUS)
    shown = tuple(SourceLine(n, lines[n - 1], n == line) for n in range(lo, hi + 1))
    caret = ""
    raw = src.text.split("\n")[line - 1] if column else ""
    if column and column <= len(raw) + 1 and column <= MAX_LINE:
        caret = "".join("\t" if ch == "\t" else " " for ch in raw[: column - 1]) + "^"
    return Window(src.file, shown, column, caret)


@dataclass(frozen=True)
class FdView:
    pid: int
    name: str
    fd: int
    kind: str
    target: str
    access: str
    end: str
    stray: bool


@dataclass(frozen=True)
class EvidenceView:
    ev: Evidence
    rows: tuple[tuple[str, ...], ...]
    cut: int
    picture: diagram.ProcessDiagram | None
    fds: tuple[FdView, ...]
    stray: tuple[str, ...]  # labels of the stray ends: "pipe (pid 180) fd 4"


def _evidence(ev: Evidence, check: CheckResult) -> EvidenceView:
    picture = None
    fds: list[FdView] = []
    stray: list[str] = []
    if ev.processes:
        picture = diagram.processes(ev.processes, check.about)
        hot = {(r.pid, r.fd) for r in check.about if r.pid is not None and r.fd is not None}
        for p in ev.processes:
            for f in p.fds:
                fds.append(FdView(p.pid, p.name, f.fd, f.kind, f.target, f.access,
                                  f.end or "", (p.pid, f.fd) in hot))  # fmt: skip
                if (p.pid, f.fd) in hot:
                    stray.append(f"{p.name} (pid {p.pid}) fd {f.fd}")
    return EvidenceView(
        ev, ev.rows[:MAX_ROWS], max(0, len(ev.rows) - MAX_ROWS), picture, tuple(fds),
        tuple(stray),
    )  # fmt: skip


@dataclass(frozen=True)
class CheckView:
    spec: CheckSpec
    result: CheckResult
    hidden: bool
    evidence: tuple[EvidenceView, ...]
    diff: Diff | None
    source: Window | None  # where the mistake is, when the check says


def _view(spec: CheckSpec, c: CheckResult, report: SubmissionReport) -> CheckView:
    d = None
    if c.expected is not None and c.actual is not None:
        d = diff(c.expected, c.actual)
    src = window(report.sources, c.location.file, c.location.line, c.location.column) \
        if c.location else None  # fmt: skip
    return CheckView(spec, c, platform.hidden(spec),
                     tuple(_evidence(e, c) for e in c.evidence), d, src)  # fmt: skip


@dataclass(frozen=True)
class DiagnosticView:
    file: str
    line: int
    column: int | None
    severity: str
    text: str
    source: Window | None


def context(report: SubmissionReport, *, instructor: bool = False) -> dict[str, Any]:
    """What the student's page shows, as values for report.html.j2."""
    pairs = platform.checks(report)
    hidden = [(s, c) for s, c in pairs if platform.hidden(s)]
    shown = pairs if instructor else [(s, c) for s, c in pairs if not platform.hidden(s)]
    diags = tuple(
        DiagnosticView(
            d.file,
            d.line,
            d.column,
            d.severity,
            d.text,
            window(report.sources, d.file, d.line, d.column),
        )
        for d in report.build.diagnostics[:MAX_DIAGNOSTICS]
    )
    score = sum(c.points for _, c in shown)
    max_score = sum(s.max_points for s, _ in shown)
    counts = Counter(c.outcome.value for _, c in shown)
    return {
        "r": report,
        "instructor": instructor,
        "checks": [_view(s, c, report) for s, c in shown],
        "hidden_count": len(hidden),
        "hidden_points": sum(s.max_points for s, _ in hidden),
        "score": score,
        "max_score": max_score,
        "counts": counts,
        "diagnostics": diags,
        "diagnostics_cut": max(0, len(report.build.diagnostics) - MAX_DIAGNOSTICS),
        "sandbox": [a for _, c in shown for a in c.sandbox],
        "css": _css(),
    }


def render(report: SubmissionReport, *, instructor: bool = False) -> str:
    """One student's report, one file; `instructor` also shows the hidden checks."""
    return _env().get_template("report.html.j2").render(context(report, instructor=instructor))


# --- the class overview ----------------------------------------------------------------


@dataclass(frozen=True)
class Student:
    id: str
    link: str | None
    report: SubmissionReport
    outcomes: tuple[str, ...]  # per check of the catalogue
    percent: float


@dataclass(frozen=True)
class Item:
    """One check across the class: how many passed, and who did not."""

    spec: CheckSpec
    passed: int
    total: int
    failed: tuple[Student, ...]  # who did not pass it (failed, error, skipped, not run)

    @property
    def rate(self) -> float:
        return self.passed / self.total if self.total else 0.0


@dataclass(frozen=True)
class Mistake:
    failure: str
    checks: tuple[str, ...]  # titles
    students: tuple[Student, ...]


@dataclass
class Stats:
    n: int = 0
    mean: float | None = None
    median: float | None = None
    stdev: float | None = None
    low: float | None = None
    high: float | None = None
    statuses: Counter[str] = field(default_factory=Counter)
    isolation: Counter[str] = field(default_factory=Counter)
    sandbox: Counter[str] = field(default_factory=Counter)  # reason → students
    crashes: int = 0  # grader errors
    runtime_mean: float = 0.0
    runtime_median: float = 0.0
    runtime_max: float = 0.0
    runtime_total: float = 0.0
    slowest: str = ""


def _stats(reports: Sequence[SubmissionReport]) -> Stats:
    s = Stats(n=len(reports))
    scores = [r.score for r in reports]
    if scores:
        s.mean, s.median = statistics.fmean(scores), statistics.median(scores)
        s.stdev = statistics.pstdev(scores)
        s.low, s.high = min(scores), max(scores)
        times = [r.duration_s for r in reports]
        s.runtime_mean, s.runtime_median = statistics.fmean(times), statistics.median(times)
        s.runtime_total = sum(times)
        slowest = max(reports, key=lambda r: r.duration_s)
        s.runtime_max, s.slowest = slowest.duration_s, slowest.student
    for r in reports:
        s.statuses[r.status] += 1
        s.isolation[r.isolation.level] += 1
        for reason in {a.reason for c in r.checks for a in c.sandbox}:
            s.sandbox[reason] += 1
        s.crashes += r.status == "grader error"
    return s


def _href(path: str | None) -> str | None:
    """A report's relative file path as a link: percent-encoded (a "#" or "?" in a student's
    id stays part of the file name); anything with a scheme or a host is no link at all."""
    if not path:
        return None
    parts = urlsplit(path)
    if parts.scheme or parts.netloc or path.startswith(("/", "\\")):
        return None
    return quote(path, safe="/")


def overview_context(klass: ClassReport, links: Mapping[str, str]) -> dict[str, Any]:
    catalogue = klass.catalogue
    students = []
    for r in klass.reports:
        by_id = {c.id: c.outcome.value for c in r.checks}
        students.append(Student(
            r.student, _href(links.get(r.student)), r,
            tuple(by_id.get(spec.id, Outcome.NOT_RUN.value) for spec in catalogue),
            100 * r.score / klass.max_score if klass.max_score else 0.0,
        ))  # fmt: skip
    items = []
    for i, spec in enumerate(catalogue):
        passed = sum(st.outcomes[i] == "passed" for st in students)
        failed = tuple(st for st in students if st.outcomes[i] != "passed")
        items.append(Item(spec, passed, len(students), failed))
    titles = {spec.id: spec.title for spec in catalogue}
    who: dict[str, dict[str, Student]] = {}
    where: dict[str, set[str]] = {}
    for st in students:
        for c in st.report.checks:
            if c.failure:
                who.setdefault(c.failure, {})[st.id] = st
                where.setdefault(c.failure, set()).add(titles.get(c.id, c.title))
    mistakes = sorted(
        (Mistake(k, tuple(sorted(where[k])), tuple(v.values())) for k, v in who.items()),
        key=lambda m: (-len(m.students), m.failure),
    )
    stats = _stats(klass.reports)
    script, script_hash = _script()
    return {
        "k": klass,
        "students": students,
        "items": items,
        "hardest": min(items, key=lambda it: it.rate) if items else None,
        "mistakes": mistakes,
        "stats": stats,
        "histogram": diagram.histogram(
            [r.score for r in klass.reports], klass.max_score, stats.mean, stats.median
        ),
        "css": _css(),
        "script": script,
        "script_hash": script_hash,
    }


def overview(klass: ClassReport, links: Mapping[str, str]) -> str:
    """The class overview; `links` maps a student's id to their report's relative path."""
    return _env().get_template("overview.html.j2").render(overview_context(klass, links))
