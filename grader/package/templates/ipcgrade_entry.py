"""A platform's entrypoint: run `grade`, and always leave the platform a valid result.

Standard library only, run by the container's own python3: it works even when the grader's
installation is broken. The grade's own output for the platform (`grade EXERCISE SUBMISSION
--format PLATFORM --out FILE`) is used when it is valid; when the grade fails (an exit
status other than 0 or 1, a crash, a timeout, an invalid file), a minimal result saying the
grader failed, scoring 0, takes its place (on PrairieLearn not gradable, so no attempt is
charged). IPCGRADE_PLATFORM_ROOT is the root of /autograder and /grade (tests use a
folder); IPCGRADE_TIMEOUT_S overrides the package's timeout.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from pathlib import Path, PurePosixPath
from typing import Any

HERE = Path(__file__).resolve().parent
CONFIG = HERE / "ipcgrade-package.json"
TAIL = 4000  # characters of the grader's own messages kept in a failure's result
PRAIRIELEARN_MAX = 1 << 20  # bytes: PrairieLearn ignores a larger results.json


def _paths(platform: str, root: Path) -> tuple[Path, Path | None]:
    """(the submission, the results file) where the platform puts them."""
    if platform == "gradescope":
        return root / "autograder/submission", root / "autograder/results/results.json"
    if platform == "prairielearn":
        return root / "grade/student", root / "grade/results/results.json"
    return Path.cwd() / "ipcgrade-handin", None  # autolab: stdout


def valid(platform: str, text: str) -> bool:
    """Whether `text` is a result the platform accepts (its required keys)."""
    try:
        if platform == "autolab":
            lines = [line for line in text.splitlines() if line.strip()]
            last = json.loads(lines[-1]) if lines else None
            return isinstance(last, dict) and isinstance(last.get("scores"), dict)
        data = json.loads(text)
    except ValueError:
        return False
    if not isinstance(data, dict):
        return False
    if platform == "prairielearn" and len(text.encode("utf-8")) > PRAIRIELEARN_MAX:
        return False
    if platform == "gradescope":
        return isinstance(data.get("score"), (int, float)) or isinstance(data.get("tests"), list)
    return data.get("gradable") is False or isinstance(data.get("score"), (int, float))


def fallback(platform: str, config: dict[str, Any], why: str, seconds: float) -> str:
    """The result of a grade that failed: score 0, saying so, never blaming the student."""
    message = (
        f"The grader could not grade this submission of {config['exercise']}: {why}. "
        "This is not your fault: tell your instructor."
    )
    if platform == "gradescope":
        return json.dumps({
            "score": 0.0, "execution_time": round(seconds, 3), "output": message,
            "output_format": "text", "tests": [],
        }, indent=2)  # fmt: skip
    if platform == "prairielearn":
        return json.dumps({
            "gradable": False, "score": 0.0, "message": message, "output": message, "tests": [],
        }, indent=2)  # fmt: skip
    scores = {key: 0.0 for key in config["autolab_keys"]}
    return message + "\n" + json.dumps({"scores": scores})


def _tail(data: bytes) -> str:
    text = data.decode("utf-8", errors="replace").strip()
    return text if len(text) <= TAIL else "[...]\n" + text[-TAIL:]


def run_grade(argv: list[str], timeout_s: float) -> tuple[int | None, str]:
    """Run `argv` in a session of its own: (exit status or None on a timeout, its stderr).

    At the timeout, SIGTERM first (the grader then removes its sandbox), SIGKILL after.
    """
    try:
        proc = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            start_new_session=True,
        )  # fmt: skip
    except OSError as e:
        return 127, f"{argv[0]} could not be started: {e.strerror or e}"
    try:
        out, err = proc.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        for sig, wait_s in ((signal.SIGTERM, 10.0), (signal.SIGKILL, None)):
            with contextlib.suppress(OSError):  # it ended on its own meanwhile
                os.killpg(proc.pid, sig)
            try:
                out, err = proc.communicate(timeout=wait_s)
                break
            except subprocess.TimeoutExpired:
                continue
        return None, _tail(err)
    sys.stderr.write(out.decode("utf-8", errors="replace"))
    return proc.returncode, _tail(err)


def unpack_handin(handin: Path, dest: Path, files: list[str]) -> None:
    """Autolab renames the student's upload to the handin file: an archive is unpacked
    (refusing absolute paths, `..` and links), a lone C file gets the exercise's name."""
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    if not handin.is_file():
        return
    if zipfile.is_zipfile(handin):
        with zipfile.ZipFile(handin) as z:
            for info in z.infolist():
                if _safe(info.filename) and not info.is_dir():
                    target = dest / info.filename
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_bytes(z.read(info))
    elif tarfile.is_tarfile(handin):
        with tarfile.open(handin) as t:
            for member in t.getmembers():
                if member.isfile() and _safe(member.name):
                    target = dest / member.name
                    target.parent.mkdir(parents=True, exist_ok=True)
                    source = t.extractfile(member)
                    if source is not None:
                        target.write_bytes(source.read())
    else:
        c_files = [f for f in files if f.endswith(".c")]
        name = c_files[0] if len(c_files) == 1 else handin.name
        shutil.copyfile(handin, dest / name)


def _safe(name: str) -> bool:
    path = PurePosixPath(name)
    return not path.is_absolute() and ".." not in path.parts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("platform", choices=("gradescope", "prairielearn", "autolab"))
    parser.add_argument("--grade", default="grade", help="the `grade` command to run")
    parser.add_argument("--handin", type=Path, help="autolab: the student's handin file")
    args = parser.parse_args(argv)
    start = time.monotonic()
    config = json.loads(CONFIG.read_text(encoding="utf-8"))
    root = Path(os.environ.get("IPCGRADE_PLATFORM_ROOT") or "/")
    submission, results = _paths(args.platform, root)
    if args.platform == "autolab":
        unpack_handin(args.handin or Path("handin"), submission, config["files"])
    timeout_s = float(os.environ.get("IPCGRADE_TIMEOUT_S") or config["timeout_s"])
    folder = results.parent if results is not None else Path.cwd()
    folder.mkdir(parents=True, exist_ok=True)
    fd, out_name = tempfile.mkstemp(prefix=".ipcgrade-", suffix=".out", dir=folder)
    os.close(fd)
    out = Path(out_name)
    try:
        out.unlink()  # `grade` makes it only when it has a result to write
        status, err = run_grade(
            [args.grade, config["exercise"], str(submission), "--format", args.platform,
             "--out", str(out)],
            timeout_s,
        )  # fmt: skip
        if err:
            sys.stderr.write(err + "\n")
        text = out.read_text(encoding="utf-8", errors="replace") if out.is_file() else ""
        if status in (0, 1) and valid(args.platform, text):
            result = text
        else:
            if status is None:
                why = f"it ran longer than {timeout_s:g} s and was stopped"
            elif status in (0, 1):
                why = "its result for the platform was missing or invalid"
            else:
                why = f"grade exited with status {status}"
            last = err.strip().splitlines()[-1] if err.strip() else ""
            result = fallback(args.platform, config, why + (f" ({last})" if last else ""),
                              time.monotonic() - start)  # fmt: skip
    finally:
        out.unlink(missing_ok=True)
    if results is None:
        sys.stdout.write(result if result.endswith("\n") else result + "\n")
        sys.stdout.flush()
        return 0
    partial = results.with_name(results.name + ".partial")
    partial.write_text(result, encoding="utf-8")
    partial.replace(results)  # whole or not at all
    return 0


if __name__ == "__main__":
    sys.exit(main())
