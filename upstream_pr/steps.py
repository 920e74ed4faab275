"""The five commits of the pull request, each a transform of the clone's files.

1. ``Detector.detect_faces_batch``: a loop over ``detect_faces`` (every detector gains it).
2. ``detection.extract_faces``: a list or 4-D input goes through it once.
3. ``YoloDetectorClient``: one ``predict`` call per image shape.
4. ``MtCnnClient``: mtcnn's own batch input, one batch per image shape.
5. Tests: the list result equals the single-image results.
"""

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, List

import libcst as cst

from upstream_pr import snippets
from upstream_pr.cst_tools import (
    CodemodError,
    Source,
    Split,
    add_import_names,
    drop_unused_import,
    block,
    function,
    index_of,
    is_class,
    is_code,
    is_def,
    statements,
    with_body,
)

DETECTOR = "deepface/models/Detector.py"
DETECTION = "deepface/modules/detection.py"
YOLO = "deepface/models/face_detection/Yolo.py"
MTCNN = "deepface/models/face_detection/MtCnn.py"
TESTS = "tests/unit/test_batched_detection.py"

Transform = Callable[[Source], cst.Module]


@dataclass(frozen=True)
class Step:
    """One commit: its message and the transform of each file it changes (None: new file)."""

    message: str
    transforms: Dict[str, Transform]


def _method(src: Source, class_name: str, name: str):
    """(class index, class node, method index, method node) in the module."""
    body = list(src.module.body)
    ci = index_of(src, body, is_class(class_name), f"class {class_name}")
    cls = body[ci]
    methods = list(block(src, cls, f"a body in class {class_name}").body)
    mi = index_of(src, methods, is_def(name), f"method {class_name}.{name}")
    return ci, cls, mi, methods[mi]


def _replace_in_class(src: Source, ci: int, cls, methods: List[cst.BaseStatement]) -> cst.Module:
    body = list(src.module.body)
    body[ci] = cls.with_changes(body=with_body(cls.body, methods))
    return src.module.with_changes(body=body)


def _refuse_if_patched(src: Source, class_name: str) -> None:
    body = list(src.module.body)
    ci = index_of(src, body, is_class(class_name), f"class {class_name}")
    for stmt in block(src, body[ci], f"a body in class {class_name}").body:
        if isinstance(stmt, cst.FunctionDef) and stmt.name.value == "detect_faces_batch":
            raise src.fail(
                f"no {class_name}.detect_faces_batch yet (is the clone on the batched-detection branch?)"
            )


# step 1 ---------------------------------------------------------------------------------


def detector_base(src: Source) -> cst.Module:
    _refuse_if_patched(src, "Detector")
    ci, cls, mi, _ = _method(src, "Detector", "detect_faces")
    methods = list(block(src, cls, "class Detector").body)
    methods.insert(mi + 1, function(snippets.DETECTOR_BATCH, 1))
    module = _replace_in_class(src, ci, cls, methods)
    body = list(module.body)
    body.insert(ci + 1, function(snippets.GROUP_BY_SHAPE, 2))
    module = module.with_changes(body=body)
    return _add_typing(Source(src.path, module), ["Dict"])


def _add_typing(src: Source, names: List[str]) -> cst.Module:
    return add_import_names(src, "typing", names)


# step 2 ---------------------------------------------------------------------------------


def _is_list_branch(src: Source):
    return is_code(src, lambda code: code.startswith("if isinstance(img_path, list)"))


def detection_dispatch(src: Source) -> cst.Module:
    body = list(src.module.body)
    if any(is_def("detect_faces_batch")(stmt) for stmt in body):
        raise src.fail("no detect_faces_batch function yet (is the clone already patched?)")
    fi = index_of(src, body, is_def("extract_faces"), "function extract_faces")
    extract = body[fi]
    assert isinstance(extract, cst.FunctionDef)
    extract = _send_list_to_batch(src, extract)
    extract, format_faces = Split(
        after=is_code(src, lambda code: code.startswith('if detector_backend == "skip":')),
        construct='an `if detector_backend == "skip":` statement in extract_faces',
        call=snippets.FORMAT_FACES_CALL,
        helper_header=snippets.FORMAT_FACES_HEADER,
        helper_prelude=snippets.FORMAT_FACES_PRELUDE,
        remove=is_code(src, lambda code: code.startswith("resp_objs: List[Dict[str, Any]] = []")),
        remove_construct="`resp_objs: List[Dict[str, Any]] = []` in extract_faces",
    ).apply(src, extract, 2)
    body[fi : fi + 1] = [extract, format_faces, function(snippets.EXTRACT_FACES_BATCH, 2)]

    di = index_of(src, body, is_def("detect_faces"), "function detect_faces")
    detect = body[di]
    assert isinstance(detect, cst.FunctionDef)
    detect, extract_detected = Split(
        after=is_code(src, lambda code: code == "facial_areas = face_detector.detect_faces(img)"),
        construct="`facial_areas = face_detector.detect_faces(img)` in detect_faces",
        call=snippets.EXTRACT_DETECTED_CALL,
        helper_header=snippets.EXTRACT_DETECTED_HEADER,
    ).apply(src, detect, 2)
    body[di : di + 1] = [detect, function(snippets.DETECT_FACES_BATCH, 2), extract_detected]
    module = src.module.with_changes(body=body)
    return drop_unused_import(Source(src.path, module), "typing", "cast")


