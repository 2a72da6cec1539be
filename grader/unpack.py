"""Unpack a student's or a class's archive, refusing anything that could escape or explode.

Tar archives go through Python's own extraction filter (`filter="data"`, PEP 706): it
refuses absolute paths, `..`, links leaving the target and device files. We add what it
lacks: no links at all, and caps on members, total size and compression ratio.

Zip archives have no such filter in the standard library, so the checks are written here.
We looked for a library first (PyPI, 2026-12): `safezip` (0.2) and `pagonic` (0.5) are
young 0.x releases with no track record, `defusezip` only inspects and calls itself a work
in progress; the checks below are short and tested (tests/test_unpack.py), so we keep them.
"""

from __future__ import annotations

import os
import shutil
import stat
import tarfile
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO

from grader.errors import UsageError

ARCHIVE_SUFFIXES = (".zip", ".tar.gz", ".tgz", ".tar")
_CHUNK = 1 << 16


@dataclass(frozen=True)
class Limits:
    """What one archive may hold; a class of C sources is far below every cap."""

    max_members: int = 20_000
    max_total: int = 512 << 20  # bytes, uncompressed, all members together
    max_ratio: int = 200  # uncompressed / compressed, for members past ratio_floor
    ratio_floor: int = 1 << 20  # small members may compress well (a file of spaces)


def is_archive(path: Path) -> bool:
    """Whether `path` is a file we can unpack, by its name."""
    return path.is_file() and archive_stem(path.name) != path.name


def archive_stem(name: str) -> str:
    """`name` without its archive suffix (`alice.tar.gz` → `alice`); unchanged otherwise."""
    lower = name.lower()
    for suffix in ARCHIVE_SUFFIXES:
        if lower.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


def unpack(archive: Path, target: Path, limits: Limits = Limits()) -> None:
    """Unpack `archive` into the new folder `target`.

    Raises:
        UsageError: the archive is corrupt or holds a member we refuse; `target` is removed.
    """
    target.mkdir(parents=True, exist_ok=False)
    try:
        if archive.name.lower().endswith(".zip"):
            _unzip(archive, target, limits)
        else:
            _untar(archive, target, limits)
    except BaseException:
        shutil.rmtree(target, ignore_errors=True)
        raise


def _refuse(archive: Path, member: str, why: str) -> UsageError:
    return UsageError(f"{archive}: refused member {member!r}: {why}; nothing was unpacked from it.")


def _corrupt(archive: Path, error: BaseException) -> UsageError:
    return UsageError(f"{archive} cannot be read as an archive ({error}); is it complete?")


def _safe_parts(archive: Path, name: str) -> tuple[str, ...]:
    """The member's path parts, refusing absolute paths, `..` and other oddities."""
    if not name or "\x00" in name:
        raise _refuse(archive, name, "an empty or NUL-holding name")
    if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        raise _refuse(archive, name, "an absolute path")
    parts = tuple(p for p in PurePosixPath(name.replace("\\", "/")).parts if p != ".")
    if ".." in parts:
        raise _refuse(archive, name, "a path leaving the archive's folder (`..`)")
    if not parts:
        raise _refuse(archive, name, "a name that is no path")
    return parts


def _inside(target: Path, dest: Path) -> bool:
    real_target = os.path.realpath(target)
    return os.path.commonpath([real_target, os.path.realpath(dest)]) == real_target


def _unzip(archive: Path, target: Path, limits: Limits) -> None:
    try:
        with zipfile.ZipFile(archive) as zf:
            infos = zf.infolist()
            _check_zip(archive, infos, limits)
            written = 0
            for info in infos:
                dest = target.joinpath(*_safe_parts(archive, info.filename))
                if not _inside(target, dest.parent):
                    raise _refuse(archive, info.filename, "a path through a link")
                if info.is_dir():
                    dest.mkdir(parents=True, exist_ok=True)
                    continue
                dest.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(info) as src, open(dest, "xb") as out:
                    written = _copy(archive, info.filename, src, out, written, limits)
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as e:
        raise _corrupt(archive, e) from None
    except FileExistsError:
        raise UsageError(f"{archive}: a member is written twice; is it complete?") from None
    except OSError as e:
        raise _corrupt(archive, e) from None


