"""The sandbox: limits, the watchdog, cleanup, and a look from inside a real grade."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
from conftest import wait_until

from grader import catalog, sandbox, session
from grader.catalog import Limits
from grader.errors import SandboxError
from grader.results import Outcome
from grader.sandbox import cgroup, host, slots
from grader.sandbox.detect import _libc
from grader.submission import discover

PROBE = Path(__file__).parent / "probe"
needs_userns = pytest.mark.skipif(
    not sandbox.detect().userns,
    reason=f"needs unprivileged user namespaces: {sandbox.detect().why_not}",
)


@pytest.fixture
def box(tmp_path: Path):
    b = sandbox.Sandbox(tmp_path / "work", Limits(wall_s=5, cpu_s=2), sandbox.detect())
    yield b
    b.cleanup()


def test_watchdog_kills_a_child_that_ignores_term(box: sandbox.Sandbox) -> None:
    limits = Limits(wall_s=0.5)
    run = box.start(["sh", "-c", "trap '' TERM INT HUP; while :; do sleep 1; done"],
                    limits=limits)  # fmt: skip
    assert run.wait_for(exit=True, within_s=10)
    assert run.timed_out
    assert run.exit is not None
    assert run.exit.signal == signal.SIGKILL
    assert "wall-clock" in run.stopped_for


def test_watchdog_kills_a_stopped_child(box: sandbox.Sandbox) -> None:
    run = box.start(["sleep", "30"], limits=Limits(wall_s=0.5))
    run.signal(signal.SIGSTOP)
    wait_until(lambda: Path(f"/proc/{run.pid}/stat").read_text().split()[2] in "Tt")
    assert run.wait_for(exit=True, within_s=10)
    assert run.timed_out


def test_cpu_limit_stops_a_busy_loop(box: sandbox.Sandbox) -> None:
    run = box.start(["sh", "-c", "while :; do :; done"], limits=Limits(cpu_s=1, wall_s=20))
    assert run.wait_for(exit=True, within_s=20)
    assert run.exit is not None
    assert run.exit.signal == signal.SIGXCPU  # at the soft limit: the cause is beyond doubt
    assert run.stopped_for == "used more than 1 s of CPU"
    assert not run.timed_out


@pytest.fixture
def subreaper() -> Iterator[None]:
    """As the worker is: orphans come back to this process."""
    sandbox.become_subreaper()
    yield
    _libc.prctl(36, 0, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER off again


@pytest.mark.usefixtures("subreaper")
def test_a_child_left_running_is_named_and_killed(box: sandbox.Sandbox) -> None:
    run = box.start(["sh", "-c", "sleep 60 & exit 0"])
    assert run.wait_for(exit=True, within_s=10)
    sleeper = wait_until(lambda: [p for p in _sleepers() if p.ppid() == os.getpid()])
    box.cleanup()
    (warning,) = box.warnings
    assert f"sleep (pid {sleeper[0].pid}) was still running after sh ended" in warning
    assert "in a session of its own" not in warning  # it stayed in the program's


@pytest.mark.usefixtures("subreaper")
def test_children_waited_for_are_not_named(box: sandbox.Sandbox) -> None:
    run = box.start(["sh", "-c", "sleep 0.1 & sleep 0.1 & wait"])
    assert run.wait_for(exit=True, within_s=10)
    box.cleanup()
    assert box.warnings == []


@pytest.mark.usefixtures("subreaper")
def test_a_child_cut_short_by_the_grader_is_not_named(box: sandbox.Sandbox) -> None:
    """The grader ended the program: what it leaves is the grader's doing, not a mistake."""
    run = box.start(["sh", "-c", "sleep 60 & wait"])
    wait_until(lambda: len(psutil.Process(run.pid).children()) == 1)
    run.signal(signal.SIGTERM)
    assert run.wait_for(exit=True, within_s=10)
    box.cleanup()
    assert box.warnings == []


def test_cpu_limit_ends_a_loop_that_ignores_sigxcpu(box: sandbox.Sandbox) -> None:
    """SIGKILL a second later, at the hard limit: still named."""
    loop = "trap '' XCPU; while :; do :; done"
    run = box.start(["sh", "-c", loop], limits=Limits(cpu_s=1, wall_s=20))
    assert run.wait_for(exit=True, within_s=20)
    assert run.exit is not None
    assert run.exit.signal == signal.SIGKILL
    assert run.stopped_for == "used more than 1 s of CPU"


