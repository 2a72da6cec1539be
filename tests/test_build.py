"""Building student code: gcc with an argv list, the student's Makefile, errors told apart."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from grader import build, catalog, sandbox
from grader.catalog import Limits

REFERENCE = Path(__file__).resolve().parent.parent / "reference" / "exercise1" / "copy.c"


@pytest.fixture
def box(tmp_path: Path) -> Iterator[sandbox.Sandbox]:
    b = sandbox.Sandbox(tmp_path / "log", Limits(), sandbox.detect())
    yield b
    b.cleanup()


def _folder(tmp_path: Path, source: str, makefile: str | None = None) -> Path:
    folder = tmp_path / "sub"
    folder.mkdir()
    (folder / "copy.c").write_text(source)
    if makefile is not None:
        (folder / "Makefile").write_text(makefile)
    sandbox.hand_to_students(folder, sandbox.detect())  # gcc runs as the student
    return folder


def test_a_clean_build(tmp_path: Path, box: sandbox.Sandbox) -> None:
    folder = _folder(tmp_path, REFERENCE.read_text())
    result = build.compile(folder, catalog.find("exercise1"), box, makefile=False)
    assert result.ok, result.log
    assert (folder / "copy").is_file()
    assert result.command == ("gcc -Wall -std=gnu11 -o copy copy.c",)
    assert result.warnings == ()


def test_warnings_are_reported_without_failing(tmp_path: Path, box: sandbox.Sandbox) -> None:
    source = REFERENCE.read_text().replace("int fd;", "int fd;\n    int unused;")
    result = build.compile(_folder(tmp_path, source), catalog.find("exercise1"), box,
                           makefile=False)  # fmt: skip
    assert result.ok
    assert any("unused" in w and w.startswith("copy.c:") for w in result.warnings)


def test_a_compile_error_names_file_and_line(tmp_path: Path, box: sandbox.Sandbox) -> None:
    source = REFERENCE.read_text().replace('perror("error dup2");', 'perror("error dup2")')
    result = build.compile(_folder(tmp_path, source), catalog.find("exercise1"), box,
                           makefile=False)  # fmt: skip
    assert not result.ok
    assert result.kind == "compile"
    assert result.errors[0].startswith("copy.c:")
    assert "error:" in result.errors[0]


def test_a_link_error_is_told_apart(tmp_path: Path, box: sandbox.Sandbox) -> None:
    source = "int helper(void);\nint main(void) { return helper(); }\n"
    result = build.compile(_folder(tmp_path, source), catalog.find("exercise1"), box,
                           makefile=False)  # fmt: skip
    assert not result.ok
    assert result.kind == "link"
    assert any("helper" in e for e in result.errors)


def test_the_students_makefile_is_used(tmp_path: Path, box: sandbox.Sandbox) -> None:
    makefile = "copy: copy.c\n\tgcc -O1 -o copy copy.c\n\techo built-by-make > marker\n"
    folder = _folder(tmp_path, REFERENCE.read_text(), makefile)
    result = build.compile(folder, catalog.find("exercise1"), box, makefile=True)
    assert result.ok, result.log
    assert (folder / "marker").read_text() == "built-by-make\n"
    assert result.command[0] == "make"


def test_a_makefile_that_builds_nothing(tmp_path: Path, box: sandbox.Sandbox) -> None:
    folder = _folder(tmp_path, REFERENCE.read_text(), "copy:\n\ttrue\n")
    result = build.compile(folder, catalog.find("exercise1"), box, makefile=True)
    assert not result.ok
    assert result.kind == "make"
    assert "did not build copy" in result.errors[0]
