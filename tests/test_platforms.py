"""The grading platforms' formats: Gradescope, PrairieLearn and Autolab.

Each output is checked by what reads it: a JSON Schema written from the platform's published
field list (tests/schemas/, validated with jsonschema), markdown-it-py for Gradescope's
Markdown (with raw HTML allowed, the worst renderer a platform could use), and Autolab's own
parsing rules (the last line, the line before it, its `word:` rewrite) redone here. The
reports are the hostile ones of test_html, plus one real grade of the pipe hang.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner
from jsonschema import Draft202012Validator
from markdown_it import MarkdownIt
from test_html import (
    CATALOGUE,
    CONTROL,
    CURLY,
    HIDDEN_TITLES,
    IMG,
    SCRIPT,
    build_failure_report,
    student_report,
)

from grader import cli
from grader.render import FORMATS, Options, autolab, gradescope, markdown, prairielearn
from grader.render.escape import inert as shown
from grader.report import SubmissionReport
from grader.results import BuildResult, CheckResult, CheckSpec, Outcome

REPO = Path(__file__).resolve().parent.parent
SCHEMAS = Path(__file__).resolve().parent / "schemas"
HANG = REPO / "tests" / "submissions" / "exercise2" / "parent_keeps_write_end"
FORBIDDEN = ("\x00", "\x1b", "\x07", "\r", "\u202e", "\x7f")
SECRETS = (*HIDDEN_TITLES, "SECRET-DETAIL", "secret-mistake", "test_secret_edge", "test_after")
MiB = 1024 * 1024


def _validator(name: str) -> Draft202012Validator:
    schema = json.loads((SCHEMAS / f"{name}-results.schema.json").read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


GRADESCOPE = _validator("gradescope")
PRAIRIELEARN = _validator("prairielearn")


def _valid(validator: Draft202012Validator, doc: Any) -> None:
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(doc)]
    assert not errors, "\n".join(errors[:10])


# --- hostile reports -------------------------------------------------------------------


def missing_files_report() -> SubmissionReport:
    skipped = tuple(
        CheckResult(s.id, s.title, Outcome.SKIPPED, "pipe.c is missing", max_points=s.max_points)
        for s in CATALOGUE
    )
    return replace(student_report("dave"), missing_files=("pipe.c",),
                   found_files=(f"main{SCRIPT}{CONTROL}.c",), checks=skipped,
                   build=BuildResult(ok=False, kind="missing"), sources=())  # fmt: skip


def grader_error_report() -> SubmissionReport:
    return replace(student_report("erin"), error=f"the worker died: {SCRIPT} {CONTROL}")


def graded_report() -> SubmissionReport:
    """student_report without its broken check: a grade the student can be charged for."""
    r = student_report("fay", SCRIPT)
    fixed = tuple(replace(c, outcome=Outcome.FAILED) if c.outcome is Outcome.ERROR else c
                  for c in r.checks)  # fmt: skip
    return replace(r, checks=fixed)


REPORTS: dict[str, Callable[[], SubmissionReport]] = {
    "graded": graded_report,
    "script": lambda: student_report("alice", SCRIPT),
    "img": lambda: student_report("bob", IMG),
    "curly": lambda: student_report("carl", CURLY),
    "build failure": build_failure_report,
    "missing files": missing_files_report,
    "grader error": grader_error_report,
}
NOT_GRADED = ("build failure", "missing files", "grader error")


def _strings(value: Any) -> Iterator[str]:
    """Every string of a JSON value, keys too."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield k
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


# --- the real grade: one CLI run, three formats --------------------------------------


@dataclass(frozen=True)
class Graded:
    exit_code: int
    stdout: str
    report: SubmissionReport
    gradescope: dict[str, Any]
    prairielearn: dict[str, Any]
    prairielearn_bytes: int


