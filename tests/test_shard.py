"""`grade batch --shard K/N` and `grade merge`: slices of a class, joined into one.

A class of six exercise1 submissions is graded once unsharded and once in three shards (a
module fixture); the merge of the shards must agree with the unsharded batch. The shipped
GitHub workflow and Kubernetes manifest are read with PyYAML and their commands run here.
"""

from __future__ import annotations

import csv
import io
import json
import os
import random
import re
import shutil
import subprocess
import sys
import time
import unicodedata
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import click
import pytest
import yaml
from click.testing import CliRunner, Result

from grader.batch import shard
from grader.cli import main
from grader.errors import UsageError
from grader.render import class_summary
from grader.report import ClassReport

REPO = Path(__file__).resolve().parent.parent
VARIANTS = REPO / "tests" / "submissions" / "exercise1"
SOURCES = {
    "ref": REPO / "reference" / "exercise1",
    "ann": VARIANTS / "no_trunc",
    "bo": VARIANTS / "fd_leak",
    "cy": VARIANTS / "does_not_compile",
    "dee": VARIANTS / "wrong_mode",
    "eli": VARIANTS / "dup2_wrong_fd",
}
N = 3
WORKFLOW = REPO / "examples" / "workflows" / "class-grade.yml"
MANIFEST = REPO / "examples" / "kubernetes" / "grade-job.yaml"


def _invoke(*args: str | Path) -> Result:
    """`grade ARGS...` in-process, through main: its exits and messages, as a user sees them."""
    argv = [str(a) for a in args]
    wrapper = click.Command("grade", callback=lambda: main(argv))
    return CliRunner().invoke(wrapper, [], catch_exceptions=False)


def _grade(*args: str | Path) -> Result:
    result = _invoke(*args)
    assert result.exit_code == 0, result.output
    return result


def _usage(*args: str | Path) -> str:
    result = _invoke(*args)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    return result.output


# the shard arithmetic, without grading


def test_shards_are_disjoint_and_cover_the_class() -> None:
    ids = [f"student{i:03d}" for i in range(300)] + ["Zoë Ångström", "a/b", "", "x" * 500]
    for n in range(1, 7):
        slices = [{s for s in ids if shard.Shard(k, n).holds(s)} for k in range(1, n + 1)]
        assert sum(len(s) for s in slices) == len(ids)  # each id in exactly one shard
        assert set().union(*slices) == set(ids)
        if n > 1:
            assert all(slices), f"a shard of {n} got none of 300 students"


def test_a_shard_depends_on_the_id_alone() -> None:
    ids = [f"s{i}" for i in range(100)]
    before = {s: shard.of(s, 4) for s in ids}
    shuffled = ids[:]
    random.Random(12).shuffle(shuffled)
    assert {s: shard.of(s, 4) for s in shuffled} == before
    # a student added to the class moves nobody else
    assert {s: shard.of(s, 4) for s in [*shuffled, "newcomer"]}.items() >= before.items()
    # a Mac's decomposed "é" is the same student as Linux's composed one
    name = "José"
    assert shard.of(unicodedata.normalize("NFD", name), 7) == shard.of(name, 7)


def test_another_process_puts_each_student_in_the_same_shard() -> None:
    ids = ["alice", "bob", "Zoë", "100001"]
    code = (
        "import json, sys; from grader.batch import shard; "
        "print(json.dumps([shard.of(s, 5) for s in sys.argv[1:]]))"
    )
    env = {**os.environ, "PYTHONHASHSEED": "1234"}  # another str hash: ours must not use it
    out = subprocess.run(
        [sys.executable, "-c", code, *ids], capture_output=True, text=True, check=True,
        cwd=REPO, env=env,
    )  # fmt: skip
    assert json.loads(out.stdout) == [shard.of(s, 5) for s in ids]


@pytest.mark.parametrize("bad", ["0/3", "4/3", "3", "1/0", "a/b", "-1/3", "1/3/5", ""])
def test_a_bad_shard_is_a_usage_error(bad: str, tmp_path: Path) -> None:
    with pytest.raises(UsageError):
        shard.parse(bad)
    (tmp_path / "class" / "ann").mkdir(parents=True)
    said = _usage("batch", "exercise1", tmp_path / "class", "--shard", bad)
    assert "K/N" in said
    assert "\n\n" not in said.strip()  # one paragraph
    assert not (tmp_path / "class-graded").exists()  # refused before anything ran


