"""The meta-test: the reference passes every check, each wrong variant fails what it lists,
and every check is failed by at least one variant (no dead check).

A variant's expect.toml: `mistake` (what is wrong, in words), `fails` (the checks that must
fail), `says` (words every failing message must contain), `kinds` (the failure kinds those
checks carry, as a set: each listed check's kind is one of them and each is some listed
check's), `warns` (words of a warning), `build` (the build's failure kind), `missing` and
`says_problem` (misnamed files), `passes_nothing` (a program that does nothing), `reduced`
(the one variant of its exercise graded again with reduced isolation).
"""

from __future__ import annotations

import re
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

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
# every key an expect.toml may have (the module's docstring and the README say what each means)
EXPECT_KEYS = ("mistake", "fails", "says", "kinds", "warns", "build", "missing", "says_problem",
               "passes_nothing", "reduced")  # fmt: skip


def _variants(exercise_id: str) -> list[Path]:
    folder = SUBMISSIONS / exercise_id
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if (p / "expect.toml").is_file())


def _expect(variant: Path) -> dict[str, Any]:
    return tomllib.loads((variant / "expect.toml").read_text(encoding="utf-8"))


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


def _reduced_variant(exercise_id: str) -> str:
    """The one wrong variant of the exercise whose expect.toml says `reduced = true`: graded
    again with reduced isolation, the checks still see its mistake there (from /proc, the
    kernel's IPC tables, a trace, a terminal), not only pass."""
    marked = [v.name for v in _variants(exercise_id) if _expect(v).get("reduced") is True]
    where = f"tests/submissions/{exercise_id}/"
    assert marked, (
        f"no variant of {exercise_id} is graded with reduced isolation: add `reduced = true` "
        f"to the expect.toml of one wrong variant under {where}"
    )
    assert len(marked) == 1, f"only one variant of {where} may say `reduced = true`: {marked}"
    return marked[0]


@pytest.mark.parametrize("exercise", EXERCISES, ids=lambda e: e.id)
def test_one_variant_is_marked_for_reduced_isolation(exercise: catalog.Exercise) -> None:
    """Fast: each exercise names its reduced-isolation variant, a wrong one, in its folder."""
    variant = _reduced_variant(exercise.id)
    expect = _expect(SUBMISSIONS / exercise.id / variant)
    assert expect["fails"] or "build" in expect or "missing" in expect, (
        f"{exercise.id}/{variant} says `reduced = true` but fails no check: mark a wrong variant"
    )


def test_the_readme_documents_every_key_of_expect_toml() -> None:
    """The README's table of expect.toml keys is the set this meta-test reads."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Adding an exercise\n", 1)[1].split("\n## ", 1)[0]
    table = section.split("`expect.toml`'s keys", 1)[1]
    documented = re.findall(r"^\| `([a-z_]+)` \|", table, flags=re.MULTILINE)
    assert sorted(documented) == sorted(EXPECT_KEYS)
    source = Path(__file__).read_text(encoding="utf-8")
    for key in EXPECT_KEYS:  # each is read, not only listed
        assert re.search(rf"""\.get\("{key}"|\["{key}"\]|"{key}" (not )?in expect""", source), key


def test_an_exercise_with_no_or_two_reduced_variants_is_told_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys.modules[__name__], "SUBMISSIONS", tmp_path)
    for name in ("leaks", "forgets"):
        (tmp_path / "exercise9" / name).mkdir(parents=True)
        (tmp_path / "exercise9" / name / "expect.toml").write_text('mistake = "m"\nfails = []\n')
    with pytest.raises(
        AssertionError, match=r"add `reduced = true` .* tests/submissions/exercise9/"
    ):
        _reduced_variant("exercise9")
    for name in ("leaks", "forgets"):
        with (tmp_path / "exercise9" / name / "expect.toml").open("a") as f:
            f.write("reduced = true\n")
        if name == "leaks":
            assert _reduced_variant("exercise9") == "leaks"
    with pytest.raises(AssertionError, match=r"only one variant .*\['forgets', 'leaks'\]"):
        _reduced_variant("exercise9")


@pytest.mark.parametrize(
    "variant",
    [v for ex in EXERCISES for v in _variants(ex.id)],
    ids=lambda v: v.parent.name + "/" + v.name,
)
def test_an_expect_toml_says_its_mistake_with_known_keys(variant: Path) -> None:
    """A misspelt key (`say = [...]`) would be silently ignored: it is refused; and the
    mistake is said in words, with the checks it fails."""
    expect = _expect(variant)
    assert str(expect.get("mistake", "")).strip(), f"{variant / 'expect.toml'} has no `mistake`"
    assert isinstance(expect.get("fails"), list), f"{variant / 'expect.toml'} has no `fails`"
    unknown = sorted(set(expect) - set(EXPECT_KEYS))
    assert not unknown, (
        f"{variant / 'expect.toml'} has unknown keys {unknown}; known: {', '.join(EXPECT_KEYS)}"
    )


@pytest.mark.parametrize("exercise", EXERCISES, ids=lambda e: e.id)
def test_a_variant_fails_with_reduced_isolation(exercise: catalog.Exercise) -> None:
    variant = _reduced_variant(exercise.id)
    report = _grade(exercise.id, SUBMISSIONS / exercise.id / variant, reduced=True)
    assert report.isolation.level == "reduced"
    _meets_its_expectation(exercise.id, variant, report)


def test_two_grades_of_a_fixed_key_exercise_at_once() -> None:
    """Each grade has its own IPC namespace (or takes its turn): a fixed key never collides."""
    fixed = next(ex.id for ex in EXERCISES if ex.ipc_keys)  # the first with `ipc_keys`
    folder = ROOT / "reference" / fixed
    with ThreadPoolExecutor(max_workers=2) as pool:
        both = list(pool.map(lambda _: _grade(fixed, folder), range(2)))
    for report in both:
        assert report.passed, _explain(report)
