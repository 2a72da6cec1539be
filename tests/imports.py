"""Every import of the harness and its checks, as a graph of modules and of architecture parts.

    python tests/imports.py           each module's imports, the cycles, what breaks the design
    python tests/imports.py --parts   the parts and the imports between them
    python tests/imports.py --root DIR --architecture FILE   another checkout, another design

Read with `ast` alone, nothing is imported: top-level imports, those under
`if TYPE_CHECKING:` (marked `[typing]`) and those inside a function (`[function]`) all count,
since each one is a dependency a cycle can run through. A relative import is resolved against
its module's package, and `from grader import x` names the submodule `grader.x` where there
is one (else the package itself: `from grader import Failed` is an import of the facade).
`tests/test_architecture.py` holds these edges to the parts of `docs/architecture.json`.
"""

from __future__ import annotations

import argparse
import ast
import json
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
ARCHITECTURE = REPO / "docs" / "architecture.json"
# what is read: the harness, the exercises' checks and the suite's own check files
SOURCES = (
    "grader/**/*.py",
    "exercises/*/checks.py",
    "tests/hostile/checks.py",
    "tests/probe/*.py",
)
TOP, TYPING, FUNCTION = "top", "typing", "function"


@dataclass(frozen=True, order=True)
class Module:
    name: str  # "grader.sandbox" for grader/sandbox/__init__.py
    path: str  # relative to the root, with "/"

    @property
    def is_package(self) -> bool:
        return self.path.endswith("/__init__.py")


@dataclass(frozen=True, order=True)
class Edge:
    source: str
    target: str
    path: str  # the importing file, relative to the root
    line: int
    kind: str  # TOP, TYPING or FUNCTION

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}"


@dataclass(frozen=True)
class Graph:
    modules: dict[str, Module]
    edges: tuple[Edge, ...]

    def __repr__(self) -> str:
        return f"Graph({len(self.modules)} modules, {len(self.edges)} imports)"

    def deps(self) -> dict[str, set[str]]:
        out: dict[str, set[str]] = {name: set() for name in self.modules}
        for e in self.edges:
            out[e.source].add(e.target)
        return out


def module_name(path: str) -> str:
    parts = path.removesuffix(".py").split("/")
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def scan(root: Path = REPO, sources: tuple[str, ...] = SOURCES) -> Graph:
    """The modules the `sources` globs find under `root`, and every import among them."""
    files = sorted({p for pattern in sources for p in root.glob(pattern) if p.is_file()})
    modules = {}
    for p in files:
        rel = p.relative_to(root).as_posix()
        if "_bundled" in rel.split("/"):  # a wheel's copy of exercises/, not the source
            continue
        modules[module_name(rel)] = Module(module_name(rel), rel)
    edges: set[Edge] = set()
    for mod in modules.values():
        tree = ast.parse((root / mod.path).read_text(encoding="utf-8"), mod.path)
        for node, kind in _imports(tree):
            for target in _targets(node, mod, modules):
                if target != mod.name:
                    edges.add(Edge(mod.name, target, mod.path, node.lineno, kind))
    return Graph(modules, tuple(sorted(edges)))


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.Module) -> list[tuple[ast.Import | ast.ImportFrom, str]]:
    """Each import statement with its kind: at import time, for the type checker, or in a call."""
    found: list[tuple[ast.Import | ast.ImportFrom, str]] = []

    def visit(node: ast.AST, kind: str) -> None:
        if isinstance(node, ast.Import | ast.ImportFrom):
            found.append((node, kind))
            return
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            kind = TYPING if kind == TYPING else FUNCTION
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for stmt in node.body:
                visit(stmt, TYPING)
            for stmt in node.orelse:
                visit(stmt, kind)
            return
        for child in ast.iter_child_nodes(node):
            visit(child, kind)

    visit(tree, TOP)
    return found


def _known(name: str, modules: dict[str, Module]) -> str | None:
    """The longest prefix of a dotted name that is one of the modules read, if any."""
    parts = name.split(".")
    for n in range(len(parts), 0, -1):
        prefix = ".".join(parts[:n])
        if prefix in modules:
            return prefix
    return None


def _targets(
    node: ast.Import | ast.ImportFrom, mod: Module, modules: dict[str, Module]
) -> list[str]:
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
        return sorted({t for t in (_known(n, modules) for n in names) if t})
    base = node.module or ""
    if node.level:
        package = mod.name.split(".")
        if not mod.is_package:
            package.pop()
        package = package[: len(package) - (node.level - 1)]
        base = ".".join([*package, base] if base else package)
    out = set()
    for alias in node.names:
        # `from grader import evidence` imports the submodule; `... import Failed`, the package
        target = _known(f"{base}.{alias.name}", modules) if alias.name != "*" else None
        if target is None or target == _known(base, modules):
            target = _known(base, modules)
        if target:
            out.add(target)
    return sorted(out)


