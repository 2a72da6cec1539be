"""JUnit XML as pytest writes it: strict (valid against junit-10.xsd) or GitLab's flavour.

Built with xml.etree.ElementTree. ElementTree escapes markup but writes characters XML 1.0
forbids (NUL, most C0 controls, U+FFFE) as they are, which no parser reads back: every
string passes through `_xml()`, which shows them as \\x00 first. Points are properties of
the testsuite (`points`, `max_points`, and `points[test_x]` per check): the strict schema
allows properties nowhere else; GitLab's flavour also puts them, with `file` and `line`, on
each testcase. Hidden checks are counted (`hidden_checks`, `hidden_points`), not shown.
"""

from __future__ import annotations

import platform
import posixpath
import re
import xml.etree.ElementTree as ET

from grader.render.cases import Case, cases, hidden, num
from grader.report import SubmissionReport
from grader.results import Outcome

_FORBIDDEN = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _xml(text: str) -> str:
    return _FORBIDDEN.sub(lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) <= 0xFF
                          else f"\\u{ord(m.group()):04x}", text)  # fmt: skip


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    el = ET.SubElement(parent, tag, {k: _xml(v) for k, v in attrs.items()})
    if text:
        el.text = _xml(text)
    return el


def _path(report: SubmissionReport, file: str) -> str:
    """A student's file as the repository's CI sees it: below the submission's folder when
    that was given as a relative path."""
    folder = report.submission
    if not folder or posixpath.isabs(folder) or posixpath.isabs(file):
        return file
    return posixpath.normpath(posixpath.join(folder, file))


def _testcase(suite: ET.Element, report: SubmissionReport, case: Case, gitlab: bool) -> None:
    attrs = {"classname": report.exercise, "name": case.name, "time": f"{case.duration_s:.3f}"}
    if gitlab and case.location:
        attrs["file"] = _path(report, case.location.file)
        attrs["line"] = str(case.location.line)
    tc = _sub(suite, "testcase", **attrs)
    if gitlab and case.max_points is not None:
        props = _sub(tc, "properties")
        _sub(props, "property", name="points", value=num(case.points or 0.0))
        _sub(props, "property", name="max_points", value=num(case.max_points))
    kind = case.failure or case.outcome.value
    if case.outcome is Outcome.FAILED:
        _sub(tc, "failure", case.details or case.message, message=case.message, type=kind)
    elif case.outcome is Outcome.ERROR:
        _sub(tc, "error", case.details or case.message, message=case.message, type=kind)
    elif case.outcome in (Outcome.SKIPPED, Outcome.NOT_RUN):
        _sub(tc, "skipped", case.message, message=case.message, type=f"ipcgrade.{kind}")
    out = "\n".join(x for x in (case.title, case.evidence) if x)
    _sub(tc, "system-out", out)


def render(report: SubmissionReport, *, gitlab: bool = False, instructor: bool = False,
           hostname: str | None = None) -> str:  # fmt: skip
    """The report as JUnit XML; `gitlab` adds `file` and `line` where a check points at the
    student's source; `instructor` shows the hidden checks; `hostname` defaults to this
    machine's, as pytest writes it (the report does not record where it was graded)."""
    shown = cases(report, instructor=instructor)
    count = {o: sum(c.outcome is o for c in shown) for o in Outcome}
    skipped = count[Outcome.SKIPPED] + count[Outcome.NOT_RUN]
    totals = {
        "tests": str(len(shown)),
        "failures": str(count[Outcome.FAILED]),
        "errors": str(count[Outcome.ERROR]),
    }
    root = ET.Element("testsuites", {"name": "ipcgrade", **totals,
                                     "time": f"{report.duration_s:.3f}"})  # fmt: skip
    attrs = {"name": report.exercise, **totals, "skipped": str(skipped),
             "time": f"{report.duration_s:.3f}",
             "hostname": hostname if hostname is not None else platform.node()}  # fmt: skip
    if report.graded_at:
        attrs["timestamp"] = report.graded_at
    suite = _sub(root, "testsuite", **attrs)
    props = _sub(suite, "properties")
    scored = [c for c in shown if c.max_points is not None]
    hidden_n, hidden_points = (0, 0.0) if instructor else hidden(report)
    values = [
        ("points", num(sum(c.points or 0.0 for c in scored))),
        ("max_points", num(sum(c.max_points or 0.0 for c in scored))),
        ("status", report.status),
        ("isolation", report.isolation.level),
        ("grader_version", report.grader_version),
    ]
    if report.student:
        values.append(("student", report.student))
    if hidden_n:
        values += [("hidden_checks", str(hidden_n)), ("hidden_points", num(hidden_points))]
    for c in scored:
        values += [(f"points[{c.name}]", num(c.points or 0.0)),
                   (f"max_points[{c.name}]", num(c.max_points or 0.0))]  # fmt: skip
    for name, value in values:
        _sub(props, "property", name=name, value=value)
    for case in shown:
        _testcase(suite, report, case, gitlab)
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, "unicode") + "\n"
