"""`grade batch`: a class graded in parallel, hostile students included, resumed, stopped.

One class of six exercise2 submissions (the reference, two classic mistakes, one that does
not compile, one with its file missing, a fork bomb) is graded once per module; the rerun,
edit and --force tests grade it again into the same folder, in this order.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import click
import psutil
import pytest
from click.testing import CliRunner, Result
from conftest import wait_until

from grader import batch, catalog
from grader.batch import folder, pool
from grader.cli import main
from grader.render import classes as classes_render
from grader.render import csv as csv_render
from grader.render import html
from grader.report import ClassReport, SubmissionReport
from grader.results import Outcome

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

REPO = Path(__file__).resolve().parent.parent
VARIANTS = REPO / "tests" / "submissions" / "exercise2"
FORK_BOMB = "#include <unistd.h>\nint main(void){for(;;)fork();}\n"
EXERCISE2 = catalog.find("exercise2")


def _class(root: Path) -> Path:
    """alice right, bob hangs (the parent keeps the write end), carol does not compile,
    dave has no pipe.c, erin fork-bombs, frank dup2s the wrong fd."""
    klass = root / "class"
    klass.mkdir()
    for student, source in [("alice", REPO / "reference" / "exercise2"),
                            ("bob", VARIANTS / "parent_keeps_write_end"),
                            ("carol", VARIANTS / "does_not_compile"),
                            ("frank", VARIANTS / "dup2_wrong_fd")]:  # fmt: skip
        (klass / student).mkdir()
        (klass / student / "pipe.c").write_bytes((source / "pipe.c").read_bytes())
    (klass / "dave").mkdir()
    (klass / "dave" / "notes.txt").write_text("I did not finish\n")
    (klass / "erin").mkdir()
    (klass / "erin" / "pipe.c").write_text(FORK_BOMB)
    return klass


def _fails(variant: str) -> list[str]:
    expect = tomllib.loads((VARIANTS / variant / "expect.toml").read_text(encoding="utf-8"))
    return [f"exercise2/{name}" for name in expect["fails"]]


class Recorder:
    """The events of a batch, and the most grades seen running at once."""

    def __init__(self) -> None:
        self.events: list[batch.Event] = []
        self.most_at_once = 0

    def __call__(self, event: batch.Event) -> None:
        self.events.append(event)
        if isinstance(event, batch.Started):
            self.most_at_once = max(self.most_at_once, len(event.running))

    def started(self) -> list[str]:
        return sorted(e.job.student for e in self.events if isinstance(e, batch.Started))


def _run(
    klass: Path, out: Path, jobs: int = 2, force: bool = False
) -> tuple[batch.Summary, Recorder]:
    seen = Recorder()
    summary = batch.run(batch.plan("exercise2", klass, out), jobs, force=force, on_event=seen)
    return summary, seen


def _reports(out: Path) -> dict[str, SubmissionReport]:
    return {
        p.parent.name: folder.load(p.read_text(encoding="utf-8"))
        for p in (out / "students").glob("*/report.json")
    }


@pytest.fixture(scope="module")
def graded(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, Path, batch.Summary, Recorder]:
    root = tmp_path_factory.mktemp("batch")
    klass = _class(root)
    out = root / "out"
    summary, seen = _run(klass, out, jobs=2)
    return klass, out, summary, seen


def test_every_student_is_graded_right_the_hostile_ones_too(
    graded: tuple[Path, Path, batch.Summary, Recorder],
) -> None:
    _, out, summary, _ = graded
    reports = _reports(out)
    assert sorted(reports) == ["alice", "bob", "carol", "dave", "erin", "frank"]
    assert {s: r.student for s, r in reports.items()} == {s: s for s in reports}
    status = {s: r.status for s, r in reports.items()}
    assert status == {"alice": "graded", "bob": "graded", "carol": "does not compile",
                      "dave": "missing files", "erin": "graded", "frank": "graded"}  # fmt: skip
    assert reports["alice"].passed
    assert reports["alice"].score == EXERCISE2.max_score
    for student, variant in (("bob", "parent_keeps_write_end"), ("frank", "dup2_wrong_fd")):
        outcome = {c.id: c.outcome for c in reports[student].checks}
        assert all(outcome[i] is Outcome.FAILED for i in _fails(variant)), (student, outcome)
    assert reports["erin"].score < EXERCISE2.max_score  # the fork bomb fails, and is contained
    for r in reports.values():
        assert r.max_score == EXERCISE2.max_score  # however far the grade got
    assert summary.exit_code == 0
    assert not summary.interrupted
    assert summary.graded == 6
    assert summary.reused == 0
    assert summary.statuses == {"graded": 4, "does not compile": 1, "missing files": 1}


def test_each_student_has_their_report_and_both_pages(
    graded: tuple[Path, Path, batch.Summary, Recorder],
) -> None:
    _, out, _, _ = graded
    for student in ("alice", "bob", "carol", "dave", "erin", "frank"):
        here = out / "students" / student
        assert json.loads((here / "report.json").read_text())["schema"] == 2
        assert (here / "index.html").read_text().startswith("<!doctype html>")
        assert (here / "report-student.html").read_text().startswith("<!doctype html>")
    assert (out / "index.html").is_file()


def test_grades_csv_agrees_with_the_json_reports(
    graded: tuple[Path, Path, batch.Summary, Recorder],
) -> None:
    _, out, _, _ = graded
    rows = list(
        csv.reader(io.StringIO((out / "grades.csv").read_text(encoding="utf-8"), newline=""))
    )
    names = [c.rsplit("/", 1)[1] for c in (f"exercise2/{n}" for n in EXERCISE2.check_names)]
    assert rows[0] == ["student", *names, "total", "percent", "status"]
    assert rows[1][0] == "points possible"
    assert float(rows[1][-3]) == EXERCISE2.max_score
    reports = _reports(out)
    assert sorted(r[0] for r in rows[2:]) == sorted(reports)
    for row in rows[2:]:
        report = reports[row[0]]
        points = {c.name: c.points for c in report.checks}
        assert [float(x) for x in row[1 : 1 + len(names)]] == [points.get(n, 0.0) for n in names]
        assert float(row[-3]) == report.score
        assert row[-1] == report.status


def test_two_grades_run_at_once_with_jobs_2(
    graded: tuple[Path, Path, batch.Summary, Recorder],
) -> None:
    _, _, _, seen = graded
    assert seen.most_at_once == 2
    finished = [e for e in seen.events if isinstance(e, batch.Finished)]
    assert [e.done for e in finished] == list(range(1, 7))  # each counted as it ended


def test_a_rerun_regrades_nothing(graded: tuple[Path, Path, batch.Summary, Recorder]) -> None:
    klass, out, _, _ = graded
    before = {s: (r.graded_at, (out / "students" / s / "report.json").stat().st_mtime_ns)
              for s, r in _reports(out).items()}  # fmt: skip
    summary, seen = _run(klass, out)
    assert seen.started() == []
    assert summary.graded == 0
    assert summary.reused == 6
    after = {s: (r.graded_at, (out / "students" / s / "report.json").stat().st_mtime_ns)
             for s, r in _reports(out).items()}  # fmt: skip
    assert after == before


def test_editing_one_file_regrades_exactly_that_submission(
    graded: tuple[Path, Path, batch.Summary, Recorder],
) -> None:
    klass, out, _, _ = graded
    with open(klass / "frank" / "pipe.c", "a") as f:
        f.write("/* edited after the deadline */\n")
    summary, seen = _run(klass, out)
    assert seen.started() == ["frank"]
    assert summary.graded == 1
    assert summary.reused == 5


def test_force_regrades_every_submission(
    graded: tuple[Path, Path, batch.Summary, Recorder],
) -> None:
    klass, out, _, _ = graded
    summary, seen = _run(klass, out, force=True)
    assert seen.started() == ["alice", "bob", "carol", "dave", "erin", "frank"]
    assert summary.graded == 6
    assert summary.reused == 0


# --- a grade that breaks or never ends: recorded, never lost, never stalling ----------


def test_a_grade_that_breaks_is_a_grader_error_with_every_check_not_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    crash = "import sys; print('grade: internal error: boom', file=sys.stderr); sys.exit(3)"
    monkeypatch.setattr(pool, "argv", lambda *a: [sys.executable, "-c", crash])
    klass = tmp_path / "class"
    (klass / "alice").mkdir(parents=True)
    (klass / "alice" / "pipe.c").write_text("int main(void){return 0;}\n")
    summary, _ = _run(klass, tmp_path / "out", jobs=1)
    report = _reports(tmp_path / "out")["alice"]
    assert report.status == "grader error"
    assert "exited with status 3" in report.error
    assert "boom" in report.error
    assert [c.outcome for c in report.checks] == [Outcome.NOT_RUN] * len(EXERCISE2.check_names)
    assert report.max_score == EXERCISE2.max_score
    assert report.score == 0
    assert summary.exit_code == 3
    sheet = (tmp_path / "out" / "grades.csv").read_bytes().decode("utf-8")
    assert sheet.splitlines()[-1].startswith("alice,")
    assert sheet.endswith(",grader error\r\n")
    # a grader error is tried again by the next run, never reused
    summary, seen = _run(klass, tmp_path / "out", jobs=1)
    assert seen.started() == ["alice"]


def test_a_grade_that_never_ends_is_stopped_at_its_deadline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stuck = "import signal; signal.signal(signal.SIGTERM, signal.SIG_IGN); signal.pause()"
    monkeypatch.setattr(pool, "argv", lambda *a: [sys.executable, "-c", stuck])
    monkeypatch.setattr(pool, "GRACE_S", 0.2)
    monkeypatch.setattr(batch, "OVERTIME_S", 0.3 - EXERCISE2.limits.grade_s)  # deadline 0.3 s
    klass = tmp_path / "class"
    for s in ("alice", "bob"):
        (klass / s).mkdir(parents=True)
        (klass / s / "pipe.c").write_text("int main(void){return 0;}\n")
    summary, _ = _run(klass, tmp_path / "out", jobs=2)
    reports = _reports(tmp_path / "out")
    assert {r.status for r in reports.values()} == {"grader error"}
    assert all("ran longer than" in r.error for r in reports.values())
    assert summary.seconds < 5


# --- control-C, a class of every exercise, bad input (the CLI) ---------------------------


def _control_c_as_on_a_terminal() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_control_c_keeps_what_is_done_and_says_how_to_resume(tmp_path: Path) -> None:
    klass = _class(tmp_path)
    out = tmp_path / "out"
    argv = [sys.executable, "-m", "grader", "batch", "exercise2", str(klass), "--out", str(out),
            "--jobs", "1"]  # fmt: skip
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "CI": "1"},
                            # a shell's background job ignores SIGINT, and Python then keeps
                            # ignoring it: give the batch control-C as a terminal would
                            preexec_fn=_control_c_as_on_a_terminal)  # fmt: skip
    try:
        first = wait_until(lambda: list((out / "students").glob("*/report.json")), within_s=60)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
        proc.wait()
    assert proc.returncode == 130, err
    assert "To resume, run the same command again" in err
    assert f"grade batch exercise2 {klass} --out {out} --jobs 1" in err
    done = _reports(out)
    assert first[0].parent.name in done
    assert 1 <= len(done) < 6
    rows = list(csv.reader(io.StringIO((out / "grades.csv").read_text(), newline="")))
    assert sorted(r[0] for r in rows[2:]) == sorted(done)
    assert (out / "index.html").is_file()
    for student in done:  # each report kept has its pages (rendered after it, at the end)
        pages = out / "students" / student
        assert (pages / "index.html").is_file()
        assert (pages / "report-student.html").is_file()
    # the running grade's processes and sandbox are gone
    assert not [p for p in psutil.process_iter(["cmdline"])
                if any(str(klass) in a for a in (p.info["cmdline"] or []))]  # fmt: skip


def test_batch_all_grades_each_exercise_a_student_handed_in(tmp_path: Path) -> None:
    klass = tmp_path / "class"
    for ex in ("exercise1", "exercise2"):
        (klass / "alice" / ex).mkdir(parents=True)
        for f in (REPO / "reference" / ex).iterdir():
            (klass / "alice" / ex / f.name).write_bytes(f.read_bytes())
    (klass / "bob" / "exercise2").mkdir(parents=True)
    (klass / "bob" / "exercise2" / "pipe.c").write_bytes(
        (REPO / "reference" / "exercise2" / "pipe.c").read_bytes()
    )
    out = tmp_path / "out"
    the_plan = batch.plan("all", klass, out)
    assert sorted((j.student, j.exercise.id) for j in the_plan.jobs) == [
        ("alice", "exercise1"), ("alice", "exercise2"), ("bob", "exercise2")]  # fmt: skip
    summary = batch.run(the_plan, 2)
    assert [k.exercise for k in summary.classes] == ["exercise1", "exercise2"]
    assert all(r.passed for k in summary.classes for r in k.reports)
    for ex, students in (("exercise1", ["alice"]), ("exercise2", ["alice", "bob"])):
        assert sorted(p.name for p in (out / ex / "students").iterdir()) == students
        assert (out / ex / "grades.csv").is_file()
        assert (out / ex / "index.html").is_file()
    top = (out / "index.html").read_text()
    assert 'href="exercise1/index.html"' in top
    assert 'href="exercise2/index.html"' in top


def _grade(*argv: str | Path) -> Result:
    args = [str(a) for a in argv]
    wrapper = click.Command("grade", callback=lambda: main(args))
    return CliRunner().invoke(wrapper, [], catch_exceptions=False)


@pytest.mark.parametrize(
    ("setup", "words"),
    [
        (lambda t: ["exercise2", t / "nowhere"], ["does not exist"]),
        (lambda t: ["exercise2", t / "class" / "alice" / "pipe.c"], ["is a file"]),
        (lambda t: ["exercise2", t / "empty"], ["holds no submission"]),
        (lambda t: ["exercise2", t / "class", "--jobs", "0"], ["--jobs must be 1 or more"]),
        (lambda t: ["exercise2", t / "class", "--out", t / "a-file"], ["it is a file"]),
        (lambda t: ["exercise2", t / "class", "--out", t / "class" / "out"], ["inside the class"]),
        (lambda t: ["exercise99", t / "class"], ["no exercise called", "grade --list"]),
    ],
)
def test_bad_input_is_a_short_usage_error(tmp_path: Path, setup, words) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "class" / "alice").mkdir(parents=True)
    (tmp_path / "class" / "alice" / "pipe.c").write_text("int main(void){return 0;}\n")
    (tmp_path / "empty").mkdir()
    (tmp_path / "a-file").write_text("")
    result = _grade("batch", *setup(tmp_path))
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert result.stdout == ""
    flowed = " ".join(result.stderr.split())
    assert len(result.stderr.strip().splitlines()) <= 5
    for word in words:
        assert word in flowed, flowed
    assert not (tmp_path / "class" / "out").exists()


def test_grade_help_names_batch_and_batch_help_its_exit_status() -> None:
    assert "grade batch EXERCISE CLASS_DIR" in _grade("--help").stdout
    said = " ".join(_grade("batch", "--help").stdout.split())
    for words in ("Usage: grade batch [OPTIONS] EXERCISE CLASS_DIR", "--jobs N", "--force",
                  "0 every submission graded", "3 the grader broke",
                  "130 interrupted"):  # fmt: skip
        assert words in said, said


def test_the_default_output_folder_is_beside_the_class_never_inside(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "class" / "alice").mkdir(parents=True)
    (tmp_path / "class" / "alice" / "pipe.c").write_text("int main(void) { return 0; }\n")
    monkeypatch.chdir(tmp_path / "class")  # `grade batch exercise2 .`
    assert batch.plan("exercise2", Path(".")).out == tmp_path / "class-graded"


def test_a_whole_class_archive_is_graded_like_its_folder(tmp_path: Path) -> None:
    """A Canvas or Moodle download kept as one zip: unpacked, then graded as its folder."""
    klass = tmp_path / "class"
    for student, source in [("alice", REPO / "reference" / "exercise2"),
                            ("frank", VARIANTS / "dup2_wrong_fd")]:  # fmt: skip
        (klass / student).mkdir(parents=True)
        (klass / student / "pipe.c").write_bytes((source / "pipe.c").read_bytes())
    archive = tmp_path / "class.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for f in sorted(klass.rglob("pipe.c")):
            z.write(f, f.relative_to(tmp_path).as_posix())
    shutil.rmtree(klass)
    the_plan = batch.plan("exercise2", archive)
    assert the_plan.out == tmp_path / "class-graded"
    assert sorted(j.student for j in the_plan.jobs) == ["alice", "frank"]


# --- what the batch keeps, and the pool's slots -----------------------------------------


def _klass(reports: list[SubmissionReport]) -> ClassReport:
    return ClassReport("exercise2", EXERCISE2.name, EXERCISE2.title, EXERCISE2.catalogue,
                       tuple(sorted(reports, key=lambda r: r.student)), "folders",
                       "2026-01-01T00:00:00Z", "1")  # fmt: skip


def test_the_slim_reports_give_the_very_sheet_and_overview_of_the_whole_ones(
    graded: tuple[Path, Path, batch.Summary, Recorder],
) -> None:
    _, out, _, _ = graded
    whole = list(_reports(out).values())
    shared: dict[Any, Any] = {}
    slim = [folder.slim(r, shared) for r in whole]
    assert len({id(r.catalogue) for r in slim}) == 1  # one catalogue, shared
    checks = [c for r in slim for c in r.checks]
    assert len({c for c in checks}) < len(checks)  # the class has alike results
    assert len({id(c) for c in checks}) == len(set(checks))  # each kept once, shared
    links = {r.student: f"students/{r.student}/index.html" for r in whole}
    assert csv_render.render(_klass(slim)) == csv_render.render(_klass(whole))
    assert html.overview(_klass(slim), links) == html.overview(_klass(whole), links)
    assert classes_render.render([_klass(slim)], {}) == classes_render.render([_klass(whole)], {})
    for s, w in zip(slim, whole, strict=True):
        assert (s.status, s.score, s.max_score, s.passed) == (w.status, w.score, w.max_score,
                                                              w.passed)  # fmt: skip
        assert not s.sources
        assert not any(c.message or c.evidence or c.log or c.actual for c in s.checks)
        assert not s.build.log
        assert not s.isolation.layers


def test_the_summary_holds_slim_reports_only(
    graded: tuple[Path, Path, batch.Summary, Recorder],
) -> None:
    _, out, summary, _ = graded
    whole = _reports(out)
    kept = {r.student: r for k in summary.classes for r in k.reports}
    assert sorted(kept) == sorted(whole)
    assert any(c.message for r in whole.values() for c in r.checks)  # the files have them
    assert not any(c.message for r in kept.values() for c in r.checks)  # the batch drops them
    assert all(not r.sources and not r.build.log for r in kept.values())
    assert {s: r.score for s, r in kept.items()} == {s: r.score for s, r in whole.items()}


def _quick_pool(
    monkeypatch: pytest.MonkeyPatch,
    jobs: int,
    on_done: Callable[[pool.Done[int]], None],
    on_start: Callable[[int, tuple[int, ...]], None] = lambda key, running: None,
) -> pool.Pool[int]:
    monkeypatch.setattr(pool, "argv", lambda *a: [sys.executable, "-c", "pass"])
    return pool.Pool(jobs, on_start, on_done)


def test_a_freed_slot_runs_the_next_grade_before_the_last_ones_report_is_handled(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    running_at_done: dict[int, tuple[int, ...]] = {}
    the_pool = _quick_pool(monkeypatch, 1, lambda d: running_at_done.setdefault(
        d.key, the_pool.running_keys()))  # fmt: skip
    try:
        the_pool.run(pool.Task(k, "exercise2", tmp_path, 30.0) for k in range(3))
    finally:
        the_pool.stop()
        the_pool.close()
    assert running_at_done == {0: (1,), 1: (2,), 2: ()}


def test_the_pool_takes_each_task_only_when_a_slot_is_free(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    started: list[int] = []
    seen: list[tuple[int, int]] = []  # when each task was taken: (started, running) then

    def tasks() -> Iterator[pool.Task[int]]:
        for k in range(5):
            seen.append((len(started), len(the_pool.running)))
            yield pool.Task(k, "exercise2", tmp_path, 30.0)

    the_pool = _quick_pool(monkeypatch, 2, lambda d: None, lambda k, r: started.append(k))
    try:
        the_pool.run(tasks())
    finally:
        the_pool.stop()
        the_pool.close()
    assert started == [0, 1, 2, 3, 4]
    # each taken right before it starts (none fetched ahead), into a free slot
    assert seen == [(k, running) for k, (_, running) in enumerate(seen)]
    assert all(running < 2 for _, running in seen), seen


def test_later_work_runs_while_the_grades_run_and_before_run_returns(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # the second grade waits on the first one's later work: run only after it ended, that
    # work would never release it (and the grade would be stopped at its deadline)
    gate = socket.socket(socket.AF_UNIX)
    gate.bind(str(tmp_path / "gate"))
    gate.listen()
    gate.settimeout(60)
    waits = ("import socket; s = socket.socket(socket.AF_UNIX); "
             f"s.connect({str(tmp_path / 'gate')!r}); s.recv(1)")  # fmt: skip
    commands = {"quick": "pass", "gated": waits}
    monkeypatch.setattr(
        pool, "argv", lambda exercise, *a: [sys.executable, "-c", commands[exercise]]
    )
    seen: list[tuple[int, ...]] = []
    ended: list[tuple[int, bool]] = []

    def release() -> None:
        seen.append(the_pool.running_keys())
        conn, _ = gate.accept()
        conn.close()

    def on_done(done: pool.Done[int]) -> None:
        ended.append((done.key, done.overtime))
        the_pool.later(release if done.key == 0 else lambda: seen.append(the_pool.running_keys()))

    the_pool = pool.Pool(1, lambda key, running: None, on_done)
    try:
        the_pool.run([pool.Task(0, "quick", tmp_path, 30.0), pool.Task(1, "gated", tmp_path, 30.0)])
    finally:
        the_pool.stop()
        the_pool.close()
        gate.close()
    assert ended == [(0, False), (1, False)]
    assert seen == [(1,), ()]  # the first while grade 1 ran, the last before run() returned
