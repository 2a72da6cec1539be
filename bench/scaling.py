"""Batch scaling: classes made from the bundled references and variants, graded by
`grade batch --force` with --jobs 1 and --jobs 2.

Two peaks of memory per batch: the batch process's own (its VmHWM, read from
/proc/self/status as it exits: what grows with the class, if anything does), and the
largest resident set of any process of the batch (RUSAGE_CHILDREN of a small wrapper: the
batch process or one grade). And how busy the grade slots were: the grades' own times
(from the progress lines, CI=1) over jobs x wall time; the rest is a slot idle (the start,
the end's sheets and overview, a slot waiting for the batch process between two grades).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
_MEASURE = """
import json, resource, subprocess, sys, time
start = time.monotonic()
with open(sys.argv[1], "w") as err:
    code = subprocess.call(sys.argv[2:], stdout=subprocess.DEVNULL, stderr=err)
used = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"code": code, "seconds": time.monotonic() - start, "max_rss_kb": used.ru_maxrss}))
"""
# `python -m grader` that writes its own peak resident set (VmHWM) into argv[1] as it exits
_BATCH = """
import sys
status = sys.argv.pop(1)
from grader.cli import main
try:
    main(sys.argv[1:])
finally:
    with open("/proc/self/status") as f, open(status, "w") as out:
        out.write(f.read())
"""
_GRADED = re.compile(r"^\[\d+/\d+\] .*\) (\d+(?:\.\d+)?) s$", re.M)  # a progress line
EXERCISES = tuple(f"exercise{n}" for n in range(1, 9))


@dataclass
class Batch:
    klass: str
    size: int
    jobs: int
    graded: int
    seconds: float
    max_rss_mib: float  # the largest process of the batch
    parent_mib: float  # the batch process's own peak (VmHWM)
    busy_s: float  # the grades' own times, summed
    code: int

    @property
    def occupancy(self) -> float:
        """How much of jobs x wall time a grade ran: 1.0 is no slot ever idle."""
        return self.busy_s / (self.jobs * self.seconds)

    @property
    def per_minute(self) -> float:
        return 60 * self.graded / self.seconds

    @property
    def per_submission_s(self) -> float:
        return self.seconds / max(self.graded, 1)


def _sources(exercise: str) -> list[Path]:
    """The reference, then every variant of the exercise (its folder of files)."""
    variants = REPO / "tests" / "submissions" / exercise
    return [REPO / "reference" / exercise,
            *sorted(p for p in variants.iterdir() if p.is_dir())]  # fmt: skip


def _copy(src: Path, dest: Path) -> None:
    shutil.copytree(src, dest, ignore=shutil.ignore_patterns("expect.toml"))


def class_exercise2(root: Path, n: int) -> Path:
    """n students of exercise2, each the reference or a variant, in turn."""
    sources = _sources("exercise2")
    klass = root / f"class2-{n}"
    for i in range(n):
        _copy(sources[i % len(sources)], klass / f"student{i:04d}")
    return klass


def class_all(root: Path, n: int) -> Path:
    """n submissions across the eight exercises: ceil(n/8) students, each a folder per
    exercise (the repository-root layout), each the reference or a variant in turn."""
    klass = root / f"class-all-{n}"
    sources = {ex: _sources(ex) for ex in EXERCISES}
    for k in range(n):
        student, ex = divmod(k, len(EXERCISES))
        pick = sources[EXERCISES[ex]]
        _copy(pick[student % len(pick)], klass / f"student{student:04d}" / EXERCISES[ex])
    return klass


def batch(exercise: str, klass: Path, out: Path, jobs: int, size: int) -> Batch:
    status, said = out.with_name(out.name + ".status"), out.with_name(out.name + ".stderr")
    grade = [sys.executable, "-c", _BATCH, str(status), "batch", exercise, str(klass),
             "--out", str(out), "--jobs", str(jobs), "--force"]  # fmt: skip
    done = subprocess.run([sys.executable, "-c", _MEASURE, str(said), *grade],
                          capture_output=True, text=True, check=True, cwd=REPO,
                          env={**os.environ, "CI": "1"})  # fmt: skip
    got = json.loads(done.stdout)
    hwm = re.search(r"^VmHWM:\s+(\d+) kB", status.read_text(), re.M)
    busy = sum(float(s) for s in _GRADED.findall(said.read_text(errors="replace")))
    graded = len(list(out.rglob("report.json")))
    label = "exercise2" if exercise == "exercise2" else "all 8 exercises"
    return Batch(label, size, jobs, graded, got["seconds"], got["max_rss_kb"] / 1024,
                 int(hwm[1]) / 1024 if hwm else float("nan"), busy, got["code"])  # fmt: skip


def scale(sizes: list[int], all_size: int, jobs: tuple[int, ...] = (1, 2),
          all_jobs: tuple[int, ...] = (1, 2),
          largest_jobs: tuple[int, ...] | None = None) -> list[Batch]:  # fmt: skip
    """Each exercise2 class of `sizes` with each of `jobs` (the largest with `largest_jobs`,
    when given: `(2,)` spares the longest run), then the class across all eight exercises
    (`all_size` submissions; none when 0) with each of `all_jobs`."""
    out = []
    with tempfile.TemporaryDirectory(prefix="ipcgrade-scale-") as tmp:
        root = Path(tmp)
        for n in sizes:
            klass = class_exercise2(root, n)
            mine = largest_jobs if largest_jobs is not None and n == max(sizes) else jobs
            for j in mine:
                out.append(batch("exercise2", klass, root / f"out2-{n}-{j}", j, n))
                _progress(out[-1])
                shutil.rmtree(root / f"out2-{n}-{j}")
            shutil.rmtree(klass)
        if all_size:
            klass = class_all(root, all_size)
            for j in all_jobs:
                out.append(batch("all", klass, root / f"out-all-{j}", j, all_size))
                _progress(out[-1])
    return out


def _progress(b: Batch) -> None:
    print(
        f"... {b.klass} x{b.size} --jobs {b.jobs}: {b.seconds:.1f} s, slots busy "
        f"{b.occupancy:.0%}, batch process {b.parent_mib:.0f} MiB",
        file=sys.stderr,
    )
