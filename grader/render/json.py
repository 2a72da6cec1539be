"""The report as JSON (`"schema": 2`): the contract every other tool reads."""

from __future__ import annotations

import json

from grader.report import SubmissionReport


def render(report: SubmissionReport) -> str:
    return json.dumps(report.to_dict(), indent=2, ensure_ascii=True) + "\n"
