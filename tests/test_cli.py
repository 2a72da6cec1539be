"""Tests for the `grade` command, in-process with click's CliRunner.

Exit statuses and error messages are made by `grader.cli.main(argv)`, which wraps the click
command `grader.cli.grade` and ends in sys.exit. So every test runs `main` itself: `_grade`
invokes a throwaway click command whose callback is `main(argv)`. CliRunner then does what
it is good at: it isolates sys.stdout and sys.stderr (kept apart as `result.stdout` and
`result.stderr`), turns the SystemExit into `result.exit_code`, and, with
catch_exceptions=False, lets any other exception escape `main` and fail the test loudly.
"""

from __future__ import annotations

import datetime
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import replace
from importlib.metadata import version
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner, Result
from conftest import wait_until

from grader import catalog, doctor, requirements, sandbox, session
from grader.cli import main
from grader.errors import SandboxError
from grader.report import SubmissionReport
from grader.results import BuildResult, CheckResult, CheckSpec, Isolation, Outcome

REPO = Path(__file__).resolve().parent.parent
REFERENCE1 = REPO / "reference" / "exercise1"
MISNAMED1 = REPO / "tests" / "submissions" / "exercise1" / "misnamed"


def _grade(*argv: str | Path) -> Result:
    """Run `grade ARGV...` through grader.cli.main, in-process."""
    args = [str(a) for a in argv]
    wrapper = click.Command("grade", callback=lambda: main(args))
    return CliRunner().invoke(wrapper, [], catch_exceptions=False)


def _assert_short_usage_error(result: Result, *words: str) -> None:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert result.stdout == ""
    message = result.stderr.strip()
    assert message
    assert len(message.splitlines()) <= 5, message
    flowed = " ".join(message.split())  # one paragraph, wrapped at spaces
    for word in words:
        assert word in flowed, f"{word!r} not in {message!r}"


def _fake_report(submission: str = "fake") -> SubmissionReport:
    check = CheckResult(
        id="exercise1/test_x", title="x", outcome=Outcome.PASSED, points=1.0, max_points=1.0
    )
    return SubmissionReport(
        exercise="exercise1",
        title="exercise1 `copy`",
        submission=submission,
        build=BuildResult(ok=True),
        checks=(check,),
        isolation=Isolation(level="full"),
    )


