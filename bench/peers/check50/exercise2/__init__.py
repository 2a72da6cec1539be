"""check50 checks for exercise2 `pipe`: the output-level checks of exercises/exercise2/checks.py.

check50 sees output and exit statuses only: who holds which pipe end, and whether the
parent waits, are beyond it. The output check and the ending check (under the flood of
long ps lines, as ipcgrade makes it) are what it can make.
"""

import shutil
import subprocess

import check50
import check50.c

FLOOD_DECOYS = 12  # as exercises/exercise2/checks.py: ps -ef then prints ~480 KB
FLOOD_ARG = 40_000


def _decoy(argv0="firefox"):
    """A process named firefox (a copy of sleep under that name), as ipcgrade starts."""
    sleep = shutil.which("sleep") or "/bin/sleep"
    return subprocess.Popen([argv0, "600"], executable=sleep)


@check50.check()
def exists():
    """pipe.c exists"""
    check50.exists("pipe.c")


@check50.check(exists)
def compiles():
    """pipe.c compiles"""
    check50.c.compile(
        "pipe.c", exe_name="pipe", cc="gcc", Wall=True, std="gnu11", ggdb=False, lm=False
    )


@check50.check(compiles)
def output_matches_shell():
    """prints what `ps -ef | grep firefox` prints, and exits with grep's status"""
    decoy = _decoy()
    try:
        run = check50.run("./pipe")
        out = run.stdout(timeout=5)
        if run.exitcode != 0:
            raise check50.Failure(f"expected exit code 0 (grep's), not {run.exitcode}")
        # checks run at once, in processes of their own: other checks' decoys may show too
        lines = [ln.split(None, 7) for ln in out.splitlines() if ln.strip()]
        ours = [f for f in lines if len(f) == 8 and f[1] == str(decoy.pid)]
        if not ours or any("firefox" not in " ".join(f) for f in lines):
            raise check50.Mismatch(f"a line of ps -ef naming firefox (pid {decoy.pid})", out)
    finally:
        decoy.kill()
        decoy.wait()


@check50.check(compiles)
def ends_by_itself():
    """grep sees end-of-file and the program ends by itself (ps printing a long list)"""
    decoys = [_decoy("firefox --profile=" + "x" * FLOOD_ARG) for _ in range(FLOOD_DECOYS)]
    try:
        run = check50.run("./pipe")
        out = run.stdout(timeout=5)
        if out.count("firefox") < FLOOD_DECOYS:
            raise check50.Failure("grep did not print every firefox line")
    finally:
        for d in decoys:
            d.kill()
            d.wait()
