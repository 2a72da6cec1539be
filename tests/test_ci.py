""".ci/run's non-root stage removes the user it made, when it passes and when it fails.

The script runs for real, in a copy of the tree, with the commands that would change the
machine or take minutes (useradd, userdel, su, pip, pytest...) replaced by stubs that
record their arguments and keep the user's existence in a file.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

# state/user: the user exists; state/log: what the stubs were asked to do
_STUBS = {
    "id": """
        case "$1" in
          -u) echo 0 ;;
          ipcgrade-ci) [ -e "$STATE/user" ] ;;
          *) exit 1 ;;
        esac""",
    "useradd": 'echo "useradd $*" >> "$STATE/log"; touch "$STATE/user"',
    "userdel": 'echo "userdel $*" >> "$STATE/log"; rm -f "$STATE/user"',
    "pkill": 'echo "pkill $*" >> "$STATE/log"',
    "chown": 'echo "chown $*" >> "$STATE/log"',
    # the Python check passes unless PY_FAILS; the stage's tests end with SU_STATUS
    "su": """
        echo "su $*" >> "$STATE/log"
        case "$*" in
          *pytest*) exit "${SU_STATUS:-0}" ;;
          *) [ -z "$PY_FAILS" ] ;;
        esac""",
    "dpkg": "exit 0",
    "npm": 'echo "npm $*" >> "$STATE/log"',
    "node": "exit 0",
    "prove": "exit 0",
    "ipcs": "exit 0",
    # a venv of stubs: its pip, python, ruff and mypy do nothing; its grade writes a report
    "python3": """
        if [ "$1" = -m ] && [ "$2" = venv ]; then
          mkdir -p "$3" && cp -r "$VENV_BIN" "$3/bin"
        fi""",
}


# the stub `grade` writes, to its --out file, what .ci/run looks for in a real report
_GRADE_STUB = """
    status=0
    while [ $# -gt 0 ]; do
      case "$1" in *parent_keeps_write_end*) status=1 ;; esac
      if [ "$1" = --out ]; then
        echo '"schema": 2 Content-Security-Policy <testsuites "tests"' > "$2"
      fi
      shift
    done
    exit $status"""


def _ci_run(tmp_path: Path, *, user_before: bool = False, **env: str) -> tuple[int, str, bool]:
    """Run a copy of .ci/run with the stubs; its status, the stubs' log, whether the user
    is still there."""
    tree, stubs, state = tmp_path / "tree", tmp_path / "stubs", tmp_path / "state"
    (tree / ".ci").mkdir(parents=True)
    shutil.copy(REPO / ".ci" / "run", tree / ".ci" / "run")
    (tree / "reference").mkdir()
    for folder in (stubs, state):
        folder.mkdir()
    for name, body in _STUBS.items():
        (stubs / name).write_text(f"#!/bin/sh\n{body}\n")
        (stubs / name).chmod(0o755)
    (state / "log").touch()
    venv_bin = tmp_path / "venv-bin"
    venv_bin.mkdir()
    for tool, body in [*((t, "exit 0") for t in ("pip", "python", "ruff", "mypy")),
                       ("grade", _GRADE_STUB)]:  # fmt: skip
        (venv_bin / tool).write_text(f"#!/bin/sh\n{body}\n")
        (venv_bin / tool).chmod(0o755)
    if user_before:
        (state / "user").touch()
    run = subprocess.run(
        ["bash", str(tree / ".ci" / "run")],
        env={"PATH": f"{stubs}:{os.environ['PATH']}", "STATE": str(state),
             "HOME": str(tmp_path), "TMPDIR": str(tmp_path),  # its mktemp folders: here
             "VENV_BIN": str(venv_bin), **env},
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    log = (state / "log").read_text() + run.stdout + run.stderr
    return run.returncode, log, (state / "user").exists()


def test_the_user_made_is_removed_when_the_stage_passes(tmp_path: Path) -> None:
    status, log, user_left = _ci_run(tmp_path)
    assert status == 0, log
    assert "useradd -m ipcgrade-ci" in log
    assert "userdel -r ipcgrade-ci" in log  # its home too
    assert not user_left


@pytest.mark.parametrize(
    "env", [{"SU_STATUS": "3"}, {"PY_FAILS": "1"}], ids=["its-tests-fail", "no-python"]
)
def test_the_user_made_is_removed_when_the_stage_fails(tmp_path: Path, env: dict[str, str]) -> None:
    status, log, user_left = _ci_run(tmp_path, **env)
    assert status != 0
    assert "useradd -m ipcgrade-ci" in log
    assert not user_left, log


def test_a_user_that_was_there_before_is_left(tmp_path: Path) -> None:
    status, log, user_left = _ci_run(tmp_path, user_before=True)
    assert status == 0, log
    assert "useradd" not in log
    assert "userdel" not in log
    assert user_left
