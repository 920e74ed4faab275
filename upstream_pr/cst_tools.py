"""Small libcst helpers: find a construct or fail naming it, split a function, add imports.

Every lookup raises :class:`CodemodError` naming the file and the construct it expected,
so that a clone whose code has moved on gets a clear message and is left as it was.
"""

import textwrap
from dataclasses import dataclass
from typing import Callable, List, Optional, Sequence, TypeVar, Union

import libcst as cst

Body = Union[cst.Module, cst.IndentedBlock]
Parent = TypeVar("Parent", cst.Module, cst.IndentedBlock)


class CodemodError(Exception):
    """The clone's code does not match what a step expects."""

    def __init__(self, path: str, construct: str) -> None:
        super().__init__(f"{path}: expected {construct}")
        self.path = path
        self.construct = construct


@dataclass
class Source:
    """One file of the clone: its path (for messages) and its parsed module."""

    path: str
    module: cst.Module

    @classmethod
    def parse(cls, path: str, text: str) -> "Source":
        try:
            return cls(path, cst.parse_module(text))
        except cst.ParserSyntaxError as err:
            raise CodemodError(path, f"valid Python ({err.message})") from err

    def code(self, node: cst.CSTNode) -> str:
        return self.module.code_for_node(node)

    def fail(self, construct: str) -> CodemodError:
        return CodemodError(self.path, construct)


def statements(source: str) -> List[cst.BaseStatement]:
    """Parse code written at module level into statements (indentation follows the parent)."""
    return list(cst.parse_module(source).body)


def function(source: str, blank_lines: int) -> cst.FunctionDef:
    """Parse one ``def`` and give it ``blank_lines`` empty lines before it.

    One blank line marks a method: its docstring is then indented for a class body.
    """
    if blank_lines == 1:
        (cls,) = statements("class _:\n" + textwrap.indent(source, "    "))
        assert isinstance(cls, cst.ClassDef) and isinstance(cls.body, cst.IndentedBlock)
        node = cls.body.body[0]
    else:
        (node,) = statements(source)
    if not isinstance(node, cst.FunctionDef):
        raise TypeError("expected a function definition")
    return node.with_changes(leading_lines=[cst.EmptyLine(indent=False)] * blank_lines)


def index_of(
    src: Source,
    body: Sequence[cst.BaseStatement],
    test: Callable[[cst.BaseStatement], bool],
    construct: str,
) -> int:
    """The position of the only statement of ``body`` that passes ``test``."""
    found = [i for i, stmt in enumerate(body) if test(stmt)]
    if len(found) != 1:
        raise src.fail(construct)
    return found[0]


def is_def(name: str) -> Callable[[cst.BaseStatement], bool]:
    return lambda stmt: isinstance(stmt, cst.FunctionDef) and stmt.name.value == name


def is_class(name: str) -> Callable[[cst.BaseStatement], bool]:
    return lambda stmt: isinstance(stmt, cst.ClassDef) and stmt.name.value == name


def is_code(src: Source, predicate: Callable[[str], bool]) -> Callable[[cst.BaseStatement], bool]:
    """A statement whose source text (comments aside) passes ``predicate``."""

    def test(stmt: cst.BaseStatement) -> bool:
        return predicate(src.code(stmt.with_changes(leading_lines=[])).strip())

    return test


def block(src: Source, node: cst.CSTNode, construct: str) -> cst.IndentedBlock:
    body = getattr(node, "body", None)
    if not isinstance(body, cst.IndentedBlock):
        raise src.fail(construct)
    return body


def with_body(node: Parent, body: Sequence[cst.BaseStatement]) -> Parent:
    return node.with_changes(body=list(body))


@dataclass
class Split:
    """Cut a function after one statement: the rest moves, unchanged, into a new function.

    The moved statements keep their text and indentation, so a diff shows only the lines
    around the cut: the call that replaces them and the new function's header.
    """

    after: Callable[[cst.BaseStatement], bool]
    construct: str
    call: str
    helper_header: str
    helper_prelude: str = ""
    remove: Optional[Callable[[cst.BaseStatement], bool]] = None
    remove_construct: str = ""

    def apply(self, src: Source, func: cst.FunctionDef, blank_lines: int):
        """Returns the shortened function and the new one (the caller places it)."""
        body = list(block(src, func, f"a body in {func.name.value}").body)
        if self.remove is not None:
            del body[index_of(src, body, self.remove, self.remove_construct)]
        cut = index_of(src, body, self.after, self.construct) + 1
        moved = body[cut:]
        if not moved:
            raise src.fail(f"statements after {self.construct}")
        helper = function(self.helper_header + "    pass\n", blank_lines)
        prelude = statements(self.helper_prelude) if self.helper_prelude else []
        helper_body = list(block(src, helper, "helper").body[:-1]) + prelude + moved
        helper = helper.with_changes(body=with_body(helper.body, helper_body))
        call = statements(self.call)
        call[0] = call[0].with_changes(leading_lines=[cst.EmptyLine(indent=False)])
        shortened = func.with_changes(body=with_body(func.body, body[:cut] + call))
        return shortened, helper


def add_import_names(src: Source, module: str, names: Sequence[str]) -> cst.Module:
    """Add ``names`` to the existing ``from module import ...`` line (kept in its order)."""
    body = list(src.module.body)

    def is_import(stmt: cst.BaseStatement) -> bool:
        if not isinstance(stmt, cst.SimpleStatementLine) or len(stmt.body) != 1:
            return False
        node = stmt.body[0]
        return isinstance(node, cst.ImportFrom) and node.module is not None and (
            src.module.code_for_node(node.module) == module
        )

    i = index_of(src, body, is_import, f"one 'from {module} import ...' line")
    line = body[i]
    assert isinstance(line, cst.SimpleStatementLine)
    node = line.body[0]
    assert isinstance(node, cst.ImportFrom)
    if isinstance(node.names, cst.ImportStar):
        raise src.fail(f"named imports from {module}")
    present = {alias.evaluated_name for alias in node.names}
    aliases = list(node.names)
    for name in names:
        if name not in present:
            last = aliases[-1].with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
            aliases = aliases[:-1] + [last, cst.ImportAlias(name=cst.Name(name))]
    body[i] = line.with_changes(body=[node.with_changes(names=aliases)])
    return src.module.with_changes(body=body)


def drop_unused_import(src: Source, module: str, name: str) -> cst.Module:
    """Remove ``name`` from ``from module import ...`` when nothing else uses it."""
    uses = [
        node
        for node in _names(src.module)
        if node.value == name
    ]
    if len(uses) > 1:  # the import itself is one
        return src.module
    body = list(src.module.body)
    for i, line in enumerate(body):
        if not isinstance(line, cst.SimpleStatementLine) or len(line.body) != 1:
            continue
        node = line.body[0]
        if not (isinstance(node, cst.ImportFrom) and node.module is not None):
            continue
        if src.module.code_for_node(node.module) != module or isinstance(node.names, cst.ImportStar):
            continue
        aliases = [alias for alias in node.names if alias.evaluated_name != name]
        if aliases and len(aliases) < len(node.names):
            aliases[-1] = aliases[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
            body[i] = line.with_changes(body=[node.with_changes(names=aliases)])
    return src.module.with_changes(body=body)


def _names(module: cst.Module) -> List[cst.Name]:
    found: List[cst.Name] = []

    class Collect(cst.CSTVisitor):
        def visit_Name(self, node: cst.Name) -> None:
            found.append(node)

    module.visit(Collect())
    return found
