"""The HTML report and the class overview: what they show, and that student text stays text.

Pages are read back through html.parser into a small tree, so a payload that became markup
is seen as an element, not missed by a string search.
"""

from __future__ import annotations

import itertools
import re
import time
from dataclasses import dataclass, field, replace
from html.parser import HTMLParser
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from grader import catalog, cli
from grader.render import FORMATS, Options, diagram, html
from grader.report import ClassReport, SourceFile, SubmissionReport
from grader.results import (
    BuildResult,
    CheckResult,
    CheckSpec,
    Diagnostic,
    Evidence,
    FdRow,
    Isolation,
    Location,
    Outcome,
    ProcessRow,
    Ref,
    SandboxAction,
)

REPO = Path(__file__).resolve().parent.parent
SCRIPT = "<script>window.pwned = 1; alert(1)</script>"
IMG = '<img src=x onerror="window.pwned = 1; alert(1)">'
CURLY = "{{ 7*7 }}"
CONTROL = "a\x00b\x1b[31mc\x07"
PAYLOADS = (SCRIPT, IMG, CURLY)

# --- reports built by hand -----------------------------------------------------------


def _spec(name: str, title: str, points: float = 1.0, visibility: str = "visible") -> CheckSpec:
    return CheckSpec(f"exercise2/{name}", title, points, visibility)


CATALOGUE = (
    _spec("test_compiles", "the program compiles"),
    _spec("test_output", "prints what ps | grep prints", 2.0),
    _spec("test_grep_sees_end_of_file", "grep sees end-of-file", 2.0),
    _spec("test_calls", "uses pipe, fork, dup2 and exec"),
    _spec("test_signals", "ignores SIGPIPE as asked"),
    _spec("test_no_leftover_ipc", "leaves no System V object"),
    _spec("test_maps", "shares one page"),
    _spec("test_secret_edge", "survives the secret edge case", 3.0, "hidden"),
    _spec("test_after", "handles the late case", 1.0, "after_due_date"),
    _spec("test_not_reached", "runs to the end"),
)
HIDDEN_TITLES = ("survives the secret edge case", "handles the late case")


def hang_evidence(payload: str = "pipe") -> Evidence:
    """The classic hang: the parent (pid 100) keeps fd 4, the write end of pipe 5435."""
    procs = (
        ProcessRow(100, 1, payload, "sleeping", (
            FdRow(3, "pipe", "pipe:[5435]", "r", 5435, "read"),
            FdRow(4, "pipe", "pipe:[5435]", "w", 5435, "write"),)),
        ProcessRow(101, 100, "ps", "zombie", (
            FdRow(1, "pipe", "pipe:[5435]", "w", 5435, "write"),)),
        ProcessRow(102, 100, "grep", "sleeping", (
            FdRow(0, "pipe", "pipe:[5435]", "r", 5435, "read"),
            FdRow(1, "tty", "/dev/pts/0", "w"),)),
    )  # fmt: skip
    rows = tuple((str(p.pid), str(p.ppid), p.name, p.state, "") for p in procs)
    return Evidence("processes", ("pid", "ppid", "program", "state", "descriptors"), rows,
                    kind="processes", processes=procs)  # fmt: skip


