"""grader/unpack.py: archives unpack inside their target or not at all, with a clear error."""

from __future__ import annotations

import io
import stat
import tarfile
import zipfile
from pathlib import Path

import pytest

from grader.errors import UsageError
from grader.unpack import Limits, archive_stem, is_archive, unpack


def _zip(path: Path, members: dict[str, bytes], *, modes: dict[str, int] | None = None) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            info = zipfile.ZipInfo(name)
            info.compress_type = zipfile.ZIP_DEFLATED
            if modes and name in modes:
                info.create_system = 3
                info.external_attr = modes[name] << 16
            zf.writestr(info, data)
    return path


def _tar(path: Path, members: list[tarfile.TarInfo], data: dict[str, bytes] | None = None) -> Path:
    with tarfile.open(path, "w:gz") as tf:
        for m in members:
            body = (data or {}).get(m.name, b"")
            if m.isreg():
                m.size = len(body)
            tf.addfile(m, io.BytesIO(body) if m.isreg() else None)
    return path


def _member(name: str, kind: bytes = tarfile.REGTYPE, link: str = "") -> tarfile.TarInfo:
    m = tarfile.TarInfo(name)
    m.type = kind
    m.linkname = link
    return m


def _nothing_outside(tmp_path: Path, before: set[Path]) -> None:
    assert set(tmp_path.rglob("*")) - {tmp_path / "out"} <= before | set(
        (tmp_path / "out").rglob("*")
    )
    assert not (tmp_path / "out").exists()  # a refused archive leaves no half-unpacked folder


def test_a_good_zip_and_tar_unpack_with_their_folders(tmp_path: Path) -> None:
    z = _zip(tmp_path / "alice.zip", {"exercise2/pipe.c": b"int main;", "exercise1/": b""})
    unpack(z, tmp_path / "z")
    assert (tmp_path / "z/exercise2/pipe.c").read_bytes() == b"int main;"
    assert (tmp_path / "z/exercise1").is_dir()
    t = _tar(tmp_path / "bob.tgz", [_member("exercise2/pipe.c")], {"exercise2/pipe.c": b"x"})
    unpack(t, tmp_path / "t")
    assert (tmp_path / "t/exercise2/pipe.c").read_bytes() == b"x"


def test_archive_names() -> None:
    assert archive_stem("alice.tar.gz") == "alice"
    assert archive_stem("Bob.TGZ") == "Bob"
    assert archive_stem("carol.zip") == "carol"
    assert archive_stem("pipe.c") == "pipe.c"
    assert archive_stem(".zip") == ".zip"


def test_is_archive_needs_a_file(tmp_path: Path) -> None:
    (tmp_path / "d.zip").mkdir()
    (tmp_path / "f.zip").write_bytes(b"")
    assert not is_archive(tmp_path / "d.zip")
    assert is_archive(tmp_path / "f.zip")


@pytest.mark.parametrize("name", ["../evil.c", "a/../../evil.c", "/tmp/evil.c", "C:/evil.c"])
def test_zip_path_traversal_is_refused(tmp_path: Path, name: str) -> None:
    before = set(tmp_path.rglob("*"))
    z = _zip(tmp_path / "bad.zip", {"ok.c": b"", name: b"evil"})
    with pytest.raises(UsageError) as e:
        unpack(z, tmp_path / "out")
    assert "bad.zip" in e.value.message
    assert repr(name) in e.value.message
    _nothing_outside(tmp_path, before | {z})


@pytest.mark.parametrize("name", ["../evil.c", "/tmp/evil.c"])
def test_tar_path_traversal_is_refused(tmp_path: Path, name: str) -> None:
    before = set(tmp_path.rglob("*"))
    t = _tar(tmp_path / "bad.tar.gz", [_member(name)], {name: b"evil"})
    with pytest.raises(UsageError) as e:
        unpack(t, tmp_path / "out")
    assert "bad.tar.gz" in e.value.message
    assert name in e.value.message
    _nothing_outside(tmp_path, before | {t})


