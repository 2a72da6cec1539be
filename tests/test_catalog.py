"""Tests for grader.catalog: finding exercises and reading their exercise.toml."""

from __future__ import annotations

import re
import shutil
from dataclasses import fields
from pathlib import Path

import pytest

from grader import catalog, doctor, sandbox
from grader.errors import ExerciseError, ExitCode, UsageError


@pytest.mark.parametrize(
    ("name", "expected_id"),
    [
        ("exercise1", "exercise1"),
        ("exercise2", "exercise2"),
        ("copy", "exercise1"),
        ("pipe", "exercise2"),
        ("Exercise1", "exercise1"),
        ("PIPE", "exercise2"),
        (" copy ", "exercise1"),
    ],
)
def test_find_by_id_or_short_name_ignoring_case(name: str, expected_id: str) -> None:
    assert catalog.find(name).id == expected_id


def test_find_unknown_is_a_usage_error_listing_the_known_exercises() -> None:
    with pytest.raises(UsageError) as info:
        catalog.find("exercise99")
    err = info.value
    assert err.exit_code == ExitCode.USAGE == 2
    assert "exercise99" in err.message
    for ex in catalog.all_exercises():
        assert f"{ex.id} ({ex.name})" in err.message
    assert "grade --list" in err.message


def test_all_exercises_are_in_order_with_unique_ids_and_names() -> None:
    exercises = catalog.all_exercises()
    ids = [e.id for e in exercises]
    assert ids[:2] == ["exercise1", "exercise2"]
    assert len(set(ids)) == len(ids)
    assert len({e.name for e in exercises}) == len(exercises)


def test_every_exercise_folder_has_its_toml_statement_and_checks() -> None:
    base = catalog.root() / "exercises"
    folders = sorted(p for p in base.iterdir() if p.is_dir() and not p.name.startswith((".", "_")))
    assert folders, f"no exercise folders in {base}"
    for folder in folders:
        for name in ("exercise.toml", "README.md", "checks.py"):
            assert (folder / name).is_file(), f"{folder.name}/ has no {name}"
    # every folder is one the catalog loads, under the id its folder is named after
    assert sorted(e.folder for e in catalog.all_exercises()) == folders
    for ex in catalog.all_exercises():
        assert ex.folder.name == ex.id
        assert ex.checks == ex.folder / "checks.py"
        assert ex.statement == ex.folder / "README.md"
        assert ex.files, f"{ex.id} expects no files"


def test_programs_maps_each_c_file_to_its_program() -> None:
    assert catalog.find("exercise1").programs == {"copy.c": "copy"}
    assert catalog.find("exercise2").programs == {"pipe.c": "pipe"}


def test_a_broken_exercise_toml_is_an_internal_error_naming_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = tmp_path / "exercises" / "exercise9"
    broken.mkdir(parents=True)
    (broken / "exercise.toml").write_text('id = "exercise9"\nname = "nine"\n')  # no title, files
    monkeypatch.setattr(catalog, "root", lambda: tmp_path)
    with pytest.raises(ExerciseError) as info:
        catalog.all_exercises()
    assert info.value.exit_code == ExitCode.INTERNAL
    assert str(broken / "exercise.toml") in info.value.message


def _exercise(tmp_path: Path, toml: str, checks: str = "") -> Path:
    folder = tmp_path / "exercises" / "exercise9"
    folder.mkdir(parents=True)
    (folder / "exercise.toml").write_text(toml)
    (folder / "checks.py").write_text(checks)
    return folder


_NINE = 'id = "exercise9"\nname = "nine"\ntitle = "Nine"\nfiles = ["nine.c"]\n'


def test_max_score_counts_each_check_at_its_points(tmp_path: Path) -> None:
    checks = (
        "import pytest\n\ndef helper():\n    pass\n\n"
        "def test_a(program):\n    pass\n\ndef test_b(program):\n    pass\n\n"
        "class Flood:\n    def test_not_a_check(self):\n        pass\n"
    )
    folder = _exercise(tmp_path, _NINE + "[points]\ntest_a = 2.5\n", checks)
    ex = catalog._load(folder)
    assert ex.check_names == ("test_a", "test_b")
    assert ex.max_score == 3.5


def test_a_broken_checks_file_is_an_internal_error_naming_it(tmp_path: Path) -> None:
    folder = _exercise(tmp_path, _NINE, "def test_a(:\n")
    with pytest.raises(ExerciseError) as info:
        catalog._load(folder).max_score  # noqa: B018
    assert str(folder / "checks.py") in info.value.message