def student_report(student: str = "alice", payload: str = SCRIPT) -> SubmissionReport:
    """Every outcome, every evidence kind, hidden checks, a diff, a hang with about=Ref."""
    expected = "alice   1 firefox\n\tbob 2 firefox\n"
    actual = f"alice   1 firefox  \n  bob 2 firefox\n{payload}\n{CONTROL}"
    checks = (
        CheckResult(CATALOGUE[0].id, CATALOGUE[0].title, Outcome.PASSED, points=1.0),
        CheckResult(
            CATALOGUE[1].id,
            CATALOGUE[1].title,
            Outcome.FAILED,
            f"output {payload}",
            expected=expected,
            actual=actual,
            hint=f"hint {payload}",
            lecture="pipe",
            max_points=2.0,
            failure="wrong-output",
        ),
        CheckResult(
            CATALOGUE[2].id,
            CATALOGUE[2].title,
            Outcome.FAILED,
            "grep never saw end-of-file: pipe (pid 100) still holds the write end of pipe "
            f"5435 as fd 4 {CONTROL}",
            hint="after fork(), close every pipe end that a process does not use",
            evidence=(hang_evidence(payload),),
            about=(Ref(pid=100, fd=4),),
            max_points=2.0,
            failure="parent-keeps-write-end",
            location=Location("pipe.c", 3),
            sandbox=(
                SandboxAction(
                    "stopped", "wall", "the sandbox stopped pipe (pid 100) after 5 s", 100, "pipe"
                ),
            ),
        ),
        CheckResult(
            CATALOGUE[3].id,
            CATALOGUE[3].title,
            Outcome.ERROR,
            "strace broke",
            evidence=(
                Evidence(
                    "calls", ("pid", "call"), (("100", f'write(1, "{payload}", 9)'),), kind="calls"
                ),
            ),
        ),
        CheckResult(
            CATALOGUE[4].id,
            CATALOGUE[4].title,
            Outcome.SKIPPED,
            "needs the build",
            evidence=(
                Evidence(
                    "signals", ("signal", "disposition"), (("SIGPIPE", "caught"),), kind="signals"
                ),
            ),
        ),
        CheckResult(
            CATALOGUE[5].id,
            CATALOGUE[5].title,
            Outcome.FAILED,
            "a queue is left",
            evidence=(
                Evidence("ipc", ("kind", "key", "id"), (("queue", "0x1234", payload),), kind="ipc"),
                Evidence("text", text=f"free text {payload}", kind="text"),
            ),
        ),
        CheckResult(
            CATALOGUE[6].id,
            CATALOGUE[6].title,
            Outcome.PASSED,
            points=1.0,
            evidence=(
                Evidence(
                    "maps",
                    ("address", "path"),
                    (("7f00-7f01", f"/dev/shm/{payload}"),),
                    kind="maps",
                ),
                Evidence("fds of grep", ("fd", "target"), (("0", "pipe:[5435]"),), kind="fds"),
            ),
        ),
        CheckResult(
            CATALOGUE[7].id,
            CATALOGUE[7].title,
            Outcome.FAILED,
            "SECRET-DETAIL the hidden input was 42",
            max_points=3.0,
            failure="secret-mistake",
        ),
        CheckResult(CATALOGUE[8].id, CATALOGUE[8].title, Outcome.PASSED, points=1.0),
        # test_not_reached has no result: it shows as not run
    )
    return SubmissionReport(
        exercise="exercise2", title=f"ps -ef | grep firefox {payload}", submission=f"/s/{student}",
        build=BuildResult(ok=True), checks=checks, catalogue=CATALOGUE, student=student,
        isolation=Isolation("full", ("namespaces",)), name="pipe", duration_s=2.5,
        sources=(SourceFile("pipe.c", f"int main(void)\n{{\n  pipe(fd); /* {payload} */\n}}\n"),),
    )  # fmt: skip


def build_failure_report(student: str = "carol") -> SubmissionReport:
    source = "".join(f"int line{n} = {n};\n" for n in range(1, 30))
    source = source.replace("int line12 = 12;", f'char *s = "{SCRIPT}\x00" ;; oops')
    diags = (
        Diagnostic("pipe.c", 12, 5, "error", f"expected ';' before {IMG}"),
        Diagnostic("pipe.c", 25, None, "warning", "unused variable 'line25'"),
        Diagnostic("other.c", 3, 1, "error", "no such file shown"),
    )
    not_run = tuple(
        CheckResult(
            s.id, s.title, Outcome.SKIPPED, "the program did not compile", max_points=s.max_points
        )
        for s in CATALOGUE
    )
    return replace(
        student_report(student), checks=not_run, sources=(SourceFile("pipe.c", source),),
        build=BuildResult(ok=False, kind="compile", command=("gcc", "pipe.c"),
                          log="pipe.c:12:5: error: ...", diagnostics=diags),
    )  # fmt: skip