def test_zip_symlink_member_is_refused(tmp_path: Path) -> None:
    z = _zip(
        tmp_path / "ln.zip", {"pipe.c": b"/etc/passwd"}, modes={"pipe.c": stat.S_IFLNK | 0o777}
    )
    with pytest.raises(UsageError, match=r"ln\.zip.*'pipe\.c'.*symbolic link"):
        unpack(z, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_zip_fifo_member_is_refused(tmp_path: Path) -> None:
    z = _zip(tmp_path / "f.zip", {"fifo": b""}, modes={"fifo": stat.S_IFIFO | 0o644})
    with pytest.raises(UsageError, match=r"f\.zip.*'fifo'.*FIFO"):
        unpack(z, tmp_path / "out")


@pytest.mark.parametrize(
    ("kind", "link"),
    [(tarfile.SYMTYPE, "/etc/passwd"), (tarfile.LNKTYPE, "exercise2/real.c")],
    ids=["symlink", "hardlink"],
)
def test_tar_link_members_are_refused(tmp_path: Path, kind: bytes, link: str) -> None:
    t = _tar(
        tmp_path / "ln.tar.gz",
        [_member("exercise2/real.c"), _member("exercise2/pipe.c", kind, link)],
        {"exercise2/real.c": b"x"},
    )
    with pytest.raises(UsageError, match=r"ln\.tar\.gz.*'exercise2/pipe\.c'.*link"):
        unpack(t, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_tar_device_member_is_refused(tmp_path: Path) -> None:
    t = _tar(tmp_path / "dev.tar.gz", [_member("null", tarfile.CHRTYPE)])
    with pytest.raises(UsageError, match=r"dev\.tar\.gz.*'null'.*device"):
        unpack(t, tmp_path / "out")


def test_zip_bomb_by_ratio_is_refused(tmp_path: Path) -> None:
    z = _zip(tmp_path / "bomb.zip", {"zeros": bytes(8 << 20)})  # 8 MiB of zeros: ~1000:1
    with pytest.raises(UsageError, match=r"bomb\.zip.*'zeros'.*compressed more than"):
        unpack(z, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_zip_bomb_by_member_count_is_refused(tmp_path: Path) -> None:
    z = _zip(tmp_path / "many.zip", {f"f{i}": b"" for i in range(50)})
    with pytest.raises(UsageError, match=r"many\.zip holds 50 members"):
        unpack(z, tmp_path / "out", Limits(max_members=40))


def test_tar_bomb_by_total_size_is_refused(tmp_path: Path) -> None:
    t = _tar(tmp_path / "big.tgz", [_member("a")], {"a": bytes(3 << 20)})
    with pytest.raises(UsageError, match=r"big\.tgz.*'a'"):
        unpack(t, tmp_path / "out", Limits(max_total=2 << 20))


def test_zip_past_the_total_size_is_refused(tmp_path: Path) -> None:
    z = _zip(tmp_path / "big.zip", {"a": b"x" * 3000, "b": b"y" * 3000})
    with pytest.raises(UsageError, match=r"big\.zip.*'b'.*unpacked"):
        unpack(z, tmp_path / "out", Limits(max_total=5000))


@pytest.mark.parametrize("name", ["broken.zip", "broken.tar.gz"])
def test_a_corrupt_archive_is_a_clear_error(tmp_path: Path, name: str) -> None:
    bad = tmp_path / name
    bad.write_bytes(b"PK\x03\x04 this is not really an archive")
    with pytest.raises(UsageError, match=rf"{name.replace('.', '[.]')} cannot be read"):
        unpack(bad, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_a_truncated_zip_is_a_clear_error(tmp_path: Path) -> None:
    z = _zip(tmp_path / "cut.zip", {"pipe.c": b"int main(void){return 0;}" * 100})
    z.write_bytes(z.read_bytes()[:60])
    with pytest.raises(UsageError, match=r"cut\.zip cannot be read"):
        unpack(z, tmp_path / "out")


def test_tar_member_through_a_symlinked_parent_is_refused(tmp_path: Path) -> None:
    t = _tar(
        tmp_path / "via.tar.gz",
        [_member("d", tarfile.SYMTYPE, str(tmp_path)), _member("d/escaped.c")],
        {"d/escaped.c": b"x"},
    )
    with pytest.raises(UsageError, match=r"via\.tar\.gz.*'d'.*link"):
        unpack(t, tmp_path / "out")
    assert not (tmp_path / "escaped.c").exists()


def test_tar_bomb_by_member_count_is_refused(tmp_path: Path) -> None:
    t = _tar(tmp_path / "many.tar.gz", [_member(f"f{i}") for i in range(50)])
    with pytest.raises(UsageError, match=r"many\.tar\.gz holds more than 40 members"):
        unpack(t, tmp_path / "out", Limits(max_members=40))
