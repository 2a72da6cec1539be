"""The meta-test: the reference passes every check, each wrong variant fails what it lists,
and every check is failed by at least one variant (no dead check).

A variant's expect.toml: `mistake` (what is wrong, in words), `fails` (the checks that must
fail), `says` (words every failing message must contain), `kinds` (the failure kinds those
checks carry, as a set: each listed check's kind is one of them and each is some listed
check's), `warns` (words of a warning), `build` (the build's failure kind), `missing` and
`says_problem` (misnamed files), `passes_nothing` (a program that does nothing).
"""

from __future__ import annotations

import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from grader import catalog, session
from grader.report import SubmissionReport
from grader.results import Outcome
from grader.submission import discover

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
SUBMISSIONS = ROOT / "tests" / "submissions"
EXERCISES = catalog.all_exercises()


def _variants(exercise_id: str) -> list[Path]:
    folder = SUBMISSIONS / exercise_id
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if (p / "expect.toml").is_file())


def _grade(exercise_id: str, folder: Path, reduced: bool = False) -> SubmissionReport:
    ex = catalog.find(exercise_id)
    return session.grade(ex, discover(folder, ex), session.GradeOptions(reduced=reduced))


class _Reports:
    """Each exercise's reference and variants graded once, when a test first asks for one
    of them (two at a time: the grades are subprocesses), so `-k exercise6` grades only
    exercise6."""

    def __init__(self) -> None:
        self._done: dict[tuple[str, str], SubmissionReport] = {}

    def __getitem__(self, key: tuple[str, str]) -> SubmissionReport:
        exercise_id = key[0]
        if key not in self._done:
            jobs = [("reference", ROOT / "reference" / exercise_id)]
            jobs += [(v.name, v) for v in _variants(exercise_id)]
            with ThreadPoolExecutor(max_workers=2) as pool:
                graded = pool.map(lambda j: (j[0], _grade(exercise_id, j[1])), jobs)
                self._done.update(((exercise_id, name), r) for name, r in graded)
        return self._done[key]


@pytest.fixture(scope="module")
def reports() -> _Reports:
    return _Reports()


def _explain(report: SubmissionReport) -> str:
    return "\n".join(f"{c.name}: {c.outcome.value} {c.message[:300]}" for c in report.checks)


@pytest.mark.parametrize("exercise", EXERCISES, ids=lambda e: e.id)
def test_exercise_is_complete(exercise: catalog.Exercise) -> None:
    """An exercise ships a statement, checks, a reference and at least one wrong variant."""
    assert exercise.statement.is_file(), f"{exercise.id} has no README.md"
    assert exercise.checks.is_file(), f"{exercise.id} has no checks.py"
    assert (ROOT / "reference" / exercise.id).is_dir(), f"reference/{exercise.id} is missing"
    assert _variants(exercise.id), f"tests/submissions/{exercise.id}/ has no variant"
    nothing = SUBMISSIONS / exercise.id / "does_nothing" / "expect.toml"
    assert nothing.is_file(), f"tests/submissions/{exercise.id}/does_nothing/ is missing"
    assert tomllib.loads(nothing.read_text()).get("passes_nothing") is True


@pytest.mark.parametrize("exercise", EXERCISES, ids=lambda e: e.id)
def test_reference_passes_every_check(exercise: catalog.Exercise, reports: _Reports) -> None:
    report = reports[(exercise.id, "reference")]
    assert report.build.ok, report.build.log
    assert report.passed, _explain(report)
    assert report.exit_code == 0
    assert not [w for c in report.checks for w in c.warnings], "a reference earns no warning"


@pytest.mark.parametrize(
    ("exercise_id", "variant"),
    [(ex.id, v.name) for ex in EXERCISES for v in _variants(ex.id)],
)
def test_variant_fails_what_it_lists(exercise_id: str, variant: str, reports: _Reports) -> None:
    _meets_its_expectation(exercise_id, variant, reports[(exercise_id, variant)])