@pytest.mark.parametrize(
    ("toml", "key"),
    [
        (_NINE + 'output = "nine"\n', "'output'"),
        (_NINE + 'build = { cc = "gcc", output = "nine" }\n', "'build.output'"),
        (_NINE + "limits = { wall_s = 5, wall = 5 }\n", "'limits.wall'"),
        (_NINE + "[build]\ncflags = []\n[build.variants]\nO2 = []\n[limitz]\ncpu_s = 1\n",
         "'limitz' (did you mean 'limits'?)"),
        (_NINE + "ipc_key = [1234]\n", "'ipc_key' (did you mean 'ipc_keys'?)"),
        (_NINE + 'require = ["strace"]\n', "'require' (did you mean 'requires'?)"),
    ],
    ids=["top", "build", "limits", "a-misspelt-table", "ipc_key", "require"],
)  # fmt: skip
def test_an_unknown_key_is_an_error_naming_it_and_the_file(
    tmp_path: Path, toml: str, key: str
) -> None:
    folder = _exercise(tmp_path, toml, "def test_a(program):\n    pass\n")
    with pytest.raises(ExerciseError) as info:
        catalog._load(folder)
    assert f"unknown key {key}" in info.value.message
    assert str(folder / "exercise.toml") in info.value.message
    table = key.split("'")[1].split(".")[0] if "." in key else ""
    known = catalog._TABLE_KEYS[table] if table else catalog._TOP_KEYS  # the table's, or the top's
    assert (
        f"Known keys{f' of [{table}]' if table else ''}: {', '.join(known)}." in info.value.message
    )


@pytest.mark.parametrize(
    "value",
    ['"strace"', '["/usr/bin/strace"]', '["ps -ef"]', "[1]", '[""]', '["-x"]'],
    ids=["not-a-list", "a-path", "with-arguments", "not-a-name", "empty", "an-option"],
)
def test_requires_that_are_not_command_names_are_an_error(tmp_path: Path, value: str) -> None:
    folder = _exercise(tmp_path, _NINE + f"requires = {value}\n")
    with pytest.raises(ExerciseError) as info:
        catalog._load(folder)
    assert "'requires'" in info.value.message
    assert "looked up on PATH" in info.value.message
    assert str(folder / "exercise.toml") in info.value.message


def test_missing_tools_are_those_of_requires_not_on_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bin_ = tmp_path / "bin"
    bin_.mkdir()
    for tool in ("ps", "grep"):
        (bin_ / tool).write_text("#!/bin/sh\n")
        (bin_ / tool).chmod(0o755)
    monkeypatch.setenv("PATH", str(bin_))
    toml = _NINE + 'requires = ["ps", "strace", "grep", "ltrace"]\n'
    ex = catalog._load(_exercise(tmp_path, toml))
    assert ex.requires == ("ps", "strace", "grep", "ltrace")
    assert catalog.missing_tools(ex) == ("strace", "ltrace")
    assert catalog.missing_tools(catalog._load(_exercise(tmp_path / "b", _NINE))) == ()


def test_points_for_a_check_that_does_not_exist_is_an_error(tmp_path: Path) -> None:
    toml = _NINE + "[points]\ntest_a = 2\ntest_typo = 3\n"
    folder = _exercise(tmp_path, toml, "def test_a(program):\n    pass\n")
    with pytest.raises(ExerciseError) as info:
        catalog._load(folder)
    assert "'points.test_typo'" in info.value.message
    assert str(folder / "exercise.toml") in info.value.message


@pytest.mark.parametrize(
    ("table", "said"),
    [
        ('[visibility]\ntest_typo = "hidden"\n', "'visibility.test_typo'"),
        ('[tags]\ntest_typo = ["pipes"]\n', "'tags.test_typo'"),
        ('[visibility]\ntest_a = "secret"\n', "visibility 'secret' (key 'visibility.test_a')"),
        ('[tags]\ntest_a = "pipes"\n', "tags 'pipes' (key 'tags.test_a')"),
        ("[tags]\ntest_a = [1]\n", "(key 'tags.test_a')"),
    ],
    ids=["visibility-of-no-check", "tags-of-no-check", "bad-visibility", "tags-not-a-list",
         "tags-not-words"],
)  # fmt: skip
def test_a_bad_visibility_or_tag_is_an_error_naming_it(
    tmp_path: Path, table: str, said: str
) -> None:
    folder = _exercise(tmp_path, _NINE + table, "def test_a(program):\n    pass\n")
    with pytest.raises(ExerciseError) as info:
        catalog._load(folder)
    assert said in info.value.message
    assert str(folder / "exercise.toml") in info.value.message
    if "visibility '" in said:
        assert "visible, hidden, after_due_date" in info.value.message


