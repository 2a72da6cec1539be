"""PrairieLearn's external grader: a Dockerfile and its entrypoint, in a folder."""

from __future__ import annotations

import json
from pathlib import Path

from grader.catalog import Exercise
from grader.package import common
from grader.package.common import Package, PackageFile


def info_json(exercise: Exercise) -> str:
    """The externalGradingOptions of the question's info.json."""
    options = {
        "externalGradingOptions": {
            "enabled": True,
            "image": f"YOUR_NAME/ipcgrade-{exercise.id}",
            "entrypoint": "/opt/ipcgrade/run",
            "serverFilesCourse": [],
            # PrairieLearn's own limit must outlast the entrypoint's, which writes a result
            "timeout": int(common.timeout_s(exercise) + 60),
        }
    }
    return json.dumps(options, indent=2) + "\n"


def build(exercise: Exercise, wheel: Path | None) -> Package:
    files = (
        *common.shared(exercise, "prairielearn", common.wheel_file(wheel)),
        common.from_template("Dockerfile", EXERCISE=exercise.id),
        common.from_template(
            "run",
            executable=True,
            PRAIRIELEARN_LAST_RESORT=common.last_resort(exercise, "prairielearn"),
        ),
        PackageFile("info-externalGradingOptions.json", info_json(exercise).encode()),
    )
    return Package(
        files,
        f"Build and push the image: docker build -t YOUR_NAME/ipcgrade-{exercise.id} . ; "
        "then add info-externalGradingOptions.json's settings to the question's info.json "
        f"(students' files, {', '.join(exercise.files)}, arrive in /grade/student).",
    )
