"""Autolab's autograder: autograde-Makefile and autograde.tar (the wheel and the entrypoint)."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

from grader.catalog import Exercise
from grader.package import common
from grader.package.common import Package, PackageFile


def build(exercise: Exercise, wheel: Path | None) -> Package:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for f in common.shared(exercise, "autolab", common.wheel_file(wheel)):
            info = tarfile.TarInfo(f"ipcgrade/{f.name}")
            info.size = len(f.data)
            info.mode = 0o755 if f.executable else 0o644
            info.mtime = 1577836800  # 2020-01-01: the same package from the same files
            tar.addfile(info, io.BytesIO(f.data))
    makefile = common.template(
        "autograde-Makefile",
        EXERCISE=exercise.id,
        AUTOLAB_LAST_RESORT=common.last_resort(exercise, "autolab"),
    )
    return Package(
        (
            PackageFile("autograde-Makefile", makefile.encode()),
            PackageFile("autograde.tar", buffer.getvalue()),
        ),
        "Upload autograde-Makefile and autograde.tar as the assessment's autograder; name "
        "the handin file handin.c (one C file) or handin.tar/handin.zip; the scores' "
        f"problems are {', '.join(common.autolab_keys(exercise))}. An image with ipcgrade "
        "installed grades faster (else each grade installs it, which needs the network).",
    )
