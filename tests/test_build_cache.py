"""The build cache: what its key reads, what an entry holds and refuses, and a real grade
run twice with the same sources (the second reuses the build) and once more after an edit.

Every test uses a cache folder of its own (tmp_path, or XDG_CACHE_HOME pointed at one):
nothing reads or writes the user's cache.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from grader import build_cache, catalog, session
from grader.build_cache import Cache
from grader.report import SubmissionReport
from grader.results import BuildResult, Outcome
from grader.submission import discover

REPO = Path(__file__).resolve().parent.parent
REFERENCE1 = REPO / "reference" / "exercise1"
NO_TRUNC = REPO / "tests" / "submissions" / "exercise1" / "no_trunc"
EX1 = catalog.find("exercise1")
BUILT = BuildResult(ok=True, command=("gcc", "-o", "copy", "copy.c"), duration_s=0.08)


def _submission(tmp_path: Path, source: Path = REFERENCE1) -> Path:
    folder = tmp_path / "sub"
    shutil.copytree(source, folder, ignore=shutil.ignore_patterns("expect.toml"))
    return folder


def _key(folder: Path, exercise: catalog.Exercise = EX1) -> str | None:
    return build_cache.key(exercise, discover(folder, exercise), "0.test")


# --- the key ------------------------------------------------------------------------------


def test_the_same_sources_give_the_same_key(tmp_path: Path) -> None:
    a = _submission(tmp_path / "a")
    b = _submission(tmp_path / "b")
    assert _key(a) is not None
    assert _key(a) == _key(b)


def test_an_edited_source_changes_the_key(tmp_path: Path) -> None:
    folder = _submission(tmp_path)
    before = _key(folder)
    with (folder / "copy.c").open("a") as f:
        f.write("/* one more line */\n")
    assert _key(folder) != before


def test_a_new_header_changes_the_key(tmp_path: Path) -> None:
    folder = _submission(tmp_path)
    before = _key(folder)
    (folder / "util.h").write_text("#define N 1\n")
    assert _key(folder) != before


def test_other_flags_change_the_key(tmp_path: Path) -> None:
    folder = _submission(tmp_path)
    other = replace(EX1, build=replace(EX1.build, cflags=(*EX1.build.cflags, "-O2")))
    assert _key(folder, other) != _key(folder)


def test_another_grader_version_changes_the_key(tmp_path: Path) -> None:
    sub = discover(_submission(tmp_path), EX1)
    assert build_cache.key(EX1, sub, "1") != build_cache.key(EX1, sub, "2")


def test_editor_files_and_the_built_program_leave_the_key_alone(tmp_path: Path) -> None:
    folder = _submission(tmp_path)
    before = _key(folder)
    for name in (".copy.c.swp", "copy.c~", "#copy.c#", "4913", "copy"):
        (folder / name).write_bytes(b"noise")
    (folder / ".git").mkdir()
    (folder / ".git" / "index").write_bytes(b"noise")
    assert _key(folder) == before


def test_a_makefile_build_is_never_cached(tmp_path: Path) -> None:
    folder = _submission(tmp_path)
    (folder / "Makefile").write_text("copy: copy.c\n\tgcc -o copy copy.c\n")
    assert _key(folder) is None


def test_a_submission_with_files_missing_is_never_cached(tmp_path: Path) -> None:
    folder = tmp_path / "empty"
    folder.mkdir()
    (folder / "notes.txt").write_text("nothing yet\n")
    assert _key(folder) is None


# --- entries ------------------------------------------------------------------------------


def test_an_entry_reads_back_what_was_stored(tmp_path: Path) -> None:
    cache = Cache(tmp_path / "cache")
    assert cache.store("k1", BUILT, {"copy": b"\x7fELF program"})
    entry = cache.lookup("k1")
    assert entry is not None
    assert entry.build == BUILT
    assert dict(entry.programs) == {"copy": b"\x7fELF program"}
    assert cache.lookup("k2") is None


def test_the_cache_folder_is_for_its_user_only(tmp_path: Path) -> None:
    root = tmp_path / "cache"
    Cache(root).store("k1", BUILT, {"copy": b"x"})
    assert (root.stat().st_mode & 0o777) == 0o700
    root.chmod(0o755)
    assert Cache(root).lookup("k1") is not None
    assert (root.stat().st_mode & 0o777) == 0o700  # tightened again before use


def test_a_linked_cache_folder_is_not_used(tmp_path: Path) -> None:
    real = tmp_path / "elsewhere"
    real.mkdir(mode=0o700)
    (tmp_path / "cache").symlink_to(real)
    cache = Cache(tmp_path / "cache")
    assert not cache.store("k1", BUILT, {"copy": b"x"})
    assert list(real.iterdir()) == []


def test_a_failed_build_is_never_kept(tmp_path: Path) -> None:
    cache = Cache(tmp_path / "cache")
    failed = BuildResult(ok=False, kind="compile", errors=("copy.c:1: error: x",))
    assert not cache.store("k1", failed, {"copy": b"x"})
    assert cache.lookup("k1") is None


def test_a_changed_program_in_an_entry_is_a_miss(tmp_path: Path) -> None:
    cache = Cache(tmp_path / "cache")
    cache.store("k1", BUILT, {"copy": b"the program as gcc made it"})
    (tmp_path / "cache" / "k1" / "copy").write_bytes(b"cut sho")
    assert cache.lookup("k1") is None


def test_an_entry_naming_a_path_outside_it_is_a_miss(tmp_path: Path) -> None:
    cache = Cache(tmp_path / "cache")
    cache.store("k1", BUILT, {"copy": b"x"})
    (tmp_path / "cache" / "k1" / "programs.json").write_text('{"../../escape": "00"}')
    assert cache.lookup("k1") is None


def test_the_oldest_entries_go_past_the_limit(tmp_path: Path) -> None:
    cache = Cache(tmp_path / "cache", max_entries=2)
    for i, name in enumerate(("k1", "k2", "k3")):
        assert cache.store(name, BUILT, {"copy": b"x"})
        os.utime(tmp_path / "cache" / name, ns=(i * 10**9, i * 10**9))
    cache.store("k4", BUILT, {"copy": b"x"})
    assert sorted(p.name for p in (tmp_path / "cache").iterdir()) == ["k3", "k4"]


def test_placing_a_program_replaces_a_link_never_writing_through_it(tmp_path: Path) -> None:
    outside = tmp_path / "precious"
    outside.write_bytes(b"keep me")
    dest = tmp_path / "copy-of-submission"
    dest.mkdir()
    (dest / "copy").symlink_to(outside)
    build_cache.place({"copy": b"program"}, dest)
    assert outside.read_bytes() == b"keep me"
    assert not (dest / "copy").is_symlink()
    assert (dest / "copy").read_bytes() == b"program"
    assert os.access(dest / "copy", os.X_OK)


def test_reading_a_program_refuses_a_link_and_a_fifo(tmp_path: Path) -> None:
    (tmp_path / "real").write_bytes(b"x")
    (tmp_path / "link").symlink_to(tmp_path / "real")
    os.mkfifo(tmp_path / "fifo")
    assert build_cache.read_file(tmp_path / "real", 10) == b"x"
    assert build_cache.read_file(tmp_path / "link", 10) is None
    assert build_cache.read_file(tmp_path / "fifo", 10) is None
    assert build_cache.read_file(tmp_path / "real", 0) is None  # past the cap


# --- a real grade, twice ----------------------------------------------------------------


@pytest.fixture
def own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv(build_cache.NO_CACHE_ENV, raising=False)
    return tmp_path / "xdg" / "ipcgrade" / "builds"


def _outcomes(report: SubmissionReport) -> dict[str, Outcome]:
    return {c.id: c.outcome for c in report.checks}


def test_a_second_grade_of_the_same_sources_reuses_the_build(
    tmp_path: Path, own_cache: Path
) -> None:
    folder = _submission(tmp_path)
    cached = session.GradeOptions(cache=True)
    first = session.grade(EX1, discover(folder, EX1), cached)
    assert first.build.ok
    assert not first.build.reused
    assert len(list(own_cache.iterdir())) == 1
    second = session.grade(EX1, discover(folder, EX1), cached)
    assert second.build.reused
    assert _outcomes(second) == _outcomes(first)
    assert set(_outcomes(second).values()) == {Outcome.PASSED}
    assert "reused" not in second.to_dict()["build"]  # schema 2 as it was

    shutil.copy(NO_TRUNC / "copy.c", folder / "copy.c")  # an edit: gcc runs again
    third = session.grade(EX1, discover(folder, EX1), cached)
    assert not third.build.reused
    failed = {i.split("/")[-1] for i, o in _outcomes(third).items() if o is Outcome.FAILED}
    assert failed == {"test_truncates_longer_dest"}


def test_no_cache_by_default_nor_when_the_environment_says_so(
    tmp_path: Path, own_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = _submission(tmp_path)
    session.grade(EX1, discover(folder, EX1), session.GradeOptions())
    monkeypatch.setenv(build_cache.NO_CACHE_ENV, "1")
    again = session.grade(EX1, discover(folder, EX1), session.GradeOptions(cache=True))
    assert not again.build.reused
    assert not own_cache.exists() or not list(own_cache.iterdir())
