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