def test_output_is_capped_and_the_writer_stopped(box: sandbox.Sandbox) -> None:
    run = box.start(["yes"], limits=Limits(output_kb=64, wall_s=20))
    assert run.wait_for(exit=True, within_s=20)
    assert len(run.stdout) == 64 * 1024
    assert run.output_overflowed
    assert "64 KiB" in run.stopped_for


def _sleepers() -> list[psutil.Process]:
    found = []
    for p in psutil.Process().children(recursive=True):
        try:
            if p.name() == "sleep" and p.status() != psutil.STATUS_ZOMBIE:
                found.append(p)
        except psutil.Error:
            pass
    return found


def test_cleanup_kills_escaped_daemons(tmp_path: Path) -> None:
    b = sandbox.Sandbox(tmp_path / "w", Limits(), sandbox.detect())
    sandbox.become_subreaper()  # as the worker is: orphans come back to us
    try:
        run = b.start(["sh", "-c", "setsid sh -c 'sleep 60 & sleep 60' & echo started"])
        assert run.wait_for(output="started", within_s=10)
        wait_until(lambda: len(_sleepers()) >= 2)
    finally:
        b.cleanup()
        _libc.prctl(36, 0, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER off again
    assert _sleepers() == []


def test_student_environment_has_no_secrets(box: sandbox.Sandbox, monkeypatch) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", "secret")
    run = box.start(["env"])
    run.finish(5)
    assert "secret" not in run.text()
    assert {ln.split("=")[0] for ln in run.text().splitlines()} <= {
        "PATH", "LANG", "LC_ALL", "HOME"}  # fmt: skip


def test_stdin_is_never_the_terminal(box: sandbox.Sandbox) -> None:
    run = box.start(["readlink", "/proc/self/fd/0"])
    run.finish(5)
    assert run.text().strip() == "/dev/null"


def _probe_grade(tmp_path: Path, monkeypatch, reduced: bool = False):
    monkeypatch.setenv("IPCGRADE_TEST_SECRET", "leak")
    ex = catalog._load(PROBE)
    sub = tmp_path / "probe"
    sub.mkdir()
    (sub / "probe.c").write_text((PROBE / "probe.c").read_text())
    return session.grade(ex, discover(sub, ex), session.GradeOptions(reduced=reduced))


@needs_userns
def test_a_grade_inside_its_namespaces(tmp_path: Path, monkeypatch) -> None:
    report = _probe_grade(tmp_path, monkeypatch)
    failed = [f"{c.name}: {c.outcome.value}: {c.message}" for c in report.checks
              if c.outcome is not Outcome.PASSED]  # fmt: skip
    assert failed == []
    assert report.isolation.level == "full"
    assert any("PID namespace" in layer for layer in report.isolation.layers)


def test_a_reduced_grade_says_so(tmp_path: Path, monkeypatch) -> None:
    report = _probe_grade(tmp_path, monkeypatch, reduced=True)
    assert report.isolation.level == "reduced"
    assert "no user namespaces" in report.isolation.missing[0]
    by_name = {c.name: c for c in report.checks}
    assert by_name["test_student_environment_is_scrubbed"].outcome is Outcome.PASSED
    if os.geteuid() == 0:  # as root without namespaces, students run as nobody
        assert by_name["test_student_has_no_capabilities"].outcome is Outcome.PASSED


def test_no_scratch_folder_is_left(tmp_path: Path, monkeypatch) -> None:
    mine = f"ipcgrade-{os.getpid()}-*"  # this run's: another grader may run meanwhile
    before = set(Path("/tmp").glob(mine))
    _probe_grade(tmp_path, monkeypatch)
    assert set(Path("/tmp").glob(mine)) - before == set()


def test_the_outside_watchdog_ends_a_hung_grade(tmp_path: Path) -> None:
    """A check that never ends (the instructor's bug): the watchdog stops the grade, what
    ran before is kept, and the hung check is the grader's error (exit 3), not the
    student's failure."""
    folder = tmp_path / "hang"
    folder.mkdir()
    (folder / "exercise.toml").write_text(
        (PROBE / "exercise.toml").read_text().replace("grade_s = 60", "grade_s = 2")
    )
    (folder / "README.md").write_text("hangs\n")
    (folder / "checks.py").write_text(
        textwrap.dedent("""
        import threading
        def test_first(program):
            'ends'
        def test_hangs(program):
            'never ends'
            threading.Event().wait()
        def test_never_reached(program):
            pass
    """)
    )
    ex = catalog._load(folder)
    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / "probe.c").write_text((PROBE / "probe.c").read_text())
    report = session.grade(ex, discover(sub, ex), session.GradeOptions())
    assert [(c.name, c.outcome) for c in report.checks] == [
        ("test_first", Outcome.PASSED),
        ("test_hangs", Outcome.ERROR),
        ("test_never_reached", Outcome.NOT_RUN),
    ]
    assert "stopped after 2 s while this check ran" in report.checks[1].message
    assert report.checks[1].title == "never ends"
    assert report.checks[2].message == (
        "the grade was stopped after 2 s while test_hangs ran; this check did not run"
    )
    # every check of the exercise counts, however far the grade got
    assert [c.name for c in report.catalogue] == ["test_first", "test_hangs", "test_never_reached"]
    assert report.max_score == 3
    assert report.catalogue[0].depends == ("build",)
    assert report.catalogue[0].source is not None
    assert report.catalogue[0].source.line == 3
    assert report.exit_code == 3


