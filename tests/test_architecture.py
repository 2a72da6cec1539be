"""The tree keeps the shape docs/architecture.json draws: no import cycle, every import
between parts an arrow and never a `never`, every module in a part, checks through the facade.

Every import counts, those in functions and under `if TYPE_CHECKING:` too (tests/imports.py
reads them with `ast`; `python tests/imports.py` prints what these tests judge).
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from imports import (
    ARCHITECTURE,
    REPO,
    Edge,
    Graph,
    Module,
    Parts,
    cycle_path,
    cycles,
    facade_breaches,
    facade_names,
    leaf_breaches,
    only_breaches,
    part_edges,
    scan,
    unplaced,
)


@pytest.fixture(scope="module")
def graph() -> Graph:
    return scan(REPO)


@pytest.fixture(scope="module")
def parts() -> Parts:
    return Parts.load(ARCHITECTURE)


def _cycles_said(g: Graph) -> list[str]:
    return [
        f"{len(c)} modules: {', '.join(c)}; for one, "
        + " -> ".join(f"{e.source} ({e.where}, {e.kind})" for e in cycle_path(g, c))
        + f" -> {c[0]}"
        for c in cycles(g)
    ]


def _nevers(g: Graph, p: Parts) -> list[str]:
    return [
        f"{e.where}: {e.source} -> {e.target} ({a} -> {b}: {p.never[(a, b)]})"
        for (a, b), edges in part_edges(g, p).items()
        if (a, b) in p.never
        for e in edges
    ]


def _not_arrows(g: Graph, p: Parts) -> list[str]:
    # a `never` is not an arrow either; test_no_import_is_a_never names those
    return [
        f"{e.where}: {e.source} -> {e.target} ({a} -> {b})"
        for (a, b), edges in part_edges(g, p).items()
        if (a, b) not in p.arrows and (a, b) not in p.never
        for e in edges
    ]


def test_the_walk_reads_the_tree(graph: Graph) -> None:
    assert {"grader", "grader.cli", "grader.sandbox", "exercises.exercise2.checks"} <= set(
        graph.modules
    )
    assert ("grader.cli", "grader.session") in {(e.source, e.target) for e in graph.edges}


def test_no_import_cycle(graph: Graph) -> None:
    """Counting function-level and TYPE_CHECKING imports: a cycle they close is a cycle."""
    said = _cycles_said(graph)
    assert not said, "import cycles:\n" + "\n".join(said)


def test_no_import_is_a_never(graph: Graph, parts: Parts) -> None:
    """No import is one of the architecture's `never`s, named with its file and line."""
    said = _nevers(graph, parts)
    assert not said, "imports the architecture forbids:\n" + "\n".join(said)


def test_every_import_between_parts_is_an_arrow(graph: Graph, parts: Parts) -> None:
    """An import from one part into another follows an arrow."""
    said = _not_arrows(graph, parts)
    assert not said, "imports between parts that no arrow allows:\n" + "\n".join(said)


def test_every_module_is_in_one_part(graph: Graph, parts: Parts) -> None:
    """A module no part names has no place in the design: name it in docs/architecture.json."""
    lost = unplaced(graph, parts)
    assert not lost, "modules in no part of docs/architecture.json:\n" + "\n".join(lost)
    twice = {}
    for m in graph.modules.values():
        claims = parts.claims(m.path)
        best = [c for c in claims if len(c[1]) == max(len(e) for _, e in claims)]
        if len({name for name, _ in best}) > 1:
            twice[m.path] = best
    assert twice == {}, "modules two parts claim alike"


def test_checks_import_only_the_facade(graph: Graph) -> None:
    """`import grader`, or `from grader import X` with X in grader/__init__.py's __all__."""
    allowed = facade_names(REPO)
    assert {"Failed", "inspection"} <= allowed
    breaches = [
        f"{m.path}:{line}: {text}"
        for m in sorted(graph.modules.values())
        if m.path.startswith("exercises/")
        for line, text in facade_breaches(REPO / m.path, allowed)
    ]
    assert not breaches, "checks importing past the facade:\n" + "\n".join(breaches)


def test_only_the_named_modules_import_what_is_theirs(graph: Graph, parts: Parts) -> None:
    """The architecture's `only`: the sandbox's host side is the session's alone; the build,
    the worker's (and the facade's, for `not_built`)."""
    said = only_breaches(graph, parts)
    assert not said, "\n".join(said)


def test_leaves_import_nothing_of_the_grader(graph: Graph, parts: Parts) -> None:
    said = leaf_breaches(graph, parts)
    assert not said, "\n".join(said)


def test_the_architecture_names_what_the_tree_holds(parts: Parts) -> None:
    """Every `is` entry exists (the review found the old file naming a sandbox.py long gone);
    the arrows join named parts, no arrow is also a never, and the arrows make no cycle."""
    missing = [
        f"{name}: {entry}"
        for name, entries in parts.owns.items()
        for entry in entries
        if not (REPO / entry).exists()
    ]
    assert not missing, "entries of docs/architecture.json that do not exist:\n" + "\n".join(
        missing
    )
    named = {p for pair in [*parts.arrows, *parts.never] for p in pair}
    assert named <= set(parts.owns)
    assert parts.arrows & set(parts.never) == set()
    named_files = [*parts.only, *(p for by, _ in parts.only.values() for p in by), *parts.leaves]
    assert [p for p in named_files if not (REPO / p).exists()] == []
    assert _part_cycles(parts) == []


