"""Tests for grader.requirements: which tools are missing, and what a skip says of them."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from grader import requirements


def test_missing_is_what_is_not_on_path_in_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "ps").write_text("#!/bin/sh\n")
    (tmp_path / "ps").chmod(0o755)
    (tmp_path / "strace").write_text("not executable\n")
    monkeypatch.setenv("PATH", str(tmp_path))
    assert requirements.missing(["strace", "ps", "grep"]) == ("strace", "grep")
    assert requirements.missing(["ps"]) == ()


@pytest.mark.parametrize(
    ("tools", "why", "said"),
    [
        (["strace"], "", "needs strace: it is not installed here (apt install strace)"),
        (["strace"], "to see the system calls your program makes",
         "needs strace to see the system calls your program makes: it is not installed here "
         "(apt install strace)"),
        (["ps", "sleep", "cat"], "",
         "needs ps, sleep and cat: they are not installed here (apt install procps coreutils)"),
    ],
    ids=["one", "with-why", "several-one-package-once"],
)  # fmt: skip
def test_reason_names_the_tools_and_how_to_install_them(
    tools: list[str], why: str, said: str
) -> None:
    assert requirements.reason(tools, why) == said


def test_reason_without_tools_is_a_mistake_of_the_caller() -> None:
    with pytest.raises(ValueError, match="needs the tools"):
        requirements.reason([])


@pytest.mark.parametrize(
    ("name", "ok"),
    [("strace", True), ("g++", True), ("python3.11", True), ("", False), ("-v", False),
     ("/usr/bin/ps", False), ("ps -ef", False), (3, False), (None, False)],
)  # fmt: skip
def test_a_tool_is_a_command_name(name: object, ok: bool) -> None:
    assert requirements.is_command(name) is ok


def test_it_is_a_leaf_importing_nothing_of_the_grader() -> None:
    """The catalogue and the checks' toolkit use it; it must not pull the Run layer in."""
    tree = ast.parse(Path(requirements.__file__).read_text(encoding="utf-8"))
    imported = [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
    imported += [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
    assert [m for m in imported if m.split(".")[0] == "grader"] == []


def test_a_check_marked_with_needs_is_skipped_where_the_tool_is_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    @requirements.needs("strace")
    def check() -> None:
        """needs the calls"""

    monkeypatch.setenv("PATH", str(tmp_path))  # nothing is installed here
    assert requirements.needed_by(check) == ("strace",)
    assert requirements.skip_reason(check) == (
        "needs strace to see the system calls your program makes: it is not installed "
        "here (apt install strace)"
    )
    (tmp_path / "strace").write_text("#!/bin/sh\n")
    (tmp_path / "strace").chmod(0o755)
    assert requirements.skip_reason(check) == ""  # installed: it runs
    assert requirements.skip_reason(lambda: None) == ""  # not marked: it always runs


def test_needs_takes_commands_only() -> None:
    with pytest.raises(ValueError, match="commands"):
        requirements.needs("/usr/bin/strace")


def _needs_in(checks: Path) -> set[str]:
    """The tools named by `@needs(...)` decorators in a checks.py, read from its source."""
    named = set()
    for node in ast.walk(ast.parse(checks.read_text())):
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "needs":
            named |= {a.value for a in node.args if isinstance(a, ast.Constant)}
    return named


def test_every_tool_a_check_needs_is_in_its_exercise_requires() -> None:
    """The doctor lists what an exercise `requires`: a check's @needs must be there too."""
    from grader import catalog

    seen = 0
    for exercise in catalog.all_exercises():
        needed = _needs_in(exercise.checks)
        seen += len(needed)
        assert needed <= set(exercise.requires), (
            f"{exercise.id}/checks.py needs {sorted(needed - set(exercise.requires))}, "
            f"which its exercise.toml's requires does not name"
        )
    assert seen, "no check of any exercise uses @needs: this test reads nothing"
