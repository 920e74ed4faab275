"""The endpoints' work: check the image sources, call ``DeepFace`` once per request (a list of
images goes through as one batch), and turn the outcome into ``(JSON body, HTTP status)``.

Client errors (an unreadable image, no face with ``enforce_detection``, a bad option) answer
400 with the message and the field; a batch names each failed item (``img[2]``). Missing
weights, engines or database answer 503. Anything else answers 500 without a traceback, logged.
"""

import base64
from typing import Any, Callable, Dict, List, Optional, Tuple

import cv2
import numpy as np

from deepface import DeepFace
from deepface.api.src.dependencies.variables import Variables
from deepface.api.src.modules.core.errors import RequestError
from deepface.api.src.modules.core.scheduler import Scheduler
from deepface.api.src.modules.core.sources import SourcePolicy
from deepface.commons.exceptions import (
    BatchError,
    DatabaseConnectionError,
    DatabaseNotAvailable,
    FaceNotDetected,
    ImgNotFound,
    MissingDependencyError,
    SpoofDetected,
    WeightsUnavailable,
)
from deepface.commons.logger import get_logger

logger = get_logger(__name__)

Answer = Tuple[Dict[str, Any], int]
#: The answer (REST 500, gRPC FAILED_PRECONDITION, as deepface's) when no database is configured.
DATABASE_NOT_CONFIGURED = (
    "Database connection details must be provided in `DEEPFACE_CONNECTION_DETAILS` "
    "environment variables (or the database type's own variable, e.g. DEEPFACE_POSTGRES_URI), "
    "or set DEEPFACE_DATABASE_TYPE=sqlite"
)
#: Errors caused by one input image: reported with the field that carried it.
IMAGE_ERRORS = (ImgNotFound, FaceNotDetected, SpoofDetected)
#: Errors of the server's set-up (weights, engines, its database): the client cannot fix them.
UNAVAILABLE_ERRORS = (WeightsUnavailable, MissingDependencyError, DatabaseConnectionError, DatabaseNotAvailable)


def to_native(obj: Any) -> Any:
    """``obj`` with numpy scalars and arrays turned into Python numbers and lists (for JSON)."""
    if isinstance(obj, dict):
        return {str(key): to_native(value) for key, value in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_native(item) for item in obj]
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, np.generic):
        return obj.item()
    return obj


def represent(img_path: Any, sources: SourcePolicy, scheduler: Optional[Scheduler] = None, **options: Any) -> Answer:
    """``{"results": ...}``: ``DeepFace.represent``'s faces (a list per image for a batch)."""

    def alone() -> Answer:
        return _answer("representing", "img", lambda: {
            "results": DeepFace.represent(sources.check(img_path, "img"), **options)
        })

    def many(images: List[Any]) -> List[Any]:
        return DeepFace.represent(images, **options)

    return _scheduled(scheduler, "/represent", alone, options, _one_image(img_path, sources), many, _results)


def verify(
    img1_path: Any, img2_path: Any, sources: SourcePolicy, scheduler: Optional[Scheduler] = None, **options: Any
) -> Answer:
    """``DeepFace.verify``'s dict for one pair; ``{"results": [dict, ...]}`` for lists of pairs."""

    def run() -> Dict[str, Any]:
        first, second = sources.check(img1_path, "img1"), sources.check(img2_path, "img2")
        _check_pairs(first, second)
        outcome = DeepFace.verify(first, second, **options)
        return {"results": outcome} if isinstance(outcome, list) else outcome

    def many(pairs: List[Tuple[Any, Any]]) -> List[Any]:
        return DeepFace.verify([first for first, _ in pairs], [second for _, second in pairs], **options)

    first, second = _one_image(img1_path, sources, "img1"), _one_image(img2_path, sources, "img2")
    pair = (first, second) if first is not NOT_MERGED and second is not NOT_MERGED else NOT_MERGED
    return _scheduled(scheduler, "/verify", lambda: _answer("verifying", "img1/img2", run), options, pair, many,
                      lambda verdict: verdict)


