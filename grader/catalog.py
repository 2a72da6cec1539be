"""Find an exercise by id or short name, and read its exercise.toml."""

from __future__ import annotations

import ast
import difflib
import hashlib
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from grader import requirements
from grader.errors import ExerciseError, UsageError
from grader.results import VISIBILITIES, CheckSpec, Location

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib


@dataclass(frozen=True)
class Limits:
    """What one student program may use before the sandbox stops it."""

    wall_s: float = 10.0  # one program's wall-clock time
    cpu_s: int = 5
    processes: int = 64
    memory_mb: int = 512  # address space
    file_mb: int = 64  # largest file it may write
    open_files: int = 256
    output_kb: int = 1024  # what is kept of its stdout and stderr, each
    grade_s: float = 120.0  # the whole grade, build included: the outside watchdog
    grade_memory_mb: int = 768  # all of the grade's processes, /tmp and shared memory (root)
    grade_tasks: int = 512  # all of the grade's processes and threads, grader's own too (root)


@dataclass(frozen=True)
class BuildSpec:
    cc: str = "gcc"
    cflags: tuple[str, ...] = ("-Wall",)
    ldflags: tuple[str, ...] = ()
    # more builds of every program: {"O2": ["-O2"]} also builds prodcons-O2 with -O2
    variants: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class Exercise:
    id: str
    name: str
    title: str
    files: tuple[str, ...]
    folder: Path
    build: BuildSpec = field(default_factory=BuildSpec)
    limits: Limits = field(default_factory=Limits)
    points: Mapping[str, float] = field(default_factory=dict)
    visibility: Mapping[str, str] = field(default_factory=dict)  # check → one of VISIBILITIES
    tags: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # check → its tags
    ipc_keys: tuple[int, ...] = ()  # fixed System V keys: grades without namespaces take turns
    requires: tuple[str, ...] = ()  # the system tools its checks run: ("ps", "strace")

    @property
    def checks(self) -> Path:
        return self.folder / "checks.py"

    @property
    def statement(self) -> Path:
        return self.folder / "README.md"

    def _check_defs(self) -> tuple[ast.FunctionDef | ast.AsyncFunctionDef, ...]:
        """The top-level `test_` functions of checks.py, in order, as pytest collects them
        (read, not imported: listing runs none of the exercise's code)."""
        try:
            tree = ast.parse(self.checks.read_text(encoding="utf-8"), filename=str(self.checks))
        except (OSError, SyntaxError, ValueError) as e:
            raise ExerciseError(f"the checks file {self.checks} cannot be read: {e}") from e
        return tuple(
            node
            for node in tree.body
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
            and node.name.startswith("test")
        )

    @property
    def check_names(self) -> tuple[str, ...]:
        """The checks in checks.py, in order."""
        return tuple(node.name for node in self._check_defs())

    @property
    def catalogue(self) -> tuple[CheckSpec, ...]:
        """Every check as read from checks.py, nothing run: for a grade that broke before
        its worker sent the catalogue pytest collected (which also knows each check's
        fixtures: `depends` here is "build" when the check asks for it by name)."""
        return tuple(
            CheckSpec(
                id=f"{self.id}/{node.name}",
                title=check_title(ast.get_docstring(node), node.name),
                max_points=float(self.points.get(node.name, 1.0)),
                visibility=self.visibility.get(node.name, "visible"),
                depends=("build",) if {"build", "programs", "program"} & {
                    a.arg for a in node.args.args} else (),
                tags=tuple(self.tags.get(node.name, ())),
                source=Location("checks.py", node.lineno),
            )
            for node in self._check_defs()
        )  # fmt: skip

    @property
    def max_score(self) -> float:
        """What a grade of every check passed scores: each check's `points`, 1 by default."""
        return sum(float(self.points.get(name, 1.0)) for name in self.check_names)

    def digest(self, grader_version: str) -> str:
        """ "sha256:..." of the exercise's folder (checks.py, exercise.toml, ...) and the
        grader's version: what, with the submission's digest, makes a result reusable."""
        h = hashlib.sha256(grader_version.encode() + b"\0")
        for dirpath, dirnames, filenames in os.walk(self.folder):
            dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
            for name in sorted(filenames):
                path = Path(dirpath) / name
                h.update(os.fsencode(str(path.relative_to(self.folder))) + b"\0")
                h.update(hashlib.sha256(path.read_bytes()).digest())
        return "sha256:" + h.hexdigest()

    @property
    def programs(self) -> dict[str, str]:
        """Each C file and the program it builds: {"copy.c": "copy"}."""
        return {f: f.rsplit(".", 1)[0] for f in self.files if f.endswith(".c")}

    @property
    def builds(self) -> list[tuple[str, str, tuple[str, ...]]]:
        """(source, program, extra flags) for every build: each program, then its variants."""
        none: tuple[str, ...] = ()
        out = [(src, prog, none) for src, prog in self.programs.items()]
        for suffix, flags in self.build.variants.items():
            out += [(src, f"{prog}-{suffix}", flags) for src, prog in self.programs.items()]
        return out


def check_title(doc: str | None, name: str) -> str:
    """A check's title: its docstring's first line, else its name in words."""
    for line in (doc or "").strip().splitlines():
        if line.strip():
            return line.strip()
    return name.removeprefix("test_").replace("_", " ")


def root() -> Path:
    """The folder holding exercises/: inside the wheel, or the source checkout."""
    here = Path(__file__).resolve().parent
    bundled = here / "_bundled"
    return bundled if (bundled / "exercises").is_dir() else here.parent


