"""Callable classes for ``Dataset.map_batches``: each actor builds its models once and runs
the package's batched pipeline over every batch it is given.

A batch comes as a dict of numpy arrays (``batch_format="numpy"``); its input column holds
paths, encoded bytes or decoded images. Paths and bytes are decoded inside the actor by
the package's own loader (the decoding of a local call); images are converted from the
dataset's channel order to BGR. Every input gives one row (or, exploded, one row per
face) of the job's fixed Arrow schema; an input that cannot be read or has no face gets
its ``error`` and the others go on.
"""

import inspect
from dataclasses import dataclass, replace
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence, Tuple

import cv2
import numpy as np
import pyarrow as pa
from numpy.typing import NDArray

from deepface.commons.logger import get_logger
from deepface.ray import schemas
from deepface.ray.threads import cap_engine_threads

logger = get_logger(__name__)

CHANNEL_ORDERS = ("rgb", "bgr")
CROP_FORMATS = ("jpeg", "png")
_CROP_EXTENSIONS = {"jpeg": ".jpg", "png": ".png"}
PATH_COLUMN = "path"

#: The pipeline's per-input stream: ``(ImageResult, faces as deepface dicts)``.
Stream = Iterator[Tuple[Any, List[Dict[str, Any]]]]


@dataclass(frozen=True)
class BatchLayout:
    """How an actor reads its batches and lays out its rows.

    Attributes:
        column: the input column: paths, encoded bytes or images.
        channels: the channel order of image inputs (``"rgb"`` as ``read_images`` gives
            them, or ``"bgr"``); paths and bytes are decoded as a local call decodes them.
        explode: one row per face instead of one row per input.
        threads: the engine threads of the actor (its CPUs).
        use_gpu: whether the actor was given a GPU (passed to detectors that take a device).
    """

    column: str = PATH_COLUMN
    channels: str = "rgb"
    explode: bool = False
    threads: int = 1
    use_gpu: bool = False

    def __post_init__(self) -> None:
        if self.channels not in CHANNEL_ORDERS:
            raise ValueError(f"channels must be one of {CHANNEL_ORDERS}, not {self.channels!r}")


def error_text(error: BaseException) -> str:
    """An exception as the ``error`` column holds it: ``"ExceptionName: message"``."""
    return f"{type(error).__name__}: {error}"


# ---------------------------------------------------------------- reading a batch


def batch_inputs(batch: Dict[str, Any], layout: BatchLayout) -> Tuple[List[Optional[str]], List[Any]]:
    """The batch's paths (for the output's ``path`` column) and its inputs, row by row.

    A column of images comes as a 4-D array (all of one size) or as a 1-D object array
    of differently sized images: either way it is a list of images, never one image.
    """
    if layout.column not in batch:
        raise KeyError(f"the dataset has no column {layout.column!r}; its columns: {sorted(batch)}")
    values = list(batch[layout.column])
    inputs = [to_pipeline_input(value, layout.channels) for value in values]
    if PATH_COLUMN in batch:
        paths = [_text_or_none(value) for value in batch[PATH_COLUMN]]
    else:
        paths = [_text_or_none(value) if isinstance(value, str) else None for value in values]
    return paths, inputs


def to_pipeline_input(value: Any, channels: str) -> Any:
    """One cell as the package's loader takes it: text as ``str``, images in BGR."""
    if isinstance(value, np.str_):
        return str(value)
    if isinstance(value, np.ndarray) and value.dtype != object:
        return to_bgr(value, channels)
    return value


def to_bgr(image: NDArray[Any], channels: str) -> NDArray[Any]:
    """An image of ``channels`` order in BGR (BGRA); gray images are left as they are."""
    if channels == "bgr" or image.ndim != 3 or image.shape[2] not in (3, 4):
        return image
    code = cv2.COLOR_RGB2BGR if image.shape[2] == 3 else cv2.COLOR_RGBA2BGRA
    if image.dtype in (np.uint8, np.uint16, np.float32):
        return cv2.cvtColor(np.ascontiguousarray(image), code)
    return np.ascontiguousarray(image[:, :, [2, 1, 0] + ([3] if image.shape[2] == 4 else [])])


def _text_or_none(value: Any) -> Optional[str]:
    if value is None:
        return None
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return str(value)


# ---------------------------------------------------------------- the shared actor