@pytest.fixture(scope="module")
def hang() -> Iterator[Graded]:
    """`grade exercise2 <the pipe hang>`, once: autolab to the terminal, the others to files."""
    where = Path(tempfile.mkdtemp(prefix="ipcg-platforms-"))
    gs, pl, js = where / "results.json", where / "pl.json", where / "report.json"
    argv = ["exercise2", str(HANG), "--format", "autolab",
            "--format", "gradescope", "--out", str(gs),
            "--format", "prairielearn", "--out", str(pl),
            "--format", "json", "--out", str(js)]  # fmt: skip
    wrapper = click.Command("grade", callback=lambda: cli.main(argv))
    result = CliRunner().invoke(wrapper, [], catch_exceptions=False)
    try:
        yield Graded(
            result.exit_code, result.stdout,
            SubmissionReport.from_dict(json.loads(js.read_text(encoding="utf-8"))),
            json.loads(gs.read_text(encoding="utf-8")),
            json.loads(pl.read_text(encoding="utf-8")), len(pl.read_bytes()),
        )  # fmt: skip
    finally:
        shutil.rmtree(where, ignore_errors=True)


def test_the_hang_through_the_cli_exits_1_with_schema_valid_results(hang: Graded) -> None:
    assert hang.exit_code == 1, hang.stdout
    _valid(GRADESCOPE, hang.gradescope)
    _valid(PRAIRIELEARN, hang.prairielearn)
    assert hang.prairielearn_bytes < MiB


def test_the_hang_gradescope_entry_shows_the_stray_write_end(hang: Graded) -> None:
    entry = next(t for t in hang.gradescope["tests"]
                 if t["extra_data"]["id"] == "exercise2/test_grep_sees_end_of_file")  # fmt: skip
    assert entry["status"] == "failed"
    assert entry["score"] == 0
    position = [s.id for s in hang.report.catalogue].index(entry["extra_data"]["id"]) + 1
    assert entry["number"] == f"2.{position}"
    assert "write end" in entry["output"]
    html = MarkdownIt("commonmark").enable("table").render(entry["output"])
    assert "<table>" in html
    assert re.search(r"<td>grep</td>", html)
    assert entry["extra_data"]["failure"] == "parent-keeps-write-end"


def test_the_hang_scores_agree_across_the_formats(hang: Graded) -> None:
    r = hang.report
    assert hang.gradescope["score"] == r.score
    assert sum(t["score"] for t in hang.gradescope["tests"]) == r.score
    assert hang.prairielearn["gradable"] is True
    assert hang.prairielearn["score"] == pytest.approx(r.score / r.max_score)
    last = hang.stdout.rstrip("\n").split("\n")[-1]
    assert json.loads(last) == {"scores": {s.name: c.points for s, c in
                                           zip(r.catalogue, r.checks, strict=True)}}  # fmt: skip


# --- Gradescope -------------------------------------------------------------------------


@pytest.mark.parametrize("name", REPORTS)
def test_gradescope_results_are_schema_valid(name: str) -> None:
    _valid(GRADESCOPE, json.loads(gradescope.render(REPORTS[name]())))


@pytest.mark.parametrize("name", REPORTS)
def test_gradescope_scores_add_up(name: str) -> None:
    report = REPORTS[name]()
    doc = json.loads(gradescope.render(report))
    assert doc["score"] == report.score
    assert sum(t["score"] for t in doc["tests"]) == doc["score"]
    assert sum(t["max_score"] for t in doc["tests"]) == report.max_score
    assert [t["number"] for t in doc["tests"]] == [f"2.{i}" for i in range(1, len(CATALOGUE) + 1)]
    outcomes = {c.id: c.outcome for c in report.checks}
    for spec, test in zip(CATALOGUE, doc["tests"], strict=True):
        passed = outcomes.get(spec.id) is Outcome.PASSED
        assert test["status"] == ("passed" if passed else "failed"), spec.id


def test_gradescope_visibility_follows_the_catalogue() -> None:
    doc = json.loads(gradescope.render(student_report()))
    got = {t["extra_data"]["id"]: t["visibility"] for t in doc["tests"]}
    assert got == {s.id: s.visibility for s in CATALOGUE}
    assert {"hidden", "after_due_date", "visible"} == set(got.values())
    for secret in SECRETS:
        assert secret not in doc["output"]


