"""The layers of ``deepface/``, drawn from its imports (read with ``ast``, nothing imported).

Writes ``docs/architecture.md``: the layers, a graph of which part imports which, and the
violations. With ``--check`` it writes nothing and exits 1 on an import circle, a lower
layer importing a higher one, the library importing ``tests``/``testkit``/``scripts``, a
module that belongs to no layer, or a ``docs/architecture.md`` that is not what the imports
give today. Imports inside functions count: they are imports all the same.

    python scripts/architecture.py           # rewrite docs/architecture.md
    python scripts/architecture.py --check   # verify (the test suite runs this)
"""

import argparse
import ast
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Sequence, Set, Tuple

REPO = Path(__file__).resolve().parent.parent
PACKAGE = "deepface"
OUTPUT = REPO / "docs" / "architecture.md"
#: Top-level names of the checkout that the library must never import.
OUTSIDE = ("tests", "testkit", "scripts")


@dataclass(frozen=True)
class Layer:
    """A floor of the package: its parts import their own floor and those below only."""

    rank: int
    name: str
    parts: Tuple[str, ...]
    holds: str


LAYERS = (
    Layer(0, "ground", ("deepface.commons", "deepface.config", "deepface.options"),
          "image loading, weights and their cache, engines, logging, exceptions, face preprocessing, "
          "tables, the options of each verb"),
    Layer(1, "models", ("deepface.models",), "detectors, recognition, attribute and spoofing networks"),
    Layer(2, "modules", ("deepface.modules",), "one capability a module, on the shared batched pipeline"),
    Layer(3, "facade", ("deepface", "deepface.DeepFace"), "deepface's public functions"),
    Layer(4, "entry points", ("deepface.cli", "deepface.api", "deepface.ray"), "command line, REST API, Ray"),
)

#: Violations found when this check was written, each with who fixes it; allowed until they
#: are gone, then ``--check`` asks for the entry to be removed.
KNOWN_VIOLATIONS: Dict[str, str] = {}


@dataclass(frozen=True)
class Edge:
    """``importer`` imports ``imported`` at ``line`` of its file."""

    importer: str
    imported: str
    line: int


@dataclass(frozen=True)
class Violation:
    key: str  # what KNOWN_VIOLATIONS names
    detail: str  # where: file and line


# ---------------------------------------------------------------- reading the imports


def discover(root: Path = REPO) -> Dict[str, Path]:
    """Every module of the package by dotted name (a package by its own name)."""
    modules = {}
    for path in sorted((root / PACKAGE).rglob("*.py")):
        parts = path.relative_to(root).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        modules[".".join(parts)] = path
    return modules


def read_edges(modules: Dict[str, Path]) -> List[Edge]:
    """Every import of a module of the package, or of a name in ``OUTSIDE``."""
    edges = []
    for name, path in modules.items():
        is_package = path.name == "__init__.py"
        for target, line in imported_names(ast.parse(path.read_text(encoding="utf-8")), name, is_package):
            resolved = resolve(target, modules)
            if resolved is not None and resolved != name:
                edges.append(Edge(name, resolved, line))
    return sorted(set(edges), key=lambda edge: (edge.importer, edge.imported, edge.line))