def test_every_known_key_loads(tmp_path: Path) -> None:
    toml = _NINE + (
        'ipc_keys = [1234]\nrequires = ["ps", "strace"]\n'
        '[build]\ncc = "cc"\ncflags = ["-O1"]\nldflags = ["-lm"]\n'
        '[build.variants]\nO2 = ["-O2"]\n[limits]\n'
        + "".join(f"{k} = 7\n" for k in _limit_keys())
        + "[points]\ntest_a = 2\n"
        + '[visibility]\ntest_a = "after_due_date"\n[tags]\ntest_a = ["pipes", "fork"]\n'
    )
    ex = catalog._load(_exercise(tmp_path, toml, "def test_a(program):\n    pass\n"))
    assert ex.visibility == {"test_a": "after_due_date"}
    assert ex.tags == {"test_a": ("pipes", "fork")}
    assert ex.build == catalog.BuildSpec("cc", ("-O1",), ("-lm",), {"O2": ("-O2",)})
    assert ex.limits == catalog.Limits(*([7] * len(_limit_keys())))
    assert (ex.points, ex.ipc_keys, ex.max_score) == ({"test_a": 2.0}, (1234,), 2.0)
    assert ex.requires == ("ps", "strace")


def _limit_keys() -> list[str]:
    return [f.name for f in fields(catalog.Limits)]


def test_the_readme_documents_every_key_of_exercise_toml() -> None:
    """The README's table of exercise.toml keys is the set the loader accepts."""
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Adding an exercise\n", 1)[1].split("\n## ", 1)[0]
    section = section.split("`expect.toml`'s keys", 1)[0]  # the table before: exercise.toml's
    documented = set(re.findall(r"^\| `([a-z_.]+)` \|", section, flags=re.MULTILINE))
    accepted = set(catalog._TOP_KEYS)
    accepted |= {f"{table}.{key}" for table, keys in catalog._TABLE_KEYS.items() for key in keys}
    assert documented - accepted == set(), "documented, but refused as unknown"
    assert accepted - documented == set(), "accepted, but not documented"


NO_SUCH_TOOL = "ipcgrade-test-no-such-tool"


def test_a_copied_exercise_folder_is_a_new_exercise_with_nothing_else_edited(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The claim of "Adding an exercise": copy a folder, edit its files, and the catalogue,
    the listing and the doctor know the new exercise and what it requires."""
    shutil.copytree(catalog.root() / "exercises", tmp_path / "exercises")
    two = catalog.find("exercise2")
    nine = tmp_path / "exercises" / "exercise9"
    shutil.copytree(two.folder, nine, ignore=shutil.ignore_patterns("__pycache__"))
    toml = (nine / "exercise.toml").read_text(encoding="utf-8")
    toml = toml.replace('id = "exercise2"', 'id = "exercise9"').replace('"pipe"', '"nine"')
    toml = re.sub(r"^requires = \[", f'requires = ["{NO_SUCH_TOOL}", ', toml, flags=re.M)
    (nine / "exercise.toml").write_text(toml, encoding="utf-8")
    monkeypatch.setattr(catalog, "root", lambda: tmp_path)

    ex = catalog.find("nine")
    assert [e.id for e in catalog.all_exercises()][-2:] == ["exercise8", "exercise9"]
    assert (ex.id, ex.folder, ex.files) == ("exercise9", nine, two.files)
    assert ex.requires == (NO_SUCH_TOOL, *two.requires)
    assert NO_SUCH_TOOL in catalog.missing_tools(ex)
    assert [c.id.split("/", 1) for c in ex.catalogue] == [["exercise9", n] for n in two.check_names]

    sandbox.detect.cache_clear()  # cached per process: made again, for this test only
    try:
        findings = {f.what: f for f in doctor.examine()}
    finally:
        sandbox.detect.cache_clear()
    missing = findings[NO_SUCH_TOOL]
    assert not missing.ok
    assert missing.needed
    assert missing.detail.startswith("missing: exercise9 needs it")
    assert missing.fix == f"sudo apt install {NO_SUCH_TOOL}"
    assert not doctor.healthy(tuple(findings.values()))
    for tool in two.requires:  # exercise2's tools: the copy needs them too, and is named
        assert "exercise2" in findings[tool].detail
        assert "exercise9" in findings[tool].detail
