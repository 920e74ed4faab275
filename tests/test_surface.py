"""deepface 0.0.103's whole public surface is here: every module under its ``deepface/``,
every public name each defines (with the same value, for plain constants), every
``DeepFace`` function with deepface's parameters in deepface's order, and every model
class its ``modeling`` table names.

deepface's surface is dumped by the oracle itself (``tests/oracle/dump_surface.py``, in a
subprocess), so a new name there shows up here. Each deliberate difference is in one of
the allow-lists below, with its reason.
"""

import ast
import importlib
import inspect
import json
import re
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import pytest

import deepface
from deepface import DeepFace
from tests.helpers.oracle import run_oracle_script
from tests.oracle.dump_surface import plain  # the oracle writes its values so; ours are compared alike

PACKAGE_DIR = Path(deepface.__file__).resolve().parent

NOT_PROVIDED_DATABASE = "a database_type this package does not provide: DatabaseNotAvailable (issue 21)"
THIN_ENGINE_MODULE = (
    "deepface's per-engine model modules are thin here: each holds its model's client class "
    "(checked through modeling's table), the network is described once per family"
)

#: Modules of deepface that this package does not have, by a pattern of their names.
MISSING_MODULES: Dict[str, str] = {
    r"deepface\.modules\.database\.(cassandra|db2|mongo|mssql|neo4j|oracle|pinecone|weaviate)":
        NOT_PROVIDED_DATABASE,
    r"deepface\.models\.(facial_recognition|demography|spoofing)\.(onnx|pytorch|tf)\."
    r"(OnnxFacialRecognition|TorchFacialRecognition|OnnxDemography|TorchDemography|FasNetBackbone)":
        THIN_ENGINE_MODULE + " (deepface's shared base classes and backbones live in the family)",
}  # fmt: skip

#: Names of deepface's modules that this package does not define: (module pattern, name pattern).
MISSING_NAMES: Dict[Tuple[str, str], str] = {
    (r".*", r"logger"): "each module's logger instance: not API (stdlib logging here)",
    (r"deepface\.models\.(facial_recognition|demography|spoofing)\.(onnx|pytorch|tf|dlib)\..*", r".*"):
        THIN_ENGINE_MODULE,
    (r"deepface\.commons\.weight_utils", r"download_all_models_in_one_shot|WEIGHT_SOURCES|WEIGHT_FILE_NAMES"):
        "commons (the ground layer) cannot reach the models to list their weights; "
        "DeepFace.build_model fetches each model's files",
}  # fmt: skip

#: Plain constants whose value differs on purpose: (module pattern, name pattern).
DIFFERENT_VALUES: Dict[Tuple[str, str], str] = {
    (r"deepface\.commons\.constant", r"SRC_DIR|ROOT_DIR"): "where each package is installed",
}

#: DeepFace functions whose deepface parameters differ on purpose.
DIFFERENT_SIGNATURES: Dict[str, str] = {}


def _allowed(table: Dict[Any, str], *keys: str) -> Optional[str]:
    for patterns, reason in table.items():
        patterns = patterns if isinstance(patterns, tuple) else (patterns,)
        if all(re.fullmatch(pattern, key) for pattern, key in zip(patterns, keys)):
            return reason
    return None


@pytest.fixture(scope="module")
def oracle_surface(tmp_path_factory: pytest.TempPathFactory) -> Dict[str, Any]:
    home = tmp_path_factory.mktemp("oracle-surface")
    out = home / "surface.json"
    run_oracle_script("dump_surface.py", [str(out)], home, timeout=600)
    surface = json.loads(out.read_text(encoding="utf-8"))
    assert "/deepface/__init__.py" in surface["deepface_file"] and str(PACKAGE_DIR) not in surface["deepface_file"]
    assert len(surface["modules"]) > 100 and "deepface.DeepFace" in surface["modules"]
    return surface