@pytest.fixture
def fake_grade(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Replace the real grade by a passing report; record what it was called with."""
    calls: list[object] = []

    def grade(exercise: object, submission: object, options: object) -> SubmissionReport:
        calls.append((exercise, submission, options))
        return _fake_report()

    monkeypatch.setattr(session, "grade", grade)
    return calls


# --- information ------------------------------------------------------------------------


def test_list_shows_every_exercise_and_its_files() -> None:
    result = _grade("--list")
    assert result.exit_code == 0, result.output
    rows = [line.split()[:3] for line in result.stdout.splitlines()]
    assert ["exercise1", "copy", "copy.c"] in rows
    assert ["exercise2", "pipe", "pipe.c"] in rows


def test_list_as_json_gives_each_exercise_and_its_points() -> None:
    result = _grade("--list", "--format", "json")
    assert result.exit_code == 0, result.output
    listed = json.loads(result.stdout)
    assert [e["id"] for e in listed] == [e.id for e in catalog.all_exercises()]
    for row, ex in zip(listed, catalog.all_exercises(), strict=True):
        assert row == {"id": ex.id, "name": ex.name, "files": list(ex.files),
                       "title": ex.title, "points": row["points"]}  # fmt: skip
        assert row["points"] == len(ex.check_names) > 0  # no exercise sets points yet


def test_list_and_doctor_honour_out(tmp_path: Path) -> None:
    """--out is never silently ignored: the listing and the doctor's findings go there."""
    listed = _grade("--list", "--format", "json")
    result = _grade("--list", "--format", "json", "--out", tmp_path / "list.json")
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert json.loads((tmp_path / "list.json").read_text()) == json.loads(listed.stdout)
    result = _grade("--doctor", "--out", tmp_path / "doctor.txt")
    assert result.stdout == ""
    assert "user namespaces" in (tmp_path / "doctor.txt").read_text()


@pytest.mark.parametrize("name", ["exercise2", "pipe"])
def test_show_prints_the_exercise_statement(name: str) -> None:
    result = _grade("--show", name)
    assert result.exit_code == 0, result.output
    statement = REPO / "exercises" / "exercise2" / "README.md"
    assert result.stdout == statement.read_text(encoding="utf-8")


def test_show_without_an_exercise() -> None:
    _assert_short_usage_error(_grade("--show"), "no exercise", "grade --show exercise1")


def test_show_an_unknown_exercise() -> None:
    _assert_short_usage_error(_grade("--show", "exercise99"), "exercise99", "grade --list")


def test_version() -> None:
    result = _grade("--version")
    assert result.exit_code == 0
    assert version("ipcgrade") in result.stdout


def test_help() -> None:
    result = _grade("--help")
    assert result.exit_code == 0
    assert "EXERCISE" in result.stdout
    assert "--format" in result.stdout
    exit_status = " ".join(result.stdout.split()).split("Exit status:", 1)[1]
    for said in ("0 all checks passed", "1 a check failed", "2 bad usage", "3 the grader broke",
                 "130 interrupted"):  # fmt: skip
        assert said in exit_status, exit_status


# --- bad usage: exit 2, a short message, no traceback -----------------------------------


def test_unknown_exercise() -> None:
    result = _grade("exercise99", REFERENCE1)
    _assert_short_usage_error(result, "exercise99", "grade --list")


def test_no_exercise_given() -> None:
    _assert_short_usage_error(_grade(), "no exercise", "grade --list")


def test_submission_path_that_does_not_exist(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = _grade("exercise1", "my_repo")
    _assert_short_usage_error(result, "'my_repo'", "does not exist")


def test_a_long_path_is_shown_whole(tmp_path: Path) -> None:
    gone = tmp_path / "a-folder-with-hyphens" / ("very-long-name-" * 6) / "exercise1"
    result = _grade("exercise1", gone)
    assert result.exit_code == 2
    assert str(gone) in " ".join(result.stderr.split())


def test_submission_path_that_is_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    Path("notes.txt").write_text("copy.c is in the other folder\n")
    result = _grade("exercise1", "notes.txt")
    _assert_short_usage_error(result, "'notes.txt'", "not a folder")


def test_unreadable_submission_folder(tmp_path: Path, fake_grade: list[object]) -> None:
    folder = tmp_path / "locked"
    folder.mkdir()
    (folder / "copy.c").write_text("int main(void) { return 0; }\n")
    folder.chmod(0)
    try:
        if os.access(folder, os.R_OK | os.X_OK):
            pytest.skip("a folder with mode 000 is still readable here (running as root)")
        result = _grade("exercise1", folder)
    finally:
        folder.chmod(0o755)
    _assert_short_usage_error(result, "permission denied")
    assert fake_grade == []


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["exercise1", "--format", "xml"], ["xml"]),
        (["exercise1", "--nope"], ["--nope"]),
        (["exercise1", "a", "b"], ["unexpected extra argument"]),
    ],
    ids=["format-xml", "unknown-option", "extra-argument"],
)
def test_bad_options(argv: list[str], words: list[str]) -> None:
    _assert_short_usage_error(_grade(*argv), *words)


def _read_only_place(tmp_path: Path) -> Path:
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o555)
    if not os.access(folder, os.W_OK):
        return folder / "report.json"
    # root writes in any folder whatever its mode; sysfs lets no one make a file
    place = Path("/sys/ipcgrade-report.json")
    try:
        place.touch()
    except OSError:
        return place
    place.unlink()
    pytest.skip("no read-only place here: root writes in folders of any mode, and in /sys")


