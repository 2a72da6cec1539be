"""Building student code: gcc with an argv list, the student's Makefile, errors told apart."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import wait_until

from grader import build, catalog, sandbox
from grader.catalog import Limits

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "reference" / "exercise1" / "copy.c"
PRODCONS = ROOT / "reference" / "exercise7" / "prodcons.c"


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
    assert result.command == ("make copy",)


def test_a_makefile_that_builds_nothing(tmp_path: Path, box: sandbox.Sandbox) -> None:
    folder = _folder(tmp_path, REFERENCE.read_text(), "copy:\n\ttrue\n")
    result = build.compile(folder, catalog.find("exercise1"), box, makefile=True)
    assert not result.ok
    assert result.kind == "make"
    assert "did not build copy" in result.errors[0]


def _prodcons(tmp_path: Path, files: dict[str, str]) -> Path:
    folder = tmp_path / "prodcons"
    folder.mkdir()
    for name, text in files.items():
        (folder / name).write_text(text)
    sandbox.hand_to_students(folder, sandbox.detect())
    return folder


def test_a_makefile_submission_gets_the_O2_build_too(tmp_path: Path, box: sandbox.Sandbox) -> None:
    """exercise7 races an -O2 build: a Makefile that knows nothing of it does not skip it."""
    makefile = "prodcons: prodcons.c\n\tgcc -o prodcons prodcons.c -pthread\n"
    folder = _prodcons(tmp_path, {"prodcons.c": PRODCONS.read_text(), "Makefile": makefile})
    result = build.compile(folder, catalog.find("exercise7"), box, makefile=True)
    assert result.ok, result.log
    assert (folder / "prodcons").is_file()
    assert (folder / "prodcons-O2").is_file()
    assert result.command == (
        "make prodcons",
        "gcc -Wall -std=gnu11 -O2 -o prodcons-O2 prodcons.c -pthread",
    )
    assert build.not_built(result, "prodcons-O2") is None


def test_an_O2_build_that_cannot_be_made_is_a_warning(tmp_path: Path, box: sandbox.Sandbox) -> None:
    """prodcons.c needs ring.c, which only the Makefile knows: the build passes, and says so."""
    source = PRODCONS.read_text().replace("int main(", "void ring(void);\nint main(")
    source = source.replace("    n = atoi(argv[1]);", "    n = atoi(argv[1]);\n    ring();")
    makefile = "prodcons: prodcons.c ring.c\n\tgcc -o prodcons prodcons.c ring.c -pthread\n"
    folder = _prodcons(tmp_path, {
        "prodcons.c": source,
        "ring.c": "void ring(void) {}\n",
        "Makefile": makefile,
        "prodcons-O2": "#!/bin/sh\necho a stale file of the student's\n",
    })  # fmt: skip
    result = build.compile(folder, catalog.find("exercise7"), box, makefile=True)
    assert result.ok, result.log
    assert result.errors == ()
    assert (folder / "prodcons").is_file()
    assert not (folder / "prodcons-O2").exists(), "never run a file the student brought"
    why = build.not_built(result, "prodcons-O2")
    assert why is not None, result.warnings
    assert "-O2" in why
    assert "undefined reference to `ring'" in why
    assert "gcc -Wall -std=gnu11 -O2 -o prodcons-O2 prodcons.c -pthread" in why


def test_diagnostics_are_parsed_once(tmp_path: Path, box: sandbox.Sandbox) -> None:
    """gcc's errors, warnings and notes, each with its file, line and column."""
    lines = REFERENCE.read_text().splitlines()
    at = next(i for i, ln in enumerate(lines) if 'perror("error dup2");' in ln)
    lines[at] = lines[at].replace('perror("error dup2");', 'perror("error dup2")')
    lines.insert(0, "static void unused(void) { int x; }")
    source = "\n".join(lines) + "\n"
    result = build.compile(_folder(tmp_path, source), catalog.find("exercise1"), box,
                           makefile=False)  # fmt: skip
    assert not result.ok
    errors = [d for d in result.diagnostics if d.severity == "error"]
    warnings = [d for d in result.diagnostics if d.severity == "warning"]
    assert errors, result.log
    assert all(d.file == "copy.c" for d in result.diagnostics)
    # the missing ';' is seen at the line after it (at + 1 counted from 1, + 1 inserted)
    assert errors[0].line in (at + 2, at + 3)
    assert errors[0].column is not None
    assert "expected" in errors[0].text
    assert any(d.line == 1 and "unused" in d.text for d in warnings)
    # the strings kept as they were, one per error or warning line, notes not among them
    assert len(result.errors) == len(errors)
    assert len(result.warnings) == len(warnings)
    assert str(errors[0]) == result.errors[0]


