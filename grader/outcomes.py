"""What checks raise when the student's program is wrong: `Failed` and `Mismatch`."""

from __future__ import annotations

from collections.abc import Iterable

from grader.results import Evidence, Location, Ref


class Failed(AssertionError):
    """The student's program did something wrong: what happened, why, and what to do.

    The message names the real process, pid, fd or pipe, in the lecture's words; `kind`
    names the mistake without them ("parent-keeps-write-end"), for a class overview to group
    students by.
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
        kind: str = "",
        about: Iterable[Ref] = (),
        location: Location | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.lecture = lecture
        self.expected = expected
        self.actual = actual
        self.evidence = tuple(evidence)
        self.kind = kind  # the mistake, the same for every student who makes it
        self.about = tuple(about)  # what the message names: Ref(pid=180, fd=4)
        self.location = location  # where in the student's source


class Mismatch(Failed):
    """The program's output (or a file, a mode, a status) differs from what was expected."""

    def __init__(self, expected: str, actual: str, message: str = "", **kwargs: object) -> None:
        super().__init__(
            message or "the result differs from what was expected",
            expected=expected,
            actual=actual,
            **kwargs,  # type: ignore[arg-type]
        )