def test_parse_reads_k_of_n() -> None:
    assert shard.parse("2/5") == shard.Shard(2, 5)
    assert str(shard.parse(" 1 / 1 ")) == "1/1"


# one class, unsharded and in shards


def _make_class(root: Path) -> Path:
    klass = root / "class"
    for student, source in SOURCES.items():
        (klass / student).mkdir(parents=True)
        shutil.copy(source / "copy.c", klass / student / "copy.c")
    return klass


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("shards")
    klass = _make_class(root)
    started = time.monotonic()
    _grade("batch", "exercise1", klass, "--out", root / "whole", "--jobs", "2")
    whole_s = time.monotonic() - started
    started = time.monotonic()
    for k in range(1, N + 1):
        _grade("batch", "exercise1", klass, "--shard", f"{k}/{N}", "--out", root / f"shard-{k}",
               "--jobs", "2")  # fmt: skip
    sharded_s = time.monotonic() - started
    shards = [root / f"shard-{k}" for k in range(1, N + 1)]
    merged = _grade("merge", *shards, "--out", root / "merged", "--summary", root / "sum.md")
    print(f"\nunsharded {whole_s:.1f} s, {N} shards one after the other {sharded_s:.1f} s")
    return {"root": root, "class": klass, "shards": shards, "said": merged.output}


def _sheet(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))


