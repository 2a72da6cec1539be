"""JUnit XML: valid against pytest's strict junit-10.xsd (xmlschema), read back by junitparser
with the report's counts, GitLab's flavour with file and line, student text kept as text.

tests/schemas/junit-10.xsd is vendored from pytest-dev/pytest, testing/example_scripts/
junit-10.xsd (commit df87db7b, MIT, the schema pytest's own tests validate its XML with).
xmlschema and junitparser are test extras: missing, these tests skip, except under CI.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import Path
from types import ModuleType
from typing import Any

import click
import pytest
from click.testing import CliRunner
from conftest import missing_tool
from test_html import CONTROL, HIDDEN_TITLES, IMG, SCRIPT, build_failure_report, student_report

from grader import cli
from grader.render import junit
from grader.report import SubmissionReport
from grader.results import Outcome

REPO = Path(__file__).resolve().parent.parent
XSD = Path(__file__).parent / "schemas" / "junit-10.xsd"
HANG = REPO / "tests" / "submissions" / "exercise2" / "parent_keeps_write_end"


def _need(module: str) -> ModuleType:
    try:
        return __import__(module)
    except ImportError:
        missing_tool(f"{module} is missing: pip install -e '.[test]'", "CI must validate JUnit")


@pytest.fixture(scope="module")
def schema() -> Any:
    return _need("xmlschema").XMLSchema(str(XSD))


@pytest.fixture
def hang(pipe_hang: SubmissionReport) -> SubmissionReport:
    return pipe_hang  # graded once for every format (conftest)


def _reports(hang: SubmissionReport) -> list[SubmissionReport]:
    return [student_report(payload=SCRIPT), student_report(payload=IMG), build_failure_report(),
            hang]  # fmt: skip


def _expected_counts(r: SubmissionReport) -> dict[str, int]:
    """What a student's JUnit must count, from the report itself (hidden checks aside)."""
    hidden = {s.id for s in r.catalogue if s.visibility != "visible"}
    shown = [c for c in r.checks if c.id not in hidden]
    run = {c.id for c in r.checks}
    not_run = sum(1 for s in r.catalogue if s.id not in run and s.id not in hidden)
    build_failed = not r.build.ok and not r.missing_files
    return {
        "tests": len(shown) + not_run + 1 + bool(r.missing_files) + bool(r.error),
        "failures": sum(c.outcome is Outcome.FAILED for c in shown)
        + build_failed
        + bool(r.missing_files),
        "errors": sum(c.outcome is Outcome.ERROR for c in shown) + bool(r.error),
        "skipped": sum(c.outcome in (Outcome.SKIPPED, Outcome.NOT_RUN) for c in shown)
        + not_run
        + bool(r.missing_files),
    }


def test_strict_validates_and_junitparser_counts_as_the_report(
    schema: Any, hang: SubmissionReport, tmp_path: Path
) -> None:
    junitparser = _need("junitparser")
    for i, r in enumerate(_reports(hang)):
        xml = junit.render(r)
        schema.validate(xml)
        path = tmp_path / f"{i}.xml"
        path.write_text(xml, encoding="utf-8")
        suite = next(iter(junitparser.JUnitXml.fromfile(str(path))))
        want = _expected_counts(r)
        got = {"tests": suite.tests, "failures": suite.failures, "errors": suite.errors,
               "skipped": suite.skipped}  # fmt: skip
        assert got == want, r.submission
        cases = list(suite)
        assert len(cases) == want["tests"]
        assert sum(1 for c in cases for res in c.result
                   if isinstance(res, junitparser.Failure)) == want["failures"]  # fmt: skip


def test_gitlab_adds_file_and_line_which_strict_forbids(
    schema: Any, hang: SubmissionReport
) -> None:
    xml = junit.render(hang, gitlab=True)
    assert not schema.is_valid(xml)
    case = ET.fromstring(xml).find(".//testcase[@name='test_grep_sees_end_of_file']")
    assert case is not None
    loc = next(c.location for c in hang.checks if c.name == "test_grep_sees_end_of_file")
    assert loc is not None
    assert case.get("line") == str(loc.line)
    assert case.get("file") == loc.file  # the submission's folder was given as an absolute path
    assert ET.fromstring(junit.render(hang)).find(".//testcase[@file]") is None


def test_a_build_failure_is_a_failing_testcase_at_the_first_error() -> None:
    r = build_failure_report()
    root = ET.fromstring(junit.render(r, gitlab=True))
    build = root.find(".//testcase[@name='build']")
    assert build is not None
    failure = build.find("failure")
    assert failure is not None
    assert (build.get("file"), build.get("line")) == ("pipe.c", "12")
    relative = ET.fromstring(junit.render(replace(r, submission="repo/./ex2"), gitlab=True))
    assert relative.find(".//testcase[@name='build']").get("file") == "repo/ex2/pipe.c"
    assert "expected ';'" in failure.get("message", "")
    assert IMG in (failure.text or "")  # as text: ElementTree read it back unescaped