def test_a_worker_that_dies_without_results_is_an_internal_error(tmp_path: Path) -> None:
    folder = tmp_path / "dies"
    folder.mkdir()
    (folder / "exercise.toml").write_text((PROBE / "exercise.toml").read_text())
    (folder / "README.md").write_text("dies\n")
    (folder / "checks.py").write_text("import os\nos._exit(7)\n")
    ex = catalog._load(folder)
    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / "probe.c").write_text((PROBE / "probe.c").read_text())
    with pytest.raises(SandboxError, match="exited with status 7 without results"):
        session.grade(ex, discover(sub, ex), session.GradeOptions())


@needs_userns
def test_cleanup_outside_a_grade_leaves_the_machines_ipc_objects(tmp_path: Path) -> None:
    import sysv_ipc

    queue = sysv_ipc.MessageQueue(None, sysv_ipc.IPC_CREX)
    try:
        b = sandbox.Sandbox(tmp_path / "w", Limits(), sandbox.detect())
        b.cleanup()
        assert sysv_ipc.MessageQueue(queue.key).id == queue.id
    finally:
        queue.remove()


def test_cleanup_without_namespaces_keeps_the_users_own_objects(tmp_path: Path) -> None:
    """Not root, no namespaces: students run as the user; only what the check made goes."""
    import sysv_ipc

    caps = sandbox.Capabilities(userns=False, root=False, student_uid=None)
    mine = sysv_ipc.MessageQueue(None, sysv_ipc.IPC_CREX)  # the user's, made before the check
    try:
        b = sandbox.Sandbox(tmp_path / "w", Limits(), caps)
        made = sysv_ipc.MessageQueue(None, sysv_ipc.IPC_CREX)  # made during the check
        b.cleanup()
        assert sysv_ipc.MessageQueue(mine.key).id == mine.id
        with pytest.raises(sysv_ipc.ExistentialError):
            sysv_ipc.MessageQueue(made.key)
    finally:
        mine.remove()


def test_a_reused_pid_is_never_killed(box: sandbox.Sandbox) -> None:
    run = box.start(["true"])
    run.finish(5)
    stranger = psutil.Popen(["sleep", "30"])
    try:
        run._identity = {stranger.pid: 1}  # the pid as if it were ours, started long ago
        run.kill_group()
        assert stranger.is_running()
        assert stranger.status() != psutil.STATUS_ZOMBIE
        run._identity = {stranger.pid: None}  # a start time that could not be read: ours
        run.kill_group()
        assert stranger.wait(5) == -signal.SIGKILL
    finally:
        with contextlib.suppress(psutil.Error):
            stranger.kill()
            stranger.wait()