def our_module(name: str) -> Tuple[Optional[Any], Optional[Dict[str, str]]]:
    """This package's module (None where it cannot be imported here) and, when it cannot,
    the names its source defines (None where it has no source either)."""
    try:
        return importlib.import_module(name), None
    except ModuleNotFoundError as error:
        if error.name == name or name.startswith(f"{error.name}."):
            return None, None  # the module itself is missing
        path = PACKAGE_DIR.parent.joinpath(*name.split("."))
        source = path.with_suffix(".py") if path.with_suffix(".py").is_file() else path / "__init__.py"
        return None, source_names(source) if source.is_file() else None


def source_names(path: Path) -> Dict[str, str]:
    """Top-level names a module's source defines or imports (an optional dependency missing)."""
    names: Dict[str, str] = {}
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names[node.name] = "defined"
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update({leaf.id: "defined" for t in targets for leaf in ast.walk(t) if isinstance(leaf, ast.Name)})
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update({(alias.asname or alias.name).split(".")[0]: "imported" for alias in node.names})
    return names




# --- the tests --------------------------------------------------------------------------------


def test_every_module_is_here(oracle_surface: Dict[str, Any]) -> None:
    missing = []
    for name in oracle_surface["modules"]:
        if _allowed(MISSING_MODULES, name):
            continue
        module, source = our_module(name)
        if module is None and source is None:
            missing.append(name)
    assert missing == [], f"deepface modules missing here: {missing}"


def test_every_public_name_is_here(oracle_surface: Dict[str, Any]) -> None:
    missing: List[str] = []
    for module_name, entry in oracle_surface["modules"].items():
        if _allowed(MISSING_MODULES, module_name):
            continue
        module, source = our_module(module_name)
        for name in entry["names"]:
            present = hasattr(module, name) if module is not None else name in (source or {})
            if not present and not _allowed(MISSING_NAMES, module_name, name):
                missing.append(f"{module_name}.{name}")
    assert missing == [], f"deepface names missing here: {missing}"


def test_plain_constants_have_deepfaces_values(oracle_surface: Dict[str, Any]) -> None:
    different = []
    for module_name, entry in oracle_surface["modules"].items():
        module, _ = our_module(module_name) if not _allowed(MISSING_MODULES, module_name) else (None, None)
        for name, theirs in (entry["constants"] or {}).items():
            if module is None or not hasattr(module, name) or _allowed(DIFFERENT_VALUES, module_name, name):
                continue
            try:
                ours = plain(getattr(module, name))
            except TypeError:
                ours = f"<{type(getattr(module, name)).__name__}>"
            if name.endswith("_SQL"):  # the same statement, laid out differently
                ours, theirs = (" ".join(str(text).split()).rstrip(";").replace("( ", "(").replace(" )", ")")
                                for text in (ours, theirs))  # fmt: skip
            if ours != theirs:
                different.append(f"{module_name}.{name}: {ours!r} != deepface's {theirs!r}")
    assert different == [], "\n".join(different)


def test_deepface_functions_take_deepfaces_parameters_in_order(oracle_surface: Dict[str, Any]) -> None:
    """Each of deepface's parameters, in deepface's positional order, with its default and
    kind; this package's own keywords may only follow them, with defaults."""
    problems = []
    for function_name, theirs in oracle_surface["signatures"].items():
        if function_name in DIFFERENT_SIGNATURES:
            continue
        function = getattr(DeepFace, function_name, None)
        if not callable(function):
            problems.append(f"{function_name}: missing")
            continue
        ours = [[p.name, p.kind.name, None if p.default is p.empty else repr(p.default)]
                for p in inspect.signature(function).parameters.values()]  # fmt: skip
        if ours[: len(theirs)] != theirs:
            problems.append(f"{function_name}: {ours[: len(theirs)]} != deepface's {theirs}")
        extra = [p for p in ours[len(theirs):] if p[2] is None and p[1] != "VAR_KEYWORD"]
        if extra:
            problems.append(f"{function_name}: extra parameters without defaults {extra}")
    assert problems == [], "\n".join(problems)


