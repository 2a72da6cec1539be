"""GitHub Classroom's grader result: what autograding-grading-reporter reads.

A grader step sets the output `result` to base64 of a JSON object (version 1, status "pass",
"fail" or "error", max_score, tests[] with name, status, score, message, test_code, filename,
line_no, duration), as classroom-resources/autograding-command-grader's src/main.js writes it.
The reporter (classroom-resources/autograding-grading-reporter) decodes it from the env
variable <STEP-ID>_RESULTS: src/notify-classroom.js sends Classroom the sum of the tests'
`score` out of `max_score`, and src/main.js fails the job on a status "fail" or "error".
Its console table, src/helpers/test-helpers.js getTestScore, shows instead the passed
fraction of tests times max_score: the two agree when the checks are worth the same.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from grader.render import github, platform, terminal
from grader.report import SubmissionReport
from grader.results import Outcome

_STATUS = {Outcome.PASSED: "pass", Outcome.ERROR: "error"}  # any other outcome: "fail"


def _number(x: float) -> float | int:
    return int(x) if float(x).is_integer() else round(x, 4)


def result(report: SubmissionReport) -> dict[str, Any]:
    """The grader result as a dict: one test per check of the catalogue, in its order."""
    tests = []
    for spec, c in platform.checks(report):
        hidden = platform.hidden(spec)
        message = "" if c.outcome is Outcome.PASSED or hidden else github.said(c)
        if c.hint and not hidden and c.outcome is not Outcome.PASSED:
            message += f" What to do: {c.hint}"
        tests.append({
            "name": "a hidden check" if hidden else c.title,
            "status": _STATUS.get(c.outcome, "fail"),
            "score": _number(c.points),
            "max_score": _number(spec.max_points),
            "message": " ".join(message.split()),
            "test_code": f"grade {report.exercise} ({c.name})",
            "filename": "",
            "line_no": 0,
            "duration": round(c.duration_s * 1000),  # milliseconds, as the command grader
        })  # fmt: skip
    if not tests:  # the reporter divides by the number of tests: never zero
        why = report.error or "the grade produced no check"
        tests.append({"name": f"grade {report.exercise}", "status": "error", "score": 0,
                      "max_score": 0, "message": why, "test_code": f"grade {report.exercise}",
                      "filename": "", "line_no": 0, "duration": 0})  # fmt: skip
    status = "error" if report.exit_code == 3 else "pass" if report.passed else "fail"
    return {"version": 1, "status": status, "max_score": _number(report.max_score),
            "tests": tests}  # fmt: skip


def encoded(report: SubmissionReport) -> str:
    """The `result` output: base64 of the JSON, one line (no newline can occur in it)."""
    text = json.dumps(result(report), ensure_ascii=True, separators=(",", ":"))
    return base64.b64encode(text.encode("ascii")).decode("ascii")


def output(report: SubmissionReport) -> str:
    """The line appended to $GITHUB_OUTPUT. Base64 holds no newline, so the one-line
    `name=value` form is enough (the `name<<DELIMITER` form is for values that span lines)."""
    return f"result={encoded(report)}\n"


def render(report: SubmissionReport, *, token: str | None = None) -> str:
    """The step's log: the student's report where no workflow command runs, then one line
    with the status and points the result holds (the result itself goes to $GITHUB_OUTPUT).
    """
    r = result(report)
    line = (f"classroom result: {r['status']}, {platform.num(report.score)}/{r['max_score']} "
            f"points over {len(r['tests'])} tests (the step output 'result')")  # fmt: skip
    return github.quiet(terminal.render(report), token) + line + "\n"
