"""Packaged autograders: what Gradescope, PrairieLearn and Autolab need to grade with
ipcgrade in their own containers (`grade package PLATFORM EXERCISE`)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from grader.catalog import Exercise
from grader.package import autolab, gradescope, prairielearn
from grader.package.common import Package, PackageFile, build_wheel

BUILDERS: dict[str, Callable[[Exercise, Path | None], Package]] = {
    "gradescope": gradescope.build,
    "prairielearn": prairielearn.build,
    "autolab": autolab.build,
}

__all__ = ["BUILDERS", "Package", "PackageFile", "build_wheel"]
