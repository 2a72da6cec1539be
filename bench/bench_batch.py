"""Benchmark `grade batch`: submissions per minute with --jobs 1 and 2, and across exercises.

Usage: python bench/bench_batch.py [N] [STUDENTS_ALL]
  N             students in the exercise2 class (default 40): the reference and every
                variant of tests/submissions/exercise2, in turn
  STUDENTS_ALL  students in the class across all eight exercises, each with every
                reference (default 2)

Each run is `grade batch ... --force` in a process of its own; peak memory is the largest
resident set of any process it waited for (getrusage of children, per run, via a wrapper).
Not a test: numbers depend on the machine and on what else runs on it.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
_MEASURE = """
import json, resource, subprocess, sys, time
start = time.monotonic()
code = subprocess.call(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
used = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"code": code, "seconds": time.monotonic() - start, "max_rss_kb": used.ru_maxrss}))
"""


def _class_exercise2(root: Path, n: int) -> Path:
    sources = [REPO / "reference" / "exercise2"]
    sources += sorted(
        p for p in (REPO / "tests" / "submissions" / "exercise2").iterdir() if p.is_dir()
    )
    klass = root / "class2"
    for i in range(n):
        shutil.copytree(sources[i % len(sources)], klass / f"student{i:03d}")
    return klass


def _class_all(root: Path, n: int) -> Path:
    klass = root / "class-all"
    for i in range(n):
        for ref in sorted((REPO / "reference").iterdir()):
            shutil.copytree(ref, klass / f"student{i:03d}" / ref.name)
    return klass


def _batch(exercise: str, klass: Path, out: Path, jobs: int) -> dict[str, float]:
    grade = [sys.executable, "-m", "grader", "batch", exercise, str(klass), "--out", str(out),
             "--jobs", str(jobs), "--force"]  # fmt: skip
    done = subprocess.run([sys.executable, "-c", _MEASURE, *grade], capture_output=True,
                          text=True, check=True)  # fmt: skip
    got: dict[str, float] = json.loads(done.stdout)
    reports = list(out.rglob("report.json"))
    got["submissions"] = len(reports)
    got["per_minute"] = 60 * len(reports) / got["seconds"]
    return got


def main(argv: list[str]) -> None:
    n = int(argv[0]) if argv else 40
    n_all = int(argv[1]) if len(argv) > 1 else 2
    with tempfile.TemporaryDirectory(prefix="bench-batch-") as tmp:
        root = Path(tmp)
        klass2 = _class_exercise2(root, n)
        klass_all = _class_all(root, n_all)
        rows = []
        for label, exercise, klass, jobs in (
            (f"exercise2, {n} students", "exercise2", klass2, 1),
            (f"exercise2, {n} students", "exercise2", klass2, 2),
            (f"all 8 exercises, {n_all} students", "all", klass_all, 2),
        ):
            got = _batch(exercise, klass, root / f"out-{exercise}-{jobs}", jobs)
            rows.append((label, jobs, got))
            print(f"... {label} --jobs {jobs}: {got['seconds']:.1f} s", file=sys.stderr)
    print(f"{'class':<34} {'jobs':>4} {'grades':>6} {'time s':>7} {'per min':>8} "
          f"{'peak RSS MiB':>12} {'exit':>4}")  # fmt: skip
    for label, jobs, got in rows:
        rss = got["max_rss_kb"] / 1024
        print(f"{label:<34} {jobs:>4} {got['submissions']:>6.0f} {got['seconds']:>7.1f} "
              f"{got['per_minute']:>8.1f} {rss:>12.1f} {got['code']:>4.0f}")  # fmt: skip
    one, two = rows[0][2]["seconds"], rows[1][2]["seconds"]
    print(f"--jobs 2 is {one / two:.2f}x as fast as --jobs 1 (target: 1.7x on 2 cores)")


if __name__ == "__main__":
    main(sys.argv[1:])