def _send_list_to_batch(src: Source, extract: cst.FunctionDef) -> cst.FunctionDef:
    """In the list branch, the loop that called extract_faces per image becomes one call."""
    body = list(block(src, extract, "a body in extract_faces").body)
    bi = index_of(src, body, _is_list_branch(src), "`if isinstance(img_path, list) ...` in extract_faces")
    branch = body[bi]
    inner = list(block(src, branch, "a body in the list branch").body)
    start = index_of(
        src,
        inner,
        is_code(src, lambda code: code.startswith("all_faces")),
        "`all_faces = ...` in the list branch of extract_faces",
    )
    loop = inner[start + 1 : start + 2]
    if not (loop and isinstance(loop[0], cst.For) and src.code(loop[0].target) == "single_img_path"):
        raise src.fail("`for single_img_path in img_paths:` in the list branch of extract_faces")
    call = statements(snippets.EXTRACT_FACES_BATCH_CALL)
    call[0] = call[0].with_changes(leading_lines=inner[start].leading_lines)
    branch = branch.with_changes(body=with_body(branch.body, inner[:start] + call))
    body[bi] = branch
    return extract.with_changes(body=with_body(extract.body, body))


# steps 3 and 4 --------------------------------------------------------------------------


def _native_override(
    src: Source, class_name: str, after: str, call: str, header: str, batch: str
) -> cst.Module:
    _refuse_if_patched(src, class_name)
    ci, cls, mi, method = _method(src, class_name, "detect_faces")
    shortened, helper = Split(
        after=is_code(src, lambda code: code.startswith(after)),
        construct=f"`{after}...` in {class_name}.detect_faces",
        call=call,
        helper_header=header,
        helper_prelude="resp = []\n",
        remove=is_code(src, lambda code: code == "resp = []"),
        remove_construct=f"`resp = []` in {class_name}.detect_faces",
    ).apply(src, method, 1)
    methods = list(block(src, cls, f"class {class_name}").body)
    methods[mi : mi + 1] = [shortened, function(batch, 1), helper]
    module = _replace_in_class(src, ci, cls, methods)
    return add_import_names(Source(src.path, module), "deepface.models.Detector", ["group_by_shape"])


def yolo_batch(src: Source) -> cst.Module:
    return _native_override(
        src,
        "YoloDetectorClient",
        after="results = self.model.predict(",
        call=snippets.YOLO_CALL,
        header=snippets.YOLO_HELPER_HEADER,
        batch=snippets.YOLO_BATCH,
    )


def mtcnn_batch(src: Source) -> cst.Module:
    return _native_override(
        src,
        "MtCnnClient",
        after="detections = self.model.detect_faces(img_rgb)",
        call=snippets.MTCNN_CALL,
        header=snippets.MTCNN_HELPER_HEADER,
        batch=snippets.MTCNN_BATCH,
    )


# step 5 ---------------------------------------------------------------------------------


def new_tests(src: Source) -> cst.Module:
    if src.module.body:
        raise src.fail("no file yet")
    return cst.parse_module(snippets.TESTS)


STEPS: List[Step] = [
    Step(
        "Detector: add detect_faces_batch, a loop over detect_faces by default",
        {DETECTOR: detector_base},
    ),
    Step(
        "detection: send a list or 4-D input through detect_faces_batch once",
        {DETECTION: detection_dispatch},
    ),
    Step("Yolo: detect a list of images with one predict call per image shape", {YOLO: yolo_batch}),
    Step("MtCnn: detect a list of images with mtcnn's batch input, one batch per shape", {MTCNN: mtcnn_batch}),
    Step("tests: batched extract_faces gives the single-image results", {TESTS: new_tests}),
]


def apply_all(root: Path) -> List[Dict[str, str]]:
    """New text of each changed file, per step; reads the clone, writes nothing.

    Raises CodemodError (naming the file and the construct) before anything is written.
    """
    texts: Dict[str, str] = {}
    result = []
    for step in STEPS:
        changed = {}
        for rel, transform in step.transforms.items():
            if rel not in texts:
                path = root / rel
                if transform is new_tests:
                    if path.exists():
                        raise CodemodError(rel, "no file yet (is the clone already patched?)")
                    texts[rel] = ""
                elif not path.is_file():
                    raise CodemodError(rel, "this file")
                else:
                    texts[rel] = path.read_text(encoding="utf-8")
            texts[rel] = transform(Source.parse(rel, texts[rel])).code
            changed[rel] = texts[rel]
        result.append(changed)
    return result
