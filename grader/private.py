"""Files the grader wrote (a worker's results, a batch's reports), read back safely: never
through a link, never a device or a FIFO, never more than a cap.

A leaf: it imports nothing of the grader.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path


def read_private(path: Path, cap: int = 64 * 2**20) -> str | None:
    """A file the grader wrote, read without following links and with a size cap; None if
    it is not a regular file or cannot be read."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
            return None
        data = f.read(cap)
    return data.decode("utf-8", errors="replace") or None
