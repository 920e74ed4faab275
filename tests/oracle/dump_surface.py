"""Dump upstream deepface's public surface as JSON: every module under its ``deepface/``
folder, the public names each defines, the values of its plain constants, every
``DeepFace`` function's signature and the model classes ``modeling`` names.

    PYTHONPATH=.oracle python tests/oracle/dump_surface.py OUT.json

Names come from the source (``ast``: top-level ``def``, ``class`` and assignments), so a
module whose optional dependency is missing is still walked; values come from importing
the module, where that works.
"""

import ast
import importlib
import inspect
import json
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional

import deepface


def module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def defined_names(path: Path) -> Dict[str, str]:
    """Public names a module's top level defines, with their kind."""
    names: Dict[str, str] = {}
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            names[node.name] = "function"
        elif isinstance(node, ast.ClassDef):
            names[node.name] = "class"
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                names.update({name: "value" for name in target_names(target)})
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names[node.target.id] = "value"
    return {name: kind for name, kind in names.items() if not name.startswith("_")}


def target_names(target: ast.expr) -> List[str]:
    """The names an assignment binds (``a = ``, ``a, b = ``), not ``os.environ[k] = ``."""
    if isinstance(target, ast.Name):
        return [target.id]
    if isinstance(target, (ast.Tuple, ast.List)):
        return [name for element in target.elts for name in target_names(element)]
    if isinstance(target, ast.Starred):
        return target_names(target.value)
    return []


def plain(value: Any) -> Any:
    """``value`` as JSON when it is plain data (sets sorted, tuples as lists, bytes as
    ``{"bytes": hex}``); raises TypeError otherwise."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, bytes):
        return {"bytes": value.hex()}
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    if isinstance(value, (set, frozenset)):
        return sorted(plain(item) for item in value)
    if isinstance(value, dict) and all(isinstance(key, str) for key in value):
        return {key: plain(item) for key, item in value.items()}
    raise TypeError(type(value).__name__)


def constants(module_path: str, names: Dict[str, str]) -> Optional[Dict[str, Any]]:
    try:
        module = importlib.import_module(module_path)
    except Exception:  # an optional dependency missing: names only  # pylint: disable=broad-except
        return None
    values = {}
    for name, kind in names.items():
        if kind == "value" and hasattr(module, name):
            try:
                values[name] = plain(getattr(module, name))
            except TypeError:
                pass
    return values


def signature(function: Any) -> List[List[Any]]:
    return [
        [p.name, p.kind.name, None if p.default is p.empty else repr(p.default)]
        for p in inspect.signature(function).parameters.values()
    ]


def main() -> None:
    root = Path(deepface.__file__).resolve().parent
    modules = {}
    for path in sorted(root.rglob("*.py")):
        name = module_name(root, path)
        names = defined_names(path)
        modules[name] = {"names": names, "constants": constants(name, names)}
    from deepface import DeepFace
    from deepface.modules import modeling

    functions = {
        name: signature(value)
        for name, value in vars(DeepFace).items()
        if inspect.isfunction(value) and value.__module__ == DeepFace.__name__ and not name.startswith("_")
    }
    model_classes = sorted({path for sources in modeling.AVAILABLE_MODELS.values()
                            for per_engine in sources.values() for path in per_engine.values()})  # fmt: skip
    answer = {"deepface_file": deepface.__file__, "modules": modules, "signatures": functions,
              "model_classes": model_classes}  # fmt: skip
    Path(sys.argv[1]).write_text(json.dumps(answer, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
