"""Benchmark `grade batch`: submissions per minute with --jobs 1 and 2, and across exercises.

Usage: python bench/bench_batch.py [N] [STUDENTS_ALL]
       python bench/bench_batch.py --timeline N [JOBS] [--fake SECONDS]
       python bench/bench_batch.py --memory N [JOBS]
  N             students in the exercise2 class (default 40): the reference and every
                variant of tests/submissions/exercise2, in turn
  STUDENTS_ALL  students in the class across all eight exercises, each with every
                reference (default 2)
  --timeline    one batch of N in this process: when each grade started and ended, from
                plan() on; the time to the first grade, the idle slot-time between grades,
                and from the last grade's end to run()'s return (sheets, overview)
  --fake S      each grade a stand-in of S seconds copying one real report (the batch's own
                costs alone); --memory always uses it
  --memory      one batch of N fake grades: tracemalloc's growth from the first grade to the
                last one's end, per submission, its peak while the sheets and overview are
                written, and VmHWM of this process

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
import time
import tracemalloc
from pathlib import Path
from typing import Any

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


def _fake_grades(root: Path, seconds: float) -> None:
    """Each grade: sleep `seconds`, then copy one real report of reference/exercise2 to its
    --out (a stand-in: the batch's costs without the grade's)."""
    from grader.batch import pool

    template = root / "template.json"
    subprocess.run([sys.executable, "-m", "grader", "exercise2", str(REPO / "reference" /
                    "exercise2"), "--format", "json", "--out", str(template)],
                   cwd=REPO, check=False, capture_output=True)  # fmt: skip
    if not template.is_file():
        sys.exit("bench_batch: the template grade of reference/exercise2 wrote no report")
    script = f'sleep {seconds}; cp "{template}" "$0"'
    pool.argv = lambda exercise, submission, out: ["/bin/sh", "-c", script, str(out)]


def _in_process(klass: Path, out: Path, jobs: int, memory: bool) -> dict[str, Any]:
    from grader import batch

    marks: list[tuple[str, float]] = []
    kept: dict[str, Any] = {}
    total = len([p for p in klass.iterdir() if p.is_dir()])

    def on_event(event: batch.Event) -> None:
        now = time.monotonic()
        if isinstance(event, batch.Started):
            marks.append(("start", now))
            if memory and "first" not in kept:
                kept["first"] = tracemalloc.take_snapshot()
        else:
            marks.append(("end", now))
            if memory and event.done == total:
                kept["last"] = tracemalloc.take_snapshot()
                tracemalloc.reset_peak()
                kept["at_last"] = tracemalloc.get_traced_memory()[0]

    if memory:
        tracemalloc.start(5)
    t0 = time.monotonic()
    the_plan = batch.plan("exercise2", klass, out)
    batch.run(the_plan, jobs, force=True, on_event=on_event)
    t_end = time.monotonic()
    got: dict[str, Any] = {"seconds": t_end - t0, "marks": marks, "t0": t0, "t_end": t_end}
    if memory:
        got["peak_after_last"] = tracemalloc.get_traced_memory()[1] - kept["at_last"]
        got["diff"] = kept["last"].compare_to(kept["first"], "lineno")
        got["kept"] = sum(d.size_diff for d in got["diff"])
        tracemalloc.stop()
    got["vmhwm_kb"] = int(next(line.split()[1] for line in
                               Path("/proc/self/status").read_text().splitlines()
                               if line.startswith("VmHWM")))  # fmt: skip
    return got


def _idle(marks: list[tuple[str, float]], jobs: int, t0: float) -> float:
    """Slot-seconds with fewer than `jobs` grades running, from the first start to the
    last start (the tail, when no grade is left to start, is not idleness of the batch)."""
    running, last, idle = 0, t0, 0.0
    last_start = max(t for kind, t in marks if kind == "start")
    for kind, t in marks:
        if t > last_start:
            break
        if running:  # an end is marked once handled, after the next start: clamp at 0
            idle += max(0, jobs - running) * (t - last)
        last = t
        running += 1 if kind == "start" else -1
    return idle


def timeline(argv: list[str], memory: bool) -> None:
    fake = None
    if "--fake" in argv:
        i = argv.index("--fake")
        fake = float(argv[i + 1])
        del argv[i : i + 2]
    if memory and fake is None:
        fake = 0.05
    n = int(argv[0])
    jobs = int(argv[1]) if len(argv) > 1 else 2
    with tempfile.TemporaryDirectory(prefix="bench-batch-") as tmp:
        root = Path(tmp)
        klass = _class_exercise2(root, n)
        if fake is not None:
            _fake_grades(root, fake)
        got = _in_process(klass, root / "out", jobs, memory)
    marks = got["marks"]
    first = min(t for kind, t in marks if kind == "start") - got["t0"]
    last_end = max(t for kind, t in marks if kind == "end")
    grades = sum(1 for kind, _ in marks if kind == "start")
    what = f"fake grades of {fake} s" if fake is not None else "real grades"
    print(f"exercise2, {n} students, --jobs {jobs}, {what}: {got['seconds']:.2f} s, "
          f"{got['seconds'] / n:.3f} s per submission")  # fmt: skip
    print(f"  plan() to the first grade's start  {first:.3f} s")
    print(f"  idle slot-time between grades      {_idle(marks, jobs, got['t0']):.3f} s "
          f"({grades} grades)")  # fmt: skip
    print(f"  last grade's end to run()'s return {got['t_end'] - last_end:.3f} s")
    print(f"  VmHWM of this process              {got['vmhwm_kb'] / 1024:.1f} MiB")
    if memory:
        print(f"  kept, first grade to last end      {got['kept'] / 1024:.1f} KiB, "
              f"{got['kept'] / n / 1024:.2f} KiB per submission")  # fmt: skip
        print(f"  peak over it, writing the sheets   {got['peak_after_last'] / 1024:.1f} KiB, "
              f"{got['peak_after_last'] / n / 1024:.2f} KiB per submission")  # fmt: skip
        for d in got["diff"][:8]:
            print(f"    {d.size_diff / 1024:+8.1f} KiB {d.count_diff:+6d}  {d.traceback[0]}")


def main(argv: list[str]) -> None:
    if argv and argv[0] in ("--timeline", "--memory"):
        return timeline(argv[1:], argv[0] == "--memory")
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