class _PipelineActor:
    """What both actors share: thread caps, the batch loop, per-row fallback."""

    def __init__(self, layout: BatchLayout) -> None:
        # Before any model is built; engines loaded later (TensorFlow by the models that
        # need it, after torch as the package always does) read the variables instead.
        cap_engine_threads(layout.threads)
        self.layout = layout

    @property
    def schema(self) -> pa.Schema:
        raise NotImplementedError

    def _stream(self, inputs: Sequence[Any]) -> Stream:
        raise NotImplementedError

    def _face_fields(self, face: Dict[str, Any]) -> Dict[str, Any]:
        raise NotImplementedError

    def __call__(self, batch: Dict[str, Any]) -> pa.Table:
        paths, inputs = batch_inputs(batch, self.layout)
        return schemas.outcomes_table(self.outcomes(paths, inputs), self.schema)

    def outcomes(self, paths: List[Optional[str]], inputs: List[Any]) -> List[schemas.RowOutcome]:
        """One outcome per input, in order. Should the pipeline fail on the batch as a
        whole (an engine's error it could not pin on one input), each input is run alone,
        so that only the one at fault carries the error."""
        try:
            return [self._outcome(path, result, faces) for path, (result, faces) in zip(paths, self._stream(inputs))]
        except _systemic_errors():
            raise
        except Exception:  # noqa: BLE001  (find the input at fault: each one alone)
            logger.debug("a batch of %d failed as a whole; retrying input by input", len(inputs), exc_info=True)
            return [self._alone(path, item) for path, item in zip(paths, inputs)]

    def _alone(self, path: Optional[str], item: Any) -> schemas.RowOutcome:
        try:
            ((result, faces),) = list(self._stream([item]))
        except _systemic_errors():
            raise
        except Exception as error:  # noqa: BLE001  (this input's failure is its row's error)
            return schemas.RowOutcome(path, [], error_text(error))
        return self._outcome(path, result, faces)

    def _outcome(self, path: Optional[str], result: Any, faces: List[Dict[str, Any]]) -> schemas.RowOutcome:
        if result.error is not None:
            return schemas.RowOutcome(path, [], error_text(result.error))
        try:
            fields = [self._face_fields(face) for face in faces]
        except CropEncodingError as error:
            return schemas.RowOutcome(path, [], error_text(error))
        return schemas.RowOutcome(path, fields, None)


def _systemic_errors() -> Tuple[type, ...]:
    """Errors of the whole job (an engine or weights missing), never of one input."""
    from deepface.commons.exceptions import SYSTEMIC_ERRORS

    return SYSTEMIC_ERRORS


# ---------------------------------------------------------------- extraction


class CropEncodingError(ValueError):
    """A face crop could not be encoded as JPEG or PNG."""


class FaceExtractor(_PipelineActor):
    """``map_batches`` callable: faces of every input (boxes, landmarks, confidence, crops).

    Args:
        layout: how batches are read and rows laid out.
        extract: the keywords of ``extract_faces`` (``detector_backend``, ``align``...).
        crops: ``"jpeg"`` or ``"png"`` to add each face's aligned crop, encoded; ``None``
            for none.
    """

    def __init__(self, layout: BatchLayout, extract: Dict[str, Any], crops: Optional[str] = None) -> None:
        super().__init__(layout)
        from deepface.modules.detection import ExtractOptions, iter_extract_faces

        check_crop_format(crops)
        options = ExtractOptions(**crop_pixels_options(extract))
        self.options = with_gpu_device(options, layout.use_gpu)
        self.crops = crops
        self._iter_extract_faces = iter_extract_faces
        build_detector(self.options)
        self._schema = schemas.extraction_schema(layout.explode)

    @property
    def schema(self) -> pa.Schema:
        return self._schema

    def _stream(self, inputs: Sequence[Any]) -> Stream:
        return self._iter_extract_faces(inputs, self.options, name_indices=False)

    def _face_fields(self, face: Dict[str, Any]) -> Dict[str, Any]:
        return {
            "facial_area": schemas.facial_area_record(face["facial_area"]),
            "confidence": float(face["confidence"]),
            "is_real": face.get("is_real"),
            "antispoof_score": face.get("antispoof_score"),
            "crop": encode_crop(face["face"], self.crops) if self.crops else None,
        }


def crop_pixels_options(extract: Dict[str, Any]) -> Dict[str, Any]:
    """``extract_faces`` keywords that return crops as the image's own BGR pixels (ready to
    encode); the output's face pixels are crops, never float arrays."""
    refused = sorted({"color_face", "normalize_face", "grayscale"} & set(extract))
    if refused:
        raise ValueError(f"{', '.join(refused)}: crops are encoded as the image's colours; not an option here")
    return {**extract, "color_face": "bgr", "normalize_face": False}


def check_crop_format(crops: Optional[str]) -> None:
    """``crops`` must be ``"jpeg"``, ``"png"`` or ``None``."""
    if crops is not None and crops not in CROP_FORMATS:
        raise ValueError(f"crops must be one of {CROP_FORMATS} or None, not {crops!r}")


def encode_crop(pixels: NDArray[Any], crop_format: str) -> bytes:
    """A BGR crop as JPEG or PNG bytes."""
    ok, encoded = cv2.imencode(_CROP_EXTENSIONS[crop_format], as_uint8(pixels))
    if not ok:
        raise CropEncodingError(f"OpenCV could not encode a {pixels.shape} crop as {crop_format}")
    return encoded.tobytes()


