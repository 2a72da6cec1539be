"""The student loop: what changed between two grades, which files trigger a rerun, the
watcher itself, --watch refused where it makes no sense, and `grade --watch` end to end
(a real grade, an edit that breaks a check, the rerun saying so, control-C)."""

from __future__ import annotations

import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result

from grader import catalog, watch
from grader.cli import main
from grader.report import SubmissionReport
from grader.results import BuildResult, CheckResult, Isolation, Outcome

REPO = Path(__file__).resolve().parent.parent
REFERENCE1 = REPO / "reference" / "exercise1"
NO_TRUNC = REPO / "tests" / "submissions" / "exercise1" / "no_trunc"
EX1 = catalog.find("exercise1")


def _report(**outcomes: Outcome) -> SubmissionReport:
    checks = tuple(
        CheckResult(id=f"exercise1/{name}", title=name, outcome=o, points=1.0, max_points=1.0)
        for name, o in outcomes.items()
    )
    return SubmissionReport(exercise="exercise1", title="copy", submission="s",
                            build=BuildResult(ok=True), checks=checks,
                            isolation=Isolation(level="full"))  # fmt: skip


P, F, S = Outcome.PASSED, Outcome.FAILED, Outcome.SKIPPED


def test_a_first_run_has_no_changes() -> None:
    assert not watch.changes(None, _report(a=P, b=F))


def test_changes_name_what_now_passes_and_what_now_fails() -> None:
    got = watch.changes(_report(a=F, b=P, c=F, d=P), _report(a=P, b=F, c=F, d=P, e=P))
    assert [c.title for c in got.now_passes] == ["a", "e"]
    assert [c.title for c in got.now_fails] == ["b"]


def test_a_check_that_fails_another_way_is_no_change() -> None:
    assert not watch.changes(_report(a=F, b=S), _report(a=S, b=F))


@pytest.mark.parametrize(
    ("rel", "relevant"),
    [
        ("copy.c", True),
        ("util.h", True),
        ("lib/more.c", True),
        ("Makefile", True),
        ("notes.txt", False),
        ("copy", False),  # the built program
        (".copy.c.swp", False),
        ("copy.c~", False),
        ("4913", False),
        (".git/copy.c", False),
    ],
)
def test_which_changes_trigger_a_grade(tmp_path: Path, rel: str, relevant: bool) -> None:
    assert watch.triggers(EX1, tmp_path)(tmp_path / rel) is relevant


def test_a_path_outside_the_folder_triggers_nothing(tmp_path: Path) -> None:
    assert not watch.triggers(EX1, tmp_path / "sub")(tmp_path / "copy.c")


def test_the_watcher_sees_a_saved_source_and_not_an_editors_file(tmp_path: Path) -> None:
    with watch.Watcher(tmp_path, watch.triggers(EX1, tmp_path), debounce_ms=200) as w:
        (tmp_path / ".copy.c.swp").write_text("swap")
        (tmp_path / "copy.c").write_text("int main(void) { return 0; }\n")
        got = w.wait(within_s=30)
    assert got is not None
    assert tmp_path / "copy.c" in got


def test_the_watcher_gives_up_when_asked_to_and_nothing_relevant_came(tmp_path: Path) -> None:
    with watch.Watcher(tmp_path, watch.triggers(EX1, tmp_path), debounce_ms=100) as w:
        (tmp_path / "notes.txt").write_text("not a source")
        assert w.wait(within_s=0.5) is None


# --- refused ------------------------------------------------------------------------------


def _grade(*argv: str | Path) -> Result:
    args = [str(a) for a in argv]
    wrapper = click.Command("grade", callback=lambda: main(args))
    return CliRunner().invoke(wrapper, [], catch_exceptions=False)


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["--format", "json"], ["--watch", "--format json", "Leave out"]),
        (["--out", "r.txt"], ["--watch", "--out r.txt"]),
        (["--list"], ["--watch", "--list"]),
    ],
)
def test_watch_refuses_what_it_cannot_redraw(argv: list[str], words: list[str]) -> None:
    result = _grade("exercise1", REFERENCE1, "--watch", *argv)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    flowed = " ".join(result.stderr.split())
    for word in words:
        assert word in flowed, result.stderr


def test_a_batch_refuses_watch(tmp_path: Path) -> None:
    result = _grade("batch", "exercise1", tmp_path, "--watch")
    assert result.exit_code == 2, result.output
    assert "one student's loop" in " ".join(result.stderr.split())


# --- end to end ---------------------------------------------------------------------------


class Lines:
    """A process's merged output, line by line, read on a thread; wait_for() on a deadline."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.seen: list[str] = []
        self._q: queue.Queue[str | None] = queue.Queue()
        assert proc.stdout is not None
        out = proc.stdout

        def pump() -> None:
            for line in out:
                self._q.put(line)
            self._q.put(None)

        threading.Thread(target=pump, daemon=True).start()

    def wait_for(self, text: str, within_s: float = 120) -> None:
        deadline = time.monotonic() + within_s
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no {text!r} in {within_s} s:\n{''.join(self.seen)}")
            try:
                line = self._q.get(timeout=left)
            except queue.Empty:
                continue
            if line is None:
                raise AssertionError(f"output ended before {text!r}:\n{''.join(self.seen)}")
            self.seen.append(line)
            if text in line:
                return


def test_watch_regrades_on_save_and_says_what_now_fails(tmp_path: Path) -> None:
    folder = tmp_path / "sub"
    shutil.copytree(REFERENCE1, folder)
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "xdg"), "COLUMNS": "100"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "grader", "exercise1", str(folder), "--watch"],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True, env=env, cwd=REPO,
    )  # fmt: skip
    try:
        out = Lines(proc)
        out.wait_for("control-C to stop")
        shutil.copy(NO_TRUNC / "copy.c", folder / "copy.c")
        out.wait_for("since the last run")
        out.wait_for("now fails")
        out.wait_for("control-C to stop")
        rerun = "".join(out.seen[out.seen.index("since the last run:\n") :])
        assert "O_TRUNC" in rerun, rerun
        assert "build reused" not in rerun  # the source changed: gcc ran
        shutil.copy(REFERENCE1 / "copy.c", folder / "copy.c")  # undone: the first build back
        out.wait_for("now passes")
        out.wait_for("control-C to stop")
        assert "build reused" in out.seen[-1], out.seen[-1]
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=60) == 130
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        assert proc.stdout is not None
        proc.stdout.close()
