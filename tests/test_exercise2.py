"""exercise2's inspection checks judge one flooded run together: in whatever order they
run, each gives the verdict it gives on its own."""

from __future__ import annotations

import dataclasses
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from grader import catalog, session
from grader.report import SubmissionReport
from grader.submission import discover

ROOT = Path(__file__).resolve().parent.parent
EXERCISE = catalog.find("exercise2")
VARIANTS = ROOT / "tests" / "submissions" / "exercise2"
# the reference, and the variants whose verdicts come from the shared run's end: a hang, a
# hang before grep runs (and one when ps prints much), a parent that ends first, one that
# does not wait (ps_in_parent is left out: its exit status is ps's, which races with grep)
SUBMISSIONS = [
    ROOT / "reference" / "exercise2",
    *(VARIANTS / name for name in ("parent_keeps_write_end", "waits_for_ps_first",
                                   "parent_does_not_wait", "never_waits")),
]  # fmt: skip
REVERSE = "def pytest_collection_modifyitems(items):\n    items.reverse()\n"


@pytest.fixture(scope="module")
def reversed_exercise(tmp_path_factory: pytest.TempPathFactory) -> Iterator[catalog.Exercise]:
    """exercise2 with a conftest.py that runs its checks last to first."""
    folder = tmp_path_factory.mktemp("reversed") / "exercise2"
    shutil.copytree(EXERCISE.folder, folder, ignore=shutil.ignore_patterns("__pycache__"))
    (folder / "conftest.py").write_text(REVERSE)
    yield dataclasses.replace(EXERCISE, folder=folder)
    shutil.rmtree(folder, ignore_errors=True)


def _grade(exercise: catalog.Exercise, where: Path) -> SubmissionReport:
    return session.grade(exercise, discover(where, exercise), session.GradeOptions())


def _verdicts(report: SubmissionReport) -> dict[str, tuple[str, str | None]]:
    return {c.id: (c.outcome.value, c.failure) for c in report.checks}


@pytest.mark.parametrize("where", SUBMISSIONS, ids=lambda p: p.name)
def test_the_checks_judge_alike_in_reverse_order(
    where: Path, reversed_exercise: catalog.Exercise
) -> None:
    forward = _grade(EXERCISE, where)
    backward = _grade(reversed_exercise, where)
    ran = [c.id for c in backward.checks]
    # the reversed grade did run them last to first (its first check needs the flood)
    assert ran.index("exercise2/test_parent_waits_for_children") < ran.index(
        "exercise2/test_ps_writes_into_grep"
    ), ran
    assert _verdicts(backward) == _verdicts(forward)
