"""Batch scaling: classes made from the bundled references and variants, graded by
`grade batch --force` with --jobs 1 and --jobs 2.

Peak memory is the largest resident set of any process the batch waited for
(RUSAGE_CHILDREN of a small wrapper process, per batch): the batch process or one grade.
"""

from __future__ import annotations

import json
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
code = subprocess.call(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
used = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"code": code, "seconds": time.monotonic() - start, "max_rss_kb": used.ru_maxrss}))
"""
EXERCISES = tuple(f"exercise{n}" for n in range(1, 9))


@dataclass
class Batch:
    klass: str
    size: int
    jobs: int
    graded: int
    seconds: float
    max_rss_mib: float
    code: int

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
    grade = [sys.executable, "-m", "grader", "batch", exercise, str(klass), "--out", str(out),
             "--jobs", str(jobs), "--force"]  # fmt: skip
    done = subprocess.run([sys.executable, "-c", _MEASURE, *grade], capture_output=True,
                          text=True, check=True)  # fmt: skip
    got = json.loads(done.stdout)
    graded = len(list(out.rglob("report.json")))
    label = "exercise2" if exercise == "exercise2" else "all 8 exercises"
    return Batch(label, size, jobs, graded, got["seconds"], got["max_rss_kb"] / 1024,
                 got["code"])  # fmt: skip


def scale(sizes: list[int], all_size: int, jobs: tuple[int, ...] = (1, 2),
          all_jobs: tuple[int, ...] = (1, 2)) -> list[Batch]:  # fmt: skip
    out = []
    with tempfile.TemporaryDirectory(prefix="ipcgrade-scale-") as tmp:
        root = Path(tmp)
        for n in sizes:
            klass = class_exercise2(root, n)
            for j in jobs:
                out.append(batch("exercise2", klass, root / f"out2-{n}-{j}", j, n))
                _progress(out[-1])
            shutil.rmtree(klass)
        klass = class_all(root, all_size)
        for j in all_jobs:
            out.append(batch("all", klass, root / f"out-all-{j}", j, all_size))
            _progress(out[-1])
    return out


def _progress(b: Batch) -> None:
    print(f"... {b.klass} x{b.size} --jobs {b.jobs}: {b.seconds:.1f} s", file=sys.stderr)