def test_every_model_class_of_deepfaces_table_is_here(oracle_surface: Dict[str, Any]) -> None:
    """The class paths of deepface's ``modeling.AVAILABLE_MODELS`` (per-engine modules
    included) resolve to classes here."""
    missing = []
    for path in oracle_surface["model_classes"]:
        module_name, _, class_name = path.rpartition(".")
        module, source = our_module(module_name)
        found = inspect.isclass(getattr(module, class_name, None)) if module else class_name in (source or {})
        if not found:
            missing.append(path)
    assert missing == [], f"deepface model classes missing here: {missing}"


def test_allow_lists_stay_needed(oracle_surface: Dict[str, Any]) -> None:
    """Each allow-listed module is still missing (an entry for something now built is stale)."""
    stale = []
    for pattern in MISSING_MODULES:
        matching = [name for name in oracle_surface["modules"] if re.fullmatch(pattern, name)]
        assert matching, f"{pattern} matches none of deepface's modules"
        if all(our_module(name) != (None, None) for name in matching):
            stale.append(pattern)
    assert stale == [], f"allow-listed modules that exist now: {stale}"


# --- the aliases behave as deepface's functions ------------------------------------------------


def test_helper_aliases_answer_as_deepfaces(tmp_path: Path) -> None:
    """extract_sub_image, align_img_wrt_eyes, project_facial_area, extract_face,
    xyxy_to_xywh and the stream countdowns, on the same inputs in both packages."""
    import time

    import numpy as np

    from deepface.models.Detector import FacialAreaRegion
    from deepface.models.face_detection.FastMtCnn import xyxy_to_xywh
    from deepface.modules import detection, streaming

    rng = np.random.default_rng(11)
    img = rng.integers(0, 255, (120, 160, 3), dtype=np.uint8)
    boxes = np.array([[40, 30, 50, 60, 80, 50, 55, 45],  # eyes tilted
                      [2, 3, 40, 44, 30, 20, 10, 20],  # at the corner: black padding
                      [100, 70, 58, 48, 120, 90, 140, 80]])  # fmt: skip
    np.savez(tmp_path / "inputs.npz", img=img, boxes=boxes)
    out = run_oracle_script("run_helpers.py", [str(tmp_path / "inputs.npz"), str(tmp_path / "out.npz")], tmp_path)
    assert str(PACKAGE_DIR) not in out
    theirs = np.load(tmp_path / "out.npz")
    for k, (x, y, w, h, lx, ly, rx, ry) in enumerate(boxes.tolist()):
        sub, rel_x, rel_y = detection.extract_sub_image(img, (x, y, w, h))
        np.testing.assert_array_equal(sub, theirs[f"sub_{k}"])
        assert [rel_x, rel_y] == theirs[f"sub_xy_{k}"].tolist()
        aligned, angle = detection.align_img_wrt_eyes(sub, (lx, ly), (rx, ry))
        np.testing.assert_array_equal(aligned, theirs[f"aligned_{k}"])
        assert angle == pytest.approx(float(theirs[f"angle_{k}"]), abs=1e-9)
        projected = detection.project_facial_area((rel_x, rel_y, rel_x + w, rel_y + h), angle, sub.shape[:2])
        assert list(projected) == theirs[f"projected_{k}"].tolist()
        region = FacialAreaRegion(x=x, y=y, w=w, h=h, left_eye=(lx, ly), right_eye=(rx, ry), confidence=0.9)
        for align in (True, False):
            face = detection.extract_face(region, img, align, 10, 7, 5, "opencv")
            area = face.facial_area
            np.testing.assert_array_equal(face.img, theirs[f"face_{k}_{align}"])
            ours = [area.x, area.y, area.w, area.h, *area.left_eye, *area.right_eye]
            assert ours == theirs[f"area_{k}_{align}"].tolist(), (k, align)
    assert list(xyxy_to_xywh([10.7, 20.2, 50.9, 61.5])) == theirs["xywh"].tolist()
    coordinates = [(int(b[0]), int(b[1]), int(b[2]), int(b[3]), True, 0.9) for b in boxes]
    np.testing.assert_array_equal(streaming.countdown_to_freeze(img.copy(), coordinates, 5, 7), theirs["freeze"])
    np.testing.assert_array_equal(streaming.countdown_to_release(img.copy(), time.time() - 0.5, 5), theirs["release"])
    assert streaming.countdown_to_release(None, time.time(), 5) is None


