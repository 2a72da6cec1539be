"""grader/classfolder.py: each layout recognised, students named right, problems said."""

from __future__ import annotations

import io
import shutil
import tarfile
import zipfile
from pathlib import Path

import pytest

from grader.classfolder import ClassFolder, find
from grader.errors import UsageError

EXAMPLE_CLASS = Path(__file__).parent.parent / "examples" / "class"


def _write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def _zip_folder(folder: Path, dest: Path) -> Path:
    with zipfile.ZipFile(dest, "w") as zf:
        for p in sorted(folder.rglob("*")):
            if p.is_file():
                zf.write(p, p.relative_to(folder).as_posix())
    return dest


def _students(found: ClassFolder) -> list[str]:
    return [e.student for e in found.entries]


def test_plain_folders(tmp_path: Path) -> None:
    cls = _write(
        tmp_path / "cls",
        {
            "s1001/exercise2/pipe.c": "a",
            "s1002/pipe.c": "b",
            "notes.txt": "stray",
            ".DS_Store": "noise",
        },
    )
    (cls / "s1003").mkdir()
    found = find(cls, tmp_path / "work")
    assert found.layout == "folders"
    assert _students(found) == ["s1001", "s1002"]
    assert found.entries[0].path == cls / "s1001"
    assert any("notes.txt" in p for p in found.problems)
    assert any("s1003" in p and "empty" in p for p in found.problems)
    assert not any("DS_Store" in p for p in found.problems)


def test_archives_one_per_student(tmp_path: Path) -> None:
    src = _write(tmp_path / "src", {"alice/exercise2/pipe.c": "a", "bob/pipe.c": "b"})
    cls = tmp_path / "cls"
    cls.mkdir()
    _zip_folder(src / "alice", cls / "alice.zip")
    with tarfile.open(cls / "bob.tar.gz", "w:gz") as tf:
        tf.add(src / "bob", arcname="bob")  # wrapped in its own folder: unwrapped
    (cls / "carol.zip").write_bytes(b"not a zip")
    found = find(cls, tmp_path / "work")
    assert found.layout == "archives"
    assert _students(found) == ["alice", "bob"]
    assert (found.entries[0].path / "exercise2/pipe.c").read_text() == "a"
    assert (found.entries[1].path / "pipe.c").read_text() == "b"
    assert all(tmp_path / "work" in e.path.parents for e in found.entries)
    assert any("carol.zip" in p and "cannot be read" in p for p in found.problems)


def test_a_hostile_student_archive_is_skipped_not_fatal(tmp_path: Path) -> None:
    cls = tmp_path / "cls"
    cls.mkdir()
    with zipfile.ZipFile(cls / "mallory.zip", "w") as zf:
        zf.writestr("../../escaped.c", "x")
    _zip_folder(_write(tmp_path / "src", {"pipe.c": "a"}), cls / "alice.zip")
    found = find(cls, tmp_path / "work")
    assert _students(found) == ["alice"]
    assert any("mallory.zip" in p and "../../escaped.c" in p for p in found.problems)
    assert not list(tmp_path.rglob("escaped.c"))


def test_moodle_folders(tmp_path: Path) -> None:
    cls = _write(
        tmp_path / "moodle",
        {
            "Ada Lovelace_123456_assignsubmission_file_/exercise2/pipe.c": "a",
            "Alan Turing_123457_assignsubmission_file_/pipe.c": "b",
            "Alan Turing_123457_assignsubmission_onlinetext_/onlinetext.html": "<p>hi</p>",
            "Grace Hopper_123458_assignsubmission_onlinetext_/onlinetext.html": "<p>x</p>",
        },
    )
    found = find(cls, tmp_path / "work")
    assert found.layout == "moodle"
    assert _students(found) == ["123456", "123457", "123458"]
    assert [e.name for e in found.entries] == ["Ada Lovelace", "Alan Turing", "Grace Hopper"]
    assert found.entries[1].path.name.endswith("_assignsubmission_file_")
    assert any("Alan Turing_123457_assignsubmission_onlinetext_" in p for p in found.problems)
    assert any("123458" in p and "online text only" in p for p in found.problems)


def test_moodle_student_upload_zip_is_unpacked(tmp_path: Path) -> None:
    cls = tmp_path / "moodle"
    sub = cls / "Ada Lovelace_123456_assignsubmission_file_"
    sub.mkdir(parents=True)
    _zip_folder(_write(tmp_path / "repo", {"exercise2/pipe.c": "a"}), sub / "repo.zip")
    found = find(cls, tmp_path / "work")
    assert (found.entries[0].path / "exercise2/pipe.c").read_text() == "a"


def test_moodle_flat_files(tmp_path: Path) -> None:
    cls = _write(
        tmp_path / "flat",
        {
            "Ada Lovelace_123456_assignsubmission_file_pipe.c": "a",
            "Ada Lovelace_123456_assignsubmission_file_Makefile": "m",
        },
    )
    found = find(cls, tmp_path / "work")
    assert found.layout == "moodle"
    assert _students(found) == ["123456"]
    assert sorted(p.name for p in found.entries[0].path.iterdir()) == ["Makefile", "pipe.c"]


def test_moodle_download_zipped_as_a_whole(tmp_path: Path) -> None:
    src = _write(
        tmp_path / "src",
        {
            "Ada Lovelace_123456_assignsubmission_file_/pipe.c": "a",
            "Alan Turing_123457_assignsubmission_file_/pipe.c": "b",
        },
    )
    archive = _zip_folder(src, tmp_path / "IPC-exercise2-1234.zip")
    found = find(archive, tmp_path / "work")
    assert found.layout == "moodle"
    assert _students(found) == ["123456", "123457"]


