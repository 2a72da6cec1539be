"""Issue 14's benchmark: every figure, one command, plain tables (a script, not a test).

    .venv/bin/python bench/run.py [--quick] [--only floor,peer,batch,startup,hang]
                                  [--runs N] [--sizes 10,100,1000] [--all-size 100]
                                  [--largest-jobs 1,2]
                                  [--json FILE]

Sections: the floor (gcc plus the programs' own lifetimes, per reference) against `grade`;
ipcgrade against check50 side by side; batch scaling; start-up; the hang. See
bench/README.md for what each number is. Timings on a busy machine are noise: take the
figures on a quiet one.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import bench_grade
import floor
import peer
import scaling

REPO = Path(__file__).resolve().parent.parent
GRADE = [sys.executable, "-m", "grader"]
SECTIONS = ("floor", "peer", "batch", "startup", "hang", "loop")
HANG = REPO / "tests" / "submissions" / "exercise2" / "parent_keeps_write_end"
TARGET_FLOOR_RATIO = 1.5  # every reference within 1.5x of its floor
TARGET_FLOOR_GAP_S = 0.3  # exercise1 and exercise2 within 0.3 s of it
TARGET_PEER_RATIO = 1.0  # at most as slow as check50
TARGET_HANG_RATIO = 0.2  # and on the hang at most a fifth of check50's time
TARGET_HANG_S = 2.0
TARGET_JOBS_SPEEDUP = 1.8
TARGET_FLAT = 0.10  # time per submission within 10 % from the smallest class to the largest
TARGET_STARTUP_S = 0.150


def _table(title: str, header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    print(f"== {title}")
    print(bench_grade._table(header, rows))
    print()


def _met(ok: bool) -> str:
    return "met" if ok else "NOT met"


def _timed(argv: Sequence[str]) -> tuple[float, int]:
    """Wall time and exit status of one run of `argv`."""
    t0 = time.perf_counter()
    done = subprocess.run(list(argv), capture_output=True, check=False)
    return time.perf_counter() - t0, done.returncode


def _wall(argv: Sequence[str]) -> float:
    return _timed(argv)[0]


def _median_wall(argv: Sequence[str], n: int) -> float:
    return statistics.median(_wall(argv) for _ in range(n))


def section_floor(exercises: Sequence[str], runs: int) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    rows = []
    for ex in exercises:
        got = floor.measure(ex, REPO)
        timed = [_timed([*GRADE, ex, str(REPO / "reference" / ex)]) for _ in range(runs)]
        walls = [w for w, _ in timed]
        code = max(c for _, c in timed)  # a reference passes: 0; 3 is a broken grade
        wall = statistics.median(walls)
        ratio = wall / got["floor_s"]
        gap = wall - got["floor_s"]
        ok = ratio <= TARGET_FLOOR_RATIO
        if ex in ("exercise1", "exercise2"):
            ok = ok and gap <= TARGET_FLOOR_GAP_S
        figures[ex] = {**got, "grade_s": wall, "grade_runs_s": walls, "ratio": ratio,
                       "gap_s": gap, "target_met": ok, "grade_exit": code,
                       "what": floor.FLOOR_DOC[ex]}  # fmt: skip
        rows.append([ex, f"{got['gcc_s']:.3f}", f"{got['programs_s']:.3f} ({got['runs']})",
                     f"{got['floor_s']:.3f}", f"{wall:.3f}", f"{ratio:.2f}", f"{gap:+.3f}",
                     _met(ok), str(code)])  # fmt: skip
    _table(f"the floor: gcc + the programs' own time, against grade (median of {runs})",
           ["reference", "gcc s", "programs s (runs)", "floor s", "grade s", "ratio",
            "grade - floor", "target", "grade exit"], rows)  # fmt: skip
    print(f"targets: grade <= {TARGET_FLOOR_RATIO}x floor; exercise1 and exercise2 also "
          f"within {TARGET_FLOOR_GAP_S} s of it. What each floor runs:")  # fmt: skip
    for ex in exercises:
        print(f"  {ex}: {floor.FLOOR_DOC[ex]}")
    print()
    return figures


def section_peer(runs: int) -> dict[str, Any]:
    version, pairs = peer.compare(runs)
    figures: dict[str, Any] = {"check50_version": version, "pairs": {}}
    rows = []
    for p in pairs:
        ipc, c50 = statistics.median(p.ipcgrade_s), statistics.median(p.check50_s)
        hang = "hang" in p.label
        limit = TARGET_HANG_RATIO if hang else TARGET_PEER_RATIO
        ratio = ipc / c50
        figures["pairs"][p.label] = {"ipcgrade_s": p.ipcgrade_s, "check50_s": p.check50_s,
                                     "ratio": ratio, "target": limit,
                                     "ipcgrade_passed": p.ipcgrade_passed,
                                     "check50_passed": p.check50_passed}  # fmt: skip
        rows.append([p.label, f"{ipc:.2f}", f"{c50:.2f}", f"{ratio:.2f}", f"<= {limit}",
                     _met(ratio <= limit), p.ipcgrade_passed, p.check50_passed])  # fmt: skip
    _table(f"ipcgrade against check50 {version}: medians of {runs} paired runs, interleaved",
           ["submission", "ipcgrade s", "check50 s", "ratio", "target", "", "ipcgrade passed",
            "check50 passed"], rows)  # fmt: skip
    return figures


def section_batch(sizes: list[int], all_size: int, quick: bool,
                  largest_jobs: tuple[int, ...] | None = None) -> dict[str, Any]:  # fmt: skip
    batches = scaling.scale(sizes, all_size, all_jobs=(2,) if quick else (1, 2),
                            largest_jobs=largest_jobs)  # fmt: skip
    rows = [[b.klass, str(b.size), str(b.jobs), str(b.graded), f"{b.seconds:.1f}",
             f"{b.per_minute:.1f}", f"{b.per_submission_s:.2f}", f"{b.occupancy:.0%}",
             f"{b.parent_mib:.0f}", f"{b.max_rss_mib:.0f}", str(b.code)]
            for b in batches]  # fmt: skip
    _table("batch scaling (grade batch --force)",
           ["class", "size", "jobs", "graded", "wall s", "per min", "s per sub",
            "slots busy", "batch MiB", "largest MiB", "exit"], rows)  # fmt: skip
    print("slots busy: the grades' own times over jobs x wall; batch MiB: the batch "
          "process's peak (VmHWM); largest MiB: the largest process of the batch\n")  # fmt: skip
    derived = ("per_minute", "per_submission_s", "occupancy")
    figures: dict[str, Any] = {
        "batches": [vars(b) | {k: getattr(b, k) for k in derived} for b in batches]
    }
    ex2 = [b for b in batches if b.klass == "exercise2"]
    for size in sorted({b.size for b in batches}):
        for klass in ("exercise2", "all 8 exercises"):
            one = [b for b in batches if (b.klass, b.size, b.jobs) == (klass, size, 1)]
            two = [b for b in batches if (b.klass, b.size, b.jobs) == (klass, size, 2)]
            if one and two:
                speed = one[0].seconds / two[0].seconds
                figures[f"speedup {klass} x{size}"] = speed
                print(
                    f"{klass} x{size}: --jobs 2 is {speed:.2f}x --jobs 1 "
                    f"(target >= {TARGET_JOBS_SPEEDUP}): {_met(speed >= TARGET_JOBS_SPEEDUP)}"
                )
    for jobs in (1, 2):
        per = sorted((b.size, b.per_submission_s, b.max_rss_mib, b.parent_mib)
                     for b in ex2 if b.jobs == jobs)  # fmt: skip
        if len(per) > 1:
            drift = max(abs(p[1] / per[0][1] - 1) for p in per)
            growth = (per[-1][3] - per[0][3]) * 1024 / (per[-1][0] - per[0][0])
            figures[f"per-submission drift jobs {jobs}"] = drift
            figures[f"batch process growth KiB per submission jobs {jobs}"] = growth
            print(
                f"exercise2 --jobs {jobs}: time per submission "
                + ", ".join(f"{s:.2f} s at {n}" for n, s, _, _ in per)
                + f"; drift {drift:.0%} (target within {TARGET_FLAT:.0%}): "
                f"{_met(drift <= TARGET_FLAT)}; batch process "
                + ", ".join(f"{b:.0f} MiB at {n}" for n, _, _, b in per)
                + f" ({growth:+.1f} KiB per submission); largest process "
                + ", ".join(f"{m:.0f} MiB at {n}" for n, _, m, _ in per)
            )
    print()
    return figures


def _importtime(top: int) -> list[tuple[str, int]]:
    done = subprocess.run([sys.executable, "-X", "importtime", "-c", "import grader.cli"],
                          capture_output=True, text=True, check=False)  # fmt: skip
    found = []
    for line in done.stderr.splitlines():
        m = re.match(r"import time:\s+\d+ \|\s+(\d+) \|\s*(\S+)", line)
        if m:
            found.append((m[2], int(m[1])))
    return sorted(found, key=lambda x: -x[1])[:top]


def section_startup(runs: int, launches: int, ns_launches: int) -> dict[str, Any]:
    script = Path(sys.executable).parent / "grade"
    base = [str(script)] if script.exists() else GRADE
    figures: dict[str, Any] = {}
    rows = []
    for args in (["--version"], ["--list"]):
        wall = _median_wall([*base, *args], runs)
        figures["grade " + args[0]] = wall
        rows.append([f"grade {args[0]}", f"{wall * 1000:.0f}", _met(wall < TARGET_STARTUP_S)])
    _table(f"start-up: median of {runs} runs (target < {TARGET_STARTUP_S * 1000:.0f} ms)",
           ["command", "ms", "target"], rows)  # fmt: skip
    imports = _importtime(10)
    figures["importtime_top10_us"] = dict(imports)
    _table(
        "python -X importtime -c 'import grader.cli': top 10 cumulative",
        ["module", "cumulative ms"],
        [[m, f"{us / 1000:.1f}"] for m, us in imports],
    )
    from grader import sandbox

    caps = sandbox.detect()
    boxed, bare, _ = bench_grade.sandbox_launches(launches, caps)
    lrows = [
        ["Sandbox.start + run.finish", f"{statistics.median(boxed) * 1000:.2f}"],
        ["subprocess.run (bare fork+exec)", f"{statistics.median(bare) * 1000:.2f}"],
    ]
    figures["launch_ms"] = {"sandbox": statistics.median(boxed) * 1000,
                            "bare": statistics.median(bare) * 1000}  # fmt: skip
    if caps.userns:
        ns, ns_bare = bench_grade.namespace_launches(ns_launches)
        figures["launch_ms"]["unshare"] = statistics.median(ns) * 1000
        lrows.append(["unshare <worker's namespaces> (once per grade)",
                      f"{statistics.median(ns) * 1000:.2f}"])  # fmt: skip
        lrows.append(["/bin/true", f"{statistics.median(ns_bare) * 1000:.2f}"])
    _table(f"a launch of /bin/true, median of {launches} (unshare {ns_launches})",
           ["launch", "ms"], lrows)  # fmt: skip
    return figures


def section_hang(runs: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="ipcgrade-hang-") as tmp:
        out = Path(tmp) / "report.json"
        argv = [*GRADE, "exercise2", str(HANG), "--format", "json", "--out", str(out)]
        walls = [_wall(argv) for _ in range(runs)]
        report = json.loads(out.read_text())
    wall = statistics.median(walls)
    checks = [(c["id"].split("/")[-1], c["outcome"], c["duration_s"]) for c in report["checks"]]
    rows = [["build (gcc)", "", f"{report['build']['duration_s']:.2f}"]]
    rows += [[name, outcome, f"{d:.2f}"] for name, outcome, d in checks]
    rows.append(["grade wall (median)", _met(wall < TARGET_HANG_S), f"{wall:.2f}"])
    _table(f"the hang: grade exercise2 parent_keeps_write_end (target < {TARGET_HANG_S:.0f} s; "
           "last run's checks)", ["check", "outcome", "s"], rows)  # fmt: skip
    return {
        "grade_s": wall,
        "runs_s": walls,
        "build_s": report["build"]["duration_s"],
        "checks": {n: {"outcome": o, "duration_s": d} for n, o, d in checks},
    }


def section_loop(runs: int) -> dict[str, Any]:
    """The student loop as `grade --watch` runs it: grades in one process, after an edit of
    the source (gcc runs) and after a save that changed nothing (the build reused)."""
    import dataclasses

    from grader import catalog, session
    from grader.submission import discover

    fields = {f.name for f in dataclasses.fields(session.GradeOptions)}
    options = session.GradeOptions(**({"cache": True} if "cache" in fields else {}))
    figures: dict[str, Any] = {}
    rows = []
    with tempfile.TemporaryDirectory(prefix="ipcgrade-loop-") as tmp:
        os.environ["XDG_CACHE_HOME"] = str(Path(tmp) / "cache")
        cache_env = os.environ.pop("IPCGRADE_NO_CACHE", None)
        try:
            for ex in ("exercise1", "exercise2"):
                exercise = catalog.find(ex)
                folder = Path(tmp) / ex
                shutil.copytree(REPO / "reference" / ex, folder)
                source = folder / exercise.files[0]
                session.grade(exercise, discover(folder, exercise), options)  # warm
                edited, same = [], []
                for i in range(runs):
                    with source.open("a") as f:
                        f.write(f"/* edit {i} */\n")
                    t0 = time.perf_counter()
                    session.grade(exercise, discover(folder, exercise), options)
                    edited.append(time.perf_counter() - t0)
                    t0 = time.perf_counter()
                    report = session.grade(exercise, discover(folder, exercise), options)
                    same.append(time.perf_counter() - t0)
                reused = bool(getattr(report.build, "reused", False))
                edit_s, same_s = statistics.median(edited), statistics.median(same)
                figures[ex] = {"after_edit_s": edit_s, "unchanged_s": same_s, "reused": reused}
                rows.append([ex, f"{edit_s:.2f}", f"{same_s:.2f}", "yes" if reused else "no",
                             _met(edit_s < 1.0)])  # fmt: skip
        finally:
            if cache_env is not None:
                os.environ["IPCGRADE_NO_CACHE"] = cache_env
    _table(f"the student loop: a grade in one process (as --watch), median of {runs}",
           ["reference", "after an edit s", "nothing changed s", "build reused",
            "edit < 1 s"], rows)  # fmt: skip
    return figures


def warm_bytecode() -> str:
    """Every grade and check50 run as installed, their bytecode compiled, as pip compiles it
    at install: with PYTHONDONTWRITEBYTECODE set (some shells and containers set it), each
    process would compile the modules it imports afresh, about 15 ms a grade, and the
    sandboxed worker (which writes no bytecode) the modules the host never imports. Says
    what it changed, or nothing."""
    import compileall

    compileall.compile_dir(REPO / "grader", quiet=1)
    compileall.compile_dir(REPO / "exercises", quiet=1)
    if os.environ.pop("PYTHONDONTWRITEBYTECODE", None) is None:
        return ""
    return ("PYTHONDONTWRITEBYTECODE was set: unset for the benchmark's processes, which run "
            "with their bytecode compiled, as pip compiles it at install")  # fmt: skip


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="tiny sizes and one run each: a smoke "
                    "test of the harness, its numbers meaningless")  # fmt: skip
    ap.add_argument("--only", help=f"comma-separated sections ({','.join(SECTIONS)})")
    ap.add_argument("--runs", type=int, help="grades per figure (5; --quick 1)")
    ap.add_argument("--sizes", help="exercise2 class sizes (10,100,1000; --quick 2,4)")
    ap.add_argument("--all-size", type=int, help="submissions across all eight (100; --quick "
                    "8; 0: none)")  # fmt: skip
    ap.add_argument("--largest-jobs", help="the --jobs of the largest --sizes class only "
                    "(1,2; '2' spares the longest batch, --jobs 1 of 1000)")  # fmt: skip
    ap.add_argument("--exercise", action="append", help="floor of these only (default all)")
    ap.add_argument("--json", type=Path, help="write every figure to this file")
    args = ap.parse_args(argv)
    only = args.only.split(",") if args.only else list(SECTIONS)
    if bad := set(only) - set(SECTIONS):
        ap.error(f"unknown section(s) {', '.join(sorted(bad))}; choose from {', '.join(SECTIONS)}")
    q = args.quick
    runs = args.runs or (1 if q else 5)
    sizes = [int(s) for s in (args.sizes or ("2,4" if q else "10,100,1000")).split(",")]
    all_size = args.all_size if args.all_size is not None else (8 if q else 100)
    largest = tuple(int(j) for j in args.largest_jobs.split(",")) if args.largest_jobs else None
    exercises = args.exercise or (["exercise1", "exercise2"] if q else list(floor.SCENARIOS))

    # every grade builds, as check50 does and as a first grade must: the build cache's
    # reuse is measured by the loop section alone
    os.environ.setdefault("IPCGRADE_NO_CACHE", "1")
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    bytecode = warm_bytecode()
    cores = len(os.sched_getaffinity(0))
    load = os.getloadavg()
    print(f"machine: {cores} cores, load {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}, Python "
          f"{platform.python_version()}, kernel {platform.release()}")  # fmt: skip
    if bytecode:
        print(bytecode)
    if q:
        print("--quick: a smoke test of the harness; its numbers mean nothing")
    print()
    figures: dict[str, Any] = {"machine": {"cores": cores, "load": load,
                                           "python": platform.python_version(),
                                           "kernel": platform.release()},
                               "quick": q, "runs": runs}  # fmt: skip
    if "floor" in only:
        figures["floor"] = section_floor(exercises, runs)
    if "peer" in only:
        figures["check50"] = section_peer(runs)
    if "batch" in only:
        figures["batch"] = section_batch(sizes, all_size, q, largest)
    if "startup" in only:
        figures["startup"] = section_startup(3 if q else 20, 5 if q else 200, 2 if q else 50)
    if "hang" in only:
        figures["hang"] = section_hang(runs)
    if "loop" in only:
        figures["loop"] = section_loop(runs)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
        print(f"figures written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