def test_yolo_names_and_registration() -> None:
    from deepface.models.face_detection import Yolo
    from deepface.modules import modeling

    assert {model.name for model in Yolo.YoloModel} == {f"V{n[5:].upper()}" for n in Yolo.YOLO_MODELS}
    assert Yolo.YoloModel.V11S.value == (Yolo.YOLO_MODELS["yolov11s"].file_name, Yolo.YOLO_MODELS["yolov11s"].url)
    for name in Yolo.YOLO_MODELS:
        cls = modeling.get_model_class("face_detector", name)
        assert cls.__name__ == f"YoloDetectorClientV{name[5:]}" and cls is getattr(Yolo, cls.__name__)
        assert issubclass(cls, Yolo.YoloDetectorClient) and issubclass(cls, Yolo.YoloClient)
        assert Yolo.model_name_of(Yolo.YoloModel[f"V{name[5:].upper()}"]) == name


def test_small_helpers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import requests

    from deepface.commons import folder_utils, weight_utils

    monkeypatch.setenv("DEEPFACE_HOME", str(tmp_path))
    folder_utils.initialize_folder()
    assert (tmp_path / ".deepface" / "weights").is_dir()
    folder_utils.initialize_folder()  # again: nothing to do

    class Answer:
        def __init__(self, status_code: int) -> None:
            self.status_code = status_code

    for status, fails in ((200, False), (405, False), (404, True), (503, True)):
        monkeypatch.setattr(requests, "head", lambda url, **kwargs: Answer(status))
        if fails:
            with pytest.raises(ValueError, match=f"status code {status}"):
                weight_utils.ensure_source_is_reachable("https://example.invalid/w.h5")
        else:
            weight_utils.ensure_source_is_reachable("https://example.invalid/w.h5")


def test_variables_read_the_environment_when_made(monkeypatch: pytest.MonkeyPatch) -> None:
    from deepface.api.src.dependencies.variables import Variables

    monkeypatch.setenv("DEEPFACE_DATABASE_TYPE", "SQLite")
    monkeypatch.setenv("DEEPFACE_SQLITE_PATH", "/data/faces.db")
    monkeypatch.setenv("DEEPFACE_AUTH_TOKEN", "s3cret")
    monkeypatch.setenv("DEEPFACE_FACE_RECOGNITION_MODELS", "Facenet, ArcFace")
    variables = Variables()
    assert (variables.database_type, variables.conection_details, variables.auth_token) == ("sqlite", "/data/faces.db", "s3cret")
    assert variables.face_recognition_models == ("Facenet", "ArcFace")
    monkeypatch.setenv("DEEPFACE_CONNECTION_DETAILS", "/other.db")
    assert Variables().conection_details == "/other.db"  # deepface's order
    assert Variables(auth_token=None).auth_token is None  # a field given wins
    monkeypatch.setenv("DEEPFACE_DATABASE_TYPE", "nosuchdb")
    with pytest.raises(ValueError, match="Unsupported database type: nosuchdb"):
        Variables()


def test_deepfaces_error_types_and_base_install() -> None:
    """A missing optional package is caught by deepface users' ``except ValueError``, and
    pandas is in the base install, so find and search return DataFrames as deepface's."""
    from deepface.commons import package_utils
    from deepface.commons.exceptions import MissingDependencyError

    assert issubclass(MissingDependencyError, ImportError) and issubclass(MissingDependencyError, ValueError)
    requirements = (PACKAGE_DIR.parent / "requirements.txt").read_text(encoding="utf-8").split()
    assert any(line.startswith("pandas") for line in requirements)
    assert package_utils.resolve_dataframe_return_type(None) == "pandas"
