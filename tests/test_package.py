"""grade package: each platform's autograder built, installed in a fresh venv, and run end to
end over a simulated /autograder, /grade or Autolab folder, with user namespaces off."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import missing_tool

from grader import catalog
from grader.package import common
from grader.package.templates import ipcgrade_entry
from grader.render import FORMATS, Options

ROOT = Path(__file__).resolve().parent.parent
HANG = ROOT / "tests/submissions/exercise2/parent_keeps_write_end"
REFERENCE = ROOT / "reference/exercise2"
GRADE = [sys.executable, "-m", "grader"]
SYSTEM_PACKAGES = ("gcc", "make", "strace", "procps", "util-linux", "python3", "python3-venv",
                   "python3-pip", "libseccomp2")  # fmt: skip


def _renders(platform: str) -> bool:
    """Whether the platform's renderer is written (on this branch it may be a stub)."""
    from test_html import student_report

    report = student_report("alice", "x")
    try:
        FORMATS[platform].render(report, Options())
    except NotImplementedError:
        return False
    return True


def _package(platform: str, out: Path, wheel: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*GRADE, "package", platform, "exercise2", "--out", str(out), "--wheel", str(wheel)],
        capture_output=True, text=True, check=False, cwd=out.parent,
    )  # fmt: skip


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("IPCGRADE_")}
    env.update(IPCGRADE_NO_USERNS="1", **extra)
    return env


@pytest.fixture(scope="module")
def folder() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="ipcg-package-"))
    path.chmod(0o711)  # as root, student programs run as another uid
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="module")
def wheel(folder: Path) -> Path:
    """ipcgrade's wheel, built once from this checkout as `grade package` builds it."""
    built = common.build_wheel(folder / "wheel")
    with zipfile.ZipFile(built) as z:  # the templates ship as package data
        names = set(z.namelist())
    templates = ROOT / "grader/package/templates"
    for t in templates.iterdir():
        if t.is_file():
            assert f"grader/package/templates/{t.name}" in names
    return built