def cycles(graph: Graph) -> list[list[str]]:
    """The strongly connected components of more than one module, each sorted, smallest first."""
    deps = {k: sorted(v) for k, v in graph.deps().items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:  # Tarjan's algorithm; the graph is small, recursion is fine
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in deps[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(deps):
        if v not in index:
            visit(v)
    return sorted(found)


def cycle_path(graph: Graph, component: list[str]) -> list[Edge]:
    """One shortest round trip through a component's first module, as the edges that make it."""
    inside = set(component)
    first: dict[tuple[str, str], Edge] = {}
    for e in graph.edges:  # sorted: the first edge of a pair is its first line
        if e.source in inside and e.target in inside:
            first.setdefault((e.source, e.target), e)
    start = component[0]
    came: dict[str, Edge] = {}
    frontier = [start]
    while frontier:
        nxt = []
        for v in frontier:
            for (s, t), e in sorted(first.items()):
                if s != v:
                    continue
                if t == start:
                    path = [e]
                    while path[0].source != start:
                        path.insert(0, came[path[0].source])
                    return path
                if t not in came:
                    came[t] = e
                    nxt.append(t)
        frontier = nxt
    return []  # not reached for a component of more than one module


@dataclass(frozen=True)
class Parts:
    owns: dict[str, tuple[str, ...]]  # part -> the paths (a "/" at the end: a folder) it is
    arrows: frozenset[tuple[str, str]]
    never: dict[tuple[str, str], str]  # (from, to) -> why
    only: dict[str, tuple[tuple[str, ...], str]]  # a file -> the files that may import it, why
    leaves: dict[str, str]  # a file that imports nothing of its package -> why

    def __repr__(self) -> str:
        return f"Parts({', '.join(self.owns)})"

    @classmethod
    def load(cls, path: Path = ARCHITECTURE) -> Parts:
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(
            owns={name: tuple(part["is"]) for name, part in data["parts"].items()},
            arrows=frozenset((a, b) for a, b in data["arrows"]),
            never={(a, b): why for a, b, why in data["never"]},
            only={path: (tuple(by), why) for path, by, why in data.get("only", [])},
            leaves=dict(data.get("leaves", [])),
        )

    def claims(self, path: str) -> list[tuple[str, str]]:
        """Every (part, entry) whose `is` list covers the file at `path`."""
        return [
            (name, entry)
            for name, entries in self.owns.items()
            for entry in entries
            if path == entry or (entry.endswith("/") and path.startswith(entry))
        ]

    def part_of(self, path: str) -> str | None:
        """The part the most specific entry names: `grader/sandbox/host.py` before `grader/`."""
        claims = self.claims(path)
        return max(claims, key=lambda c: len(c[1]))[0] if claims else None


def part_edges(graph: Graph, parts: Parts) -> dict[tuple[str, str], list[Edge]]:
    """The imports from one part into another, by the pair of parts."""
    out: dict[tuple[str, str], list[Edge]] = defaultdict(list)
    for e in graph.edges:
        a = parts.part_of(graph.modules[e.source].path)
        b = parts.part_of(graph.modules[e.target].path)
        if a and b and a != b:
            out[(a, b)].append(e)
    return dict(sorted(out.items()))


def only_breaches(graph: Graph, parts: Parts) -> list[str]:
    """Imports of a module that the architecture's `only` keeps for other importers."""
    path_of = {m.name: m.path for m in graph.modules.values()}
    return [
        f"{e.where}: {e.source} imports {e.target} ({parts.only[path_of[e.target]][1]})"
        for e in graph.edges
        if path_of[e.target] in parts.only and e.path not in parts.only[path_of[e.target]][0]
    ]


def leaf_breaches(graph: Graph, parts: Parts) -> list[str]:
    """Imports made by a module the architecture says is a leaf, of its own package."""
    return [
        f"{e.where}: {e.source} imports {e.target} ({parts.leaves[e.path]})"
        for e in graph.edges
        if e.path in parts.leaves and e.target.split(".")[0] == e.source.split(".")[0]
    ]


def _verdict(pair: tuple[str, str], parts: Parts) -> str:
    if pair in parts.never:
        return f"NEVER: {parts.never[pair]}"
    return "arrow" if pair in parts.arrows else "NOT AN ARROW"


def _mark(kinds: set[str]) -> str:
    return "" if TOP in kinds else " [" + ", ".join(sorted(kinds)) + "]"


def facade_names(root: Path = REPO, package: str = "grader") -> frozenset[str]:
    """The names the package's `__init__.py` lists in `__all__`: the check-author facade."""
    tree = ast.parse((root / package / "__init__.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets
        ):
            return frozenset(ast.literal_eval(node.value))
    return frozenset()


def facade_breaches(
    path: Path, allowed: frozenset[str], package: str = "grader"
) -> list[tuple[int, str]]:
    """The imports of `package` in a file that go past its facade: anything but
    `import package` and `from package import NAME` with NAME in `allowed`."""
    out = []
    for node, _ in _imports(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            past = [a.name for a in node.names if a.name.startswith(package + ".")]
        elif node.level or node.module is None:
            past = []
        elif node.module == package:
            past = [a.name for a in node.names if a.name not in allowed and a.name != "*"]
        else:
            past = [a.name for a in node.names] if node.module.startswith(package + ".") else []
        if past:
            out.append((node.lineno, ast.unparse(node)))
    return out


def unplaced(graph: Graph, parts: Parts, package: str = "grader") -> list[str]:
    """The files of `package` that no part's `is` list covers."""
    return sorted(
        m.path
        for m in graph.modules.values()
        if m.name.split(".")[0] == package and parts.part_of(m.path) is None
    )


def print_graph(root: Path, graph: Graph, parts: Parts | None) -> None:
    kinds: dict[tuple[str, str], set[str]] = defaultdict(set)
    for e in graph.edges:
        kinds[(e.source, e.target)].add(e.kind)
    print(f"# modules ({len(graph.modules)}): module -> what it imports")
    print("#   [typing]: only under `if TYPE_CHECKING:`; [function]: only inside a function")
    for name in sorted(graph.modules):
        deps = sorted(t for s, t in kinds if s == name)
        print(f"{name} ->", ", ".join(t + _mark(kinds[(name, t)]) for t in deps) or "nothing")
    found = cycles(graph)
    print(f"\n# import cycles: {len(found)}")
    for component in found:
        print(f"{len(component)} modules: " + ", ".join(component))
        for e in cycle_path(graph, component):
            print(f"    {e.source} -> {e.target}  ({e.where}{_mark({e.kind})})")
    if parts is None:
        return
    bad = {p: es for p, es in part_edges(graph, parts).items() if p not in parts.arrows}
    print(f"\n# imports between parts that no arrow allows: {sum(map(len, bad.values()))}")
    for pair, edges in bad.items():
        print(f"{pair[0]} -> {pair[1]}: {_verdict(pair, parts)}")
        for e in edges:
            print(f"    {e.where}  {e.source} -> {e.target}{_mark({e.kind})}")
    kept = only_breaches(graph, parts) + leaf_breaches(graph, parts)
    print(f"\n# imports of modules kept for others, or made by leaves: {len(kept)}")
    for said in kept:
        print(said)
    lost = unplaced(graph, parts)
    print(f"\n# modules of grader/ in no part: {len(lost)}")
    for path in lost:
        print(path)
    allowed = facade_names(root)
    breaches = [
        (m.path, line, text)
        for m in sorted(graph.modules.values())
        if m.path.startswith("exercises/")
        for line, text in facade_breaches(root / m.path, allowed)
    ]
    print(f"\n# checks importing past the grader facade: {len(breaches)}")
    for path, line, text in breaches:
        print(f"{path}:{line}  {text}")


def print_parts(graph: Graph, parts: Parts) -> None:
    order = list(parts.owns)  # as docs/architecture.json lists them: the CLI first
    edges = part_edges(graph, parts)
    print("# parts: part -> the parts it imports (how many imports; NO ARROW or NEVER if so)")
    for a in order:
        said = []
        for b in sorted((b for x, b in edges if x == a), key=order.index):
            flag = (
                "" if (a, b) in parts.arrows else " NEVER" if (a, b) in parts.never else " NO ARROW"
            )
            said.append(f"{b} ({len(edges[(a, b)])}{flag})")
        print(f"{a} ->", ", ".join(said) or "nothing")
    unused = sorted(parts.arrows - set(edges))
    print("\n# arrows no import draws: " + (", ".join(f"{a} -> {b}" for a, b in unused) or "none"))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--parts", action="store_true", help="print the graph of parts only")
    ap.add_argument("--root", type=Path, default=REPO, help="the checkout to read (this one)")
    ap.add_argument(
        "--architecture", type=Path, help="the parts to hold it to (ROOT/docs/architecture.json)"
    )
    args = ap.parse_args(argv)
    graph = scan(args.root)
    architecture = args.architecture or args.root / "docs" / "architecture.json"
    parts = Parts.load(architecture) if architecture.exists() else None
    if not args.parts:
        print_graph(args.root, graph, parts)
    elif parts is None:
        print(f"no {architecture}: no parts to draw", file=sys.stderr)
        return 2
    else:
        print_parts(graph, parts)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BrokenPipeError:  # `... | head`: the reader has what it wanted
        sys.exit(0)