def as_uint8(pixels: NDArray[Any]) -> NDArray[np.uint8]:
    """8-bit pixels: a float image (in [0, 1] or [0, 255], as the loader accepts) rounded."""
    if pixels.dtype == np.uint8:
        return np.ascontiguousarray(pixels)
    values = pixels.astype(np.float64)
    if values.size and values.max() <= 1:
        values = values * 255
    return np.clip(np.rint(values), 0, 255).astype(np.uint8)


# ---------------------------------------------------------------- representation


class FaceRepresenter(_PipelineActor):
    """``map_batches`` callable: embeddings of every face of every input, with their boxes.

    Args:
        layout: how batches are read and rows laid out.
        represent: the keywords of ``represent`` (``model_name``, ``detector_backend``...).
    """

    def __init__(self, layout: BatchLayout, represent: Dict[str, Any]) -> None:
        super().__init__(layout)
        from deepface.modules.representation import RepresentOptions, build_recognition_model, iter_represent

        options = with_gpu_device(RepresentOptions(**represent), layout.use_gpu)
        self.options = options
        self._iter_represent = iter_represent
        model = build_recognition_model(options.model_name)
        build_detector(options.extract_options())
        self._schema = schemas.representation_schema(int(model.output_shape), layout.explode)

    @property
    def schema(self) -> pa.Schema:
        return self._schema

    def _stream(self, inputs: Sequence[Any]) -> Stream:
        return self._iter_represent(inputs, self.options, name_indices=False)

    def _face_fields(self, face: Dict[str, Any]) -> Dict[str, Any]:
        return {
            "facial_area": schemas.facial_area_record(face["facial_area"]),
            "face_confidence": float(face["face_confidence"]),
            "embedding": np.asarray(face["embedding"], dtype=np.float32),
        }


# ---------------------------------------------------------------- analysis


class FaceAnalyzer(_PipelineActor):
    """``map_batches`` callable: age, gender, emotion and race of every face of every input.

    Args:
        layout: how batches are read and rows laid out.
        analyze: the keywords of ``analyze`` (``actions``, ``detector_backend``...).
    """

    def __init__(self, layout: BatchLayout, analyze: Dict[str, Any]) -> None:
        super().__init__(layout)
        from deepface.modules.demography import build_attribute_model, iter_analyze

        options = build_analyze_options(analyze)
        self.options = replace(options, extract=with_gpu_device(options.extract, layout.use_gpu))
        self._iter_analyze = iter_analyze
        for action in self.options.actions:
            build_attribute_model(action)
        build_detector(self.options.extract)
        self._schema = schemas.analysis_schema(layout.explode)

    @property
    def schema(self) -> pa.Schema:
        return self._schema

    def _stream(self, inputs: Sequence[Any]) -> Stream:
        return self._iter_analyze(inputs, self.options, name_indices=False)

    def _face_fields(self, face: Dict[str, Any]) -> Dict[str, Any]:
        fields: Dict[str, Any] = {
            "region": schemas.facial_area_record(face["region"]),
            "face_confidence": float(face["face_confidence"]),
            "age": None if face.get("age") is None else int(face["age"]),
        }
        for name in ("gender", "emotion", "race"):
            scores = face.get(name)
            fields[name] = None if scores is None else {label: float(value) for label, value in scores.items()}
            fields[f"dominant_{name}"] = face.get(f"dominant_{name}")
        return fields


def build_analyze_options(analyze: Dict[str, Any]) -> Any:
    """``AnalyzeOptions`` from ``analyze``'s keywords (``actions`` and the detection ones)."""
    from deepface.modules.demography import ACTIONS, AnalyzeOptions

    keywords = dict(analyze)
    return AnalyzeOptions.create(keywords.pop("actions", ACTIONS), **keywords)


# ---------------------------------------------------------------- models and devices


def build_detector(options: Any) -> None:
    """Build the detector of ``options`` now (cached for the actor's life), so its start-up
    cost and any missing weights show when the actor starts, not on its first batch."""
    from deepface.modules import modeling
    from deepface.modules.detection import SKIP

    if options.detector_backend != SKIP:
        modeling.build_model(task="face_detector", model_name=options.detector_backend, **options.detector_options)


def with_gpu_device(options: Any, use_gpu: bool) -> Any:
    """``options`` whose detector runs on the actor's GPU, when it was given one and the
    detector takes a ``device`` (YOLO, fastmtcnn); TensorFlow engines find it themselves."""
    if not use_gpu or "device" in options.detector_options:
        return options
    if not accepts_device("face_detector", options.detector_backend):
        return options
    return replace(options, detector_options={**options.detector_options, "device": "cuda"})


def accepts_device(task: str, model_name: str) -> bool:
    """Whether the model's class takes a ``device`` keyword."""
    from deepface.modules import modeling

    if model_name not in modeling.AVAILABLE_MODELS.get(task, {}):
        return False
    builder: Callable[..., Any] = modeling.get_model_class(task, model_name)
    return "device" in inspect.signature(builder).parameters