def analyze(img_path: Any, sources: SourcePolicy, scheduler: Optional[Scheduler] = None, **options: Any) -> Answer:
    """``{"results": ...}``: ``DeepFace.analyze``'s faces (a list per image for a batch)."""

    def alone() -> Answer:
        return _answer("analyzing", "img", lambda: {
            "results": DeepFace.analyze(sources.check(img_path, "img"), silent=True, **options)
        })

    def many(images: List[Any]) -> List[Any]:
        return DeepFace.analyze(images, silent=True, **options)

    return _scheduled(scheduler, "/analyze", alone, options, _one_image(img_path, sources), many, _results)


def extract_faces(
    img_path: Any, sources: SourcePolicy, return_face: bool = False, scheduler: Optional[Scheduler] = None,
    **options: Any,
) -> Answer:
    """``{"results": ...}``: each face's ``facial_area`` and ``confidence`` (and anti-spoofing
    keys); with ``return_face`` also ``face``, the crop as a PNG data URI."""
    crop_options = {"color_face": "bgr", "normalize_face": False} if return_face else {}

    def run() -> Dict[str, Any]:
        images = sources.check(img_path, "img")
        faces = DeepFace.extract_faces(images, **options, **crop_options)
        if isinstance(images, list):
            return {"results": [[_face_answer(face, return_face) for face in image] for image in faces]}
        return {"results": [_face_answer(face, return_face) for face in faces]}

    def many(images: List[Any]) -> List[Any]:
        return DeepFace.extract_faces(images, **options, **crop_options)

    def one(faces: List[Dict[str, Any]]) -> Dict[str, Any]:
        return {"results": [_face_answer(face, return_face) for face in faces]}

    return _scheduled(scheduler, "/extract_faces", lambda: _answer("extracting faces", "img", run),
                      {**options, "return_face": return_face}, _one_image(img_path, sources), many, one)


def register(img: Any, sources: SourcePolicy, variables: Variables, scheduler: Optional[Scheduler] = None,
             **options: Any) -> Answer:
    """``DeepFace.register``'s answer (``{"inserted": N}``); a list of images is one batch."""

    def alone() -> Answer:
        return _answer("registering", "img", lambda: DeepFace.register(
            img=sources.check(img, "img"), **options, **_database_options(variables)
        ))

    return alone() if scheduler is None else scheduler.submit("/register", alone)


def search(img: Any, sources: SourcePolicy, variables: Variables, scheduler: Optional[Scheduler] = None,
           **options: Any) -> Answer:
    """``{"results": ...}``: ``DeepFace.search``'s matches as dicts."""

    def alone() -> Answer:
        return _answer("searching", "img", lambda: {"results": DeepFace.search(
            img=sources.check(img, "img"), return_type="dict", **options, **_database_options(variables)
        )})

    def many(images: List[Any]) -> List[Any]:
        grouped = {**options, "group_by_input": True}
        return DeepFace.search(img=images, return_type="dict", **grouped, **_database_options(variables))

    return _scheduled(scheduler, "/search", alone, options, _one_image(img, sources), many, _results)


def build_index(variables: Variables, **options: Any) -> Answer:
    """``{"message": "Index built successfully"}`` once ``DeepFace.build_index`` is done."""

    def run() -> Dict[str, Any]:
        DeepFace.build_index(**options, **_database_options(variables))
        return {"message": "Index built successfully"}

    return _answer("building index", "img", run)


# ---------------------------------------------------------------- merging one-image requests

#: A request that is not one image (a list, an embedding, a refused source): run alone.
NOT_MERGED: Any = object()


def _one_image(img: Any, sources: SourcePolicy, field: str = "img") -> Any:
    """The checked image of a one-image request, or ``NOT_MERGED``."""
    if not isinstance(img, (str, np.ndarray)):
        return NOT_MERGED
    try:
        return sources.check(img, field)
    except RequestError:  # answered alone, with its own 400
        return NOT_MERGED