root_only = pytest.mark.skipif(os.geteuid() != 0, reason="slots and cgroups are for root")


@root_only
def test_parallel_grades_get_uids_of_their_own() -> None:
    with slots.student_uid() as first, slots.student_uid() as second:
        assert first != second
        assert min(first, second) >= slots.SLOT_UID_BASE


@root_only
def test_a_slot_is_swept_of_what_its_uid_left(tmp_path: Path) -> None:
    import sysv_ipc

    with slots.student_uid() as uid:
        left = Path("/dev/shm") / f"ipcgrade-test-{uid}"
        left.write_text("x")
        os.chown(left, uid, uid)
        queue = sysv_ipc.MessageQueue(None, sysv_ipc.IPC_CREX)
        os.chown(tmp_path, uid, uid)
        daemon = psutil.Popen(["sleep", "30"], user=uid, cwd=tmp_path)
        try:
            queue.uid = uid
            slots.sweep(uid)
            assert not left.exists()
            with pytest.raises(sysv_ipc.ExistentialError):
                sysv_ipc.MessageQueue(queue.key)
            assert daemon.wait(5) == -signal.SIGKILL
        finally:
            with contextlib.suppress(psutil.Error):
                daemon.kill()
                daemon.wait()
            left.unlink(missing_ok=True)
            with contextlib.suppress(sysv_ipc.ExistentialError):
                queue.remove()


@root_only
def test_a_grades_cgroup_holds_its_processes_and_goes(tmp_path: Path) -> None:
    where, why_not = cgroup.find()
    if where is None:
        pytest.skip(f"no cgroups: {why_not}")
    group = cgroup.GradeGroup(where, memory_mb=64, tasks=32)
    fds = group.open("students")
    try:
        child = psutil.Popen(["sleep", "30"], preexec_fn=lambda: cgroup.join(fds))
        assert child.pid in group.pids()
        assert group.holds(child.pid)
        assert not group.holds(os.getpid())
        assert (group.folder("pids") / "pids.max").read_text().strip() == "32"
    finally:
        group.remove()
    assert child.wait(5) == -signal.SIGKILL
    assert not any(top.exists() for top in group.tops)


def test_the_process_limit_counts_the_checks_processes_not_the_users(tmp_path: Path) -> None:
    """Without namespaces and not root, students run as the user: processes the user starts
    meanwhile elsewhere are not theirs."""
    caps = sandbox.Capabilities(userns=False, root=False, student_uid=None)
    box = sandbox.Sandbox(tmp_path / "w", Limits(wall_s=5, processes=4), caps)
    token = f"30.{os.getpid()}"  # sleep's time: a token to find them by
    try:
        run = box.start(["sh", "-c", "read line"], stdin="pipe")
        # 8 processes of the same uid, not the check's: orphans of a shell that exits
        subprocess.run(["sh", "-c", f"for i in 1 2 3 4 5 6 7 8; do sleep {token} & done"],
                       start_new_session=True, check=True)  # fmt: skip
        assert not run.wait_for(exit=True, within_s=0.5)  # the guard looks every 0.1 s
        assert run.stopped_for == ""
        run.close_stdin()
        assert run.wait_for(exit=True, within_s=5)
    finally:
        box.cleanup()
        subprocess.run(["pkill", "-f", f"sleep {token}"], check=False)


def test_what_a_killed_grader_left_is_removed_by_the_next_grade(tmp_path: Path) -> None:
    folder = tmp_path / "hang"
    folder.mkdir()
    (folder / "exercise.toml").write_text((PROBE / "exercise.toml").read_text())
    (folder / "README.md").write_text("hangs\n")
    (folder / "checks.py").write_text("import threading\ndef test_hangs(program):\n"
                                      "    threading.Event().wait()\n")  # fmt: skip
    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / "probe.c").write_text((PROBE / "probe.c").read_text())
    script = (
        "import sys; from pathlib import Path; from grader import catalog, session; "
        "from grader.submission import discover; ex = catalog._load(Path(sys.argv[1])); "
        "session.grade(ex, discover(Path(sys.argv[2]), ex), session.GradeOptions())"
    )
    grader_ = subprocess.Popen([sys.executable, "-c", script, str(folder), str(sub)])
    scratch = Path(tempfile.gettempdir())
    where, _ = cgroup.find()

    def left() -> list[Path]:
        found = list(scratch.glob(f"ipcgrade-{grader_.pid}-*"))
        if where is not None:
            found += list(where.parents["pids"].glob(f"ipcgrade-{grader_.pid}-*"))
        return found

    wait_until(lambda: len(left()) == (2 if where is not None else 1), within_s=30)
    grader_.kill()
    grader_.wait()
    assert left()  # it could not clean up
    ex = catalog._load(PROBE)
    session.grade(ex, discover(sub, ex), session.GradeOptions())
    assert left() == []


