"""What the three packages share: the grader's wheel, the entrypoint, its settings."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from grader import catalog
from grader.catalog import Exercise
from grader.errors import UsageError

ENTRY = "ipcgrade_entry.py"
CONFIG = "ipcgrade-package.json"
PLATFORM_ROOT_ENV = "IPCGRADE_PLATFORM_ROOT"  # read by the entrypoints: "/" unless tests


@dataclass(frozen=True)
class PackageFile:
    name: str  # relative to the package's folder
    data: bytes
    executable: bool = False


@dataclass(frozen=True)
class Package:
    """A platform's autograder: the files to write, and what the instructor does next."""

    files: tuple[PackageFile, ...]
    next_steps: str


def template(name: str, **values: str) -> str:
    """A template of grader/package/templates/, its @@NAME@@ placeholders filled in."""
    text = (resources.files("grader.package") / "templates" / name).read_text(encoding="utf-8")
    for key, value in values.items():
        text = text.replace(f"@@{key}@@", value)
    return text


def from_template(name: str, *, executable: bool = False, **values: str) -> PackageFile:
    """The package's file `name`: its template filled in."""
    return PackageFile(name, template(name, **values).encode(), executable=executable)


def build_wheel(dest: Path) -> Path:
    """ipcgrade's wheel, built from the source checkout this grader runs from."""
    source = catalog.root()
    if not (source / "pyproject.toml").is_file() or not (source / "grader").is_dir():
        raise UsageError(
            f"grade package needs ipcgrade's source to build the wheel the package installs, "
            f"and this grader was installed without it ({source}). Run it from a checkout of "
            "ipcgrade, or give a wheel you built with --wheel FILE."
        )
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(dest),
         str(source)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    wheels = sorted(dest.glob("ipcgrade-*.whl"))
    if built.returncode != 0 or not wheels:
        tail = "\n".join(built.stderr.strip().splitlines()[-10:])
        raise UsageError(
            f"pip could not build ipcgrade's wheel from {source} (exit {built.returncode}); "
            f"give a wheel you built with --wheel FILE.\n{tail}"
        )
    return wheels[-1]


def wheel_file(wheel: Path | None) -> PackageFile:
    """The wheel as a file of the package: `wheel`, or one built now."""
    if wheel is not None:
        if not wheel.is_file() or not wheel.name.startswith("ipcgrade-") or wheel.suffix != ".whl":
            raise UsageError(
                f"--wheel {wheel} is not an ipcgrade wheel file (ipcgrade-VERSION-...whl); "
                "build one with 'pip wheel --no-deps .' in ipcgrade's checkout."
            )
        return PackageFile(wheel.name, wheel.read_bytes())
    with tempfile.TemporaryDirectory(prefix="ipcgrade-wheel-") as tmp:
        built = build_wheel(Path(tmp))
        return PackageFile(built.name, built.read_bytes())


def timeout_s(exercise: Exercise) -> float:
    """How long the entrypoint lets a grade run: its watchdog, its build and a margin."""
    return float(exercise.limits.grade_s) + 60.0


def config(exercise: Exercise, platform: str, autolab_keys: tuple[str, ...] = ()) -> PackageFile:
    """The entrypoint's settings: which exercise, how long, and the fallback's keys."""
    data = {
        "platform": platform,
        "exercise": exercise.id,
        "files": list(exercise.files),
        "timeout_s": timeout_s(exercise),
        "max_score": exercise.max_score,
        "autolab_keys": list(autolab_keys),
    }
    return PackageFile(CONFIG, (json.dumps(data, indent=2) + "\n").encode())


def shared(exercise: Exercise, platform: str, wheel: PackageFile) -> list[PackageFile]:
    """The files every package holds: setup.sh, the entrypoint, its settings, the wheel."""
    return [
        from_template("setup.sh", executable=True),
        from_template(ENTRY),
        config(exercise, platform, autolab_keys(exercise) if platform == "autolab" else ()),
        wheel,
    ]


def last_resort(exercise: Exercise, platform: str) -> str:
    """The result the shell writes when python3 itself fails: the entrypoint's own fallback,
    as one line with no single quote (it goes between single quotes in a shell script)."""
    from grader.package.templates import ipcgrade_entry

    settings = {"autolab_keys": list(autolab_keys(exercise)), "exercise": exercise.id}
    text = ipcgrade_entry.fallback(platform, settings, "python3 could not run it", 0.0)
    line = text.splitlines()[-1] if platform == "autolab" else json.dumps(json.loads(text))
    if "'" in line:
        raise ValueError(f"a single quote in the shell's last resort: {line}")
    return line


def autolab_keys(exercise: Exercise) -> tuple[str, ...]:
    """The problem names of Autolab's scores: the renderer's own, where it is written, else
    each check's name."""
    from grader.render import FORMATS, Options
    from grader.report import SubmissionReport
    from grader.results import BuildResult, CheckResult, Isolation, Outcome

    report = SubmissionReport(
        exercise=exercise.id, title=exercise.title, name=exercise.name, submission="",
        build=BuildResult(ok=True), isolation=Isolation(level="reduced"),
        catalogue=exercise.catalogue,
        checks=tuple(CheckResult(id=s.id, title=s.title, outcome=Outcome.NOT_RUN,
                                 max_points=s.max_points) for s in exercise.catalogue),
    )  # fmt: skip
    try:
        text = FORMATS["autolab"].render(report, Options())
        scores = json.loads(text.strip().splitlines()[-1])["scores"]
        return tuple(str(k) for k in scores)
    except (NotImplementedError, ValueError, KeyError, IndexError, TypeError):
        return tuple(spec.id.rsplit("/", 1)[-1] for spec in exercise.catalogue)