def klass(n: int = 12) -> ClassReport:
    """A class of `n`: hostile ids and payloads, every status."""
    reports = []
    for i in range(n):
        payload = PAYLOADS[i % len(PAYLOADS)]
        name = f"student{i:03d}"
        if i == 1:
            name = f"x{SCRIPT}"
        r = student_report(name, payload)
        if i % 4 == 2:  # everything passed, the last check too
            last = CheckResult(CATALOGUE[-1].id, CATALOGUE[-1].title, Outcome.PASSED)
            passed = tuple(replace(c, outcome=Outcome.PASSED, points=c.max_points, failure="")
                           for c in (*r.checks, last))  # fmt: skip
            r = replace(r, checks=passed)
        if i == 3:
            r = build_failure_report(name)
        if i == 5:
            r = replace(r, missing_files=("pipe.c",))
        reports.append(replace(r, duration_s=1.0 + i))
    return ClassReport("exercise2", "pipe", f"the class {IMG}", CATALOGUE, tuple(reports),
                       layout="moodle")  # fmt: skip


def links(k: ClassReport) -> dict[str, str]:
    """Where each report is, relative to the overview; one file name needs quoting."""
    out = {r.student: f"students/{i:03d}.html" for i, r in enumerate(k.reports)}
    if k.reports:
        out[k.reports[0].student] = "students/a b#1?.html"
    return out


# --- a small DOM from html.parser ----------------------------------------------------

VOID = {"meta", "link", "br", "img", "input", "hr", "col", "area", "base", "wbr", "source"}


@dataclass
class Node:
    tag: str
    attrs: dict[str, str]
    parent: Node | None = None
    children: list[Node | str] = field(default_factory=list)

    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)

    def walk(self) -> list[Node]:
        out = [self]
        for c in self.children:
            if isinstance(c, Node):
                out += c.walk()
        return out

    def find(self, tag: str | None = None, cls: str | None = None) -> list[Node]:
        return [n for n in self.walk() if (tag is None or n.tag == tag)
                and (cls is None or cls in n.attrs.get("class", "").split())]  # fmt: skip


class _Tree(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#root", {})
        self.at = self.root

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, {k: v or "" for k, v in attrs}, self.at)
        self.at.children.append(node)
        if tag not in VOID:
            self.at = node

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.at.children.append(Node(tag, {k: v or "" for k, v in attrs}, self.at))

    def handle_endtag(self, tag: str) -> None:
        n: Node | None = self.at
        while n is not None and n.tag != tag:
            n = n.parent
        assert n is not None, f"</{tag}> closes nothing open"
        assert n.parent is not None
        self.at = n.parent

    def handle_data(self, data: str) -> None:
        self.at.children.append(data)


def dom(page: str) -> Node:
    tree = _Tree()
    tree.feed(page)
    tree.close()
    return tree.root


def _no_markup_from_students(root: Node, scripts: int) -> None:
    assert len(root.find("script")) == scripts
    assert root.find("img") == []
    handlers = [(n.tag, a) for n in root.walk() for a in n.attrs if a.startswith("on")]
    assert handlers == []


# --- the student's page --------------------------------------------------------------


def test_payloads_show_as_text_never_as_markup() -> None:
    for payload in PAYLOADS:
        root = dom(html.render(student_report(payload=payload), instructor=True))
        _no_markup_from_students(root, scripts=0)
        texts = [n.text() for n in root.find("p", "message")]
        assert f"output {payload}" in texts  # the parser's text: what a reader sees
        assert any(f"/dev/shm/{payload}" == n.text() for n in root.find("td"))
        assert any(f"/* {payload} */" in n.text() for n in root.find("pre", "source"))
        body = root.find("body")[0].text()
        assert root.find("p", "subtitle")[0].text() == f"ps -ef | grep firefox {payload}"
        assert "49" not in body  # {{ 7*7 }} was never evaluated


def test_control_characters_are_shown_and_nul_never_reaches_the_page() -> None:
    page = html.render(student_report(), instructor=True)
    assert "\x00" not in page
    assert "\x1b" not in page
    assert "\x07" not in page
    root = dom(page)
    assert any("a\\x00b\\x1b[31mc\\x07" in n.text() for n in root.find("p", "message"))
    assert "\\x00" in root.find("table", "diff")[0].text()  # in the actual output too