def test_cleanup_waits_to_reap_what_is_still_dying() -> None:
    """A killed process dies a little later; the worker must reap it before it exits, or it
    goes to the machine's init and stays a zombie for as long as that init takes (seen in
    CI: five fork-bomb zombies a second after their grade)."""
    from grader.sandbox.reaper import children, reap_orphans

    before = children()
    late = subprocess.Popen(["sleep", "0.3"])  # the child still running when cleanup starts
    reap_orphans(before)
    assert not Path(f"/proc/{late.pid}").exists()  # dead and reaped, not a zombie
    late.returncode = -1  # reaped above: Popen has nothing left to wait for


@pytest.mark.skipif(shutil.which("strace") is None, reason="strace is not installed")
@pytest.mark.skipif(os.geteuid() != 0, reason="students are the user: their trace is theirs")
def test_a_student_program_cannot_forge_its_own_trace(box: sandbox.Sandbox) -> None:
    """Exercises 4 to 6 judge the calls strace saw: the program must not be able to add
    calls to its trace, neither by its file nor through its tracer's descriptors."""
    forge = (  # padded: what strace writes after it may overwrite the start of a line
        "for f in ../.*-traces/* /proc/$PPID/fd/*; do "
        """printf '%4000s\\n99999 forged_call(1) = 0\\n' '' >> "$f" 2>/dev/null; done; """
        "echo done"
    )
    run = box.start(["sh", "-c", forge], trace=["write", "execve"])
    assert run.wait_for(exit=True, within_s=10)
    calls = run.calls()
    assert "done" in run.text(), run.text()
    assert any(c.name == "write" for c in calls), calls  # it was traced
    assert not [c for c in calls if c.name == "forged_call"], run.text()


def test_what_escaped_is_every_descendant_but_the_spared_and_theirs() -> None:
    """Each child not spared, then its descendants nearest first, all from one pass over
    /proc; a spared child and its own children are left alone."""
    from grader.sandbox.reaper import escaped

    spared = subprocess.Popen(["sh", "-c", "sleep 60 & wait"])
    check = subprocess.Popen(["sh", "-c", "sh -c 'sleep 60 & wait' & wait"])
    try:
        wait_until(lambda: len(_sleepers()) >= 2)  # both grandchildren are sleeping
        found = [p.pid for p in escaped(frozenset({spared.pid}))]
        mine = psutil.Process(check.pid)
        assert found == [check.pid, *(p.pid for p in mine.children(recursive=True))]
        assert len(found) == 3  # sh, its sh, that one's sleep
        assert not set(found) & {
            spared.pid,
            *(p.pid for p in psutil.Process(spared.pid).children()),
        }
    finally:
        for sh in (spared, check):
            for p in psutil.Process(sh.pid).children(recursive=True):
                p.kill()
            sh.kill()
            sh.wait()


def test_cleanup_leaves_the_exit_status_of_children_it_did_not_start(tmp_path: Path) -> None:
    """A child the worker had before the check is not the check's: cleanup neither kills it
    nor takes its exit status from its owner (no waitpid(-1))."""
    earlier = subprocess.Popen(["sh", "-c", "exit 7"])
    box = sandbox.Sandbox(tmp_path / "w", Limits(), sandbox.detect())
    wait_until(
        lambda: Path(f"/proc/{earlier.pid}/stat").read_text().split(")")[1].split()[0] == "Z"
    )
    box.cleanup()
    assert earlier.wait(5) == 7


