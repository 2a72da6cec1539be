"""Benchmark of one grade and of the sandbox's launch cost (a script, not a test).

    .venv/bin/python bench/bench_grade.py [--runs N] [--exercise exercise2] [--launches 200]

See bench/README.md for what each number means.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from grader import catalog, sandbox, submission
from grader.catalog import Limits
from grader.results import Outcome
from grader.sandbox.detect import _UNSHARE
from grader.session import GradeOptions, grade

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_EXERCISES = ("exercise2", "exercise1")
TARGET_WALL_S = 1.0  # whole grade of exercise2, 2-core machine
TARGET_OVERHEAD_S = 0.3  # harness overhead of exercise2
TARGET_EXERCISE = "exercise2"
TARGET_CORES = 2
LEGEND = """\
  wall: session.grade() timed in this process (perf_counter), from scratch folder to report
  gcc: report.build.duration_s, the build timed inside the worker
  in checks: sum of report.checks[i].duration_s (pytest setup+call+teardown: starting,
    waiting for and killing processes, inspection); gcc is not in it: the build is the
    worker's first phase, before any check; an upper bound on the programs' own time
  harness overhead: wall - gcc - in checks: copy, unshare, Python and pytest start-up,
    imports, mounts, collection, results JSON, noticing the worker's exit, clean-up
  CPU of descendants: user+sys CPU of every process reaped during the grade (worker
    Python, gcc, student programs, ps, decoys), from RUSAGE_CHILDREN; not students' alone