def test_every_check_of_the_catalogue_shows_in_its_order_with_its_outcome() -> None:
    root = dom(html.render(student_report(), instructor=True))
    articles = root.find("article", "check")
    titles = [a.find("span", "title")[0].text() for a in articles]
    assert titles == [s.title for s in CATALOGUE]
    outcomes = [a.find("span", "outcome")[0].text() for a in articles]
    assert outcomes == ["passed", "failed", "failed", "error", "skipped", "failed", "passed",
                        "failed", "passed", "not run"]  # fmt: skip
    output = articles[1]
    assert output.find("span", "pts")[0].text() == "0/2"
    assert "pipe" in output.find("p", "lecture")[0].text()
    assert output.find("p", "hint")[0].text().startswith("hint hint <script>")
    assert "open" in output.find("details")[0].attrs  # failures open, passes folded


def test_the_diff_marks_tabs_trailing_spaces_and_a_missing_newline() -> None:
    root = dom(html.render(student_report(), instructor=True))
    table = root.find("table", "diff")[0]
    rows = table.find("tbody")[0].find("tr")
    ops = [r.attrs["class"] for r in rows]
    assert ops[0] == "del"
    assert "add" in ops
    shown = [n.text() for n in table.find("span", "ws")]
    assert "→" in shown
    assert "··" in shown
    assert any("no newline at end" in n.text() for n in table.find("span", "eol"))
    full = root.find("details", "full")[0]  # the whole output, folded
    assert SCRIPT in full.find("pre", "actual")[0].text()


def test_the_pipe_hang_is_drawn_with_the_stray_end_highlighted() -> None:
    root = dom(html.render(student_report(), instructor=True))
    svg = root.find("svg", "tree")
    assert len(svg) == 1
    boxes = {n.attrs["data-pid"] for n in svg[0].find("g", "proc")}
    assert boxes == {"100", "101", "102"}
    stray = svg[0].find("g", "stray")
    assert [(n.attrs["data-pid"], n.attrs["data-fd"]) for n in stray] == [("100", "4")]
    assert "pid 100 fd 4" in stray[0].text()
    ends = {(n.attrs["data-pid"], n.attrs["data-fd"]) for n in svg[0].find("g", "end")}
    assert ends == {("100", "3"), ("100", "4"), ("101", "1"), ("102", "0")}  # not the tty
    assert [n.attrs["data-inode"] for n in svg[0].find("g", "pipe")] == ["5435"]
    assert len(svg[0].find("line", "parent")) == 2  # pid 100 → 101, 100 → 102
    fd_rows = root.find("table", "fds")[0].find("tr", "stray")
    assert [r.find("td")[0].text() for r in fd_rows] == ["100"]


def test_a_hostile_process_name_is_escaped_in_the_svg() -> None:
    root = dom(html.render(student_report(payload=IMG), instructor=True))
    svg = root.find("svg", "tree")[0]
    _no_markup_from_students(root, scripts=0)
    names = [n.text() for n in svg.find("text", "name")]
    assert IMG[:17] + "…" in names  # cut to the box, and as text


def test_the_diagram_places_children_below_their_parent_without_overlap() -> None:
    d = diagram.processes(hang_evidence().processes, (Ref(pid=100, fd=4),))
    assert d is not None
    by = {b.pid: b for b in d.boxes}
    assert by[101].y > by[100].y
    assert by[101].y == by[102].y
    assert by[102].x - by[101].x >= diagram.BOX_W  # side by side, apart
    assert by[101].x < by[100].x < by[102].x
    (pipe,) = d.pipes
    assert by[100].y + diagram.BOX_H < pipe.y < by[101].y  # between the layers
    assert all(b.x >= 0 and b.x + diagram.BOX_W <= d.width for b in d.boxes)
    assert [(e.pid, e.fd) for e in d.ends if e.stray] == [(100, 4)]
    write = next(e for e in d.ends if (e.pid, e.fd) == (101, 1))
    assert write.line.y1 < write.line.y2 or write.line.y1 > write.line.y2  # a real arrow
    assert diagram.processes(()) is None
    many = tuple(ProcessRow(i, 1, "bomb", "running") for i in range(2, 200))
    assert diagram.processes(many) is None  # a fork bomb is a table, not a picture


