"""TAP 14 read by the npm tap-parser in --strict mode, TAP 13 by Perl's prove; the YAML
blocks read back by PyYAML; student text can neither end a block nor forge a test point.

tap-parser is found at $IPCGRADE_TAP_PARSER, else at .node/node_modules/.bin/tap-parser
(.ci/run installs it there with npm). prove rejects "TAP version 14" ("we don't know about
versions later than 13": a parse error), hence --tap-version 13 for it. Missing either tool,
these tests skip, except under CI.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import missing_tool
from test_html import CONTROL, HIDDEN_TITLES, IMG, SCRIPT, build_failure_report, student_report

from grader.render import tap
from grader.report import SubmissionReport
from grader.results import Outcome

REPO = Path(__file__).resolve().parent.parent
HANG = REPO / "tests" / "submissions" / "exercise2" / "parent_keeps_write_end"
# student output trying to end the YAML block and forge test points
FORGE = "x\n  ...\nok 99 - forged\n...\nBail out! forged\n# SKIP\n1..1\n"


def _tool(path: str | None, what: str) -> str:
    if path and Path(path).exists():
        return path
    missing_tool(f"{what} is missing (.ci/run installs it)", f"CI must check TAP with {what}")


@pytest.fixture(scope="module")
def tap_parser() -> str:
    path = os.environ.get("IPCGRADE_TAP_PARSER") or str(
        REPO / ".node" / "node_modules" / ".bin" / "tap-parser"
    )
    if not shutil.which("node"):
        _tool(None, "node")
    return _tool(path, "the npm package tap-parser")


@pytest.fixture(scope="module")
def prove() -> str:
    return _tool(shutil.which("prove") or "/usr/bin/prove", "Perl's prove")


@pytest.fixture
def hang(pipe_hang: SubmissionReport) -> SubmissionReport:
    return pipe_hang  # graded once for every format (conftest)


def _hostile() -> list[SubmissionReport]:
    forged = student_report(payload=FORGE + SCRIPT + "\ufffe" + CONTROL)
    return [student_report(payload=SCRIPT), student_report(payload=IMG), forged,
            build_failure_report()]  # fmt: skip


def _want(r: SubmissionReport) -> dict[str, int]:
    """Test points a student's TAP must have, from the report (hidden checks aside)."""
    hidden = {s.id for s in r.catalogue if s.visibility != "visible"}
    shown = [c for c in r.checks if c.id not in hidden]
    not_run = sum(1 for s in r.catalogue if s.id not in {c.id for c in r.checks} | hidden)
    bad = sum(c.outcome in (Outcome.FAILED, Outcome.ERROR) for c in shown)
    bad += (not r.build.ok and not r.missing_files) + bool(r.missing_files) + bool(r.error)
    count = len(shown) + not_run + 1 + bool(r.missing_files) + bool(r.error)
    return {"count": count, "fail": bad, "pass": count - bad}


def _parse(tap_parser: str, text: str) -> dict[str, Any]:
    out = subprocess.run([tap_parser, "--strict", "-j"], input=text, capture_output=True,
                         text=True, timeout=60, check=False)  # fmt: skip
    events = json.loads(out.stdout)
    done: dict[str, Any] = next(e[1] for e in events if e[0] == "complete")
    assert out.returncode == (0 if done["ok"] else 1), out.stderr  # its exit says ok
    return done


def test_tap_parser_strict_reads_every_report(tap_parser: str, hang: SubmissionReport) -> None:
    for r in [*_hostile(), hang]:
        text = tap.render(r)
        done = _parse(tap_parser, text)
        assert not done["bailout"]
        assert [f["tapError"] for f in done["failures"] if f.get("tapError")] == []
        want = _want(r)
        assert {k: done[k] for k in ("count", "fail", "pass")} == want, text
        assert done["ok"] is (want["fail"] == 0)
        assert done["plan"]["end"] == want["count"]


def test_an_all_passed_report_is_ok(tap_parser: str) -> None:
    r = student_report()
    passed = tuple(replace(c, outcome=Outcome.PASSED, points=c.max_points) for c in r.checks)
    done = _parse(tap_parser, tap.render(replace(r, checks=passed, catalogue=r.catalogue[:-1])))
    assert done["ok"] is True
    assert done["fail"] == 0