def imported_names(tree: ast.AST, module: str, is_package: bool) -> Iterator[Tuple[str, int]]:
    """Dotted names a module imports; ``from a import b`` gives ``a.b`` (a submodule or not)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = absolute_base(node, module, is_package)
            for alias in node.names:
                yield (f"{base}.{alias.name}" if alias.name != "*" else base), node.lineno


def absolute_base(node: ast.ImportFrom, module: str, is_package: bool) -> str:
    if not node.level:
        return node.module or ""
    anchor = module.split(".") if is_package else module.split(".")[:-1]
    anchor = anchor[: len(anchor) - (node.level - 1)]
    return ".".join(anchor + ([node.module] if node.module else []))


def resolve(target: str, modules: Dict[str, Path]) -> Optional[str]:
    """The module ``target`` names (its longest prefix that is one), the top name of an
    ``OUTSIDE`` import, or ``None`` for anything else (the standard library, packages)."""
    top = target.split(".")[0]
    if top in OUTSIDE:
        return top
    if top != PACKAGE:
        return None
    parts = target.split(".")
    while parts:
        candidate = ".".join(parts)
        if candidate in modules:
            return candidate
        parts.pop()
    return None


# ---------------------------------------------------------------- layers and violations


def part_of(module: str) -> Optional[str]:
    """The layer part that holds ``module`` (``deepface`` itself only for the package root)."""
    best = None
    for layer in LAYERS:
        for part in layer.parts:
            if module == part or (part != PACKAGE and module.startswith(part + ".")):
                if best is None or len(part) > len(best):
                    best = part
    return best


def layer_of(module: str) -> Optional[Layer]:
    part = part_of(module)
    return next((layer for layer in LAYERS if part in layer.parts), None)


def find_violations(modules: Dict[str, Path], edges: Sequence[Edge]) -> List[Violation]:
    found = [Violation(f"unplaced: {name}", f"{rel(path)} is in no layer") for name, path in modules.items()
             if layer_of(name) is None]
    for edge in edges:
        where = f"{rel(modules[edge.importer])}:{edge.line}"
        if edge.imported in OUTSIDE:
            found.append(Violation(f"outside: {edge.importer} -> {edge.imported}", where))
            continue
        low, high = layer_of(edge.importer), layer_of(edge.imported)
        if low is not None and high is not None and high.rank > low.rank:
            found.append(Violation(f"upward: {edge.importer} -> {edge.imported}",
                                   f"{where} ({low.name} imports {high.name})"))
    for circle in circles(edges):
        found.append(Violation(f"circle: {', '.join(sorted(circle))}", " -> ".join(cycle_path(circle, edges))))
    return found


def circles(edges: Sequence[Edge]) -> List[Set[str]]:
    """The strongly connected groups of more than one module (Tarjan's algorithm)."""
    graph = adjacency(edges)
    index: Dict[str, int] = {}
    low: Dict[str, int] = {}
    stack: List[str] = []
    found: List[Set[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = set()
            while True:
                member = stack.pop()
                group.add(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(group)

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(found, key=lambda group: sorted(group))


def adjacency(edges: Sequence[Edge]) -> Dict[str, List[str]]:
    graph: Dict[str, List[str]] = {}
    for edge in edges:
        if edge.imported not in OUTSIDE and edge.imported not in graph.setdefault(edge.importer, []):
            graph[edge.importer].append(edge.imported)
    return graph


def cycle_path(group: Set[str], edges: Sequence[Edge]) -> List[str]:
    """One circle through ``group``, from its first module back to it (breadth-first)."""
    graph = adjacency(edges)
    start = min(group)
    paths = {nxt: [start, nxt] for nxt in graph.get(start, ()) if nxt in group}
    queue = list(paths)
    while queue and start not in paths:
        node = queue.pop(0)
        for nxt in graph.get(node, ()):
            if nxt in group and nxt not in paths:
                paths[nxt] = paths[node] + [nxt]
                queue.append(nxt)
    return paths.get(start, [start])


def rel(path: Path) -> str:
    """``path`` from the checkout's root (as given when it lies elsewhere)."""
    return path.relative_to(REPO).as_posix() if path.is_relative_to(REPO) else path.as_posix()


# ---------------------------------------------------------------- the drawing


def part_edges(edges: Sequence[Edge]) -> List[Tuple[str, str]]:
    pairs = {(part_of(edge.importer), part_of(edge.imported)) for edge in edges if edge.imported not in OUTSIDE}
    return sorted((a, b) for a, b in pairs if a and b and a != b)


def node_id(part: str) -> str:
    return part.replace(".", "_")


def render(modules: Dict[str, Path], edges: Sequence[Edge], violations: Sequence[Violation]) -> str:
    lines = [
        "# Architecture: the layers of `deepface/`",
        "",
        "Generated by `python scripts/architecture.py` from the imports of `deepface/` (imports inside",
        "functions included); do not edit by hand. `python scripts/architecture.py --check` (run by",
        "`tests/test_architecture.py`) fails on an import circle, a lower layer importing a higher one,",
        "the library importing `tests`, `testkit` or `scripts`, or this file being out of date.",
        "",
        "A part imports its own layer and the layers below it, never one above.",
        "",
        "| Layer | Parts | Holds |",
        "|---|---|---|",
    ]
    for layer in LAYERS:
        parts = ", ".join(f"`{part}`" for part in layer.parts)
        lines.append(f"| {layer.rank} {layer.name} | {parts} | {layer.holds} |")
    lines += ["", "Which part imports which (an arrow points at what is imported):", "", "```mermaid", "flowchart BT"]
    for layer in reversed(LAYERS):
        lines.append(f'    subgraph L{layer.rank}["{layer.rank} {layer.name}"]')
        lines += [f'        {node_id(part)}["{part}"]' for part in layer.parts]
        lines.append("    end")
    lines += [f"    {node_id(a)} --> {node_id(b)}" for a, b in part_edges(edges)]
    lines += ["```", "", "## Violations", ""]
    if not violations:
        lines.append("None.")
    for violation in violations:
        note = KNOWN_VIOLATIONS.get(violation.key)
        suffix = f" Known, to be fixed: {note}." if note else ""
        lines.append(f"- `{violation.key}` ({violation.detail}).{suffix}")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- command line


def problems(violations: Sequence[Violation], text: str) -> List[str]:
    """What makes ``--check`` fail."""
    found = [f"{v.key} ({v.detail})" for v in violations if v.key not in KNOWN_VIOLATIONS]
    keys = {violation.key for violation in violations}
    found += [f"{key}: gone; remove it from KNOWN_VIOLATIONS" for key in KNOWN_VIOLATIONS if key not in keys]
    current = OUTPUT.read_text(encoding="utf-8") if OUTPUT.exists() else ""
    if current != text:
        found.append(f"{rel(OUTPUT)} is out of date: run python scripts/architecture.py")
    return found


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="verify; write nothing; exit 1 on a problem")
    args = parser.parse_args(argv)
    modules = discover()
    edges = read_edges(modules)
    violations = find_violations(modules, edges)
    text = render(modules, edges, violations)
    if args.check:
        found = problems(violations, text)
        for problem in found:
            print(problem, file=sys.stderr)
        print(f"{len(modules)} modules, {len(edges)} imports: {len(found) or 'no'} problem(s)")
        return 1 if found else 0
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(text, encoding="utf-8")
    for violation in violations:
        print(f"{violation.key} ({violation.detail})", file=sys.stderr)
    print(f"wrote {rel(OUTPUT)}: {len(modules)} modules, {len(edges)} imports, {len(violations)} violation(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