"""


@dataclass
class GradeSample:
    wall: float  # perf_counter around session.grade()
    build: float  # report.build.duration_s (gcc, timed inside the worker)
    checks: float  # sum of check durations (the build runs before them, in none of them)
    overhead: float  # wall - build - sum of check durations
    cpu: float  # user+sys CPU of every descendant reaped during the grade
    passed: int
    total: int


def _children_cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def grade_once(exercise_id: str) -> GradeSample:
    ex = catalog.find(exercise_id)
    sub = submission.discover(ROOT / "reference" / ex.id, ex)
    cpu0 = _children_cpu()
    t0 = time.perf_counter()
    report = grade(ex, sub, GradeOptions())
    wall = time.perf_counter() - t0
    cpu = _children_cpu() - cpu0
    in_checks = sum(c.duration_s for c in report.checks)
    build = report.build.duration_s
    passed = sum(c.outcome is Outcome.PASSED for c in report.checks)
    return GradeSample(wall, build, in_checks, wall - build - in_checks, cpu, passed,
                       len(report.checks))  # fmt: skip


def _stats(xs: Sequence[float], scale: float = 1.0, digits: int = 3) -> str:
    med, lo, hi = statistics.median(xs) * scale, min(xs) * scale, max(xs) * scale
    return f"{med:.{digits}f} [{lo:.{digits}f}-{hi:.{digits}f}]"


def _diff_ms(a: Sequence[float], b: Sequence[float]) -> str:
    return f"{(statistics.median(a) - statistics.median(b)) * 1000:.2f}"


def _time_each(n: int, fn: Callable[[], object]) -> list[float]:
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def sandbox_launches(n: int, caps: sandbox.Capabilities) -> tuple[list[float], list[float], float]:
    """Per-launch seconds of Sandbox.start+finish and of subprocess.run; cleanup seconds."""
    bare = _time_each(n, lambda: subprocess.run(["/bin/true"], check=False))
    with tempfile.TemporaryDirectory(prefix="ipcgrade-bench-") as tmp:
        box = sandbox.Sandbox(Path(tmp) / "box", Limits(), caps)

        def launch() -> None:
            box.start(["/bin/true"]).finish(5)

        boxed = _time_each(n, launch)
        t0 = time.perf_counter()
        box.cleanup()  # outside a grade's namespaces it leaves the machine's IPC objects alone
        cleanup = time.perf_counter() - t0
    return boxed, bare, cleanup


def namespace_launches(n: int) -> tuple[list[float], list[float]]:
    unshare = shutil.which("unshare") or "unshare"
    argv = [unshare, *_UNSHARE, "--", "/bin/true"]

    def ns() -> None:
        subprocess.run(argv, stdin=subprocess.DEVNULL, check=True)

    bare = _time_each(
        n, lambda: subprocess.run(["/bin/true"], stdin=subprocess.DEVNULL, check=False)
    )
    return _time_each(n, ns), bare


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(r[i]) for r in (header, *rows)) for i in range(len(header))]

    def line(r: Sequence[str]) -> str:
        cells = enumerate(zip(r, widths, strict=True))
        return "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in cells)

    return "\n".join([line(header), line(["-" * w for w in widths]), *(line(r) for r in rows)])


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=5, help="timed grades per exercise (default 5)")
    ap.add_argument("--exercise", action="append", help="exercise to grade (repeatable; "
                    "default: exercise2 and exercise1)")  # fmt: skip
    ap.add_argument("--launches", type=int, default=200, help="launches of /bin/true (200)")
    ap.add_argument("--ns-launches", type=int, default=50, help="unshare launches (50)")
    args = ap.parse_args(argv)
    if min(args.runs, args.launches, args.ns_launches) < 1:
        ap.error("--runs, --launches and --ns-launches must be at least 1")
    exercises = tuple(args.exercise or DEFAULT_EXERCISES)

    caps = sandbox.detect()  # cached; probed here so no timed grade pays its ~25 ms
    iso = caps.isolation()
    cores = len(os.sched_getaffinity(0))
    kernel = f"{platform.release()} ({platform.machine()})"
    print(f"machine: nproc {cores} (cpu_count {os.cpu_count()}), "
          f"Python {platform.python_version()}, kernel {kernel}")  # fmt: skip
    why = f" ({caps.why_not})" if caps.why_not else ""
    print(f"isolation: {iso.level}{why}" + (", running as root" if caps.root else ""))
    print(
        f"grades: {args.runs} timed runs per exercise after 1 untimed warm-up; "
        "median [min-max], seconds"
    )
    print()

    samples: dict[str, list[GradeSample]] = {}
    for ex in exercises:
        grade_once(ex)  # warm-up: page cache, imports in this process
        samples[ex] = [grade_once(ex) for _ in range(args.runs)]
    rows = []
    for ex, ss in samples.items():
        rows.append([
            ex,
            _stats([s.wall for s in ss]),
            _stats([s.build for s in ss]),
            _stats([s.checks for s in ss]),
            _stats([s.overhead for s in ss]),
            _stats([s.cpu for s in ss]),
            f"{min(s.passed for s in ss)}/{ss[0].total}",
        ])  # fmt: skip
    print(_table(["exercise", "wall", "gcc", "in checks", "harness overhead",
                  "CPU of descendants", "passed"], rows))  # fmt: skip
    print(LEGEND)

    boxed, bare, cleanup = sandbox_launches(args.launches, caps)
    lrows = [
        ["Sandbox.start + run.finish", _stats(boxed, 1000, 2)],
        ["subprocess.run (bare fork+exec)", _stats(bare, 1000, 2)],
        ["difference (medians)", _diff_ms(boxed, bare)],
    ]
    if caps.userns:
        ns, ns_bare = namespace_launches(args.ns_launches)
        lrows += [
            ["unshare <worker's namespaces> /bin/true", _stats(ns, 1000, 2)],
            ["/bin/true", _stats(ns_bare, 1000, 2)],
            ["namespace cost (medians, once per grade)", _diff_ms(ns, ns_bare)],
        ]
    else:
        lrows.append(["unshare", "skipped: no user namespaces"])
    print(_table([f"launch of /bin/true ({args.launches}x; unshare {args.ns_launches}x)",
                  "ms per launch"], lrows))  # fmt: skip
    print(f"(Sandbox.cleanup() of those {args.launches} runs: {cleanup * 1000:.1f} ms, "
          "not included above)")  # fmt: skip
    print()

    if TARGET_EXERCISE in samples:
        ss = samples[TARGET_EXERCISE]
        wall = statistics.median(s.wall for s in ss)
        over = statistics.median(s.overhead for s in ss)
        note = f" (the target is for {TARGET_CORES} cores; this has {cores})"
        note = "" if cores == TARGET_CORES else note
        for what, got, limit in (("whole grade", wall, TARGET_WALL_S),
                                 ("harness overhead", over, TARGET_OVERHEAD_S)):  # fmt: skip
            verdict = "met" if got < limit else "NOT met"
            print(
                f"target {TARGET_EXERCISE} {what} < {limit:.1f} s: {verdict} "
                f"(median {got:.3f} s){note}"
            )
    else:
        print(f"targets: not measured ({TARGET_EXERCISE} was not graded)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
