"""Tests for the results model and its renderers, fed hostile student text."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from grader.render import FORMATS, Options, Render, terminal
from grader.render import json as json_render
from grader.report import ClassReport, Digests, SchemaError, SourceFile, SubmissionReport
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
from grader.sandbox.detect import Capabilities

# HTML, an SGR colour, an OSC 8 hyperlink ended by BEL, a carriage return to overwrite the
# line, NUL, a fake verdict, a template placeholder, a C1 CSI, a bidi override, DEL, Latin-1.
HOSTILE = (
    "<script>x</script>\x1b[31mred\x1b]8;;http://evil\x07link\x1b]8;;\x07\r\0 PASSED {{ x }} "
    "\x9b2J\u202eevil\x7f \xff"
)
# what a student's program writes, not valid UTF-8, decoded as the grader decodes it
HOSTILE_BYTES = (b"\xff\xfe\x1b[2J\x00\xc3(" + HOSTILE.encode("utf-8", "replace")).decode(
    "utf-8", errors="replace"
)
FORBIDDEN = ["\x1b", "\x07", "\x00", "\x9b", "\x7f", "\u202e", "\r"]


def _check(outcome: Outcome = Outcome.PASSED, n: int = 1, **kw: object) -> CheckResult:
    fields: dict[str, object] = {
        "id": f"exercise1/test_{n}",
        "title": f"check {n}",
        "outcome": outcome,
        "points": 1.0 if outcome is Outcome.PASSED else 0.0,
        "max_points": 1.0,
    }
    fields.update(kw)
    return CheckResult(**fields)  # type: ignore[arg-type]


def _report(*checks: CheckResult, **kw: object) -> SubmissionReport:
    fields: dict[str, object] = {
        "exercise": "exercise1",
        "title": "exercise1 `copy`: Copy with cat",
        "submission": "/home/student/repo/exercise1",
        "build": BuildResult(ok=True, command=("gcc -Wall -o copy copy.c",), kind=""),
        "checks": checks or (_check(),),
        "isolation": Isolation(level="full", layers=("user namespace",)),
        "found_files": ("copy.c",),
        "duration_s": 0.5,
    }
    fields.update(kw)
    return SubmissionReport(**fields)  # type: ignore[arg-type]


def _hostile_report(text: str = HOSTILE) -> SubmissionReport:
    evidence = Evidence(
        title=f"fds of {text}",
        columns=("fd", "kind", "target"),
        rows=(("0", "pipe", text), ("1", text, "/dev/null")),
        text=text,
    )
    failed = _check(
        Outcome.FAILED,
        n=2,
        message=f"your program printed {text}",
        expected="hello\n",
        actual=text,
        hint=text,
        lecture=text,
        evidence=(evidence,),
        log=(text,),
        warnings=(text,),
        duration_s=0.25,
    )
    passed = _check(Outcome.PASSED, n=1, title=text, warnings=(text,))
    skipped = _check(Outcome.SKIPPED, n=3, message=text)
    return _report(
        passed,
        failed,
        skipped,
        submission=f"/home/{text}/exercise1",
        title=text,
        problems=(f"found {text}.c; this exercise expects copy.c",),
        build=BuildResult(ok=True, warnings=(text,), log=text, duration_s=0.1),
    )


def _assert_inert(out: str) -> None:
    for ch in FORBIDDEN:
        assert ch not in out, f"{ch!r} reached the terminal output"
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]", out)


# --- terminal ---------------------------------------------------------------------------


@pytest.mark.parametrize("text", [HOSTILE, HOSTILE_BYTES], ids=["str", "invalid-utf8"])
def test_terminal_output_has_no_control_characters(text: str) -> None:
    out = terminal.render(_hostile_report(text))
    _assert_inert(out)
    out.encode("utf-8")  # printable as it is


def test_terminal_output_shows_control_characters_visibly() -> None:
    out = terminal.render(_hostile_report())
    assert "\\x1b[31mred" in out
    assert "\\x07" in out
    assert "\\x00" in out
    assert "\\x0d" in out
    assert "\\x9b2J" in out
    assert "<script>x</script>" in out  # shown as text: a terminal runs no script
    assert "PASSED {{ x }}" in out


def test_terminal_output_of_invalid_utf8_shows_replacement_characters() -> None:
    out = terminal.render(_hostile_report(HOSTILE_BYTES))
    assert "\ufffd" in out
    assert "\\x1b[2J" in out


def test_terminal_shows_every_failing_field() -> None:
    report = _report(
        _check(
            Outcome.FAILED,
            message="the message",
            expected="the expected",
            actual="the actual",
            hint="the hint",
            lecture="pipe",
            evidence=(Evidence("the table", ("a", "b"), (("cell1", "cell2"),), "the text"),),
        )
    )
    out = terminal.render(report)
    for text in ("FAIL", "the message", "the expected", "the actual", "the hint", "pipe"):
        assert text in out
    for text in ("the table", "cell1", "cell2", "the text"):
        assert text in out


def test_terminal_shows_what_the_sandbox_did_first() -> None:
    """Where the sandbox's words used to be pasted into the message: a student reads the
    same thing, first, and it is escaped like the rest."""
    stop = SandboxAction("stopped", "cpu", "the sandbox stopped copy (pid 20): it used more "
                         "than 5 s of CPU", 20, "copy")  # fmt: skip
    full = SandboxAction("filled", "tmpfs", f"the grade's /tmp filled up {HOSTILE}")
    report = _report(_check(Outcome.FAILED, message="your program killed by SIGKILL",
                            sandbox=(stop, full)))  # fmt: skip
    out = terminal.render(report)
    lines = out.splitlines()
    at = next(i for i, ln in enumerate(lines) if ln.startswith("  FAIL"))
    body = " ".join(" ".join(ln.split()) for ln in lines[at + 1 : at + 6])
    assert body.startswith(
        "the sandbox stopped copy (pid 20): it used more than 5 s of CPU; the grade's /tmp "
        "filled up"
    ), body
    assert "your program killed by SIGKILL" in body
    assert body.index("filled up") < body.index("your program killed")
    _assert_inert(out)


def test_terminal_shows_a_check_that_did_not_run() -> None:
    why = "the grade was stopped after 2 s while test_1 ran; this check did not run"
    report = _report(_check(Outcome.ERROR, 1, message="stopped while this check ran"),
                     _check(Outcome.NOT_RUN, 2, message=why, hint="never shown"))  # fmt: skip
    out = terminal.render(report)
    lines = out.splitlines()
    at = lines.index("  ----  check 2")
    assert " ".join(" ".join(ln.split()) for ln in lines[at + 1 : at + 3]).startswith(why)
    assert "never shown" not in out
    assert "score 0/2 — 1 error, 1 not run — not passed" in out


def test_long_actual_output_is_cut_with_a_marker() -> None:
    long_line = "x" * 5000
    out = terminal.render(_report(_check(Outcome.FAILED, actual=long_line)))
    assert "more characters cut" in out
    assert long_line not in out
    assert len(out) < 3000


def test_many_lines_of_actual_output_are_cut_with_a_marker() -> None:
    many = "\n".join(f"line {i}" for i in range(200))
    out = terminal.render(_report(_check(Outcome.FAILED, actual=many)))
    assert "more lines cut" in out
    assert "line 0" in out
    assert "line 199" not in out


def test_many_evidence_rows_are_cut_with_a_marker() -> None:
    rows = tuple((str(i), "file") for i in range(100))
    ev = Evidence("fds", ("fd", "kind"), rows)
    out = terminal.render(_report(_check(Outcome.FAILED, evidence=(ev,))))
    assert "more rows cut" in out


def test_ragged_evidence_rows_do_not_break_the_renderer() -> None:
    ev = Evidence("fds", ("fd",), (("0", "extra cell"),))
    out = terminal.render(_report(_check(Outcome.FAILED, evidence=(ev,))))
    assert "extra cell" in out


def test_terminal_output_of_an_undecodable_path_is_printable() -> None:
    path = b"/home/student/caf\xe9/exercise1".decode("utf-8", "surrogateescape")
    out = terminal.render(_report(submission=path, problems=(f"found {path}/Copy.c",)))
    out.encode("utf-8")


def test_terminal_summary_line() -> None:
    report = _report(_check(Outcome.PASSED, 1), _check(Outcome.FAILED, 2))
    out = terminal.render(report)
    assert "score 1/2" in out
    assert "1 passed, 1 failed" in out
    assert "not passed" in out


def _isolation_block(out: str) -> list[str]:
    """The report's lines from `isolation:` to its last continuation or layer line."""
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("isolation:"))
    end = start + 1
    while end < len(lines) and lines[end].startswith(("    ", "  layer: ", "  missing: ")):
        end += 1
    return lines[start:end]


