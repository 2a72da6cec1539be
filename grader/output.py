"""A program's output as it comes: one stream read in a thread, at most `cap` bytes kept."""

from __future__ import annotations

import errno
import os
import threading
from collections.abc import Callable


class CappedOutput:
    """One output stream (a pipe's read end, a terminal's master) read in a thread, keeping
    at most `cap` bytes; past that it goes on reading, so that the writer is not stuck, and
    says so once through `on_overflow`."""

    def __init__(
        self, fd: int, cap: int, on_data: Callable[[], None], on_overflow: Callable[[], None]
    ) -> None:
        self.fd = fd  # -1: no stream (a terminal's stderr is its stdout)
        self.cap = cap
        self.data = bytearray()
        self.total = 0
        self.eof = fd < 0
        self._on_data = on_data
        self._on_overflow = on_overflow
        self._thread: threading.Thread | None = None

    @property
    def reading(self) -> bool:
        return self._thread is not None

    def start(self) -> None:
        if self._thread is None and self.fd >= 0:
            self._thread = threading.Thread(target=self._pump, daemon=True)
            self._thread.start()

    def _pump(self) -> None:
        while True:
            try:
                chunk = os.read(self.fd, 65536)
            except OSError as e:  # EIO: the pty's other side is gone
                if e.errno not in (errno.EIO, errno.EBADF):
                    raise
                chunk = b""
            if not chunk:
                break
            self.total += len(chunk)
            room = self.cap - len(self.data)
            if room > 0:
                self.data += chunk[:room]
            if self.total > self.cap:
                self._on_overflow()  # and go on reading, so that the writer is not stuck
            self._on_data()
        self.eof = True
        self._on_data()

    def join(self, timeout: float) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    @property
    def overflowed(self) -> bool:
        return self.total > self.cap

    def text(self) -> str:
        return self.data.decode("utf-8", errors="replace")