@pytest.fixture(scope="module")
def gradescope(folder: Path, wheel: Path) -> Path:
    """Gradescope's zip unpacked in a simulated /autograder, its setup.sh run into a fresh
    venv (the apt step finds every package installed); the root of that layout."""
    missing = [p for p in SYSTEM_PACKAGES if subprocess.run(
        ["dpkg", "-s", p], capture_output=True, check=False).returncode != 0]  # fmt: skip
    assert " ".join(SYSTEM_PACKAGES) in common.template("setup.sh")
    if missing:  # setup.sh would apt-get them: not in a test
        missing_tool(f"setup.sh's system packages are not all installed: {' '.join(missing)}",
                     ".ci/run installs them")  # fmt: skip
    root = folder / "gs"
    (root / "autograder/source").mkdir(parents=True)
    done = _package("gradescope", folder / "gs-package", wheel)
    assert done.returncode == 0, done.stderr
    with zipfile.ZipFile(folder / "gs-package/autograder.zip") as z:
        names = set(z.namelist())
        assert {"setup.sh", "run_autograder", common.ENTRY, common.CONFIG, wheel.name} <= names
        for name in ("setup.sh", "run_autograder"):
            assert stat.S_IMODE(z.getinfo(name).external_attr >> 16) == 0o755
        z.extractall(root / "autograder/source")
    for name in ("setup.sh", "run_autograder"):
        (root / "autograder/source" / name).chmod(0o755)  # zipfile keeps no modes
    setup = subprocess.run(
        ["bash", str(root / "autograder/source/setup.sh")],
        env=_env(IPCGRADE_VENV=str(root / "venv")), capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert setup.returncode == 0, setup.stdout + setup.stderr
    assert "apt-get" not in setup.stdout  # every system package was found installed: no apt
    assert (root / "venv/bin/grade").is_file()
    return root


def _run_autograder(root: Path, submission: Path) -> tuple[subprocess.CompletedProcess[str], dict]:
    sub = root / "autograder/submission"
    shutil.rmtree(sub, ignore_errors=True)
    shutil.copytree(submission, sub)
    results = root / "autograder/results/results.json"
    results.unlink(missing_ok=True)
    done = subprocess.run(
        ["bash", str(root / "autograder/source/run_autograder")],
        env=_env(IPCGRADE_PLATFORM_ROOT=str(root), IPCGRADE_VENV=str(root / "venv")),
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    return done, json.loads(results.read_text())


def test_gradescope_grades_the_pipe_hang(gradescope: Path) -> None:
    done, results = _run_autograder(gradescope, HANG)
    assert done.returncode == 0
    assert isinstance(results.get("score"), (int, float)) or isinstance(results.get("tests"), list)
    if _renders("gradescope"):  # the real renderer's result, with the hang failed
        assert results["score"] < catalog.find("exercise2").max_score
        assert any(t["score"] < t["max_score"] for t in results["tests"])
    else:  # the stub renderer breaks the grade: the fallback says so, scoring 0
        assert results["score"] == 0
        assert "grader could not grade" in results["output"]
        assert "status 3" in results["output"]


def test_prairielearn_entrypoint_always_exits_0(
    folder: Path, wheel: Path, gradescope: Path
) -> None:
    out = folder / "pl-package"
    assert _package("prairielearn", out, wheel).returncode == 0
    # the image runs the very setup.sh that the Gradescope test ran in a fresh venv
    installed = gradescope / "autograder/source/setup.sh"
    assert (out / "setup.sh").read_bytes() == installed.read_bytes()
    assert "setup.sh" in (out / "Dockerfile").read_text()
    options = json.loads((out / "info-externalGradingOptions.json").read_text())
    assert options["externalGradingOptions"]["entrypoint"] == "/opt/ipcgrade/run"
    root = folder / "pl"
    shutil.copytree(REFERENCE, root / "grade/student")
    env = _env(IPCGRADE_PLATFORM_ROOT=str(root), IPCGRADE_GRADE=str(gradescope / "venv/bin/grade"))
    done = subprocess.run([str(out / "run")], env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0
    results = json.loads((root / "grade/results/results.json").read_text())
    assert isinstance(results["gradable"], bool)
    assert isinstance(results["score"], (int, float))
    if _renders("prairielearn"):
        assert results["gradable"] is True
        assert results["score"] == 1
    else:
        assert results["gradable"] is False
    # the grader crashes (the student folder is gone): still exit 0, not gradable, score 0
    shutil.rmtree(root / "grade/student")
    (root / "grade/results/results.json").unlink()
    done = subprocess.run([str(out / "run")], env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0
    results = json.loads((root / "grade/results/results.json").read_text())
    assert results["gradable"] is False
    assert results["score"] == 0
    assert "status 2" in results["message"]


def test_prairielearn_last_resort_when_python_is_missing(folder: Path, wheel: Path) -> None:
    """The shell's own result when python3 cannot even start the entrypoint."""
    out = folder / "pl-package-2"
    assert _package("prairielearn", out, wheel).returncode == 0
    root = folder / "pl-no-python"
    (root / "grade/student").mkdir(parents=True)
    bin_ = folder / "no-python-bin"
    bin_.mkdir()
    for tool in ("mkdir", "dirname"):
        (bin_ / tool).symlink_to(shutil.which(tool) or tool)
    env = {"PATH": str(bin_), "IPCGRADE_PLATFORM_ROOT": str(root)}
    done = subprocess.run(["/bin/sh", str(out / "run")], env=env, capture_output=True, check=False)
    assert done.returncode == 0
    results = json.loads((root / "grade/results/results.json").read_text())
    assert results["gradable"] is False
    assert "python3 could not run it" in results["message"]


def test_autolab_makefile_prints_scores_last(folder: Path, wheel: Path, gradescope: Path) -> None:
    out = folder / "al-package"
    assert _package("autolab", out, wheel).returncode == 0
    with tarfile.open(out / "autograde.tar") as t:
        assert f"ipcgrade/{wheel.name}" in t.getnames()
    work = folder / "al-work"
    work.mkdir()
    shutil.copy(out / "autograde-Makefile", work / "Makefile")  # Tango renames it so
    shutil.copy(out / "autograde.tar", work)
    shutil.copy(HANG / "pipe.c", work / "handin.c")  # Autolab renames the upload so
    env = _env(IPCGRADE_GRADE=str(gradescope / "venv/bin/grade"))
    done = subprocess.run(["make"], cwd=work, env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    last = json.loads(done.stdout.strip().splitlines()[-1])
    keys = common.autolab_keys(catalog.find("exercise2"))
    assert set(last["scores"]) == set(keys)
    assert (work / "ipcgrade-handin/pipe.c").read_bytes() == (HANG / "pipe.c").read_bytes()
    if _renders("autolab"):
        assert 0 < sum(last["scores"].values()) < catalog.find("exercise2").max_score
    else:
        assert sum(last["scores"].values()) == 0
        assert "grader could not grade" in done.stdout


# -- the entrypoint alone, with a fake `grade` (fast) ----------------------------------


@pytest.fixture
def fake_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A simulated /grade with a submission, and the entrypoint's settings beside it."""
    (tmp_path / "grade/student").mkdir(parents=True)
    settings = json.loads(common.config(catalog.find("exercise2"), "prairielearn").data)
    monkeypatch.setattr(ipcgrade_entry, "CONFIG", tmp_path / common.CONFIG)
    (tmp_path / common.CONFIG).write_text(json.dumps(settings))
    monkeypatch.setenv("IPCGRADE_PLATFORM_ROOT", str(tmp_path))
    return tmp_path


def _fake_grade(tmp_path: Path, body: str) -> str:
    """A `grade` that runs `body` (Python; argv is sys.argv) instead of grading."""
    path = tmp_path / "fake-grade"
    path.write_text(f"#!{sys.executable}\nimport sys, signal\n{body}\n")
    path.chmod(0o755)
    return str(path)


def _results(root: Path) -> dict:
    return json.loads((root / "grade/results/results.json").read_text())


def test_entrypoint_uses_a_valid_result_verbatim(fake_root: Path) -> None:
    valid = {"gradable": True, "score": 0.5, "message": "half", "tests": []}
    fake = _fake_grade(fake_root, f"open(sys.argv[-1], 'w').write({json.dumps(valid)!r})\n"
                       "sys.exit(1)")  # fmt: skip
    assert ipcgrade_entry.main(["prairielearn", "--grade", fake]) == 0
    assert _results(fake_root) == valid
    assert not list((fake_root / "grade/results").glob(".ipcgrade-*"))  # no temp file left


def test_entrypoint_replaces_an_invalid_result(fake_root: Path) -> None:
    fake = _fake_grade(fake_root, "open(sys.argv[-1], 'w').write('not json')\nsys.exit(0)")
    assert ipcgrade_entry.main(["prairielearn", "--grade", fake]) == 0
    results = _results(fake_root)
    assert results["gradable"] is False
    assert "missing or invalid" in results["message"]


def test_entrypoint_replaces_a_prairielearn_result_over_1_mib(fake_root: Path) -> None:
    big = {"gradable": True, "score": 1, "output": "x" * (1 << 20)}
    fake = _fake_grade(fake_root, f"import json\njson.dump({big!r}, open(sys.argv[-1], 'w'))")
    assert ipcgrade_entry.main(["prairielearn", "--grade", fake]) == 0
    results = _results(fake_root)
    assert results["gradable"] is False
    assert (fake_root / "grade/results/results.json").stat().st_size < 4096


def test_entrypoint_stops_a_grade_past_its_timeout(
    fake_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IPCGRADE_TIMEOUT_S", "0.5")
    fake = _fake_grade(fake_root, "signal.pause()")  # waits until killed
    start = time.monotonic()
    assert ipcgrade_entry.main(["prairielearn", "--grade", fake]) == 0
    assert time.monotonic() - start < 10
    results = _results(fake_root)
    assert results["gradable"] is False
    assert "longer than 0.5 s" in results["message"]


def test_entrypoint_survives_a_missing_grade_command(fake_root: Path) -> None:
    assert ipcgrade_entry.main(["prairielearn", "--grade", str(fake_root / "nowhere")]) == 0
    assert "status 127" in _results(fake_root)["message"]


def test_autolab_handin_archive_unpacks_without_escaping(tmp_path: Path) -> None:
    archive = tmp_path / "handin.tar"
    with tarfile.open(archive, "w") as t:
        for name, data in (("exercise2/pipe.c", b"int main;"), ("../evil.c", b"x")):
            src = tmp_path / "src"
            src.write_bytes(data)
            t.add(src, arcname=name)
    ipcgrade_entry.unpack_handin(archive, tmp_path / "out", ["pipe.c"])
    assert (tmp_path / "out/exercise2/pipe.c").read_bytes() == b"int main;"
    assert not (tmp_path / "evil.c").exists()


@pytest.mark.parametrize("platform", ["gradescope", "prairielearn", "autolab"])
def test_fallbacks_have_the_platforms_keys(platform: str) -> None:
    settings = {"exercise": "exercise2", "autolab_keys": ["a", "b"]}
    text = ipcgrade_entry.fallback(platform, settings, "it broke", 1.0)
    assert ipcgrade_entry.valid(platform, text)
    last = common.last_resort(catalog.find("exercise2"), platform)
    assert ipcgrade_entry.valid(platform, last)
    assert "'" not in last


def test_package_of_an_unknown_exercise_is_a_usage_error(tmp_path: Path) -> None:
    argv = [*GRADE, "package", "gradescope", "exercise99", "--out", str(tmp_path / "x")]
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr


def test_package_with_a_bad_wheel_is_a_usage_error(tmp_path: Path) -> None:
    bad = tmp_path / "notawheel.txt"
    bad.write_text("x")
    argv = [*GRADE, "package", "autolab", "pipe", "--out", str(tmp_path / "x"), "--wheel", str(bad)]
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    assert done.returncode == 2
    assert "--wheel" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_container_without_user_namespaces_says_its_layers() -> None:
    """What a grade in a platform's container gets: reduced, and whether students have a
    uid of their own (as root) or run as the grader's user (listed as missing)."""
    done = subprocess.run([*GRADE, "--doctor"], env=_env(), capture_output=True, text=True,
                          check=False)  # fmt: skip
    assert "isolation of every grade on this machine: reduced" in done.stdout
    assert "missing: no user namespaces (IPCGRADE_NO_USERNS is set)" in done.stdout
    if os.geteuid() == 0:
        assert "layer: student programs run as uid" in done.stdout
    else:
        assert "missing: student programs run as this user" in done.stdout


def test_package_builds_the_wheel_from_the_checkout(tmp_path: Path) -> None:
    argv = [*GRADE, "package", "autolab", "pipe", "--out", str(tmp_path / "al")]
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    with tarfile.open(tmp_path / "al/autograde.tar") as t:
        wheels = [n for n in t.getnames() if n.endswith(".whl")]
        settings = json.load(t.extractfile("ipcgrade/" + common.CONFIG))  # type: ignore[arg-type]
    assert len(wheels) == 1
    assert wheels[0].startswith("ipcgrade/ipcgrade-")
    assert settings["exercise"] == "exercise2"