def _machine(**kw: object) -> Isolation:
    """A real Isolation, as the sandbox describes this kind of machine."""
    return Capabilities(**kw).isolation()  # type: ignore[arg-type]


def test_full_isolation_is_one_line() -> None:
    iso = _machine(userns=True, root=True, cgroup_why_not="", seccomp_why_not="",
                   student_uid=1900000001, grade_memory_mb=768, grade_tasks=512)  # fmt: skip
    assert iso.level == "full"
    assert len(iso.layers) > 7
    assert _isolation_block(terminal.render(_report(isolation=iso))) == ["isolation: full"]


@pytest.mark.parametrize(
    ("machine", "says"),
    [
        ({"userns": False, "why_not": "IPCGRADE_NO_USERNS is set", "root": True,
          "student_uid": 1900000001, "cgroup_why_not": "", "grade_memory_mb": 768,
          "grade_tasks": 512, "seccomp_why_not": ""},
         "isolation: reduced: no user namespaces"),
        ({"userns": False, "why_not": "unshare: Operation not permitted (EPERM)",
          "cgroup_why_not": "not root: no control group of its own for the grade",
          "seccomp_why_not": "libseccomp is not installed"},
         "isolation: reduced: no user namespaces; student programs run as this user; "
         "no control group; no seccomp filter"),
    ],
    ids=["root", "a-student-laptop"],
)  # fmt: skip
def test_reduced_isolation_is_one_line_naming_what_is_missing(
    machine: dict[str, object], says: str
) -> None:
    block = _isolation_block(terminal.render(_report(isolation=_machine(**machine))))
    assert " ".join(line.strip() for line in block) == says
    assert "(" not in says


