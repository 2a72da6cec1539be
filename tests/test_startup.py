"""`grade --version` and `grade --list` import no part of a grade: no psutil, pytest or
sandbox at start-up (issue 14). Counted in a fresh interpreter; timing is the benchmark's."""

from __future__ import annotations

import subprocess
import sys

_HEAVY = ("psutil", "pytest", "pexpect", "grader.process", "grader.sandbox", "grader.session")


def _loaded(code: str) -> list[str]:
    probe = f"import sys\n{code}\nprint(*[m for m in {_HEAVY!r} if m in sys.modules])\n"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          check=True, timeout=60)  # fmt: skip
    return done.stdout.split()


def test_importing_the_cli_loads_no_part_of_a_grade() -> None:
    assert _loaded("import grader.cli") == []


def test_the_facade_still_gives_every_name_on_first_use() -> None:
    # the probe sees the heavy modules once a check's names are asked for
    assert set(_loaded("from grader import Failed, Program, inspection")) >= {
        "psutil",
        "grader.sandbox",
    }
    import grader

    for name in grader.__all__:
        assert getattr(grader, name) is not None, name