def _part_cycles(parts: Parts) -> list[list[str]]:
    """The arrows' own cycles: parts as modules, each arrow an import."""
    g = Graph(
        {p: Module(p, p) for p in parts.owns},
        tuple(Edge(a, b, "docs/architecture.json", 0, "top") for a, b in sorted(parts.arrows)),
    )
    return cycles(g)


def test_the_page_draws_what_the_json_says(parts: Parts) -> None:
    """docs/architecture.md's arrows, nevers and parts are those of architecture.json."""
    page = (REPO / "docs" / "architecture.md").read_text(encoding="utf-8")
    block = page.split("## The arrows", 1)[1].split("```", 2)[1]
    drawn = {
        (a.strip(), b.strip())
        for line in block.strip().splitlines()
        for a, targets in [line.split("→", 1)]
        for b in targets.split(",")
    }
    assert drawn == set(parts.arrows)
    table = page.split("## What must never import what", 1)[1].split("\n\n", 2)[1]
    rows = {
        (a.strip(), b.strip()): why.strip()
        for line in table.splitlines()[2:]
        for a, b, why in [line.strip("|").split("|")]
    }
    assert rows == parts.never
    listed = page.split("## The parts", 1)[1].split("\n\n", 2)[1].splitlines()[2:]
    assert [row.split("|")[1].strip() for row in listed] == list(parts.owns)


def test_the_readme_links_the_architecture() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    layout = readme.split("## Layout", 1)[1]
    assert "docs/architecture.md" in layout
    assert (REPO / "docs" / "architecture.md").is_file()


def _write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")


def test_the_checker_finds_a_cycle_and_a_forbidden_edge(tmp_path: Path) -> None:
    """A tiny package with the flaws the real tree must not have: a cycle closed only by a
    function-level relative import, a TYPE_CHECKING import of a part it must never see,
    a module in no part, and a check importing past the facade."""
    _write(
        tmp_path,
        {
            "pkg/__init__.py": "from pkg.core import run\n__all__ = ['run']\n",
            "pkg/core.py": "from pkg import helper\n\ndef run():\n    return helper.x\n",
            "pkg/helper.py": "x = 1\n\ndef late():\n    from . import core\n",
            "pkg/view/__init__.py": "",
            "pkg/view/show.py": (
                "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ..core import run\n"
            ),
            "pkg/stray.py": "import pkg.view.show\n",
            "exercises/one/checks.py": (
                "from pkg import run\nfrom pkg.helper import x\nimport pkg.view.show\n"
            ),
        },
    )
    arch = tmp_path / "architecture.json"
    arch.write_text(
        json.dumps(
            {
                "parts": {
                    "Core": {"is": ["pkg/__init__.py", "pkg/core.py", "pkg/helper.py"]},
                    "View": {"is": ["pkg/view/"]},
                    "Checks": {"is": ["exercises/"]},
                },
                "arrows": [["Checks", "Core"]],
                "never": [["View", "Core", "views compute nothing"]],
                "only": [["pkg/core.py", ["pkg/__init__.py"], "the core is the facade's"]],
                "leaves": [["pkg/helper.py", "helpers help, they call nobody"]],
            }
        ),
        encoding="utf-8",
    )
    g = scan(tmp_path, ("pkg/**/*.py", "exercises/*/checks.py"))
    p = Parts.load(arch)

    kinds = {(e.source, e.target): e.kind for e in g.edges}
    assert kinds[("pkg.helper", "pkg.core")] == "function"  # `from . import core`, resolved
    assert kinds[("pkg.core", "pkg.helper")] == "top"  # `from pkg import helper`: the module
    assert kinds[("pkg.view.show", "pkg.core")] == "typing"  # `from ..core import run`
    assert kinds[("exercises.one.checks", "pkg")] == "top"  # `from pkg import run`: the facade

    assert cycles(g) == [["pkg.core", "pkg.helper"]]
    said = _cycles_said(g)
    assert len(said) == 1
    assert "pkg/helper.py:4, function" in said[0]
    assert "pkg/core.py:1, top" in said[0]

    assert _nevers(g, p) == [
        "pkg/view/show.py:3: pkg.view.show -> pkg.core (View -> Core: views compute nothing)"
    ]
    assert _not_arrows(g, p) == [
        "exercises/one/checks.py:3: exercises.one.checks -> pkg.view.show (Checks -> View)"
    ]
    assert only_breaches(g, p) == [
        "pkg/helper.py:4: pkg.helper imports pkg.core (the core is the facade's)",
        "pkg/view/show.py:3: pkg.view.show imports pkg.core (the core is the facade's)",
    ]
    assert leaf_breaches(g, p) == [
        "pkg/helper.py:4: pkg.helper imports pkg.core (helpers help, they call nobody)"
    ]
    assert unplaced(g, p, "pkg") == ["pkg/stray.py"]
    facade = facade_names(tmp_path, "pkg")
    assert facade == {"run"}
    assert facade_breaches(tmp_path / "exercises/one/checks.py", facade, "pkg") == [
        (2, "from pkg.helper import x"),
        (3, "import pkg.view.show"),
    ]

    # and a tree without the flaws passes
    _write(
        tmp_path,
        {
            "pkg/helper.py": "x = 1\n",
            "pkg/view/show.py": "",
            "exercises/one/checks.py": "from pkg import run\n",
        },
    )
    clean = scan(tmp_path, ("pkg/**/*.py", "exercises/*/checks.py"))
    assert cycles(clean) == []
    assert _nevers(clean, p) == []
    assert _not_arrows(clean, p) == []
    assert only_breaches(clean, p) == []
    assert leaf_breaches(clean, p) == []
    assert facade_breaches(tmp_path / "exercises/one/checks.py", facade, "pkg") == []