def test_verbose_lists_every_layer_whole_with_closed_parentheses() -> None:
    iso = _machine(userns=False, why_not="unshare: Operation not permitted (EPERM)",
                   cgroup_why_not="not root: no control group (v2, not delegated)",
                   seccomp_why_not="")  # fmt: skip
    out = terminal.render(_report(isolation=iso), verbose=True)
    block = " ".join(line.strip() for line in _isolation_block(out))
    for text in (*iso.layers, *iso.missing):
        assert " ".join(text.split()) in block, text
    assert block.count("(") == block.count(")")
    assert "layer:" not in terminal.render(_report(isolation=iso))


# --- JSON -------------------------------------------------------------------------------


@pytest.mark.parametrize("text", [HOSTILE, HOSTILE_BYTES], ids=["str", "invalid-utf8"])
def test_json_round_trips(text: str) -> None:
    report = _hostile_report(text)
    out = json_render.render(report)
    assert out.isascii()
    assert "\x1b" not in out
    data = json.loads(out)
    assert data["schema"] == 2
    assert data["exercise"] == "exercise1"
    assert data["score"] == report.score
    assert data["max_score"] == report.max_score
    assert data["checks"][1]["actual"] == text
    back = SubmissionReport.from_dict(data)
    assert back.to_dict() == report.to_dict()
    assert back == report


def test_json_round_trips_missing_files_and_a_failed_build() -> None:
    report = _report(
        _check(Outcome.SKIPPED, message="needs copy.c"),
        missing_files=("copy.c",),
        found_files=(),
        problems=("found main.c; this exercise expects copy.c",),
        build=BuildResult(ok=False, kind="missing", errors=("copy.c is missing",)),
        isolation=Isolation(level="reduced", missing=("no user namespaces",)),
        kept="/tmp/ipcgrade-exercise1-x",
    )
    back = SubmissionReport.from_dict(json.loads(json_render.render(report)))
    assert back == report


def _documented_keys() -> set[str]:
    """The keys the README's "The JSON report" table lists: `build.ok`, `checks[].id`..."""
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n### The JSON report\n", 1)[1]
    section = re.split(r"\n#+ ", section, maxsplit=1)[0]
    return set(re.findall(r"^\| `([a-z_.\[\]]+)` \|", section, flags=re.MULTILINE))