def _results(output: Any) -> Dict[str, Any]:
    return {"results": output}


def _scheduled(
    scheduler: Optional[Scheduler],
    route: str,
    alone: Callable[[], Answer],
    options: Dict[str, Any],
    item: Any,
    many: Callable[[List[Any]], List[Any]],
    one: Callable[[Any], Dict[str, Any]],
) -> Answer:
    """Run the request alone without a scheduler; else queue it, mergeable with requests of
    the same route and options when it is one image. A merged item that failed is answered
    alone (its error, exactly as alone); the others get their part of the batch's output."""
    if scheduler is None:
        return alone()
    if item is NOT_MERGED:
        return scheduler.submit(route, alone)

    def merged(items: List[Any]) -> List[Optional[Answer]]:
        try:
            outputs = dict(enumerate(many(items)))
        except BatchError as err:
            outputs = dict(err.results)
        return [(to_native(one(outputs[i])), 200) if i in outputs else None for i in range(len(items))]

    key = (route, repr(sorted(options.items())))
    return scheduler.submit(route, alone, key=key, item=item, merged=merged)


# ---------------------------------------------------------------- helpers


def _answer(action: str, image_field: str, run: Callable[[], Any]) -> Answer:
    """Run one request's work; map its failure to a status and a JSON error without traceback."""
    try:
        return to_native(run()), 200
    except RequestError as err:
        return err.body(), err.status
    except BatchError as err:
        return _batch_failure(action, image_field, err), 400
    except IMAGE_ERRORS as err:
        return {"error": f"Exception while {action}: {err}", "field": image_field}, 400
    except UNAVAILABLE_ERRORS as err:
        logger.error("%s: %s", action, err)
        return {"error": f"Exception while {action}: {err}"}, 503
    except (ValueError, KeyError) as err:  # the library's refusal of an option (a model name, ...)
        return {"error": f"Exception while {action}: {err}"}, 400
    except Exception:  # a bug or an engine crash: logged here, never shown to the client
        logger.exception("unexpected error while %s", action)
        return {"error": f"Exception while {action}: internal server error"}, 500


def _batch_failure(action: str, image_field: str, err: BatchError) -> Dict[str, Any]:
    items = {
        _item_name(image_field, index): str(error) for index, error in sorted(err.errors.items())
    }
    return {
        "error": f"Exception while {action}: {len(items)} input(s) failed: {', '.join(items)}",
        "errors": items,
    }


def _item_name(image_field: str, index: int) -> str:
    return "/".join(f"{name}[{index}]" for name in image_field.split("/"))


def _check_pairs(first: Any, second: Any) -> None:
    first_is_batch, second_is_batch = _is_image_batch(first), _is_image_batch(second)
    if first_is_batch != second_is_batch:
        batch_field = "img1" if first_is_batch else "img2"
        raise RequestError(batch_field, "is a list: send lists of the same length in both img1 and img2")
    if first_is_batch and len(first) != len(second):
        raise RequestError("img2", f"has {len(second)} items, img1 has {len(first)}: pairs need equal lengths")


def _is_image_batch(value: Any) -> bool:
    """A list of images or embeddings (an embedding itself is a list of numbers)."""
    return isinstance(value, list) and bool(value) and not isinstance(value[0], (int, float))


def _face_answer(face: Dict[str, Any], return_face: bool) -> Dict[str, Any]:
    answer = {key: value for key, value in face.items() if key != "face"}
    if return_face:
        answer["face"] = _png_data_uri(face["face"])
    return answer


def _png_data_uri(pixels: Any) -> str:
    ok, encoded = cv2.imencode(".png", np.asarray(pixels, dtype=np.uint8))
    if not ok:
        raise ValueError("a face crop could not be encoded as PNG")
    return "data:image/png;base64," + base64.b64encode(encoded.tobytes()).decode("ascii")


def _database_options(variables: Variables) -> Dict[str, Optional[str]]:
    return {"database_type": variables.database_type, "connection_details": variables.connection_details}