@pytest.mark.parametrize("name", NOT_GRADED)
def test_gradescope_says_what_is_wrong_and_still_lists_every_check(name: str) -> None:
    doc = json.loads(gradescope.render(REPORTS[name]()))
    said = {
        "build failure": "does not compile",
        "missing files": "pipe.c is missing",
        "grader error": "The grader broke",
    }[name]
    assert said in doc["output"]
    assert len(doc["tests"]) == len(CATALOGUE)
    if name != "grader error":
        assert doc["score"] == 0


def test_gradescope_build_failure_shows_the_diagnostics_as_a_table() -> None:
    doc = json.loads(gradescope.render(build_failure_report()))
    html = MarkdownIt("commonmark", {"html": True}).enable("table").render(doc["output"])
    assert "<table>" in html
    assert "expected ';' before &lt;img" in html
    assert "<img" not in html


@pytest.mark.parametrize("name", REPORTS)
def test_gradescope_markdown_never_carries_student_html(name: str) -> None:
    """Rendered with raw HTML allowed, no payload becomes an element."""
    doc = json.loads(gradescope.render(REPORTS[name]()))
    md = MarkdownIt("commonmark", {"html": True}).enable("table")
    for text in [doc["output"], *(t["output"] for t in doc["tests"])]:
        html = md.render(text)
        assert "<script" not in html
        assert "<img" not in html


def test_gradescope_shows_a_script_as_text() -> None:
    doc = json.loads(gradescope.render(student_report("alice", SCRIPT)))
    md = MarkdownIt("commonmark", {"html": True}).enable("table")
    page = "".join(md.render(t["output"]) for t in doc["tests"])
    assert "hint &lt;script&gt;window.pwned = 1; alert(1)&lt;/script&gt;" in page


def test_student_output_stays_inside_its_fence() -> None:
    """Output with its own fences and a payload after them: one code block holds it all."""
    actual = f"```\n{SCRIPT}\n````\n# heading?\n| a | b |\n{CONTROL}"
    check = CheckResult(CATALOGUE[1].id, CATALOGUE[1].title, Outcome.FAILED, "wrong",
                        expected="x\n", actual=actual, max_points=2.0)  # fmt: skip
    report = replace(student_report(), checks=(check,))
    test = json.loads(gradescope.render(report))["tests"][1]
    tokens = MarkdownIt("commonmark", {"html": True}).parse(test["output"])
    fences = [t.content for t in tokens if t.type == "fence"]
    assert shown(actual, 10**6) + "\n" in fences
    assert not [t for t in tokens if t.type in ("html_block", "heading_open", "table_open")]


@pytest.mark.parametrize("name", REPORTS)
def test_no_control_character_reaches_a_platform(name: str) -> None:
    report = REPORTS[name]()
    docs = [json.loads(gradescope.render(report)), json.loads(prairielearn.render(report))]
    text = autolab.render(report)
    for doc in docs:
        for s in _strings(doc):
            assert not [c for c in FORBIDDEN if c in s], s[:200]
    assert not [c for c in FORBIDDEN if c in text]
    if name != "build failure":  # it carries no output
        assert "\\x00" in json.dumps(docs[0])  # NUL is shown, not dropped


def test_extra_data_is_the_checks_json() -> None:
    report = student_report()
    doc = json.loads(gradescope.render(report))
    hang = next(t for t in doc["tests"] if t["extra_data"]["id"].endswith("end_of_file"))
    expected = next(c for c in report.checks if c.id.endswith("end_of_file")).to_dict()
    assert hang["extra_data"]["evidence"][0]["processes"] == expected["evidence"][0]["processes"]
    assert hang["extra_data"]["about"] == expected["about"]
    assert hang["extra_data"]["message"] == shown(expected["message"], 10**6)


def test_the_formats_are_registered() -> None:
    report = student_report()
    assert FORMATS["gradescope"].render(report, Options()) == gradescope.render(report)
    assert FORMATS["prairielearn"].render(report, Options()) == prairielearn.render(report)
    assert FORMATS["autolab"].render(report, Options()) == autolab.render(report)


