"""Tests for grader.submission: finding a student's files and copying them to scratch."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from grader import catalog, submission
from grader.catalog import Exercise
from grader.errors import ExitCode, SubmissionError
from grader.submission import Submission, copy_into, discover

SOURCE = "int main(void) { return 0; }\n"


@pytest.fixture
def ex1() -> Exercise:
    return catalog.find("exercise1")


def _files(folder: Path, *names: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(SOURCE)
    return folder


# --- discover: where the files are ------------------------------------------------------


def test_repo_root_holding_the_exercise_folder(tmp_path: Path, ex1: Exercise) -> None:
    _files(tmp_path / "exercise1", "copy.c")
    _files(tmp_path / "exercise2", "pipe.c")
    sub = discover(tmp_path, ex1)
    assert sub.path == tmp_path
    assert sub.folder == tmp_path / "exercise1"
    assert sub.found == ("copy.c",)
    assert sub.missing == ()
    assert sub.problems == ()
    assert sub.complete
    assert not sub.makefile


def test_the_exercise_folder_itself(tmp_path: Path, ex1: Exercise) -> None:
    folder = _files(tmp_path / "exercise1", "copy.c")
    sub = discover(folder, ex1)
    assert sub.folder == folder
    assert sub.found == ("copy.c",)
    assert sub.complete


def test_repo_root_holding_the_short_name_folder(tmp_path: Path, ex1: Exercise) -> None:
    _files(tmp_path / "copy", "copy.c")
    sub = discover(tmp_path, ex1)
    assert sub.folder == tmp_path / "copy"
    assert sub.complete


def test_the_short_name_folder_itself(tmp_path: Path, ex1: Exercise) -> None:
    folder = _files(tmp_path / "copy", "copy.c")
    sub = discover(folder, ex1)
    assert sub.folder == folder
    assert sub.complete


def test_files_at_the_top_win_over_a_subfolder_of_the_same_name(
    tmp_path: Path, ex1: Exercise
) -> None:
    _files(tmp_path, "copy.c", "exercise1/notes.txt")
    sub = discover(tmp_path, ex1)
    assert sub.folder == tmp_path
    assert sub.complete


# --- discover: what is wrong ------------------------------------------------------------


def test_a_misnamed_file_is_missing_and_named(tmp_path: Path, ex1: Exercise) -> None:
    sub = discover(_files(tmp_path, "main.c"), ex1)
    assert sub.missing == ("copy.c",)
    assert sub.found == ()
    assert not sub.complete
    assert "found main.c; this exercise expects copy.c" in sub.problems


def test_a_case_mismatch_says_names_are_case_sensitive(tmp_path: Path, ex1: Exercise) -> None:
    sub = discover(_files(tmp_path, "Copy.c"), ex1)
    assert sub.missing == ("copy.c",)
    assert len(sub.problems) == 1
    problem = sub.problems[0]
    assert "Copy.c" in problem
    assert "case-sensitive" in problem
    assert "rename it to copy.c" in problem


def test_a_cpp_file_is_named_as_cpp_once(tmp_path: Path, ex1: Exercise) -> None:
    sub = discover(_files(tmp_path, "copy.cpp"), ex1)
    assert sub.missing == ("copy.c",)
    assert len(sub.problems) == 1, sub.problems
    assert "copy.cpp" in sub.problems[0]
    assert "C++" in sub.problems[0]
    assert "copy.c" in sub.problems[0].replace("copy.cpp", "")


def test_another_language_beside_a_complete_submission_is_noted(
    tmp_path: Path, ex1: Exercise
) -> None:
    sub = discover(_files(tmp_path, "copy.c", "helper.py"), ex1)
    assert sub.complete
    assert len(sub.problems) == 1
    assert "helper.py" in sub.problems[0]
    assert "Python" in sub.problems[0]


def test_a_file_in_a_subfolder_should_move_to_the_top(tmp_path: Path, ex1: Exercise) -> None:
    sub = discover(_files(tmp_path, "src/copy.c"), ex1)
    assert sub.missing == ("copy.c",)
    assert len(sub.problems) == 1
    assert "src/copy.c" in sub.problems[0]
    assert "move it to the top" in sub.problems[0]


@pytest.mark.parametrize("folder", ["ex2", "Exercise_2", "tp02", "pipe-lab"])
def test_a_folder_named_otherwise_is_told_its_right_name(tmp_path: Path, folder: str) -> None:
    sub = discover(_files(tmp_path / folder, "pipe.c").parent, catalog.find("pipe"))
    assert sub.missing == ("pipe.c",)
    [problem] = sub.problems
    assert f"found {folder}/pipe.c" in problem
    assert "should be named exercise2/" in problem
    assert f"grade exercise2 {tmp_path / folder}" in problem
    assert "move it to the top" not in problem


def test_a_subfolder_of_the_exercise_folder_should_move_to_its_top(tmp_path: Path) -> None:
    _files(tmp_path / "exercise2", "src/pipe.c")
    sub = discover(tmp_path, catalog.find("pipe"))
    assert sub.folder == tmp_path / "exercise2"
    assert sub.problems == ("found src/pipe.c; move it to the top of exercise2/",)


def test_another_exercises_files_are_named_once_with_the_command(tmp_path: Path) -> None:
    _files(tmp_path, "creator.c", "sender.c", "receiver.c")
    sub = discover(tmp_path, catalog.find("pipe"))
    assert sub.missing == ("pipe.c",)
    [problem] = sub.problems
    assert "creator.c, sender.c, receiver.c" in problem
    assert "exercise4" in problem
    assert "msgqueue" in problem
    assert "expects pipe.c" in problem
    assert f"grade exercise4 {tmp_path}" in problem


def test_a_suggested_command_is_relative_to_the_current_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _files(tmp_path / "ex2", "pipe.c")
    _files(tmp_path / "mine", "creator.c")
    monkeypatch.chdir(tmp_path)
    assert "grade exercise2 ex2" in discover(Path.cwd(), catalog.find("pipe")).problems[0]
    assert discover(Path("mine"), catalog.find("pipe")).problems[0].endswith("grade exercise4 mine")
    monkeypatch.chdir(tmp_path / "mine")
    assert discover(Path.cwd(), catalog.find("pipe")).problems[0].endswith("type: grade exercise4")


def test_several_misnamed_files_are_named_in_one_message(tmp_path: Path) -> None:
    sub = discover(_files(tmp_path, "main.c", "util.c"), catalog.find("shm"))
    assert sub.problems == ("found main.c, util.c; this exercise expects writer.c, reader.c",)


@pytest.mark.parametrize(
    ("exercise", "files"),
    [
        ("pipe", ["creator.c", "sender.c", "receiver.c"]),
        ("shm", ["creator.c", "sender.c", "main.c", "Reader.c"]),
        ("shm", ["ex5/writer.c", "ex5/reader.c", "main.c"]),
        ("mmap", ["src/filemap.c", "src/forkmap.c", "lib/forkmap.c", "copy.c", "pipe.c"]),
        ("msgqueue", ["creator.cpp", "sender.py", "receiver.c", "a.c", "b.c"]),
    ],
)
def test_no_message_is_repeated(tmp_path: Path, exercise: str, files: list[str]) -> None:
    sub = discover(_files(tmp_path, *files), catalog.find(exercise))
    assert sub.problems
    assert len(set(sub.problems)) == len(sub.problems), sub.problems
    for name in files:
        saying = [p for p in sub.problems if re.search(rf"(?<![\w/.]){re.escape(name)}\b", p)]
        assert len(saying) <= 1, (name, sub.problems)


def test_an_empty_folder_says_nothing_was_found(tmp_path: Path, ex1: Exercise) -> None:
    sub = discover(tmp_path, ex1)
    assert sub.missing == ("copy.c",)
    assert sub.found == ()
    assert len(sub.problems) == 1
    assert "copy.c" in sub.problems[0]
    assert "no files" in sub.problems[0]


def test_version_control_folders_are_not_looked_into(tmp_path: Path, ex1: Exercise) -> None:
    sub = discover(_files(tmp_path, ".git/copy.c"), ex1)
    assert sub.missing == ("copy.c",)
    assert not any(".git" in p for p in sub.problems), sub.problems


@pytest.mark.parametrize("name", ["Makefile", "makefile", "GNUmakefile"])
def test_a_makefile_is_noticed(tmp_path: Path, ex1: Exercise, name: str) -> None:
    sub = discover(_files(tmp_path, "copy.c", name), ex1)
    assert sub.makefile
    assert sub.complete


# --- discover: paths that cannot be graded ----------------------------------------------


def test_a_path_that_does_not_exist(tmp_path: Path, ex1: Exercise) -> None:
    gone = tmp_path / "nowhere"
    with pytest.raises(SubmissionError) as info:
        discover(gone, ex1)
    assert info.value.exit_code == ExitCode.USAGE == 2
    assert str(gone) in info.value.message
    assert "does not exist" in info.value.message


def test_a_path_that_is_a_file(tmp_path: Path, ex1: Exercise) -> None:
    file = tmp_path / "copy.c"
    file.write_text(SOURCE)
    with pytest.raises(SubmissionError) as info:
        discover(file, ex1)
    assert info.value.exit_code == 2
    assert str(file) in info.value.message
    assert "not a folder" in info.value.message


def test_an_unreadable_folder(tmp_path: Path, ex1: Exercise) -> None:
    folder = _files(tmp_path / "locked", "copy.c")
    folder.chmod(0)
    try:
        if os.access(folder, os.R_OK | os.X_OK):
            pytest.skip("a folder with mode 000 is still readable here (running as root)")
        with pytest.raises(SubmissionError) as info:
            discover(folder, ex1)
        assert info.value.exit_code == 2
        assert "permission denied" in info.value.message
    finally:
        folder.chmod(0o755)


@pytest.mark.parametrize("locked", ["path", "exercise1"])
def test_permission_denied_is_reported_even_as_root(
    tmp_path: Path, ex1: Exercise, monkeypatch: pytest.MonkeyPatch, locked: str
) -> None:
    """Root reads every folder, so os.access is faked: the message is what is tested."""
    _files(tmp_path / "exercise1", "copy.c")
    target = tmp_path if locked == "path" else tmp_path / "exercise1"
    real_access = os.access

    def access(path: str | os.PathLike[str], mode: int, **kw: object) -> bool:
        if Path(path) == target:
            return False
        return real_access(path, mode, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(submission.os, "access", access)
    with pytest.raises(SubmissionError) as info:
        discover(tmp_path, ex1)
    assert info.value.exit_code == 2
    assert str(target) in info.value.message
    assert "permission denied" in info.value.message


# --- copy_into --------------------------------------------------------------------------


def test_copy_into_copies_files_subfolders_and_links(tmp_path: Path, ex1: Exercise) -> None:
    src = _files(tmp_path / "src", "copy.c", "lib/util.h", ".git/HEAD")
    (src / "run.sh").write_text("#!/bin/sh\n")
    (src / "run.sh").chmod(0o755)
    (src / "alias.c").symlink_to("copy.c")
    outside = tmp_path / "secret.txt"
    outside.write_text("not for the sandbox\n")
    (src / "escape").symlink_to(outside)
    dest = tmp_path / "dest"
    dest.mkdir()

    copy_into(discover(src, ex1), dest)

    assert (dest / "copy.c").read_text() == SOURCE
    assert (dest / "lib" / "util.h").read_text() == SOURCE
    assert not (dest / ".git").exists()
    assert os.access(dest / "run.sh", os.X_OK)
    # links stay links, pointing where they pointed: never the target's contents copied
    assert (dest / "alias.c").is_symlink()
    assert os.readlink(dest / "alias.c") == "copy.c"
    assert (dest / "escape").is_symlink()
    assert os.readlink(dest / "escape") == str(outside)


def test_copy_into_makes_the_folder_of_an_empty_submission(tmp_path: Path, ex1: Exercise) -> None:
    src = tmp_path / "src"
    (src / "empty").mkdir(parents=True)
    dest = tmp_path / "scratch" / "box" / "submission"
    copy_into(discover(src, ex1), dest)
    assert dest.is_dir()
    assert list(dest.iterdir()) == []


def test_copy_into_refuses_too_many_files(tmp_path: Path, ex1: Exercise) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "copy.c").write_text(SOURCE)
    for i in range(submission.MAX_FILES + 1):
        (src / f"f{i:04}.txt").touch()
    dest = tmp_path / "dest"
    dest.mkdir()
    with pytest.raises(SubmissionError) as info:
        copy_into(discover(src, ex1), dest)
    assert info.value.exit_code == 2
    assert f"more than {submission.MAX_FILES} files" in info.value.message
    assert list(dest.iterdir()) == []


def test_copy_into_refuses_too_many_bytes(tmp_path: Path, ex1: Exercise) -> None:
    src = _files(tmp_path / "src", "copy.c")
    with open(src / "big.dat", "wb") as f:
        f.truncate(submission.MAX_BYTES + 1)  # sparse: no real disk used, nothing read
    dest = tmp_path / "dest"
    dest.mkdir()
    sub = discover(src, ex1)
    assert isinstance(sub, Submission)
    with pytest.raises(SubmissionError) as info:
        copy_into(sub, dest)
    assert info.value.exit_code == 2
    assert "MiB" in info.value.message
