"""What checks raise when the student's program is wrong: `Failed` and `Mismatch`."""

from __future__ import annotations

from collections.abc import Iterable

from grader.results import Evidence


class Failed(AssertionError):
    """The student's program did something wrong: what happened, why, and what to do.

    The message names the real process, pid, fd or pipe, in the lecture's words.
    """

    def __init__(
        self,
        message: str,
        *,
        hint: str | None = None,
        lecture: str | None = None,
        expected: str | None = None,
        actual: str | None = None,
        evidence: Iterable[Evidence] = (),
    ) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.lecture = lecture
        self.expected = expected
        self.actual = actual
        self.evidence = tuple(evidence)


class Mismatch(Failed):
    """The program's output (or a file, a mode, a status) differs from what was expected."""

    def __init__(self, expected: str, actual: str, message: str = "", **kwargs: object) -> None:
        super().__init__(
            message or "the result differs from what was expected",
            expected=expected,
            actual=actual,
            **kwargs,  # type: ignore[arg-type]
        )