def test_cleanup_kills_and_reaps_what_forks_while_it_kills(tmp_path: Path) -> None:
    """A daemon forking without pause: children forked after the stragglers were listed are
    adopted by the worker (the subreaper), then killed and reaped all the same."""
    box = sandbox.Sandbox(tmp_path / "w", Limits(processes=900, wall_s=20), sandbox.detect())
    sandbox.become_subreaper()  # as the worker is: orphans come back to us
    try:
        box.start(["sh", "-c", "setsid sh -c 'while :; do sleep 60 & done' & sleep 60"])
        wait_until(lambda: len(_sleepers()) >= 50)
        box.cleanup()
    finally:
        _libc.prctl(36, 0, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER off again
    assert psutil.Process().children() == []


@pytest.mark.skipif(shutil.which("strace") is None, reason="strace is not installed")
@pytest.mark.skipif(os.geteuid() != 0, reason="strace is the program's parent: no attach")
def test_a_trace_whose_tracer_died_first_is_not_judged(box: sandbox.Sandbox) -> None:
    """Where students share the tracer's uid (a user namespace without root) they can kill
    it, and make the rest of their calls unseen: such a trace fails the check."""
    from grader.trace import TraceIncomplete

    run = box.start(["sh", "-c", "read x; echo late"], stdin="pipe", trace=["write"])
    run.tracer.proc.kill()  # as the student would
    run.tracer.proc.wait()
    run.send("x\n")
    run.close_stdin()
    assert run.wait_for(exit=True, within_s=10)
    with pytest.raises(TraceIncomplete, match="ended before your program"):
        run.calls()


@pytest.mark.skipif(shutil.which("strace") is None, reason="strace is not installed")
def test_a_complete_trace_has_the_calls_and_not_the_execve_unasked(box: sandbox.Sandbox) -> None:
    run = box.start(["sh", "-c", "echo one; echo two >&2"], trace=["write"])
    assert run.wait_for(exit=True, within_s=10)
    calls = run.calls()
    assert [c.name for c in calls] == ["write", "write"], calls
    assert run.calls() == calls  # asked again: the same, at once


@pytest.mark.skipif(shutil.which("strace") is None, reason="strace is not installed")
@pytest.mark.skipif(os.geteuid() != 0, reason="only a grader that is root traces from outside")
def test_failing_execs_fail_every_spelling_of_the_path(box: sandbox.Sandbox) -> None:
    """exercise1's exec-failure check: cat cannot be run, by PATH or by its full path."""
    assert box.traces_from_outside
    tries = 'cat /dev/null || /bin/cat /dev/null || echo "both failed"'
    run = box.start(["sh", "-c", tries], failing_execs=["/bin/cat", "/usr/bin/cat"])
    run.finish(10)
    assert run.exit is not None
    assert run.text() == "both failed\n", run.text("stderr")
    failed = [c for c in run.calls() if c.name == "execve" and c.failed]
    assert {c.args.split(",")[0] for c in failed} >= {'"/usr/bin/cat"', '"/bin/cat"'}
    plain = box.start(["sh", "-c", "exec cat /dev/null"])
    plain.finish(10)
    assert plain.exit is not None
    assert plain.exit.code == 0  # no injection without failing_execs: cat ran
    with pytest.raises(ValueError, match="from outside"):
        box.start(["true"], failing_execs=["/bin/cat"], pty=True)
    with pytest.raises(ValueError, match="cannot be combined"):
        box.start(["true"], failing_execs=["/bin/cat"], trace=["write"])


def test_the_grader_is_not_dumpable_while_students_share_its_uid() -> None:
    """Not dumpable, a process's /proc files (its environment among them) are out of the
    reach of other processes of its uid; as it was, after."""

    def dumpable() -> int:
        return int(_libc.prctl(3, 0, 0, 0, 0))  # PR_GET_DUMPABLE

    assert dumpable() == 1
    with host.out_of_reach(True):
        assert dumpable() == 0
    assert dumpable() == 1
    with host.out_of_reach(False):
        assert dumpable() == 1


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("unshare") is None, reason="needs root")
def test_remounting_read_only_skips_hidden_mounts_and_takes_any_name(tmp_path: Path) -> None:
    """Without mount_setattr each mount a path leads to is remounted read-only: one hidden
    under a later mount is not an error, and a folder's name need not be UTF-8."""
    probe = textwrap.dedent(
        """
        import os, sys
        from grader.sandbox import mounts
        print(repr(mounts.read_only_everything(by_remounts=True)))
        for line in open("/proc/self/mountinfo", "rb"):
            fields = line.split()
            if fields[4].startswith(os.fsencode(sys.argv[1])):
                name = fields[4][len(os.fsencode(sys.argv[1])) :].decode("latin-1")
                print(name, fields[5].split(b",")[0].decode())
        """
    )
    setup = (
        'set -e; cd "$1"; mkdir a; mount -t tmpfs t a; mkdir a/b; mount -t tmpfs t a/b; '
        'mount -t tmpfs t a; d=$(printf \'lat\\351\'); mkdir "$d"; mount -t tmpfs t "$d"; '
        'unshare -Urm "$2" -c "$3" "$1"'
    )
    done = subprocess.run(
        ["unshare", "-m", "--propagation", "private", "sh", "-c", setup, "sh", str(tmp_path),
         sys.executable, probe],
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    lines = done.stdout.splitlines()
    assert lines[0] == "''", done.stdout + done.stderr  # nothing failed
    top = dict(line.rsplit(" ", 1) for line in lines[1:])  # the last listed at a place: on top
    assert top["/a"] == "ro", top  # a/b, hidden under it, cannot be reached: left as it is
    assert top["/lat\xe9"] == "ro", top  # a name that is not UTF-8 (byte 0xe9)


@pytest.mark.skipif(shutil.which("strace") is None, reason="strace is not installed")
@pytest.mark.skipif(os.geteuid() != 0, reason="strace is the program's parent: no attach")
def test_a_trace_past_its_cap_is_named_as_such(box: sandbox.Sandbox, monkeypatch) -> None:
    """strace's output is capped (it lives in memory): a program that makes more calls than
    that is told so, not accused of tampering with its trace."""
    from grader import trace

    monkeypatch.setattr(trace, "MAX_TRACE", 64 * 1024)
    loop = "i=0; while [ $i -lt 3000 ]; do : > /dev/null; i=$((i+1)); done"
    run = box.start(["sh", "-c", loop], trace=["openat"])
    assert run.wait_for(exit=True, within_s=20)
    with pytest.raises(trace.TraceIncomplete, match="more system calls than the grader records"):
        run.calls()


@pytest.mark.skipif(shutil.which("strace") is None, reason="strace is not installed")
def test_a_trace_read_while_the_program_ends_is_never_called_incomplete(
    box: sandbox.Sandbox,
) -> None:
    """calls() asked again and again while the program runs and ends: strace may end between
    the reading of its output and the look at whether it has ended; that is no tampering."""
    loop = "i=0; while [ $i -lt 300 ]; do : > /dev/null; i=$((i+1)); done"
    for _ in range(5):
        run = box.start(["sh", "-c", loop], trace=["openat"])
        while run.tracer is not None and run.tracer.proc.poll() is None:
            run.calls()
        assert run.wait_for(exit=True, within_s=20)
        assert len(run.calls()) >= 300


def test_cleanup_leaves_a_running_child_it_did_not_start(tmp_path: Path) -> None:
    earlier = subprocess.Popen(["sleep", "60"])
    try:
        box = sandbox.Sandbox(tmp_path / "w", Limits(), sandbox.detect())
        box.cleanup()
        assert earlier.poll() is None  # still running
    finally:
        earlier.kill()
        earlier.wait()


def test_an_interrupted_start_leaves_the_uid_map_thread_quiet() -> None:
    """Interrupted before the worker ran (control-C), close() ends the uid-map thread: it
    must not die with a traceback on the user's screen (seen: EPIPE on its answer)."""
    from grader.sandbox.host import _UserNamespace

    died: list[str] = []
    old_hook = threading.excepthook
    threading.excepthook = lambda args: died.append(repr(args.exc_value))
    try:
        userns = _UserNamespace(65534, None)
        userns.close()  # no child ever wrote its pid: the thread reads end-of-file
    finally:
        threading.excepthook = old_hook
    assert not userns._thread.is_alive()
    assert died == []