def _keys(value: object, prefix: str = "") -> set[str]:
    """Every key of a JSON value, nested ones as `build.ok` and `checks[].evidence[].title`."""
    found: set[str] = set()
    if isinstance(value, dict):
        for key, inner in value.items():
            if prefix + key == "checks[].evidence[].data":  # free-form JSON, by kind
                found.add(prefix + key)
                continue
            found |= {prefix + key} | _keys(inner, prefix + key + ".")
    elif isinstance(value, list):
        for item in value:
            found |= _keys(item, prefix.removesuffix(".") + "[].")
    return found


def _full_report() -> SubmissionReport:
    """A report with every list of the model holding an item: every key shows in its JSON."""
    ev = Evidence(
        "processes", ("pid",), (("180",),), kind="processes",
        processes=(ProcessRow(180, 1, "pipe", "sleeping", (
            FdRow(4, "pipe", "pipe:[5435]", "w", 5435, "write"),)),),
        data={"note": [1, 2]},
    )  # fmt: skip
    check = CheckResult(
        id="exercise2/test_x", title="x", outcome=Outcome.FAILED, evidence=(ev,),
        failure="parent-keeps-write-end", about=(Ref(pid=180, fd=4, inode=5435),),
        location=Location("pipe.c", 14, 5),
        sandbox=(SandboxAction("stopped", "cpu", "it used more than 5 s of CPU", 20, "pipe"),),
    )  # fmt: skip
    not_run = CheckResult(id="exercise2/test_y", title="y", outcome=Outcome.NOT_RUN,
                          message="the grade was stopped before it ran")  # fmt: skip
    return replace(
        _hostile_report(), checks=(check, not_run), name="pipe", student="alice",
        catalogue=(CheckSpec("exercise2/test_x", "x", 2.0, "hidden", ("build",), ("pipes",),
                             Location("checks.py", 10)),
                   CheckSpec("exercise2/test_y", "y", 3.0)),
        digests=Digests("sha256:aa", "sha256:bb"),
        sources=(SourceFile("pipe.c", "int main(void) { return 0; }\n"),),
        build=BuildResult(ok=True, diagnostics=(
            Diagnostic("pipe.c", 3, 7, "warning", "unused variable 'x'"),)),
    )  # fmt: skip


def test_the_readme_documents_every_key_of_the_json_report() -> None:
    report = replace(_full_report(), kept="/tmp/ipcgrade-kept-x", grader_version="0.1.0",
                     graded_at="2025-03-01T14:02:09Z")  # fmt: skip
    actual = _keys(json.loads(json_render.render(report)))
    assert "checks[].evidence[].rows" in actual  # nested lists are walked
    documented = _documented_keys()
    assert documented - actual == set(), "documented in the README, not in the report"
    assert actual - documented == set(), "in the report, not documented in the README"


def test_the_report_says_which_grader_graded_and_when() -> None:
    report = replace(_report(), grader_version="0.1.0", graded_at="2025-03-01T14:02:09Z")
    data = json.loads(json_render.render(report))
    assert (data["grader_version"], data["graded_at"]) == ("0.1.0", "2025-03-01T14:02:09Z")
    assert SubmissionReport.from_dict(data) == report
    del data["grader_version"], data["graded_at"]  # a reader fills what a writer left out
    assert SubmissionReport.from_dict(data) == _report()


@pytest.mark.parametrize("schema", [1, 3, 0, None, "2"])
def test_from_dict_refuses_another_schema(schema: object) -> None:
    data = _report().to_dict()
    data["schema"] = schema
    with pytest.raises(ValueError, match="schema"):
        SubmissionReport.from_dict(data)


def test_from_dict_refuses_a_report_without_schema() -> None:
    data = _report().to_dict()
    del data["schema"]
    with pytest.raises(ValueError, match="schema"):
        SubmissionReport.from_dict(data)


# --- exit codes and scores --------------------------------------------------------------


def test_all_passed_exits_0() -> None:
    report = _report(_check(Outcome.PASSED, 1), _check(Outcome.PASSED, 2))
    assert report.passed
    assert report.exit_code == 0


def test_a_failed_check_exits_1() -> None:
    report = _report(_check(Outcome.PASSED, 1), _check(Outcome.FAILED, 2))
    assert not report.passed
    assert report.exit_code == 1


def test_a_skipped_check_is_not_a_pass() -> None:
    report = _report(_check(Outcome.PASSED, 1), _check(Outcome.SKIPPED, 2))
    assert report.exit_code == 1