# --- PrairieLearn -----------------------------------------------------------------------


@pytest.mark.parametrize("name", REPORTS)
def test_prairielearn_results_are_schema_valid_and_gradable_only_when_graded(name: str) -> None:
    report = REPORTS[name]()
    doc = json.loads(prairielearn.render(report))
    _valid(PRAIRIELEARN, doc)
    assert doc["gradable"] is (report.status == "graded")
    assert doc["gradable"] is (name == "graded")  # student_report has a check that broke
    if not doc["gradable"]:
        assert doc["format_errors"]
        assert doc["message"]
    assert doc["score"] == pytest.approx(report.score / report.max_score)
    assert sum(t["points"] for t in doc["tests"]) == report.score
    assert sum(t["max_points"] for t in doc["tests"]) == report.max_score


def test_prairielearn_counts_hidden_checks_without_their_detail() -> None:
    report = student_report()
    text = prairielearn.render(report)
    for secret in SECRETS:
        assert secret not in text
    doc = json.loads(text)
    kept = [t for t in doc["tests"] if t["name"] == "Hidden checks"]
    assert len(kept) == 1
    hidden = [s for s in CATALOGUE if s.visibility != "visible"]
    assert kept[0]["max_points"] == sum(s.max_points for s in hidden)
    points = {c.id: c.points for c in report.checks}
    assert kept[0]["points"] == sum(points.get(s.id, 0.0) for s in hidden)
    assert len(doc["tests"]) == len(CATALOGUE) - len(hidden) + 1


