"""The GitHub Actions and Classroom formats, read back the way GitHub reads them.

The log is fed to an emulation of the runner's command processing (actions/runner
src/Runner.Worker/ActionCommandManager.cs and src/Runner.Common/ActionCommand.cs): a line
whose first non-blank characters are `::`, or that holds `##[` (the legacy form), is a
command, and none runs between ::stop-commands::TOKEN and ::TOKEN::. The step summary is
parsed by markdown-it (CommonMark with raw HTML and GFM tables) into a tree; the Classroom
result is decoded and validated against a JSON Schema written from the grading reporter.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import click
import jsonschema
import pytest
import yaml
from click.testing import CliRunner, Result
from markdown_it import MarkdownIt
from test_html import (
    CONTROL,
    IMG,
    SCRIPT,
    build_failure_report,
    dom,
    student_report,
)

from grader.cli import main
from grader.render import FORMATS, Options, classroom, github, terminal
from grader.report import SubmissionReport
from grader.results import BuildResult, CheckResult, Diagnostic, Evidence, Location, Outcome

REPO = Path(__file__).resolve().parent.parent
HANG = REPO / "tests" / "submissions" / "exercise2" / "parent_keeps_write_end"
WORKFLOW = REPO / "examples" / "workflows" / "student-grade.yml"
SCHEMA = json.loads((REPO / "tests" / "schemas" / "classroom-result.schema.json").read_text())
# workflow commands a student's output might try, at a line's start once the runner trims it
COMMANDS = "::error::pwned\n::add-mask::x\n  ::stop-commands::\n::endgroup::\n##[error]legacy"
HOSTILE = (COMMANDS, SCRIPT, IMG)


# --- the runner, emulated --------------------------------------------------------------

_PROPERTY = (("%0D", "\r"), ("%0A", "\n"), ("%3A", ":"), ("%2C", ","), ("%25", "%"))
_DATA = (("%0D", "\r"), ("%0A", "\n"), ("%25", "%"))


def _unescape(text: str, mappings: tuple[tuple[str, str], ...]) -> str:
    for escaped, plain in mappings:  # in the runner's order: %25 last
        text = text.replace(escaped, plain)
    return text


def _parse(line: str) -> tuple[str, dict[str, str], str] | None:
    """A line as ActionCommand.TryParseV2, then TryParse (legacy), reads it; any name counts."""
    msg = line.lstrip()
    if msg.startswith("::"):
        end = msg.find("::", 2)
        if end >= 0:
            info = msg[2:end]
            name, _, props = info.partition(" ")
            found = {}
            for pair in props.strip().split(","):
                key, eq, value = pair.partition("=")
                if pair and eq and key and value:
                    found[key] = _unescape(value, _PROPERTY)
            return name, found, _unescape(msg[end + 2 :], _DATA)
    at = line.find("##[")
    if at >= 0 and "]" in line[at:]:
        info = line[at + 3 : line.index("]", at)]
        return info.partition(" ")[0], {}, line[line.index("]", at) + 1 :]
    return None


def _lines(log: str) -> list[str]:
    return re.split(r"\r\n|\r|\n", log)  # as .NET's ReadLine splits


def runner(log: str) -> tuple[list[tuple[str, dict[str, str], str]], list[str], list[str]]:
    """The commands the runner acts on, the lines inside stopped regions, the lines outside."""
    acted, inside, outside = [], [], []
    stop: str | None = None
    for line in _lines(log):
        cmd = _parse(line)
        if stop is not None:
            if cmd is not None and cmd[0].lower() == stop.lower():
                stop = None
                acted.append(cmd)
            else:
                inside.append(line)
            continue
        if cmd is not None and cmd[0] == "stop-commands":
            stop = cmd[2]
        else:
            outside.append(line)
        if cmd is not None:
            acted.append(cmd)
    return acted, inside, outside


# --- the log ---------------------------------------------------------------------------


def _hostile_reports() -> list[SubmissionReport]:
    return [student_report(payload=p) for p in HOSTILE] + [build_failure_report()]


def test_the_emulated_runner_would_run_the_students_commands_without_the_markers() -> None:
    # what the markers are for: the bare terminal report lets the student's output act
    acted, _, _ = runner(terminal.render(student_report(payload=COMMANDS)))
    assert "add-mask" in {name for name, _, _ in acted}


@pytest.mark.parametrize("report", _hostile_reports(), ids=["commands", "script", "img", "build"])
def test_student_output_issues_no_workflow_command(report: SubmissionReport) -> None:
    log = github.render(report, token="0123456789abcdef0123456789abcdef")
    acted, inside, _ = runner(log)
    ours = [a.command() for a in github.annotate(report)[: github.MAX_ANNOTATIONS]]
    assert ours, "every hostile report has something to point at"
    assert acted[0] == ("stop-commands", {}, "0123456789abcdef0123456789abcdef")
    assert acted[1][0] == "0123456789abcdef0123456789abcdef"
    rest = [(name, line) for (name, _, _), line in zip(acted[2:], _commands(log), strict=True)]
    assert [line for _, line in rest] == ours
    assert {name for name, _ in rest} <= {"error", "warning"}
    assert "\n".join(inside).rstrip("\n") == terminal.render(report).rstrip("\n")


def _commands(log: str) -> list[str]:
    """The lines after the stopped region: our annotations and notes."""
    return [ln for ln in log.split("\n")[log.split("\n").index(_end(log)) + 1 :] if _parse(ln)]


def _end(log: str) -> str:
    token = log.split("\n", 1)[0].removeprefix("::stop-commands::")
    return f"::{token}::"


@pytest.mark.parametrize("payload", HOSTILE, ids=["commands", "script", "img"])
def test_student_text_never_appears_outside_the_region(payload: str) -> None:
    report = student_report(payload=payload)
    _, inside, outside = runner(github.render(report))
    outside_text = "\n".join(outside)
    for line in payload.split("\n"):
        assert line.strip() not in outside_text
        assert line.strip() in "\n".join(inside)
    assert "/* " not in outside_text  # nor the student's source


def test_the_token_is_fresh_each_run_and_never_in_the_student_text() -> None:
    report = student_report(payload=COMMANDS)
    tokens = {github.render(report).split("\n", 1)[0] for _ in range(5)}
    assert len(tokens) == 5
    for marker in tokens:
        token = marker.removeprefix("::stop-commands::")
        assert re.fullmatch(r"[0-9a-f]{32}", token)
        assert token not in terminal.render(report).lower()
    text = terminal.render(report)
    with pytest.raises(ValueError, match="occurs in the text"):
        github.quiet(text, token="pwned")  # a token the student's output holds resumes commands


def _many_diagnostics(n: int) -> SubmissionReport:
    diags = tuple(Diagnostic("pipe.c", i, 1, "error", f"mistake {i}") for i in range(1, n + 1))
    diags += (Diagnostic("pipe.c", 99, 2, "note", "a note is no annotation"),)
    return replace(build_failure_report(), build=BuildResult(False, kind="compile",
                                                             diagnostics=diags))  # fmt: skip


def test_at_most_ten_annotations_and_the_rest_in_the_summary() -> None:
    report = _many_diagnostics(25)
    acted, _, _ = runner(github.render(report, workspace="/s"))
    errors = [c for c in acted if c[0] in ("error", "warning")]
    assert len(errors) == github.MAX_ANNOTATIONS
    assert [c[1]["line"] for c in errors] == [str(i) for i in range(1, 11)]
    assert "15 more annotations" in github.render(report, workspace="/s")
    summary = github.summary(report, workspace="/s")
    listed = summary.split("### Annotations beyond", 1)[1]
    for i in range(11, 26):
        assert f"mistake {i}" in listed
    for i in range(1, 11):
        assert f"mistake {i}\n" not in listed
    assert "a note is no annotation" not in summary.split("### Annotations beyond", 1)[1]


def test_annotation_data_and_properties_round_trip_through_the_runner() -> None:
    hostile = "50% done\r\n::error::x, y: z%0A %25 ##[e]"
    ann = github.Annotation("warning", f"title {hostile}", f"message {hostile}",
                            f"dir,{hostile}/pipe.c", 7, 3)  # fmt: skip
    line = ann.command()
    assert "\n" not in line
    assert "\r" not in line
    name, props, data = _parse(line) or ("", {}, "")
    assert name == "warning"
    assert props == {"file": ann.file, "line": "7", "col": "3", "title": ann.title}
    assert data == ann.message
    # @actions/core's escaping, character for character (packages/core/src/command.ts)
    assert github.escape_property("%\r\n:,") == "%25%0D%0A%3A%2C"
    assert github.escape_data("%\r\n:,") == "%25%0D%0A:,"


def test_annotations_point_at_the_students_line_from_the_workspace(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    report = replace(student_report(), submission=str(tmp_path / "ex2"))
    (hang,) = github.annotate(report, workspace=str(tmp_path))
    assert (hang.kind, hang.file, hang.line) == ("error", "ex2/pipe.c", 3)
    assert hang.title == "grep sees end-of-file"
    assert "what to do: after fork()" in hang.message.lower()
    assert "\\x1b" in hang.message  # the control characters shown, never sent
    assert "\x1b" not in hang.message
    (outside,) = github.annotate(report, workspace=str(tmp_path / "other"))
    assert outside.file is None  # GitHub could not attach it: no file, no line
    assert outside.line is None
    monkeypatch.chdir(tmp_path)
    relative = replace(report, submission="ex2")
    assert github.annotate(relative, workspace=str(tmp_path))[0].file == "ex2/pipe.c"
    assert github.annotate(relative)[0].file == "ex2/pipe.c"
    build = [(a.kind, a.file, a.line, a.column) for a in github.annotate(
        replace(build_failure_report(), submission="ex2"), workspace=str(tmp_path))]  # fmt: skip
    assert build == [("error", "ex2/pipe.c", 12, 5), ("warning", "ex2/pipe.c", 25, None),
                     ("error", "ex2/other.c", 3, 1)]  # fmt: skip


def test_hidden_checks_are_not_annotated() -> None:
    report = student_report()
    hidden = replace(report.checks[7], location=Location("pipe.c", 9))
    report = replace(report, checks=(*report.checks[:7], hidden, *report.checks[8:]))
    assert [a.line for a in github.annotate(report, workspace="/s")] == [3]


# --- the step summary ------------------------------------------------------------------


def _page(markdown: str) -> Any:
    return dom(MarkdownIt("commonmark", {"html": True}).enable("table").render(markdown))


@pytest.mark.parametrize("payload", HOSTILE, ids=["commands", "script", "img"])
def test_the_summary_shows_student_text_as_text(payload: str) -> None:
    report = student_report(payload=payload)
    root = _page(github.summary(report))
    assert root.find("script") == []
    assert root.find("img") == []
    assert [a for n in root.walk() for a in n.attrs if a.startswith("on")] == []
    assert root.find("a") == []  # no link, no autolink, no mention
    text = root.text()
    assert f"output {' '.join(payload.split())}" in text  # the message, on one line
    codes = [n.text() for n in root.find("code")]
    assert any(payload in c for c in codes)  # the raw output, verbatim in a code block
    assert any(" ".join(payload.split()) == n.text() for n in root.find("td"))  # an ipc row
    assert "\x1b" not in github.summary(report)
    assert CONTROL.replace("\x00", "\\x00").replace("\x1b", "\\x1b").replace("\x07", "\\x07") \
        in text  # fmt: skip


def test_the_summary_has_score_status_table_and_folded_failures() -> None:
    report = student_report()
    root = _page(github.summary(report))
    (h2,) = root.find("h2")
    assert h2.text() == "exercise2 pipe: 3/14 points, grader error"  # a check broke
    rows = [[td.text() for td in tr.find("td")] for tr in root.find("tbody")[0].find("tr")]
    assert [r[1] for r in rows] == [
        "the program compiles", "prints what ps | grep prints", "grep sees end-of-file",
        "uses pipe, fork, dup2 and exec", "ignores SIGPIPE as asked",
        "leaves no System V object", "shares one page", "runs to the end",
    ]  # fmt: skip
    assert [r[0].split()[-1] for r in rows] == [
        "passed", "failed", "failed", "error", "skipped", "failed", "passed", "run"]  # fmt: skip
    assert rows[1][2] == "0/2"
    summaries = [d.find("summary")[0].text() for d in root.find("details")]
    assert summaries == [
        "❌ failed: prints what ps | grep prints",
        "❌ failed: grep sees end-of-file",
        "💥 error: uses pipe, fork, dup2 and exec",
        "⏭️ skipped: ignores SIGPIPE as asked",
        "❌ failed: leaves no System V object",
    ]
    text = root.text()
    assert "2 hidden checks, worth 4 points, are not shown." in text
    for secret in ("survives the secret edge case", "SECRET-DETAIL", "handles the late case"):
        assert secret not in text


def test_a_fence_is_longer_than_any_backtick_run_and_a_title_stays_text() -> None:
    tricky = "before\n```\n````` not the end\n</details><script>x</script>\nafter"
    c = CheckResult("exercise2/t", f"t {IMG}", Outcome.FAILED, "m", expected="e", actual=tricky)
    report = replace(student_report(), checks=(c,), catalogue=())
    root = _page(github.summary(report))
    (details,) = root.find("details")
    codes = [n.text() for n in details.find("code")]
    assert codes[1] == tricky + "\n"  # one block, whole, its markup text
    assert root.find("script") == []
    assert root.find("img") == []  # nor from a title, in the raw HTML of <summary>
    assert details.find("summary")[0].text() == f"❌ failed: t {IMG}"


def test_the_summary_stays_under_one_mebibyte_with_huge_output() -> None:
    huge = "x" * 3_000_000
    rows = tuple((str(i), "y" * 200) for i in range(5000))
    checks = tuple(
        CheckResult(f"exercise2/t{i}", f"check {i}", Outcome.FAILED, f"message {i}",
                    expected=huge, actual=huge, evidence=(Evidence("rows", ("n", "v"), rows),
                                                          Evidence("log", text=huge, kind="text")))
        for i in range(60)
    )  # fmt: skip
    report = replace(student_report(), checks=checks, catalogue=())
    text = github.summary(report)
    assert len(text.encode("utf-8")) <= github.SUMMARY_LIMIT
    root = _page(text)
    assert len(root.find("tbody")[0].find("tr")) == 60  # the table is whole
    assert "Evidence cut here: a step summary holds at most 1 MiB" in root.text()
    first = root.find("details")[0]
    assert "characters cut" in first.text()  # the first failure's evidence is shown, cut
    assert "message 59" in text  # every failure keeps its message
    small = github.summary(student_report())
    assert "Evidence cut" not in small


# --- the Classroom result --------------------------------------------------------------


def _decoded(report: SubmissionReport) -> dict[str, Any]:
    line = classroom.output(report)
    m = re.fullmatch(r"result=([A-Za-z0-9+/]+=*)\n", line)
    assert m, line[:200]
    result: dict[str, Any] = json.loads(base64.b64decode(m.group(1), validate=True))
    jsonschema.validate(result, SCHEMA, cls=jsonschema.Draft202012Validator)
    return result


def _error_report() -> SubmissionReport:
    return replace(student_report(), checks=(), catalogue=(), error="the sandbox broke")


@pytest.mark.parametrize(
    "report", [*_hostile_reports(), _error_report()], ids=["cmd", "script", "img", "build", "error"]
)
def test_the_classroom_result_is_schema_valid_with_consistent_scores(
    report: SubmissionReport,
) -> None:
    result = _decoded(report)
    assert result["max_score"] == report.max_score
    assert sum(t["score"] for t in result["tests"]) == report.score
    want = {0: "pass", 1: "fail", 3: "error"}[report.exit_code]
    assert result["status"] == want
    for t in result["tests"]:
        assert t["score"] == (t["max_score"] if t["status"] == "pass" else 0)
    blob = json.dumps(result)
    for secret in ("survives the secret edge case", "SECRET-DETAIL"):
        assert secret not in blob


def test_an_unknown_schema_key_or_status_is_refused_by_the_schema() -> None:
    good = _decoded(student_report())
    for bad in ({**good, "status": "passed"}, {**good, "tests": []},
                {**good, "tests": [{"name": "x", "status": "pass"}]}):  # fmt: skip
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(bad, SCHEMA, cls=jsonschema.Draft202012Validator)


def test_the_classroom_log_guards_student_output_and_names_the_result() -> None:
    report = student_report(payload=COMMANDS)
    acted, _, outside = runner(classroom.render(report))
    assert acted[0][0] == "stop-commands"
    assert len(acted) == 2
    assert outside[-2] == (
        "classroom result: error, 3/14 points over 10 tests (the step output 'result')"
    )


# --- a real grade: the pipe hang --------------------------------------------------------


@pytest.fixture
def hang(pipe_hang: SubmissionReport) -> SubmissionReport:
    return pipe_hang  # graded once for every format (conftest)


def test_the_pipe_hang_is_annotated_at_the_parents_pipe_call(hang: SubmissionReport) -> None:
    log = github.render(hang, workspace=str(REPO))
    acted, _, _ = runner(log)
    errors = [props for name, props, _ in acted if name == "error"]
    assert errors, log
    source = (HANG / "pipe.c").read_text().splitlines()
    for props in errors:
        assert props["file"] == "tests/submissions/exercise2/parent_keeps_write_end/pipe.c"
        assert "pipe(" in source[int(props["line"]) - 1] or "fork(" in source[
            int(props["line"]) - 1]  # fmt: skip
    titles = {props["title"] for props in errors}
    assert "grep sees end-of-file and the program ends by itself" in titles
    result = _decoded(hang)
    assert sum(t["score"] for t in result["tests"]) == hang.score
    passed = sum(t["status"] == "pass" for t in result["tests"])
    # every check is worth the same here, so the reporter's table agrees with the points
    assert passed / len(result["tests"]) * result["max_score"] == hang.score
    summary = _page(github.summary(hang, workspace=str(REPO)))
    assert "write end" in summary.text()


def _grade(*argv: str | Path) -> Result:
    args = [str(a) for a in argv]
    wrapper = click.Command("grade", callback=lambda: main(args))
    return CliRunner().invoke(wrapper, [], catch_exceptions=False)


def test_the_cli_writes_the_log_and_appends_the_summary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    summary = tmp_path / "step_summary"
    summary.write_text("an earlier step's summary\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    monkeypatch.setenv("GITHUB_WORKSPACE", str(REPO))
    result = _grade("exercise2", HANG, "--format", "github")
    assert result.exit_code == 1, result.output
    acted, _, _ = runner(result.stdout)
    assert acted[0][0] == "stop-commands"
    files = {props.get("file") for name, props, _ in acted if name == "error"}
    assert files == {"tests/submissions/exercise2/parent_keeps_write_end/pipe.c"}
    text = summary.read_text()
    assert text.startswith("an earlier step's summary\n## exercise2 pipe: ")
    assert "<details><summary>❌ failed: <b>grep sees end-of-file" in text


def test_the_cli_writes_the_classroom_result_to_github_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "output"
    monkeypatch.setenv("GITHUB_OUTPUT", str(out))
    result = _grade("exercise2", HANG, "--format", "classroom")
    assert result.exit_code == 1, result.output
    (line,) = out.read_text().splitlines()
    assert line.startswith("result=")
    decoded = json.loads(base64.b64decode(line.removeprefix("result=")))
    jsonschema.validate(decoded, SCHEMA)
    assert decoded["status"] == "fail"
    assert "classroom result: fail" in result.stdout


def test_the_formats_pass_the_workspace_through_the_options() -> None:
    report = replace(student_report(), submission="/ws/ex2")
    log = FORMATS["github"].render(report, Options(workspace="/ws"))
    assert "file=ex2/pipe.c,line=3" in log
    ((var, fn),) = FORMATS["github"].appends
    assert var == "GITHUB_STEP_SUMMARY"
    assert fn(report, Options(workspace="/ws")).startswith("## exercise2 pipe")


# --- the student's workflow --------------------------------------------------------------


def _workflow() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(WORKFLOW.read_text())
    return data


def test_the_student_workflow_installs_what_the_grader_needs() -> None:
    wf = _workflow()
    job = wf["jobs"]["grade"]
    assert job["runs-on"] == "ubuntu-24.04"
    steps = job["steps"]
    uses = [s.get("uses", "").split("@")[0] for s in steps]
    assert uses[:2] == ["actions/checkout", "actions/setup-python"]
    runs = "\n".join(s.get("run", "") for s in steps)
    for package in ("gcc", "make", "strace", "procps"):
        assert re.search(rf"apt-get install .*\b{package}\b", runs)
    assert "sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0" in runs
    assert 'pip install "ipcgrade @ git+https://github.com/COURSE/ipcgrade"' in runs
    names = [s.get("name") for s in steps]
    assert names.index("Allow unprivileged user namespaces") < names.index("Grade")


def test_the_student_workflows_grade_step_runs_and_fails_on_a_failed_check(
    tmp_path: Path,
) -> None:
    wf = _workflow()
    (step,) = [s for s in wf["jobs"]["grade"]["steps"] if s.get("name") == "Grade"]
    repo = tmp_path / "repo"  # the student's repository: their files at its root
    shutil.copytree(HANG, repo, ignore=shutil.ignore_patterns("expect.toml"))
    summary, output = tmp_path / "summary", tmp_path / "output"
    summary.touch()
    output.touch()
    # the install steps are this venv: its `grade` first on PATH
    bindir = str(Path(sys.executable).parent)
    env = {
        **os.environ,
        **wf.get("env", {}),
        "GITHUB_ACTIONS": "true",
        "CI": "true",
        "GITHUB_WORKSPACE": str(repo),
        "GITHUB_STEP_SUMMARY": str(summary),
        "GITHUB_OUTPUT": str(output),
        "PATH": bindir + os.pathsep + os.environ["PATH"],
    }
    # GitHub runs a `run:` with bash --noprofile --norc -eo pipefail {0}
    script = tmp_path / "step.sh"
    script.write_text(step["run"])
    bash = ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)]
    done = subprocess.run(bash, cwd=repo, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1, done.stderr
    acted, _, _ = runner(done.stdout)
    assert acted[0][0] == "stop-commands"
    assert {props.get("file") for name, props, _ in acted if name == "error"} == {"pipe.c"}
    assert summary.read_text().startswith("## exercise2 pipe: 1/5 points, not passed")