def test_canvas_flat_zip(tmp_path: Path) -> None:
    src = _write(
        tmp_path / "src",
        {
            "lovelaceada_4001_90001_pipe.c": "old",
            "lovelaceada_4001_90002_pipe-1.c": "new",
            "lovelaceada_4001_90003_Makefile": "m",
            "turingalan_LATE_4002_90004_pipe.c": "b",
            "anon_x7Yq2_90005_pipe.c": "c",
            "hopper grace_4003_text.html": "<p>",
            "hoppergrace_4003_text.html": "<p>",
        },
    )
    found = find(_zip_folder(src, tmp_path / "submissions.zip"), tmp_path / "work")
    assert found.layout == "canvas"
    assert _students(found) == ["4001", "4002", "anon_x7Yq2"]
    ada = found.entries[0]
    assert ada.name == "lovelaceada"
    assert sorted(p.name for p in ada.path.iterdir()) == ["Makefile", "pipe.c"]
    assert (ada.path / "pipe.c").read_text() == "new"  # pipe-1.c is the later upload
    assert any("lovelaceada_4001_90001_pipe.c" in p for p in found.problems)
    assert any("hoppergrace_4003_text.html" in p and "online text" in p for p in found.problems)


def test_canvas_student_zip_is_unpacked(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    _zip_folder(_write(tmp_path / "repo", {"exercise2/pipe.c": "a"}), src / "x.zip")
    (src / "x.zip").rename(src / "lovelaceada_4001_90001_repo.zip")
    found = find(_zip_folder(src, tmp_path / "submissions.zip"), tmp_path / "work")
    assert found.layout == "canvas"
    assert (found.entries[0].path / "exercise2/pipe.c").read_text() == "a"


def test_github_classroom_clones(tmp_path: Path) -> None:
    root = tmp_path / "ipc-pipes-submissions"
    cls = _write(
        root,
        {
            "ipc-pipes-octocat/exercise2/pipe.c": "a",
            "ipc-pipes-mona-lisa/exercise2/pipe.c": "b",
            "ipc-pipes-mona-lisa/.git/HEAD": "ref",
        },
    )
    found = find(cls, tmp_path / "work")
    assert found.layout == "github-classroom"
    assert _students(found) == ["mona-lisa", "octocat"]


def test_github_classroom_clones_by_their_git_folders(tmp_path: Path) -> None:
    cls = _write(
        tmp_path / "anywhere",
        {
            "hw2-pipe-octocat/.git/HEAD": "ref",
            "hw2-pipe-octocat/pipe.c": "a",
            "hw2-pipe-hubot/.git/HEAD": "ref",
            "hw2-pipe-hubot/pipe.c": "b",
        },
    )
    found = find(cls, tmp_path / "work")
    assert found.layout == "github-classroom"
    assert _students(found) == ["hubot", "octocat"]


def test_folders_with_a_shared_prefix_but_no_git_stay_folders(tmp_path: Path) -> None:
    cls = _write(tmp_path / "cls", {"ab-12/pipe.c": "a", "ab-13/pipe.c": "b"})
    found = find(cls, tmp_path / "work")
    assert found.layout == "folders"
    assert _students(found) == ["ab-12", "ab-13"]


def test_a_folder_and_an_archive_for_one_student(tmp_path: Path) -> None:
    cls = _write(tmp_path / "cls", {"alice/pipe.c": "folder"})
    _zip_folder(_write(tmp_path / "src", {"pipe.c": "zip"}), cls / "alice.zip")
    _zip_folder(_write(tmp_path / "src2", {"pipe.c": "bob"}), cls / "bob.zip")
    found = find(cls, tmp_path / "work")
    assert _students(found) == ["alice", "bob"]
    assert (found.entries[0].path / "pipe.c").read_text() == "folder"
    assert any("alice" in p and "already has" in p for p in found.problems)


def test_no_submission_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(UsageError, match="holds no submission"):
        find(tmp_path / "empty", tmp_path / "work")
    with pytest.raises(UsageError, match="is no folder or archive"):
        find(tmp_path / "missing", tmp_path / "work")


def test_a_hostile_class_archive_is_a_usage_error(tmp_path: Path) -> None:
    buf = tmp_path / "class.tar.gz"
    with tarfile.open(buf, "w:gz") as tf:
        info = tarfile.TarInfo("alice/pipe.c")
        info.type = tarfile.SYMTYPE
        info.linkname = "/etc/shadow"
        tf.addfile(info, io.BytesIO(b""))
    with pytest.raises(UsageError, match=r"class\.tar\.gz.*alice/pipe\.c"):
        find(buf, tmp_path / "work")


def test_the_bundled_example_class(tmp_path: Path) -> None:
    work = tmp_path / "work"
    found = find(EXAMPLE_CLASS, work)
    assert found.layout == "moodle"
    assert found.problems == ()
    assert len(found.entries) == len(list(EXAMPLE_CLASS.iterdir()))
    assert [(e.student, e.name) for e in found.entries] == [
        ("100001", "Ada Lovelace"),
        ("100002", "Alan Turing"),
        ("100003", "Grace Hopper"),
        ("100004", "Edsger Dijkstra"),
        ("100005", "Barbara Liskov"),
        ("100006", "Dennis Ritchie"),
        ("100007", "Ken Thompson"),
        ("100008", "Margaret Hamilton"),
    ]
    assert not work.exists()  # plain folders are graded where they are, not copied
    for e in found.entries:
        assert any(e.path.glob("exercise*/*.c")), e
    shutil.rmtree(work, ignore_errors=True)