@pytest.mark.parametrize(
    ("where", "words"),
    [
        ("missing-folder", ["'missing/report.json'", "cannot write", "'missing' does not exist",
                            "mkdir"]),
        ("read-only", ["cannot write"]),  # and why: permission denied, or read-only
        ("a-folder", ["cannot write", "is a folder", "report.json"]),
    ],
)  # fmt: skip
def test_report_file_that_cannot_be_written_is_refused_before_grading(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    fake_grade: list[object],
    where: str,
    words: list[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    out = {
        "missing-folder": lambda: Path("missing/report.json"),
        "read-only": lambda: _read_only_place(tmp_path),
        "a-folder": lambda: tmp_path,
    }[where]()
    before = sorted(tmp_path.rglob("*"))
    result = _grade("exercise1", REFERENCE1, "--out", out)
    _assert_short_usage_error(result, *words)
    if where == "read-only":  # a folder of mode 555, or /sys (read-only in some containers)
        said = result.output.lower()
        assert "permission denied" in said or "read-only file system" in said, said
    assert fake_grade == [], "the grade ran before the report's path was found unusable"
    assert sorted(tmp_path.rglob("*")) == before


def test_a_grade_that_breaks_leaves_no_empty_report_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(session, "grade", _boom)
    out = tmp_path / "report.json"
    result = _grade("exercise1", REFERENCE1, "--out", out)
    assert result.exit_code == 3
    assert not out.exists()


def test_a_grade_that_breaks_leaves_an_old_report_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(session, "grade", _boom)
    out = tmp_path / "report.json"
    out.write_text("the last report\n")
    result = _grade("exercise1", REFERENCE1, "--out", out)
    assert result.exit_code == 3
    assert out.read_text() == "the last report\n"


def test_out_replaces_an_old_report(tmp_path: Path, fake_grade: list[object]) -> None:
    out = tmp_path / "report.json"
    out.write_text("x" * 10000)
    result = _grade("copy", REFERENCE1, "-f", "json", "-o", out)
    assert result.exit_code == 0, result.output
    assert SubmissionReport.from_dict(json.loads(out.read_text())) == _fake_report()


# --- grading ----------------------------------------------------------------------------


def test_grade_reference_as_json() -> None:
    """A real grade (the reference passes every check)."""
    result = _grade("exercise1", REFERENCE1, "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["schema"] == 2
    assert data["exercise"] == "exercise1"
    assert data["passed"] is True
    assert data["max_score"] > 0
    assert data["score"] == data["max_score"]
    assert data["missing_files"] == []
    assert data["found_files"] == ["copy.c"]
    assert data["grader_version"] == version("ipcgrade")
    graded_at = datetime.datetime.strptime(data["graded_at"], "%Y-%m-%dT%H:%M:%SZ")
    now = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
    assert datetime.timedelta(0) <= now - graded_at < datetime.timedelta(minutes=5)
    listed = json.loads(_grade("--list", "-f", "json").stdout)
    assert data["max_score"] == next(e["points"] for e in listed if e["id"] == "exercise1")
    _assert_full_catalogue(data, "exercise1")


def _assert_full_catalogue(data: dict[str, Any], exercise: str) -> None:
    """Every check of the exercise is in the catalogue, and has its one result, in order."""
    names = list(catalog.find(exercise).check_names)
    assert [c["id"] for c in data["catalogue"]] == [f"{exercise}/{n}" for n in names]
    assert [c["id"] for c in data["checks"]] == [c["id"] for c in data["catalogue"]]
    assert data["max_score"] == catalog.find(exercise).max_score
    assert all(c["source"]["file"] == "checks.py" for c in data["catalogue"])


def test_a_submission_that_does_not_compile_has_the_whole_catalogue(tmp_path: Path) -> None:
    """A real grade: copy.c with a syntax error; every check is skipped, none is lost."""
    source = (REFERENCE1 / "copy.c").read_text().replace("int fd;", "int fd")
    (tmp_path / "copy.c").write_text(source)
    result = _grade("exercise1", tmp_path, "--format", "json")
    assert result.exit_code == 1, result.output
    data = json.loads(result.stdout)
    assert data["status"] == "does not compile"
    assert any(d["severity"] == "error" and d["file"] == "copy.c"
               for d in data["build"]["diagnostics"]), data["build"]  # fmt: skip
    assert {c["outcome"] for c in data["checks"]} == {"skipped"}
    _assert_full_catalogue(data, "exercise1")


def test_a_missing_file_is_a_failed_grade_not_a_usage_error() -> None:
    """A real grade: main.c instead of copy.c."""
    result = _grade("exercise1", MISNAMED1)
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert "main.c" in result.stdout
    assert "copy.c" in result.stdout


def _empty_folder(root: Path) -> None:
    pass


def _empty_exercise_folder(root: Path) -> None:
    (root / "exercise2").mkdir()


def _only_an_empty_folder(root: Path) -> None:
    (root / "src").mkdir()


def _fresh_git_repository(root: Path) -> None:
    git = shutil.which("git")
    if git is None:
        pytest.skip("git is not installed: a fresh 'git init' cannot be made")
    subprocess.run([git, "init", "-q", str(root)], check=True)


@pytest.mark.parametrize(
    "make", [_empty_folder, _empty_exercise_folder, _only_an_empty_folder, _fresh_git_repository]
)
def test_an_empty_submission_is_a_missing_files_grade(
    tmp_path: Path, make: Callable[[Path], None]
) -> None:
    """A real grade of a submission with no file at all: exit 1, naming what is expected."""
    make(tmp_path)
    result = _grade("exercise2", tmp_path, "--format", "json")
    assert result.exit_code == 1, result.output
    assert "internal error" not in result.output
    data = json.loads(result.stdout)
    assert data["missing_files"] == ["pipe.c"]
    assert data["build"]["ok"] is False
    assert any("expects pipe.c" in p for p in data["problems"]), data["problems"]
    _assert_full_catalogue(data, "exercise2")


def test_out_writes_the_json_report(tmp_path: Path, fake_grade: list[object]) -> None:
    out = tmp_path / "report.json"
    result = _grade("copy", REFERENCE1, "-f", "json", "-o", out)
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert str(out) in result.stderr
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["schema"] == 2
    assert SubmissionReport.from_dict(data) == _fake_report()


def test_options_reach_the_grade(fake_grade: list[object]) -> None:
    result = _grade("pipe", REPO / "reference", "--keep", "--debug")
    assert result.exit_code == 0, result.output
    [(exercise, submission, options)] = fake_grade
    assert exercise.id == "exercise2"  # type: ignore[attr-defined]
    assert submission.folder == REPO / "reference" / "exercise2"  # type: ignore[attr-defined]
    assert options == session.GradeOptions(keep=True, debug=True, cache=True)


def test_no_cache_reaches_the_grade(fake_grade: list[object]) -> None:
    result = _grade("pipe", REPO / "reference", "--no-cache")
    assert result.exit_code == 0, result.output
    [(_, _, options)] = fake_grade
    assert options == session.GradeOptions(cache=False)


def test_the_current_folder_is_the_default_submission(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake_grade: list[object]
) -> None:
    (tmp_path / "exercise1").mkdir()
    (tmp_path / "exercise1" / "copy.c").write_text("int main(void) { return 0; }\n")
    monkeypatch.chdir(tmp_path)
    result = _grade("exercise1")
    assert result.exit_code == 0, result.output
    [(_, submission, _)] = fake_grade
    assert submission.folder == tmp_path / "exercise1"  # type: ignore[attr-defined]


def test_a_kept_scratch_folder_outlives_the_next_grade(tmp_path: Path) -> None:
    """`--keep` in a grader that has ended (its pid gone); the next grade's sweep of dead
    graders' leftovers must not take the kept folder for one, yet still sweeps those."""
    kept_run = subprocess.run(
        [sys.executable, "-m", "grader", "exercise1", str(tmp_path), "--keep", "-f", "json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert kept_run.returncode == 1, kept_run.stderr
    kept = Path(json.loads(kept_run.stdout)["kept"])
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    stale = Path(tempfile.mkdtemp(prefix=f"ipcgrade-{dead.stdout.strip()}-exercise1-"))
    try:
        assert kept.is_dir()
        result = _grade("exercise1", tmp_path)  # a real grade: it sweeps first
        assert result.exit_code == 1, result.output
        assert kept.is_dir(), "the next grade removed the folder kept with --keep"
        assert not stale.exists(), "a dead grader's scratch folder was not swept"
    finally:
        shutil.rmtree(kept, ignore_errors=True)
        shutil.rmtree(stale, ignore_errors=True)


# --- interrupted: exit 130 ---------------------------------------------------------------

# `grade` as a shell starts it in the foreground: control-C raises KeyboardInterrupt (a shell
# starting a background job, as pytest may itself be, would have SIGINT ignored)
_GRADE_AS_IN_A_TERMINAL = (
    "import signal; signal.signal(signal.SIGINT, signal.default_int_handler); "
    "from grader.cli import main; main()"
)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_an_interrupted_grade_exits_130_and_leaves_nothing(signum: signal.Signals) -> None:
    """A real grade (exercise3's reference takes seconds), signalled once its worker has
    started: exit 130, and neither its scratch folder nor its worker is left."""
    grade = subprocess.Popen(
        [sys.executable, "-c", _GRADE_AS_IN_A_TERMINAL, "exercise3", str(REPO / "reference")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    scratch = Path(tempfile.gettempdir())
    mine = f"ipcgrade-{grade.pid}-*"
    try:
        # the worker's log is opened just before the worker starts: grading is under way
        [folder] = wait_until(lambda: [p.parent for p in scratch.glob(f"{mine}/worker.log")],
                              within_s=30)  # fmt: skip
        grade.send_signal(signum)
        out, err = grade.communicate(timeout=60)
    finally:
        if grade.poll() is None:
            grade.kill()
            grade.communicate()
    assert grade.returncode == 130, (grade.returncode, err)
    assert "interrupted" in err
    assert "Traceback" not in err
    assert "score" not in out, "the grade ended before the signal reached it"
    assert list(scratch.glob(mine)) == []
    still = [pid for pid in os.listdir("/proc") if pid.isdigit() and _cmdline_has(pid, folder)]
    assert still == [], f"processes of the interrupted grade still run: {still}"


def _cmdline_has(pid: str, folder: Path) -> bool:
    try:
        return str(folder).encode() in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


# --- the grader breaking: exit 3 --------------------------------------------------------


def _boom(*args: object) -> SubmissionReport:
    raise RuntimeError("boom")


def test_internal_error_is_one_line_without_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(session, "grade", _boom)
    result = _grade("exercise1", REFERENCE1)
    assert result.exit_code == 3
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert "boom" in lines[0]
    assert "--debug" in lines[0]


def test_internal_error_with_debug_shows_the_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(session, "grade", _boom)
    result = _grade("exercise1", REFERENCE1, "--debug")
    assert result.exit_code == 3
    assert "Traceback" in result.stderr
    assert "RuntimeError: boom" in result.stderr


def test_a_sandbox_error_exits_3(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object) -> SubmissionReport:
        raise SandboxError("the sandbox could not start")

    monkeypatch.setattr(session, "grade", broken)
    result = _grade("exercise1", REFERENCE1)
    assert result.exit_code == 3
    assert "Traceback" not in result.output
    assert "the sandbox could not start" in result.stderr
    result = _grade("exercise1", REFERENCE1, "--debug")
    assert result.exit_code == 3
    assert "Traceback" in result.stderr


def test_verbose_lists_the_layers_in_the_terminal_report(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    layered = replace(_fake_report(), isolation=Isolation(
        level="reduced", layers=("rlimits: CPU (5 s)",), missing=("no user namespaces (x): y",)
    ))  # fmt: skip
    monkeypatch.setattr(session, "grade", lambda *args: layered)
    plain = _grade("exercise1", REFERENCE1)
    assert "isolation: reduced: no user namespaces\n" in plain.stdout
    assert "rlimits" not in plain.stdout
    verbose = _grade("exercise1", REFERENCE1, "--verbose")
    assert "  layer: rlimits: CPU (5 s)\n" in verbose.stdout
    assert "  missing: no user namespaces (x): y\n" in verbose.stdout
    as_json = json.loads(_grade("exercise1", REFERENCE1, "-v", "-f", "json").stdout)
    assert as_json["isolation"] == layered.isolation.to_dict()


@pytest.fixture
def fresh_detection() -> Iterator[None]:
    """The sandbox's detection (cached per process) made again, before and after."""
    sandbox.detect.cache_clear()
    yield
    sandbox.detect.cache_clear()


def test_doctor_says_what_the_machine_offers(fresh_detection: None) -> None:
    result = _grade("--doctor")
    findings = doctor.examine()
    exercises = catalog.all_exercises()
    needed = {"user namespaces", "make", "unshare", *(ex.build.cc for ex in exercises),
              *(tool for ex in exercises for tool in ex.requires)}  # fmt: skip
    assert {f.what for f in findings if f.needed} == needed
    assert result.exit_code == (0 if all(f.ok for f in findings if f.what in needed) else 1)
    assert "user namespaces" in result.stdout
    assert "isolation of every grade on this machine:" in result.stdout
    for layer in doctor.isolation().layers:
        assert f"  layer: {layer}\n" in result.stdout


def test_doctor_exits_1_without_full_isolation(
    monkeypatch: pytest.MonkeyPatch, fresh_detection: None
) -> None:
    monkeypatch.setenv("IPCGRADE_NO_USERNS", "1")
    result = _grade("--doctor")
    assert result.exit_code == 1, result.output
    assert "NO  user namespaces" in result.stdout
    assert "isolation of every grade on this machine: reduced" in result.stdout
    assert "  missing: no user namespaces (IPCGRADE_NO_USERNS is set)" in result.stdout


def test_doctor_exits_1_when_a_tool_is_missing(
    monkeypatch: pytest.MonkeyPatch, fresh_detection: None
) -> None:
    real_which = shutil.which
    monkeypatch.setattr(doctor.shutil, "which", lambda t: None if t == "gcc" else real_which(t))
    result = _grade("--doctor")
    assert result.exit_code == 1, result.output
    assert "NO  gcc" in result.stdout


def test_doctor_names_the_exercises_whose_requires_name_a_missing_tool(
    monkeypatch: pytest.MonkeyPatch, fresh_detection: None
) -> None:
    real_which = shutil.which
    monkeypatch.setattr(shutil, "which", lambda t: None if t == "strace" else real_which(t))
    result = _grade("--doctor")
    assert result.exit_code == 1, result.output
    tracing = [ex.id for ex in catalog.all_exercises() if "strace" in ex.requires]
    assert tracing, "no exercise requires strace"
    line = next(ln for ln in result.stdout.splitlines() if ln.startswith("NO  strace"))
    assert f"missing: {requirements.listed(tracing)} need it" in line
    assert "fix: sudo apt install strace" in result.stdout
    assert "NO  ps" not in result.stdout


def test_the_catalogue_read_from_checks_py_is_the_one_pytest_collects() -> None:
    """What a batch shows for a grade that broke before its worker told its catalogue."""
    data = json.loads(_grade("exercise1", str(REFERENCE1), "--format", "json").stdout)
    collected = tuple(CheckSpec.from_dict(c) for c in data["catalogue"])
    assert catalog.find("exercise1").catalogue == collected


# --- several formats at once ------------------------------------------------------------


def test_each_out_follows_its_format_and_one_format_may_use_the_terminal(tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    result = _grade("exercise1", REFERENCE1, "--format", "terminal", "--format", "json",
                    "--out", out, "--format", "html", "--out", tmp_path / "r.html")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text())["schema"] == 2
    assert (tmp_path / "r.html").read_text().lower().startswith("<!doctype html>")
    assert "exercise1" in result.stdout  # the terminal's report, not the JSON
    assert '"schema"' not in result.stdout


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["--format", "json", "--format", "html"], ["json, html", "terminal", "--out"]),
        (["--out", "a.json", "--format", "json", "--format", "html"], ["before any --format"]),
        (["--format", "json", "--out", "a", "--out", "b", "--format", "html"], ["two --out"]),
        (["--format", "json", "--out", "a", "--format", "html", "--out", "a"], ["same file"]),
    ],
    ids=["two-on-the-terminal", "out-first", "two-outs", "same-file"],
)
def test_formats_and_outs_that_do_not_pair_are_refused_before_grading(
    argv: list[str], words: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # relative --out files land here, if ever written
    result = _grade("exercise1", REFERENCE1, *argv)
    _assert_short_usage_error(result, *words)
    assert list(tmp_path.iterdir()) == []


# -- the command as a process: it skips the interpreter's teardown (issue 14) ---------------


def _command(*argv: str | Path, code: str = "from grader.cli import main; main()") -> Any:
    return subprocess.run([sys.executable, "-c", code, *map(str, argv)], capture_output=True,
                          text=True, timeout=120, check=False, cwd=REPO)  # fmt: skip


def test_the_command_writes_all_its_output_and_exits_with_its_status() -> None:
    listed = _command("--list", "--format", "json")
    assert listed.returncode == 0, listed.stderr
    assert len(json.loads(listed.stdout)) == len(catalog.all_exercises())
    unknown = _command("exercise99")
    assert unknown.returncode == 2
    assert "exercise99" in unknown.stderr
    assert unknown.stdout == ""


def test_the_command_runs_its_exit_functions_before_it_ends(tmp_path: Path) -> None:
    """What an exit must still do (an atexit function, a weakref finalizer) is done."""
    mark = tmp_path / "ran"
    code = (
        "import atexit, pathlib, sys; from grader.cli import main; "
        f"atexit.register(lambda: pathlib.Path({str(mark)!r}).write_text('yes')); main()"
    )
    done = _command("--list", code=code)
    assert done.returncode == 0, done.stderr
    assert mark.read_text() == "yes"


def test_a_report_on_stdout_is_whole_when_the_grade_ends() -> None:
    graded = _command("exercise1", REFERENCE1, "--format", "json")
    assert graded.returncode == 0, graded.stderr
    report = json.loads(graded.stdout)
    assert report["passed"] is True
    assert report["schema"] == 2