def test_missing_files_and_a_grader_error_show_as_a_failure_and_an_error(schema: Any) -> None:
    r = replace(student_report(), missing_files=("pipe.c",), error="the worker died")
    xml = junit.render(r)
    schema.validate(xml)
    root = ET.fromstring(xml)
    files = root.find(".//testcase[@name='files']/failure")
    assert files is not None
    assert "pipe.c" in files.get("message", "")
    grade = root.find(".//testcase[@name='grade']/error")
    assert grade is not None
    assert grade.get("message") == "the worker died"


def test_skipped_and_not_run_carry_their_reason() -> None:
    root = ET.fromstring(junit.render(student_report()))
    skipped = root.find(".//testcase[@name='test_signals']/skipped")
    not_run = root.find(".//testcase[@name='test_not_reached']/skipped")
    assert skipped is not None
    assert skipped.get("message") == "needs the build"
    assert not_run is not None
    assert "ended before it ran" in not_run.get("message", "")


def test_points_are_suite_properties_in_strict_and_per_testcase_in_gitlab() -> None:
    r = student_report()
    props = {p.get("name"): p.get("value") for p in ET.fromstring(junit.render(r)).iter("property")}
    assert props["points[test_output]"] == "0"
    assert props["max_points[test_output]"] == "2"
    assert props["points"] == "2"
    assert (props["hidden_checks"], props["hidden_points"]) == ("2", "4")
    gl = ET.fromstring(junit.render(r, gitlab=True))
    case = gl.find(".//testcase[@name='test_maps']/properties")
    assert case is not None
    assert {p.get("name"): p.get("value") for p in case} == {"points": "1", "max_points": "1"}


def test_forbidden_characters_are_shown_and_markup_stays_text() -> None:
    r = student_report(payload=SCRIPT + "\ufffe\ud800" + CONTROL)
    xml = junit.render(r)
    assert "\x00" not in xml
    assert "\x1b" not in xml
    assert "\ufffe" not in xml
    root = ET.fromstring(xml)  # a strict XML parser reads it back
    text = "".join(root.itertext()) + "".join(v for el in root.iter() for v in el.attrib.values())
    assert "a\\x00b\\x1b[31mc\\x07" in text
    assert "\\ufffe" in text
    assert SCRIPT in text
    assert not list(root.iter("script"))


def test_hidden_checks_are_counted_not_shown_to_the_student() -> None:
    r = student_report()
    student, instructor = junit.render(r), junit.render(r, instructor=True)
    for secret in (*HIDDEN_TITLES, "SECRET-DETAIL", "secret-mistake", "test_secret_edge"):
        assert secret not in student
    assert "SECRET-DETAIL" in instructor
    assert "test_secret_edge" in instructor


def test_the_pipe_hang_fails_with_its_message_and_evidence(hang: SubmissionReport) -> None:
    root = ET.fromstring(junit.render(hang))
    case = root.find(".//testcase[@name='test_grep_sees_end_of_file']")
    assert case is not None
    failure = case.find("failure")
    assert failure is not None
    assert "write end" in failure.get("message", "")
    assert failure.get("type") == "parent-keeps-write-end"
    assert "what to do:" in (failure.text or "")
    out = case.findtext("system-out") or ""
    assert "grep" in out
    assert "ppid" in out  # the process table, as text


def test_the_cli_writes_junit_and_tap_and_exits_1(tmp_path: Path) -> None:
    x, y = tmp_path / "x.xml", tmp_path / "y.tap"
    args = ["exercise2", str(HANG), "--format", "junit", "--out", str(x), "--format", "tap",
            "--out", str(y)]  # fmt: skip
    wrapper = click.Command("grade", callback=lambda: cli.main(args))
    result = CliRunner().invoke(wrapper, [], catch_exceptions=False)
    assert result.exit_code == 1, result.output
    assert ET.parse(x).getroot().find(".//testcase[@name='test_grep_sees_end_of_file']/failure") \
        is not None  # fmt: skip
    assert y.read_text(encoding="utf-8").startswith("TAP version 14\n")


def test_a_string_no_renderer_step_cleaned_is_still_made_legal_xml() -> None:
    # the student's id comes from a folder name in a batch: it reaches the XML as it is
    xml = junit.render(student_report(student="bob\x00\x01\ufffe"))
    props = {p.get("name"): p.get("value") for p in ET.fromstring(xml).iter("property")}
    assert props["student"] == "bob\\x00\\x01\\ufffe"