def _prove(prove: str, path: Path) -> str:
    out = subprocess.run([prove, "-v", "--exec", "cat", str(path)], capture_output=True,
                         encoding="utf-8", errors="replace", timeout=60, check=False)  # fmt: skip
    return out.stdout + out.stderr


def test_prove_reads_version_13_and_rejects_14(prove: str, hang: SubmissionReport,
                                               tmp_path: Path) -> None:  # fmt: skip
    for i, r in enumerate([*_hostile(), hang]):
        path = tmp_path / f"{i}.tap"
        path.write_text(tap.render(r, version=13), encoding="utf-8")
        said = _prove(prove, path)
        assert "Parse errors" not in said, said
        want = _want(r)
        assert f"Tests: {want['count']} Failed: {want['fail']})" in said, said
    path = tmp_path / "14.tap"
    path.write_text(tap.render(hang), encoding="utf-8")
    assert "later than 13" in _prove(prove, path)


def _blocks(text: str) -> list[tuple[str, Any]]:
    """Each "not ok" line with its YAML block, read by PyYAML."""
    out = []
    for m in re.finditer(r"^(not ok .*)\n  ---\n((?:  .*\n)*?)  \.\.\.$", text, re.M):
        out.append((m.group(1), yaml.safe_load(re.sub(r"^  ", "", m.group(2), flags=re.M))))
    return out


def test_a_forged_test_point_stays_inside_its_yaml_block() -> None:
    r = _hostile()[2]
    text = tap.render(r)
    assert not re.search(r"^(ok 99|Bail out!|1\.\.1$)", text, re.M)
    found = dict(_blocks(text))
    output = next(v for k, v in found.items() if "test_output" in k)
    assert "ok 99 - forged" in output["found"]
    assert "Bail out! forged" in output["found"]
    assert "a\\x00b\\x1b[31mc\\x07" in output["found"]
    assert "\\ufffe" in output["found"]
    assert "\x00" not in text
    assert "\x1b" not in text


def test_a_hash_in_a_title_is_escaped_and_newlines_never_reach_a_description() -> None:
    r = student_report()
    checks = (replace(r.checks[0], title="uses # and \\ and\nnot ok 5 - forged"), *r.checks[1:])
    text = tap.render(replace(r, checks=checks))
    first = next(ln for ln in text.splitlines() if ln.startswith("ok 2 "))
    assert first == "ok 2 - test_compiles: uses \\# and \\\\ and not ok 5 - forged"


def test_the_pipe_hang_block_has_message_at_and_severity(hang: SubmissionReport) -> None:
    blocks = dict(_blocks(tap.render(hang)))
    block = next(v for k, v in blocks.items() if "test_grep_sees_end_of_file" in k)
    loc = next(c.location for c in hang.checks if c.name == "test_grep_sees_end_of_file")
    assert loc is not None
    assert "write end" in block["message"]
    assert block["severity"] == "fail"
    assert block["at"]["file"] == loc.file
    assert block["at"]["line"] == loc.line
    assert "ppid" in block["evidence"]


def test_found_and_wanted_carry_the_diff_sides() -> None:
    blocks = dict(_blocks(tap.render(student_report())))
    block = next(v for k, v in blocks.items() if "test_output" in k)
    assert block["wanted"] == "alice   1 firefox\n\tbob 2 firefox\n"
    assert block["found"].startswith("alice   1 firefox  \n")
    skipped = next(ln for ln in tap.render(student_report()).splitlines() if "test_signals" in ln)
    assert skipped.endswith("# SKIP needs the build")


def test_version_13_is_the_same_content() -> None:
    r = build_failure_report()
    v13, v14 = tap.render(r, version=13), tap.render(r)
    assert v13.startswith("TAP version 13\n")
    assert v13.split("\n", 1)[1] == v14.split("\n", 1)[1]


def test_hidden_checks_are_counted_not_shown() -> None:
    r = student_report()
    text = tap.render(r)
    for secret in (*HIDDEN_TITLES, "SECRET-DETAIL", "secret-mistake", "test_secret_edge"):
        assert secret not in text
    assert "# 2 hidden checks, worth 4 points" in text
    assert "SECRET-DETAIL" in tap.render(r, instructor=True)