def _flood(n: int, size: int) -> SubmissionReport:
    """`n` failed checks, each with `size` characters of hostile output, and one small one."""
    big = (f"{SCRIPT}{CONTROL}\n" * (size // 50 + 1))[:size]
    specs = tuple(CheckSpec(f"exercise2/test_{i}", f"check {i}") for i in range(n))
    checks = tuple(
        CheckResult(s.id, s.title, Outcome.FAILED, f"wrong {i}", expected=big, actual=big)
        for i, s in enumerate(specs)
    )
    small = CheckResult("exercise2/test_small", "small", Outcome.FAILED, "wrong", actual="tiny\n")
    spec = CheckSpec(small.id, small.title)
    return replace(student_report(), catalogue=(*specs, spec), checks=(*checks, small))


def test_prairielearn_results_stay_under_one_mib_cutting_the_largest_first() -> None:
    report = _flood(60, 4 * MiB)  # 60 checks carrying 4 MiB of output each
    assert sum(len(c.actual or "") + len(c.expected or "") for c in report.checks) > 400 * MiB
    text = prairielearn.render(report)
    assert len(text.encode("utf-8")) < MiB
    doc = json.loads(text)
    _valid(PRAIRIELEARN, doc)
    outputs = {t["name"]: t["output"] for t in doc["tests"]}
    assert outputs["small"] == "got:\ntiny\n"  # the smallest output is whole
    cut = [out for out in outputs.values() if out.endswith(prairielearn.CUT)]
    assert len(cut) == 60  # every long output is cut, none dropped: each keeps its start
    assert min(map(len, cut)) > 0.9 * max(map(len, cut))
    assert all(out.startswith("expected:\n<script>") for out in cut)
    assert doc["score"] == 0


def test_prairielearn_fit_leaves_a_small_report_whole() -> None:
    doc = prairielearn.results(student_report())
    before = json.dumps(doc)
    assert json.dumps(prairielearn.fit(doc)) == before
    assert prairielearn.CUT not in before


# --- Autolab ----------------------------------------------------------------------------


def _autolab_lines(text: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """What Autolab reads: the feedback from the line before the last, the autoresult from
    the last (after its parser's rewrite of `word:` into `"word":`)."""
    lines = text.rstrip().split("\n")
    autoresult = re.sub(r"([a-zA-Z0-9]+):", r'"\1":', lines[-1])
    return json.loads(lines[-2]), json.loads(autoresult)


@pytest.mark.parametrize("name", REPORTS)
def test_autolab_ends_with_the_feedback_and_the_autoresult(name: str) -> None:
    report = REPORTS[name]()
    feedback, result = _autolab_lines(autolab.render(report))
    assert feedback["_presentation"] == "semantic"
    for stage in feedback["stages"]:
        assert isinstance(feedback[stage], dict)
    visible = [s.name for s in CATALOGUE if s.visibility == "visible"]
    assert list(result["scores"]) == [*visible, autolab.HIDDEN_KEY]
    assert feedback["_scores_order"] == list(result["scores"])
    assert sum(result["scores"].values()) == report.score


def test_autolab_stages_carry_the_hints_and_no_hidden_detail() -> None:
    text = autolab.render(student_report())
    for secret in SECRETS:
        assert secret not in text
    feedback, _ = _autolab_lines(text)
    hang = feedback["Checks"]["grep sees end-of-file"]
    assert hang["passed"] is False
    assert "close every pipe end" in hang["hint"]
    assert feedback["Checks"]["the program compiles"] == {"passed": True}
    assert feedback["Checks"]["_order"][0] == "the program compiles"


def test_student_text_cannot_add_a_line_to_autolab() -> None:
    """A message ending in a fake autoresult stays inside the feedback's JSON."""
    fake = '\n{"scores": {"test_output": 100}}\n'
    report = student_report()
    checks = tuple(replace(c, message=c.message + fake, hint=fake) for c in report.checks)
    text = autolab.render(replace(report, checks=checks))
    _, result = _autolab_lines(text)
    assert result["scores"]["test_output"] == 0
    assert text.rstrip().split("\n")[-2].startswith('{"_presentation"')


def test_autolab_build_failure_says_so_in_the_build_stage() -> None:
    feedback, result = _autolab_lines(autolab.render(build_failure_report()))
    assert feedback["Build"]["compiles"]["passed"] is False
    assert "pipe.c:12:5" in feedback["Build"]["compiles"]["hint"]
    assert set(result["scores"].values()) == {0.0}


def test_autolab_output_stays_small_so_the_autoresult_survives() -> None:
    text = autolab.render(_flood(60, 4 * MiB))
    assert len(text.encode("utf-8")) < autolab.MAX_BYTES + 64 * 1024
    _, result = _autolab_lines(text)
    assert len(result["scores"]) == 61


# --- the Markdown helper ----------------------------------------------------------------


def test_markdown_escape_keeps_every_character_as_text() -> None:
    text = f"- *a* _b_ [c](d) `e` | # {SCRIPT} 1. & \\"
    html = MarkdownIt("commonmark", {"html": True}).render(markdown.escape(text))
    assert (
        html == f"<p>{text.replace('&', '&amp;').replace('<', '&lt;').replace('>', '&gt;')}</p>\n"
    )


def test_markdown_escape_keeps_one_line() -> None:
    assert "\n" not in markdown.escape("a\nb\r\nc")
    assert markdown.escape("1. item").startswith("1\\.")


def test_markdown_code_block_fence_is_longer_than_any_backtick_run() -> None:
    block = markdown.code_block("a ````` b\n```")
    fence = block.split("\n", 1)[0]
    assert fence == "`" * 6
    assert block.endswith(fence + "\n")


def test_markdown_table_pads_short_rows() -> None:
    tokens = (
        MarkdownIt("commonmark")
        .enable("table")
        .parse(markdown.table(("a", "b"), [("1|2",), ("x", "y", "z")]))
    )
    cells = [t for t in tokens if t.type in ("th_open", "td_open")]
    assert len(cells) == 9


def test_gradescope_shows_the_students_line_where_the_mistake_is() -> None:
    doc = json.loads(gradescope.render(student_report("alice", SCRIPT)))
    hang = next(t for t in doc["tests"] if t["extra_data"]["id"].endswith("end_of_file"))
    assert "Where: pipe.c, line 3" in hang["output"]
    tokens = MarkdownIt("commonmark").parse(hang["output"])
    fences = [t.content for t in tokens if t.type == "fence"]
    assert f"   3 |   pipe(fd); /* {SCRIPT} */\n" in fences