# exercise.toml's keys: each table's, from the dataclass it fills (README: "Adding an exercise")
_TOP_KEYS = ("id", "name", "title", "files", "build", "limits", "points", "visibility", "tags",
             "ipc_keys", "requires")  # fmt: skip
_TABLE_KEYS = {
    "build": tuple(f.name for f in fields(BuildSpec)),
    "limits": tuple(f.name for f in fields(Limits)),
}


def _table(data: dict[str, Any], key: str, path: Path) -> dict[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise ExerciseError(f"the exercise file {path} is broken: '{key}' must be a table")
    return dict(value)


def _unknown_keys(data: dict[str, Any], path: Path) -> None:
    """An unknown key, at any level, is an error naming it: a typo is never ignored."""
    tables: list[tuple[str, dict[str, Any], tuple[str, ...]]] = [("", data, _TOP_KEYS)]
    tables += [(f"{t}.", _table(data, t, path), known) for t, known in _TABLE_KEYS.items()]
    for prefix, table, known in tables:
        for key in table:
            if key not in known:
                near = difflib.get_close_matches(key, known, n=1)
                raise ExerciseError(
                    f"the exercise file {path} has an unknown key '{prefix}{key}'"
                    + (f" (did you mean '{prefix}{near[0]}'?)" if near else "")
                    + f". Known keys{f' of [{prefix[:-1]}]' if prefix else ''}: "
                    f"{', '.join(known)}."
                )


def _load(folder: Path) -> Exercise:
    path = folder / "exercise.toml"
    try:
        data: dict[str, Any] = tomllib.loads(path.read_text(encoding="utf-8"))
        _unknown_keys(data, path)
        build = _table(data, "build", path)
        for key in ("cflags", "ldflags"):
            if key in build:
                build[key] = tuple(build[key])
        build["variants"] = {k: tuple(v) for k, v in build.get("variants", {}).items()}
        exercise = Exercise(
            id=str(data["id"]),
            name=str(data["name"]),
            title=str(data["title"]),
            files=tuple(data["files"]),
            folder=folder,
            build=BuildSpec(**build),
            limits=Limits(**_table(data, "limits", path)),
            points={k: float(v) for k, v in _table(data, "points", path).items()},
            visibility=_visibility(_table(data, "visibility", path), path),
            tags=_tags(_table(data, "tags", path), path),
            ipc_keys=tuple(int(k) for k in data.get("ipc_keys", ())),
            requires=_requires(data.get("requires", []), path),
        )
    except (OSError, KeyError, TypeError, ValueError) as e:
        raise ExerciseError(f"the exercise file {path} is broken: {e}") from e
    per_check = [("points", "gives points to", exercise.points),
                 ("visibility", "gives a visibility to", exercise.visibility),
                 ("tags", "gives tags to", exercise.tags)]  # fmt: skip
    if any(table for _, _, table in per_check):
        checks = exercise.check_names
        for key, verb, table in per_check:
            for name in table:
                if name not in checks:
                    raise ExerciseError(
                        f"the exercise file {path} {verb} '{name}' (key "
                        f"'{key}.{name}'), which is no check of {exercise.checks}. "
                        f"Its checks: {', '.join(checks)}."
                    )
    return exercise


def _visibility(table: dict[str, Any], path: Path) -> dict[str, str]:
    for name, value in table.items():
        if value not in VISIBILITIES:
            raise ExerciseError(
                f"the exercise file {path} gives '{name}' the visibility {value!r} (key "
                f"'visibility.{name}'); a visibility is one of {', '.join(VISIBILITIES)}."
            )
    return dict(table)


def _requires(value: Any, path: Path) -> tuple[str, ...]:
    if not (isinstance(value, list) and all(map(requirements.is_command, value))):
        raise ExerciseError(
            f"the exercise file {path} gives 'requires' the value {value!r}; it is a list of "
            'the commands its checks run, each a name looked up on PATH, e.g. ["ps", "strace"].'
        )
    return tuple(value)


def missing_tools(exercise: Exercise) -> tuple[str, ...]:
    """The tools of the exercise's `requires` this machine lacks, in order."""
    return requirements.missing(exercise.requires)


def _tags(table: dict[str, Any], path: Path) -> dict[str, tuple[str, ...]]:
    for name, value in table.items():
        if not (isinstance(value, list) and all(isinstance(t, str) and t for t in value)):
            raise ExerciseError(
                f"the exercise file {path} gives '{name}' the tags {value!r} (key "
                f"'tags.{name}'); tags are a list of words, e.g. [\"pipes\"]."
            )
    return {name: tuple(value) for name, value in table.items()}


def all_exercises() -> tuple[Exercise, ...]:
    base = root() / "exercises"
    folders = sorted(
        (p for p in base.iterdir() if (p / "exercise.toml").is_file()),
        key=lambda p: (len(p.name), p.name),
    )
    return tuple(_load(p) for p in folders)


def find(name: str) -> Exercise:
    """The exercise called `name` (its id, "exercise2", or short name, "pipe")."""
    wanted = name.strip().lower()
    exercises = all_exercises()
    for ex in exercises:
        if wanted in (ex.id, ex.name):
            return ex
    known = ", ".join(f"{e.id} ({e.name})" for e in exercises)
    raise UsageError(
        f"there is no exercise called '{name}'. Known exercises: {known}. "
        "Run 'grade --list' to see them with the files each expects."
    )