def test_a_pipe_named_by_its_inode_is_the_highlighted_node() -> None:
    d = diagram.processes(hang_evidence().processes, (Ref(inode=5435),))
    assert d is not None
    assert [p.hot for p in d.pipes] == [True]
    assert not any(e.stray for e in d.ends)


def test_every_evidence_kind_shows_its_rows_as_a_table() -> None:
    root = dom(html.render(student_report(), instructor=True))
    figures = root.find("figure", "evidence")
    kinds = {c.split("-", 1)[1] for f in figures for c in f.attrs["class"].split()
             if c.startswith("kind-")}  # fmt: skip
    assert kinds == {"processes", "calls", "signals", "ipc", "text", "maps", "fds"}
    calls = next(f for f in figures if "kind-calls" in f.attrs["class"])
    assert f'write(1, "{SCRIPT}", 9)' in calls.find("td")[1].text()
    text = next(f for f in figures if "kind-text" in f.attrs["class"])
    assert text.find("pre")[0].text() == f"free text {SCRIPT}"


def test_long_output_is_cut_with_a_visible_marker() -> None:
    long = "".join(f"line {n} of the student's long output\n" for n in range(1000))
    c = replace(student_report().checks[1], expected="x\n", actual=long)
    r = replace(student_report(), checks=(c,), catalogue=(CATALOGUE[1],))
    root = dom(html.render(r))
    assert any("more lines of the diff cut" in n.text() for n in root.find("p", "cut"))
    assert len(root.find("table", "diff")[0].find("tbody")[0].find("tr")) == html.MAX_DIFF_LINES
    full = root.find("pre", "actual")[0].text()
    assert "more characters cut" in full
    assert "line 999" not in full


def test_hidden_checks_are_counted_not_shown_to_the_student() -> None:
    report = student_report()
    student = html.render(report)
    instructor = html.render(report, instructor=True)
    for secret in (*HIDDEN_TITLES, "SECRET-DETAIL", "secret-mistake"):
        assert secret not in student
        assert secret in instructor
    root = dom(student)
    note = root.find("p", "hidden-note")[0].text()
    assert re.search(r"\b2 hidden checks, worth 4 points", note), note
    assert len(root.find("article", "check")) == len(CATALOGUE) - 2
    score = root.find(None, "score")[0].text()  # the visible checks' score, of their points
    assert "2/" in score
    assert f"/ {int(sum(s.max_points for s in CATALOGUE) - 4)}" in score
    assert len(dom(instructor).find("article", "hidden-check")) == 2


def test_a_build_failure_shows_diagnostics_beside_the_highlighted_source() -> None:
    page = html.render(build_failure_report())
    root = dom(page)
    _no_markup_from_students(root, scripts=0)
    figs = root.find("figure", "diagnostic")
    assert len(figs) == 3
    first = figs[0]
    assert IMG in first.find("figcaption")[0].text()
    marked = first.find("span", "marked")
    assert len(marked) == 1
    assert marked[0].find("span", "ln")[0].text() == "12"
    assert SCRIPT in marked[0].text()
    assert "\\x00" in marked[0].text()
    (caret,) = first.find("span", "caret")
    assert caret.text() == " " * 4 + "^"  # column 5
    numbers = [int(n.text()) for n in first.find("span", "ln") if n.text()]
    assert numbers == list(range(12 - html.RADIUS, 12 + html.RADIUS + 1))  # a window only
    classes = {c for n in first.find("pre", "hl")[0].find("span") for c in
               n.attrs.get("class", "").split()}  # fmt: skip
    assert {"kt", "s"} <= classes  # Pygments' keyword type and string tokens
    assert figs[2].find("pre") == []  # a file not submitted: the diagnostic alone
    assert ".hl .kt" in root.find("style")[0].text()  # token colours, inline


def test_a_failure_location_shows_the_students_line() -> None:
    root = dom(html.render(student_report()))
    where = root.find("figure", "where")
    assert len(where) == 1
    assert where[0].find("span", "marked")[0].find("span", "ln")[0].text() == "3"