def test_an_error_exits_3_even_beside_failures() -> None:
    report = _report(_check(Outcome.FAILED, 1), _check(Outcome.ERROR, 2))
    assert report.exit_code == 3


def test_missing_files_exit_1_even_if_no_check_failed() -> None:
    report = _report(_check(Outcome.PASSED), missing_files=("copy.c",))
    assert not report.passed
    assert report.exit_code == 1


def test_a_failed_build_exits_1_even_if_no_check_failed() -> None:
    report = _report(_check(Outcome.PASSED), build=BuildResult(ok=False, kind="compile"))
    assert not report.passed
    assert report.exit_code == 1


def test_no_checks_is_not_a_pass() -> None:
    report = replace(_report(), checks=())
    assert not report.passed
    assert report.exit_code == 1


def test_score_and_max_score_are_sums() -> None:
    checks = (
        replace(_check(Outcome.PASSED, 1), points=2.0, max_points=2.0),
        replace(_check(Outcome.FAILED, 2), points=0.5, max_points=3.0),
        replace(_check(Outcome.SKIPPED, 3), points=0.0, max_points=1.5),
    )
    report = _report(*checks)
    assert report.score == 2.5
    assert report.max_score == 6.5
    assert report.counts() == {"passed": 1, "failed": 1, "skipped": 1, "error": 0, "not_run": 0}
    data = json.loads(json_render.render(report))
    assert (data["score"], data["max_score"]) == (2.5, 6.5)


def test_a_schema_1_report_gets_a_clear_error() -> None:
    data = _report().to_dict()
    data["schema"] = 1
    with pytest.raises(SchemaError, match=r"schema 1 is gone.*grade the submission again"):
        SubmissionReport.from_dict(data)


def test_schema_2_round_trips_every_new_field() -> None:
    report = _full_report()
    data = json.loads(json_render.render(report))
    assert data["max_score"] == 5.0  # the catalogue's, not how far the grade got
    assert data["status"] == "graded"
    back = SubmissionReport.from_dict(data)
    assert back == report
    klass = ClassReport("exercise2", "pipe", "t", report.catalogue, (report,), layout="moodle")
    assert ClassReport.from_dict(json.loads(json.dumps(klass.to_dict()))) == klass


def _every_render() -> list[tuple[str, Render]]:
    """Each format's render, and each text it appends to a CI runner's file."""
    out: list[tuple[str, Render]] = []
    for name, f in FORMATS.items():
        out.append((name, f.render))
        out += [(f"{name} {var}", fn) for var, fn in f.appends]
    return out


@pytest.mark.parametrize(("name", "render"), _every_render(), ids=[n for n, _ in _every_render()])
def test_every_format_names_a_renderer_that_renders(name: str, render: Render) -> None:
    # a format names its module by a string: a wrong name must fail here, not in a grade
    text = render(_report(_check(), _check(Outcome.FAILED, 2, message=HOSTILE)), Options())
    assert isinstance(text, str)
    assert text.strip()


_LOADED = (
    "import sys, grader.cli\n"
    "heavy = ('yaml', 'xml.etree.ElementTree', 'jinja2', 'pygments')\n"
    "print(' '.join(m for m in heavy if m in sys.modules) or '-')\n"
    "if len(sys.argv) > 1:\n"
    "    from grader.render import FORMATS, Options\n"
    "    from grader.report import SubmissionReport\n"
    "    from grader.results import BuildResult, Isolation\n"
    "    r = SubmissionReport('exercise1', 't', 's', BuildResult(ok=True), (), Isolation('full'))\n"
    "    FORMATS[sys.argv[1]].render(r, Options())\n"
    "    print(' '.join(m for m in heavy if m in sys.modules) or '-')\n"
)


def test_the_cli_imports_a_renderer_only_when_its_format_is_used() -> None:
    """`grade --version` or a terminal report does not pay for PyYAML, ElementTree, jinja2."""

    def loaded(*argv: str) -> list[str]:
        done = subprocess.run([sys.executable, "-c", _LOADED, *argv], capture_output=True,
                              text=True, check=True)  # fmt: skip
        return done.stdout.split("\n")[:-1]

    assert loaded() == ["-"]
    assert loaded("terminal") == ["-", "-"]
    assert loaded("tap") == ["-", "yaml"]  # the check sees an import when there is one
    assert loaded("junit") == ["-", "xml.etree.ElementTree"]
