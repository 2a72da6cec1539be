"""check50 checks for exercise1 `copy`: the output-level checks of exercises/exercise1/checks.py.

check50 can look at files, output and exit statuses only, so the inspection checks
(becomes cat, fd 1 is dest, no leaked descriptor) have no counterpart here.
"""

import os
import random
import stat

import check50
import check50.c

FILES = {
    "empty": b"",
    "text": "Hello, Hà Nội!\nSecond line\n".encode(),
    "binary": bytes(range(256)) * 4 + b"\0\0end",
    "1MiB": random.Random(1).randbytes(1 << 20),
}


@check50.check()
def exists():
    """copy.c exists"""
    check50.exists("copy.c")


@check50.check(exists)
def compiles():
    """copy.c compiles"""
    check50.c.compile(
        "copy.c", exe_name="copy", cc="gcc", Wall=True, std="gnu11", ggdb=False, lm=False
    )


@check50.check(compiles)
def copies_bytes():
    """dest holds exactly the bytes of src (empty, text, binary, 1 MiB)"""
    for name, content in FILES.items():
        with open(f"src-{name}", "wb") as f:
            f.write(content)
        check50.run(f"./copy src-{name} dest-{name}").exit(0)
        with open(f"dest-{name}", "rb") as f:
            if f.read() != content:
                raise check50.Failure(f"dest differs from src for the {name} file")


@check50.check(compiles)
def truncates_longer_dest():
    """an existing, longer dest is emptied first (O_TRUNC)"""
    with open("dest-long", "wb") as f:
        f.write(b"OLD CONTENT " * 100)
    with open("src-short", "wb") as f:
        f.write(b"new text\n")
    check50.run("./copy src-short dest-long").exit()
    with open("dest-long", "rb") as f:
        if f.read() != b"new text\n":
            raise check50.Failure("dest was not truncated")


@check50.check(compiles)
def dest_mode_0644():
    """dest is created with mode 0644 (rw-r--r--)"""
    with open("src", "wb") as f:
        f.write(b"x\n")
    for umask in ("000", "022"):
        check50.run(f"bash -c 'umask {umask}; exec ./copy src dest-{umask}'").exit()
        if not os.path.exists(f"dest-{umask}"):
            raise check50.Failure(f"dest was not created under umask {umask}")
        mode = stat.S_IMODE(os.stat(f"dest-{umask}").st_mode)
        if mode != 0o644:
            raise check50.Mismatch("0644", f"{mode:04o}")


@check50.check(compiles)
def usage_on_wrong_argument_count():
    """the wrong number of arguments prints `usage: copy <src> <dest>`"""
    for args in ("", " only-src", " a b c"):
        check50.run(f"./copy{args}").stdout(r"usage: copy <src> <dest>").exit()


@check50.check(compiles)
def missing_src_reported():
    """a missing src is reported on stderr with a non-zero status"""
    if check50.run("./copy no-such-file dest").exit() == 0:
        raise check50.Failure("a missing src ended with status 0")


@check50.check(compiles)
def unopenable_dest_reported():
    """a dest that cannot be opened is reported with perror and a non-zero status"""
    with open("src", "wb") as f:
        f.write(b"data\n")
    if check50.run("./copy src no-such-folder/dest").exit() == 0:
        raise check50.Failure("an unopenable dest ended with status 0")


@check50.check(compiles)
def exec_failure_reported():
    """a failed exec (no cat to run) is reported with a non-zero status"""
    with open("src", "wb") as f:
        f.write(b"data\n")
    if check50.run("env PATH=/nonexistent ./copy src dest").exit() == 0:
        raise check50.Failure("with no cat on PATH, the program ended with status 0")
