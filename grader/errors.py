"""Errors a person sees, each knowing its exit code and how to show itself."""

from __future__ import annotations

import enum
import sys
import textwrap


class ExitCode(enum.IntEnum):
    PASSED = 0  # every check passed
    FAILED = 1  # a check failed (build failures and missing files included)
    USAGE = 2  # bad usage or input
    INTERNAL = 3  # the harness broke
    INTERRUPTED = 130  # control-C or SIGTERM: 128 + SIGINT, as shells report it


class GraderError(Exception):
    """Base of the harness's own errors: a message written for a person."""

    exit_code: ExitCode = ExitCode.INTERNAL

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def show(self) -> None:
        text = textwrap.fill(
            " ".join(self.message.split()), width=88,
            break_on_hyphens=False, break_long_words=False,
        )  # fmt: skip
        print(f"grade: {text}", file=sys.stderr)


class UsageError(GraderError):
    """Bad usage: an unknown exercise, a bad option."""

    exit_code = ExitCode.USAGE


class SubmissionError(UsageError):
    """The submission path cannot be read: it does not exist or is not a folder."""


class SandboxError(GraderError):
    """The sandbox could not be set up or broke: the harness's fault, never the student's."""

    exit_code = ExitCode.INTERNAL


class ExerciseError(GraderError):
    """An exercise folder is broken (bad exercise.toml): the instructor's to fix."""

    exit_code = ExitCode.INTERNAL