def _meets_its_expectation(exercise_id: str, variant: str, report: SubmissionReport) -> None:
    expect = tomllib.loads((SUBMISSIONS / exercise_id / variant / "expect.toml").read_text())
    outcomes = {c.name: c for c in report.checks}
    if "build" in expect:
        assert not report.build.ok
        assert report.build.kind == expect["build"], report.build
        assert report.build.errors, "a failed build names the compiler's error lines"
        assert all(c.outcome is Outcome.SKIPPED for c in report.checks), _explain(report)
        assert all("to compile" in c.message or "to link" in c.message for c in report.checks)
    if "missing" in expect:
        assert list(report.missing_files) == expect["missing"]
        problems = " ".join(report.problems).lower()
        for word in expect.get("says_problem", []):
            assert word.lower() in problems, report.problems
        assert all(c.outcome is Outcome.SKIPPED for c in report.checks)
    if expect.get("passes_nothing"):
        # a program that does nothing shows no behaviour: no check may pass on its absence
        passed = [c.name for c in report.checks if c.outcome is Outcome.PASSED]
        assert not passed, f"passed with nothing to judge: {passed}\n{_explain(report)}"
    elif not expect["fails"] and "build" not in expect and "missing" not in expect:
        assert report.passed, f"a correct variant must pass:\n{_explain(report)}"
    for name in expect["fails"]:
        assert name in outcomes, f"{name} is not a check of {exercise_id}"
        check = outcomes[name]
        assert check.outcome is Outcome.FAILED, f"{name}: {check.outcome.value} {check.message}"
        said = " ".join([*(a.text for a in check.sandbox), check.message]).lower()
        for word in expect.get("says", []):
            assert word.lower() in said, f"{name} does not say {word!r}"
        assert check.failure, f"{name} failed without a kind: {check.message}"
    if "kinds" in expect:  # the mistakes the failing checks name: what an overview groups by
        kinds = {outcomes[name].failure for name in expect["fails"]}
        assert kinds == set(expect["kinds"]), f"the failing checks' kinds: {sorted(kinds)}"
    warnings = " ".join(w for c in report.checks for w in c.warnings).lower()
    for word in expect.get("warns", []):
        assert word.lower() in warnings, f"no warning says {word!r}"
    assert report.exit_code == (0 if report.passed else 1)
    assert not any(c.outcome is Outcome.ERROR for c in report.checks), _explain(report)


@pytest.mark.parametrize("exercise", EXERCISES, ids=lambda e: e.id)
def test_every_check_is_failed_by_a_variant(exercise: catalog.Exercise, reports: _Reports) -> None:
    """A check that no wrong variant fails is dead: it must go, or get a variant."""
    checks = {c.name for c in reports[(exercise.id, "reference")].checks}
    failed: set[str] = set()
    for variant in _variants(exercise.id):
        expect = tomllib.loads((variant / "expect.toml").read_text())
        report = reports[(exercise.id, variant.name)]
        failed |= {
            c.name for c in report.checks
            if c.outcome is Outcome.FAILED and c.name in expect["fails"]
        }  # fmt: skip
    assert checks - failed == set(), f"checks no variant fails: {sorted(checks - failed)}"


@pytest.mark.parametrize("exercise", EXERCISES, ids=lambda e: e.id)
def test_reference_passes_with_reduced_isolation(exercise: catalog.Exercise) -> None:
    """The degraded path (no user namespaces) grades too, and says it is weaker."""
    report = _grade(exercise.id, ROOT / "reference" / exercise.id, reduced=True)
    assert report.isolation.level == "reduced"
    assert report.isolation.missing
    assert report.passed, _explain(report)
    assert not [w for c in report.checks for w in c.warnings], "a reference earns no warning"


# one wrong variant per exercise, graded again with reduced isolation: the checks still see
# the mistake there (from /proc, the kernel's IPC tables, a trace, a terminal), not only pass
REDUCED_VARIANTS = {
    "exercise1": "fd_leak",
    "exercise2": "dup2_wrong_fd",
    "exercise3": "no_tstp_handler",
    "exercise4": "sizeof_struct",
    "exercise5": "never_detached",
    "exercise6": "filemap_private",
    "exercise7": "parent_does_not_wait",
    "exercise8": "leaks_per_connection",
}


@pytest.mark.parametrize("exercise", EXERCISES, ids=lambda e: e.id)
def test_a_variant_fails_with_reduced_isolation(exercise: catalog.Exercise) -> None:
    variant = REDUCED_VARIANTS[exercise.id]
    report = _grade(exercise.id, SUBMISSIONS / exercise.id / variant, reduced=True)
    assert report.isolation.level == "reduced"
    _meets_its_expectation(exercise.id, variant, report)


def test_two_grades_of_a_fixed_key_exercise_at_once() -> None:
    """Each grade has its own IPC namespace (or takes its turn): key 1234 never collides."""
    folder = ROOT / "reference" / "exercise4"
    with ThreadPoolExecutor(max_workers=2) as pool:
        both = list(pool.map(lambda _: _grade("exercise4", folder), range(2)))
    for report in both:
        assert report.passed, _explain(report)