def test_a_note_is_a_diagnostic_not_an_error(tmp_path: Path, box: sandbox.Sandbox) -> None:
    source = 'int f(int a);\nint main(void) { return f("x"); }\nint f(int a) { return a; }\n'
    result = build.compile(_folder(tmp_path, source), catalog.find("exercise1"), box,
                           makefile=False)  # fmt: skip
    notes = [d for d in result.diagnostics if d.severity == "note"]
    assert notes, result.log
    assert notes[0].file == "copy.c"
    assert notes[0].line == 1
    assert not any("note:" in e for e in (*result.errors, *result.warnings))


def test_a_makefile_diagnostic_is_relative_to_the_submission(
    tmp_path: Path, box: sandbox.Sandbox
) -> None:
    """A Makefile that compiles by absolute path: the diagnostic still names copy.c."""
    makefile = "copy: copy.c\n\tgcc -Wall -o copy $(CURDIR)/copy.c\n"
    source = REFERENCE.read_text().replace("int fd;", "int fd;\n    int unused;")
    folder = _folder(tmp_path, source, makefile)
    result = build.compile(folder, catalog.find("exercise1"), box, makefile=True)
    assert result.ok, result.log
    assert str(folder) in result.log or str(folder.resolve()) in result.log
    assert [(d.file, d.severity) for d in result.diagnostics] == [("copy.c", "warning")]


# -- every gcc run started at once (issue 14): the worker imports pytest meanwhile ----------


def test_every_gcc_run_is_started_before_any_is_waited_for(
    tmp_path: Path, box: sandbox.Sandbox
) -> None:
    """exercise7's two builds (prodcons, prodcons-O2) both run from `start()` on."""
    folder = _prodcons(tmp_path, {"prodcons.c": PRODCONS.read_text()})
    pending = build.start(folder, catalog.find("exercise7"), box, makefile=False)
    assert len(box.runs) == 2  # both forked by start(), none waited for yet
    wait_until(lambda: all(not r.alive for r in box.runs), within_s=60)
    result = pending.finish()
    assert result.ok, result.log
    assert result.command == (
        "gcc -Wall -std=gnu11 -o prodcons prodcons.c -pthread",
        "gcc -Wall -std=gnu11 -O2 -o prodcons-O2 prodcons.c -pthread",
    )
    assert (folder / "prodcons").is_file()
    assert (folder / "prodcons-O2").is_file()


def test_the_duration_ends_when_gcc_ends_not_when_it_is_finished(
    tmp_path: Path, box: sandbox.Sandbox
) -> None:
    """The build's time is gcc's, however long the worker took to come back for it."""
    folder = _folder(tmp_path, REFERENCE.read_text())
    pending = build.start(folder, catalog.find("exercise1"), box, makefile=False)
    wait_until(lambda: not box.runs[0].alive, within_s=60)
    ended = time.monotonic()
    wait_until(lambda: time.monotonic() - ended > 0.3)  # the worker busy elsewhere
    result = pending.finish()
    assert result.ok, result.log
    assert result.duration_s < time.monotonic() - pending.started - 0.2


def test_the_first_failing_build_is_the_builds_result(tmp_path: Path, box: sandbox.Sandbox) -> None:
    """Both builds run at once, but a failure is told as a build one after the other
    would tell it: the first failure in order, its command the last one shown."""
    broken = PRODCONS.read_text().replace("int main(", "int main(void) { return x; }\nint ma1n(")
    folder = _prodcons(tmp_path, {"prodcons.c": broken})
    result = build.compile(folder, catalog.find("exercise7"), box, makefile=False)
    assert (result.ok, result.kind) == (False, "compile")
    assert result.command == ("gcc -Wall -std=gnu11 -o prodcons prodcons.c -pthread",)
    assert result.errors[0].startswith("prodcons.c:")
    assert "-O2" not in result.log
