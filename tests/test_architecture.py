"""The layers of ``deepface/``: ``scripts/architecture.py --check`` passes on the checkout,
and on a made-up package it finds each kind of violation; the test helpers stay out of the
installed package; the preprocessing helpers and the normalizations live below their users."""

import ast
import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Dict, List

import numpy as np
import pytest

REPO_DIR = Path(__file__).resolve().parent.parent
SCRIPT = REPO_DIR / "scripts" / "architecture.py"


@pytest.fixture(scope="module")
def architecture() -> ModuleType:
    """scripts/architecture.py, loaded from its file (scripts/ is not a package)."""
    spec = importlib.util.spec_from_file_location("architecture_script", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_checkout_passes_the_check_and_its_drawing_is_current() -> None:
    done = subprocess.run([sys.executable, str(SCRIPT), "--check"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "no problem" in done.stdout


def write_package(root: Path, files: Dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


MADE_UP = {
    "deepface/__init__.py": "",
    "deepface/DeepFace.py": "from deepface.modules import alpha\n",
    "deepface/commons/__init__.py": "",
    "deepface/commons/low.py": "import os\nfrom ..modules.alpha import thing\n",  # relative, upward
    "deepface/models/__init__.py": "",
    "deepface/models/net.py": "def build():\n    from deepface import DeepFace  # inside a function\n",
    "deepface/modules/__init__.py": "",
    "deepface/modules/alpha.py": "from deepface.modules import beta\nfrom deepface import commons\n",
    "deepface/modules/beta.py": "import deepface.modules.gamma\n",
    "deepface/modules/gamma.py": "from . import alpha\nimport tests.helpers\n",
    "deepface/extra.py": "import numpy\n",
}


def violations_of(architecture: ModuleType, root: Path) -> List[str]:
    modules = architecture.discover(root)
    edges = architecture.read_edges(modules)
    return sorted(violation.key for violation in architecture.find_violations(modules, edges))


def test_each_kind_of_violation_is_found(architecture: ModuleType, tmp_path: Path) -> None:
    write_package(tmp_path, MADE_UP)
    assert violations_of(architecture, tmp_path) == [
        "circle: deepface.modules.alpha, deepface.modules.beta, deepface.modules.gamma",
        "outside: deepface.modules.gamma -> tests",
        "unplaced: deepface.extra",
        "upward: deepface.commons.low -> deepface.modules.alpha",
        "upward: deepface.models.net -> deepface.DeepFace",
    ]


def test_a_clean_package_has_no_violation_and_a_stale_drawing_is_a_problem(
    architecture: ModuleType, tmp_path: Path
) -> None:
    clean = {name: text for name, text in MADE_UP.items() if name != "deepface/extra.py"}
    clean["deepface/commons/low.py"] = "import os\n"
    clean["deepface/models/net.py"] = "from deepface.commons import low\n"
    clean["deepface/modules/gamma.py"] = "from deepface.models.net import build\n"
    write_package(tmp_path, clean)
    assert violations_of(architecture, tmp_path) == []
    assert any("out of date" in problem for problem in architecture.problems([], "not the drawing\n"))


def test_the_test_helpers_are_not_in_the_installed_package() -> None:
    assert not (REPO_DIR / "deepface" / "testing").exists()
    assert (REPO_DIR / "testkit" / "postgres_cluster.py").is_file()
    setup = ast.parse((REPO_DIR / "setup.py").read_text(encoding="utf-8"))
    packages = [kw.value for node in ast.walk(setup) if isinstance(node, ast.Call)
                for kw in node.keywords if kw.arg == "packages"]
    assert len(packages) == 1 and "deepface.*" in ast.unparse(packages[0]) and "testkit" not in ast.unparse(packages[0])
    found = subprocess.run(
        [sys.executable, "-c", "import setuptools; print(setuptools.find_packages(include=['deepface', 'deepface.*']))"],
        cwd=REPO_DIR, capture_output=True, text=True, timeout=60,
    )
    assert "deepface.modules.streaming" in found.stdout and "testkit" not in found.stdout


def test_deepface_s_preprocessing_path_is_the_ground_floor_s_helpers() -> None:
    from deepface.commons import preprocessing as ground
    from deepface.modules import preprocessing

    for name in ("resize_image", "normalize_input", "check_normalization", "NORMALIZATIONS", "CHANNEL_MEANS"):
        assert getattr(preprocessing, name) is getattr(ground, name)


@pytest.mark.parametrize("model_name", ["Facenet", "VGG-Face", "SFace"])
@pytest.mark.parametrize("minmax, l2", [(True, False), (False, True), (True, True)])
def test_represent_normalizes_as_deepface_s_normalization_functions(model_name: str, minmax: bool, l2: bool) -> None:
    from deepface.modules.normalization import normalize_embedding_l2, normalize_embedding_minmax
    from deepface.modules.representation import RepresentOptions, finish_embedding

    vector = np.random.default_rng(5).normal(0, 2, 128).astype(np.float32)
    options = RepresentOptions(model_name=model_name, minmax_normalize=minmax, l2_normalize=l2)
    expected = vector.astype(np.float64).tolist()
    if minmax:
        expected = normalize_embedding_minmax(model_name, expected)
    if l2:
        expected = normalize_embedding_l2(expected)
    assert finish_embedding(vector, options).tolist() == expected