class _Table(HTMLParser):
    """The rows of the overview's student table, as the texts of their cells."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self.inside = False
        self.cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table" and ("id", "student-table") in attrs:
            self.inside = True
        elif self.inside and tag == "tr":
            self.rows.append([])
        elif self.inside and tag in ("td", "th"):
            self.cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self.inside = False
        elif self.inside and tag in ("td", "th") and self.cell is not None:
            self.rows[-1].append(" ".join("".join(self.cell).split()))
            self.cell = None

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.cell.append(data)


def _students_table(page: Path) -> list[list[str]]:
    parser = _Table()
    parser.feed(page.read_text(encoding="utf-8"))
    assert len(parser.rows) > 1, f"no student table in {page}"
    return [row[:-1] for row in parser.rows]  # the last column is the grade's duration


def _pages(base: Path) -> set[str]:
    return {p.relative_to(base).as_posix() for p in (base / "students").glob("*/*.html")}


def test_each_student_is_graded_in_exactly_one_shard(graded: dict[str, Any]) -> None:
    held = [{p.name for p in (s / "students").iterdir()} for s in graded["shards"]]
    assert sorted(x for h in held for x in h) == sorted(SOURCES)
    for k, names in enumerate(held, 1):
        assert names == {s for s in SOURCES if shard.of(s, N) == k}
        manifest = json.loads((graded["shards"][k - 1] / "batch.json").read_text())
        assert manifest["shard"] == f"{k}/{N}"


def test_merged_shards_agree_with_one_batch(graded: dict[str, Any]) -> None:
    whole, merged = graded["root"] / "whole", graded["root"] / "merged"
    assert _sheet(merged / "grades.csv") == _sheet(whole / "grades.csv")
    assert len(_sheet(whole / "grades.csv")) == 2 + len(SOURCES)
    assert _students_table(merged / "index.html") == _students_table(whole / "index.html")
    assert _pages(merged) == _pages(whole)
    assert len(_pages(whole)) == 2 * len(SOURCES)
    assert "merged 6 students from 3 folders" in graded["said"]


def test_the_summary_lists_every_student(graded: dict[str, Any]) -> None:
    text = (graded["root"] / "sum.md").read_text(encoding="utf-8")
    rows = [line for line in text.splitlines() if line.startswith("| ") and "---" not in line]
    sheet = _sheet(graded["root"] / "whole" / "grades.csv")[2:]
    assert [r.split(" | ")[0].removeprefix("| ") for r in rows[1:]] == [s[0] for s in sheet]
    assert [r.split(" | ")[-1].removesuffix(" |") for r in rows[1:]] == [s[-1] for s in sheet]


def test_merging_again_gives_the_same_files(graded: dict[str, Any]) -> None:
    merged = graded["root"] / "merged"
    before = {p: p.read_bytes() for p in merged.rglob("*") if p.is_file()}
    _grade("merge", *graded["shards"], "--out", merged)
    assert {p: p.read_bytes() for p in merged.rglob("*") if p.is_file()} == before


def test_a_student_in_two_folders_names_both(graded: dict[str, Any]) -> None:
    whole, first = graded["root"] / "whole", next(s for s in graded["shards"]
                                                   if any((s / "students").iterdir()))  # fmt: skip
    said = _usage("merge", whole, first, "--out", graded["root"] / "twice")
    assert str(whole) in said
    assert str(first) in said


def test_a_missing_shard_is_said(graded: dict[str, Any]) -> None:
    result = _invoke("merge", graded["shards"][0], "--out", graded["root"] / "part")
    assert result.exit_code == 0, result.output
    assert f"2/{N}, 3/{N}" in result.output


@pytest.mark.parametrize("what", ["schema 1", "not json", "deleted"])
def test_a_bad_report_is_named(graded: dict[str, Any], tmp_path: Path, what: str) -> None:
    copy = tmp_path / "shard"
    src = next(s for s in graded["shards"] if any((s / "students").iterdir()))
    shutil.copytree(src, copy)
    report = next((copy / "students").glob("*/report.json"))
    if what == "schema 1":
        data = json.loads(report.read_text())
        report.write_text(json.dumps({**data, "schema": 1}))
    elif what == "not json":
        report.write_text("{not json")
    else:
        report.unlink()
    said = _usage("merge", copy, "--out", tmp_path / "out")
    assert str(report) in " ".join(said.split())


def test_merge_of_nothing_or_no_batch_is_refused(tmp_path: Path) -> None:
    assert "no folder to merge" in _usage("merge")
    (tmp_path / "empty").mkdir()
    assert "empty" in _usage("merge", tmp_path / "empty")
    assert "not a folder" in _usage("merge", tmp_path / "nowhere")


def test_all_merges_by_exercise(graded: dict[str, Any]) -> None:
    root, klass = graded["root"], graded["class"]
    _grade("batch", "all", klass, "--out", root / "all-whole", "--jobs", "2")
    for k in (1, 2):
        _grade("batch", "all", klass, "--shard", f"{k}/2", "--out", root / f"all-{k}",
               "--jobs", "2")  # fmt: skip
    _grade("merge", root / "all-1", root / "all-2", "--out", root / "all-merged")
    for name in ("exercise1/grades.csv",):
        assert _sheet(root / "all-merged" / name) == _sheet(root / "all-whole" / name)
    assert (root / "all-merged" / "index.html").is_file()
    assert _pages(root / "all-merged" / "exercise1") == _pages(root / "all-whole" / "exercise1")
    # folders of `all` do not mix with folders of one exercise
    assert "cannot merge" in _usage("merge", root / "all-1", graded["shards"][0])


def test_the_summary_escapes_student_ids_and_keeps_under_its_limit() -> None:
    from test_html import klass as hand_klass

    k: ClassReport = hand_klass(3)
    reports = [replace(r, student=f"x|<b>y</b>\x1b[31m{i}") for i, r in enumerate(k.reports)]
    k = ClassReport(k.exercise, k.name, k.title, k.catalogue, tuple(reports))
    text = class_summary.render([k])
    assert "<b>" not in text
    assert "\x1b" not in text
    assert all(line.count(" | ") == 3 for line in text.splitlines() if line.startswith("| x"))
    big = ClassReport(k.exercise, k.name, k.title, k.catalogue, tuple(reports) * 2000)
    cut = class_summary.render([big], limit=20_000)
    assert len(cut.encode()) <= 20_000
    assert "rows left out" in cut


# the shipped workflow, run here


_EXPR = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


def _sub(text: str, values: dict[str, str]) -> str:
    def one(m: re.Match[str]) -> str:
        assert m[1] in values, f"the test does not know ${{{{ {m[1]} }}}}"
        return values[m[1]]

    return _EXPR.sub(one, text)


def test_the_workflow_grades_shards_and_merges(graded: dict[str, Any], tmp_path: Path) -> None:
    flow = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    triggers = flow[True]  # YAML 1.1 reads the key `on` as true
    for how in ("workflow_call", "workflow_dispatch"):
        assert {"exercise", "shards"} <= set(triggers[how]["inputs"])
    jobs = flow["jobs"]
    assert jobs["merge"]["needs"] == "shard"
    shard_steps = jobs["shard"]["steps"]
    assert any(s.get("run") == "sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0"
               for s in shard_steps)  # fmt: skip
    assert all(jobs[j]["runs-on"] == "ubuntu-24.04" for j in jobs)
    work = tmp_path / "repo"
    shutil.copytree(graded["class"], work / "submissions")
    for k, s in enumerate(graded["shards"], 1):  # as a rerun: their reports are reused
        shutil.copytree(s, work / f"shard-{k}")
    artifacts = tmp_path / "artifacts"
    venv_bin = str(Path(sys.executable).parent)
    inputs = {"inputs.exercise": "exercise1", "inputs.shards": str(N),
              "inputs.class-dir": "submissions", "inputs.ipcgrade": "unused"}  # fmt: skip
    summary = tmp_path / "summary.md"

    def run_job(name: str, values: dict[str, str]) -> dict[str, str]:
        job = jobs[name]
        out = tmp_path / f"{name}.out"
        out.write_text("")
        env = {**os.environ, "PATH": venv_bin + os.pathsep + os.environ["PATH"], "CI": "true",
               "GITHUB_OUTPUT": str(out), "GITHUB_STEP_SUMMARY": str(summary),
               "GITHUB_PATH": str(tmp_path / "path"), "RUNNER_TEMP": str(tmp_path)}  # fmt: skip
        env |= {k: _sub(str(v), values) for k, v in job.get("env", {}).items()}
        for step in job["steps"]:
            uses = step.get("uses", "")
            with_ = {k: _sub(str(v), values) for k, v in step.get("with", {}).items()}
            if uses.startswith("actions/checkout"):
                continue
            if uses.startswith("actions/upload-artifact"):
                shutil.copytree(work / with_["path"], artifacts / with_["name"])
                continue
            if uses.startswith("actions/download-artifact"):
                assert with_["merge-multiple"] == "False"
                pattern = with_["pattern"]
                for a in sorted(artifacts.glob(pattern)):
                    shutil.copytree(a, work / with_["path"] / a.name)
                continue
            if step.get("name") in ("Install system packages", "Install ipcgrade") or (
                "sysctl" in step.get("run", "")
            ):
                continue  # the runner's setup: this venv and machine stand in for it
            step_env = env | {k: _sub(str(v), values) for k, v in step.get("env", {}).items()}
            done = subprocess.run(["bash", "-e", "-c", _sub(step["run"], values)], cwd=work,
                                  env=step_env, capture_output=True, text=True)  # fmt: skip
            assert done.returncode == 0, f"{step.get('name')}: {done.stderr}"
        return dict(line.split("=", 1) for line in out.read_text().splitlines() if "=" in line)

    planned = run_job("plan", inputs)
    ks = json.loads(planned["shards"])
    assert ks == list(range(1, N + 1))
    for k in ks:
        run_job("shard", inputs | {"matrix.shard": str(k)})
    run_job("merge", inputs)
    report = artifacts / "class-report"
    assert _sheet(report / "grades.csv") == _sheet(graded["root"] / "whole" / "grades.csv")
    assert "## Class results" in summary.read_text()
    assert all(f"| {s} |" in summary.read_text() for s in SOURCES)


# the Kubernetes manifest


def test_the_kubernetes_job_shards_by_completion_index(tmp_path: Path) -> None:
    docs = list(yaml.safe_load_all(MANIFEST.read_text(encoding="utf-8")))
    grade_job, merge_job = docs
    spec = grade_job["spec"]
    assert spec["completionMode"] == "Indexed"
    container = spec["template"]["spec"]["containers"][0]
    env = {e["name"]: e["value"] for e in container["env"]}
    n = int(env["SHARDS"])
    assert spec["completions"] == n
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "grade").write_text('#!/bin/sh\nprintf "%s\\n" "$@"\n')
    (fake / "grade").chmod(0o755)
    seen = []
    for index in range(n):
        done = subprocess.run(
            [*container["command"], *container["args"]], capture_output=True, text=True,
            check=True, env={**os.environ, **env, "JOB_COMPLETION_INDEX": str(index),
                             "PATH": f"{fake}{os.pathsep}{os.environ['PATH']}"},
        )  # fmt: skip
        argv = done.stdout.splitlines()
        assert argv[:3] == ["batch", env["EXERCISE"], "/class"]
        k = shard.parse(argv[argv.index("--shard") + 1])
        assert (k.index, k.count) == (index + 1, n)
        assert argv[argv.index("--out") + 1] == f"/results/shard-{index + 1}"
        seen.append(k.index)
    assert seen == list(range(1, n + 1))
    merge = merge_job["spec"]["template"]["spec"]["containers"][0]["args"][0]
    assert merge == "grade merge /results/shard-* --out /results/class-report"
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert merge in readme
    assert container["args"][0] in readme