def test_the_page_is_self_contained_and_forbids_the_network() -> None:
    root = dom(html.render(student_report()))
    csp = [m.attrs["content"] for m in root.find("meta")
           if m.attrs.get("http-equiv") == "Content-Security-Policy"]  # fmt: skip
    assert len(csp) == 1
    assert "default-src 'none'" in csp[0]
    assert "script-src 'none'" in csp[0]
    for n in root.walk():
        for a in ("src", "href", "xlink:href"):
            v = n.attrs.get(a, "")
            assert not v or v.startswith(("#", "url(#")), (n.tag, a, v)
    assert root.find("link") == []
    css = root.find("style")[0].text()
    assert "@media print" in css
    assert "prefers-color-scheme: dark" in css
    assert "url(" not in css
    assert "@import" not in css


# --- the class overview --------------------------------------------------------------


def test_the_overview_escapes_every_student_string_and_runs_only_its_script() -> None:
    k = klass()
    root = dom(html.overview(k, links(k)))
    _no_markup_from_students(root, scripts=1)
    (script,) = root.find("script")
    assert script.text() == (html.templates() / "_table.js").read_text(encoding="utf-8")
    csp = next(m.attrs["content"] for m in root.find("meta") if m.attrs.get("http-equiv"))
    assert html._script()[1] in csp
    assert "unsafe-inline" not in csp.split("script-src")[1]
    assert f"x{SCRIPT}" in [a.text() for a in root.find("a")]


def test_the_overview_table_has_every_student_linked_to_their_report() -> None:
    k = klass()
    ln = links(k)
    root = dom(html.overview(k, ln))
    rows = root.find("table", "students")[0].find("tbody")[0].find("tr")
    want = [html._href(ln[r.student]) for r in k.reports]
    assert [r.find("a")[0].attrs["href"] for r in rows] == want
    assert want[0] == "students/a%20b%231%3F.html"
    assert [r.attrs["data-status"] for r in rows][3] == "does not compile"
    cells = rows[0].find("td", "cell")
    assert [c.attrs["title"] for c in cells][-1] == "not run"
    assert len(cells) == len(CATALOGUE)


def test_the_overview_counts_scores_checks_and_mistakes() -> None:
    k = klass()
    root = dom(html.overview(k, links(k)))
    scores = sorted(r.score for r in k.reports)
    assert root.find(None, None)
    assert _by_id(root, "stat-min").text() == html._num(scores[0])
    assert _by_id(root, "stat-max").text() == html._num(scores[-1])
    bars = [int(b.find("text")[0].text()) for b in root.find("g", "bar") if b.find("text")]
    assert sum(bars) == len(k.reports)
    mistakes = root.find("ol", "mistakes")[0].find("li")
    first = mistakes[0]
    failing = [r for r in k.reports if any(c.failure == "parent-keeps-write-end"
                                           for c in r.checks)]  # fmt: skip
    kinds = [m.find("code")[0].text() for m in mistakes]
    assert "parent-keeps-write-end" in kinds
    hang = mistakes[kinds.index("parent-keeps-write-end")]
    assert hang.find("b")[0].text() == str(len(failing))
    assert len(hang.find("a")) == len(failing)
    assert int(first.find("b")[0].text()) >= max(int(m.find("b")[0].text()) for m in mistakes)
    hardest = root.find("tr", "hardest")
    assert len(hardest) == 1


def _by_id(root: Node, ident: str) -> Node:
    (node,) = [n for n in root.walk() if n.attrs.get("id") == ident]
    return node


def test_a_link_is_quoted_and_never_leaves_the_folder() -> None:
    k = klass(4)
    ids = [r.student for r in k.reports]
    ln = {ids[0]: "students/a b#1?.html", ids[1]: "javascript:window.pwned=1",
          ids[2]: "https://example.invalid/x.html", ids[3]: "/etc/passwd"}  # fmt: skip
    root = dom(html.overview(k, ln))
    hrefs = {a.attrs["href"] for a in root.find("a")}
    assert (
        hrefs
        == {"students/a%20b%231%3F.html"}
        | {f"students/a%20b%231%3F.html#{s.name}" for s in CATALOGUE} & hrefs
    )
    assert "students/a%20b%231%3F.html" in hrefs


def test_the_overview_of_an_empty_class_renders() -> None:
    root = dom(html.overview(ClassReport("exercise2", "pipe", "t", CATALOGUE, ()), {}))
    assert root.find("table", "students")[0].find("tbody")[0].find("tr") == []


