"""Gradescope's autograder zip: setup.sh, run_autograder, the entrypoint and the wheel."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from grader.catalog import Exercise
from grader.package import common
from grader.package.common import Package, PackageFile

ZIP = "autograder.zip"


def build(exercise: Exercise, wheel: Path | None) -> Package:
    files = [
        *common.shared(exercise, "gradescope", common.wheel_file(wheel)),
        common.from_template(
            "run_autograder",
            executable=True,
            GRADESCOPE_LAST_RESORT=common.last_resort(exercise, "gradescope"),
        ),
    ]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        for f in files:  # at the zip's root, as Gradescope wants; scripts executable
            info = zipfile.ZipInfo(f.name, date_time=(2020, 1, 1, 0, 0, 0))
            info.external_attr = (0o755 if f.executable else 0o644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, f.data)
    return Package(
        (PackageFile(ZIP, buffer.getvalue()),),
        f"Upload {ZIP} as the autograder of a Gradescope programming assignment (Ubuntu "
        f"22.04 or later base image); students submit {', '.join(exercise.files)}.",
    )