def _check_zip(archive: Path, infos: list[zipfile.ZipInfo], limits: Limits) -> None:
    if len(infos) > limits.max_members:
        raise UsageError(
            f"{archive} holds {len(infos)} members, more than the {limits.max_members} "
            "a class's sources need; refused (a zip bomb?)."
        )
    total, seen = 0, set()
    for info in infos:
        name = info.filename
        parts = _safe_parts(archive, name)
        if parts in seen:
            raise _refuse(archive, name, "a second member of the same name")
        seen.add(parts)
        mode = info.external_attr >> 16
        if info.create_system == 3 and stat.S_IFMT(mode):  # Unix: the high bits are st_mode
            if stat.S_ISLNK(mode):
                raise _refuse(archive, name, "a symbolic link (links are not unpacked)")
            if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
                raise _refuse(archive, name, "a device, FIFO or socket, not a file")
        if info.flag_bits & 0x1:
            raise _refuse(archive, name, "an encrypted member")
        total += info.file_size
        _check_size(archive, name, info.file_size, info.compress_size, total, limits)


def _check_size(
    archive: Path, name: str, size: int, packed: int, total: int, limits: Limits
) -> None:
    if total > limits.max_total:
        raise _refuse(
            archive, name, f"it takes the archive past {limits.max_total >> 20} MiB unpacked"
        )
    if size > limits.ratio_floor and size > limits.max_ratio * max(packed, 1):
        raise _refuse(
            archive, name, f"it is compressed more than {limits.max_ratio}:1 (a zip bomb?)"
        )


def _copy(
    archive: Path, name: str, src: IO[bytes], out: IO[bytes], written: int, limits: Limits
) -> int:
    """Copy, counting: a zip's declared sizes may lie, the bytes read do not."""
    while chunk := src.read(_CHUNK):
        written += len(chunk)
        if written > limits.max_total:
            raise _refuse(
                archive, name, f"it takes the archive past {limits.max_total >> 20} MiB unpacked"
            )
        out.write(chunk)
    return written


def _untar(archive: Path, target: Path, limits: Limits) -> None:
    if not hasattr(tarfile, "data_filter"):
        raise UsageError(
            f"{archive}: this Python has no safe tar extraction (tarfile's data filter comes "
            "with 3.10.12, 3.11.4 and 3.12); unpack it yourself or use a newer Python."
        )
    try:
        with tarfile.open(archive, "r:*") as tf:
            members = _check_tar(archive, tf, limits)
            tf.extractall(target, members=members, filter="data")
    except tarfile.FilterError as e:
        name = e.tarinfo.name if e.tarinfo is not None else "?"
        raise _refuse(archive, name, str(e)) from None
    except (tarfile.TarError, zlib.error, EOFError, OSError) as e:
        raise _corrupt(archive, e) from None


def _check_tar(archive: Path, tf: tarfile.TarFile, limits: Limits) -> list[tarfile.TarInfo]:
    members, total = [], 0
    packed = max(archive.stat().st_size, 1)
    for member in tf:  # headers are read one by one: a bomb is stopped at its first big one
        name = member.name
        _safe_parts(archive, name)
        if member.issym() or member.islnk():
            raise _refuse(archive, name, "a link (links are not unpacked)")
        if not (member.isreg() or member.isdir()):
            raise _refuse(archive, name, "a device, FIFO or socket, not a file")
        members.append(member)
        if len(members) > limits.max_members:
            raise UsageError(
                f"{archive} holds more than {limits.max_members} members, more than a "
                "class's sources need; refused (a tar bomb?)."
            )
        total += member.size
        _check_size(archive, name, total, packed, total, limits)
    return members