def test_three_hundred_students_render_fast() -> None:
    k = klass(300)
    start = time.perf_counter()
    page = html.overview(k, links(k))
    took = time.perf_counter() - start
    assert len(dom(page).find("table", "students")[0].find("tbody")[0].find("tr")) == 300
    assert took < 5.0, f"the overview of 300 students took {took:.2f} s"


# --- where the templates are, and the CLI ---------------------------------------------


def test_the_templates_are_found_from_catalog_root() -> None:
    assert html.templates() == catalog.root() / "reports" / "templates"
    names = set(html._env().list_templates())
    assert {"report.html.j2", "overview.html.j2", "_base.html.j2"} <= names
    assert html.stylesheet().is_file()
    env = html._env()
    assert env.autoescape is True


def test_no_template_marks_anything_safe() -> None:
    for path in html.templates().iterdir():
        text = path.read_text(encoding="utf-8")
        assert "|safe" not in text.replace(" ", ""), path.name
        assert "autoescape false" not in text, path.name


def test_html_is_a_format_of_the_cli(tmp_path: Path) -> None:
    assert FORMATS["html"].render(student_report(), Options()) == html.render(student_report())
    out = tmp_path / "report.html"
    argv = ["exercise1", str(REPO / "reference" / "exercise1"), "--format", "html", "--out",
            str(out)]  # fmt: skip
    wrapper = click.Command("grade", callback=lambda: cli.main(argv))
    result = CliRunner().invoke(wrapper, [], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    root = dom(out.read_text(encoding="utf-8"))
    articles = root.find("article", "check")
    assert articles
    assert all("o-passed" in a.attrs["class"] for a in articles)
    assert root.find("span", "points")[0].text() == _total(root)


def _total(root: Node) -> str:
    return root.find("span", "of")[0].text().removeprefix("/ ").strip()


@pytest.mark.parametrize("kind", ["processes", "fds", "pipes"])
def test_processes_data_is_drawn_for_every_kind_that_carries_it(kind: str) -> None:
    ev = replace(hang_evidence(), kind=kind)
    check = replace(student_report().checks[2], evidence=(ev,))
    r = replace(student_report(), checks=(check,), catalogue=(CATALOGUE[2],))
    assert len(dom(html.render(r)).find("svg", "tree")) == 1


def _fd(n: int, inode: int, end: str) -> FdRow:
    return FdRow(n, "pipe", f"pipe:[{inode}]", "w" if end == "write" else "r", inode, end)


def test_two_pipes_and_four_ends_of_one_process_do_not_overlap() -> None:
    procs = (
        ProcessRow(10, 1, "shell", "sleeping", (_fd(3, 7001, "read"), _fd(4, 7001, "write"),
                                                _fd(5, 7002, "read"), _fd(6, 7002, "write"))),
        ProcessRow(11, 10, "ps", "zombie", (_fd(1, 7001, "write"),)),
        ProcessRow(12, 10, "grep", "sleeping", (_fd(0, 7001, "read"), _fd(1, 7002, "write"))),
        ProcessRow(13, 10, "wc", "sleeping", (_fd(0, 7002, "read"),)),
    )  # fmt: skip
    d = diagram.processes(procs, (Ref(pid=10, fd=6),))
    assert d is not None
    a, b = sorted(d.pipes, key=lambda p: p.x)
    assert b.x - a.x > 2 * diagram.PIPE_R  # two circles, apart
    shell = [e for e in d.ends if e.pid == 10]
    starts = sorted({(e.line.x1 if e.end == "write" else e.line.x2) for e in shell})
    assert len(starts) == 4  # four arrows from four ports, not one line drawn four times
    labels = sorted(e.label_x for e in shell if not e.stray)
    assert all(q - p >= 24 for p, q in itertools.pairwise(labels))  # room for "fd 3"
    children = sorted((x for x in d.boxes if x.pid != 10), key=lambda x: x.x)
    assert len({x.y for x in children}) == 1  # one layer
    assert all(q.x - p.x >= diagram.BOX_W for p, q in itertools.pairwise(children))
