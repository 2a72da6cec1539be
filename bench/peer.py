"""ipcgrade against check50 on the same submissions, in one run, interleaved.

check50 (pinned below) lives in the benchmark's own venv, bench/.venv-check50, made here
when missing; its checks are bench/peers/check50/EXERCISE, run with `check50 --dev PATH`
(development mode: the slug is a local folder of checks, which implies --offline and
--local) from a folder holding only the submission's files, as a student runs it.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
CHECK50 = "check50==3.5.0"  # the version issue 14 measured; it installs on Python 3.11
VENV = BENCH / ".venv-check50"
PEERS = BENCH / "peers" / "check50"
# (label, exercise, folder holding the files): the references, two wrong variants of
# exercise2 (one the hang) and one of exercise1
SUBMISSIONS = (
    ("exercise1 reference", "exercise1", REPO / "reference" / "exercise1"),
    ("exercise1 no_trunc", "exercise1", REPO / "tests/submissions/exercise1/no_trunc"),
    ("exercise2 reference", "exercise2", REPO / "reference" / "exercise2"),
    ("exercise2 dup2_wrong_fd", "exercise2",
     REPO / "tests/submissions/exercise2/dup2_wrong_fd"),
    ("exercise2 parent_keeps_write_end (hang)", "exercise2",
     REPO / "tests/submissions/exercise2/parent_keeps_write_end"),
)  # fmt: skip


@dataclass
class Pair:
    label: str
    ipcgrade_s: list[float]
    check50_s: list[float]
    ipcgrade_passed: str
    check50_passed: str


def ensure_check50() -> Path:
    """bench/.venv-check50/bin/check50, installed from PyPI the first time."""
    exe = VENV / "bin" / "check50"
    if not exe.exists():
        print(f"installing {CHECK50} into {VENV} ...", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(VENV)], check=True)
        subprocess.run([str(VENV / "bin" / "pip"), "install", "-q", CHECK50], check=True)
    return exe


def check50_version(exe: Path) -> str:
    done = subprocess.run([str(VENV / "bin" / "pip"), "show", "check50"], capture_output=True,
                          text=True, check=False)  # fmt: skip
    return next((ln.split()[-1] for ln in done.stdout.splitlines()
                 if ln.startswith("Version:")), "?")  # fmt: skip


def _grade(exercise: str, folder: Path, out: Path) -> tuple[float, str]:
    argv = [sys.executable, "-m", "grader", exercise, str(folder), "--format", "json",
            "--out", str(out)]  # fmt: skip
    t0 = time.perf_counter()
    subprocess.run(argv, capture_output=True, check=False)
    wall = time.perf_counter() - t0
    checks = json.loads(out.read_text())["checks"]
    return wall, f"{sum(c['outcome'] == 'passed' for c in checks)}/{len(checks)}"


def _check50(exe: Path, exercise: str, folder: Path) -> tuple[float, str]:
    argv = [str(exe), "--dev", str(PEERS / exercise), "-o", "json"]
    t0 = time.perf_counter()
    done = subprocess.run(argv, cwd=folder, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t0
    try:
        results = json.loads(done.stdout)["results"]
    except (ValueError, KeyError):
        return wall, "error"
    return wall, f"{sum(r['passed'] is True for r in results)}/{len(results)}"


def compare(runs: int) -> tuple[str, list[Pair]]:
    """Medians of `runs` paired runs per submission: ipcgrade, check50, ipcgrade, ..."""
    exe = ensure_check50()
    version = check50_version(exe)
    pairs = [Pair(label, [], [], "", "") for label, _, _ in SUBMISSIONS]
    with tempfile.TemporaryDirectory(prefix="ipcgrade-peer-") as tmp:
        folders = []
        for i, (_, exercise, src) in enumerate(SUBMISSIONS):
            folder = Path(tmp) / f"sub{i}"  # only the submission's files, no expect.toml
            folder.mkdir()
            for f in src.iterdir():
                if f.suffix == ".c" or f.name == "Makefile":
                    shutil.copy(f, folder)
            folders.append((exercise, folder))
        for _ in range(runs):
            for i, (exercise, folder) in enumerate(folders):
                wall, pairs[i].ipcgrade_passed = _grade(exercise, folder, Path(tmp) / "r.json")
                pairs[i].ipcgrade_s.append(wall)
                wall, pairs[i].check50_passed = _check50(exe, exercise, folder)
                pairs[i].check50_s.append(wall)
    return version, pairs
