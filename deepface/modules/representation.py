"""Embeddings of the faces in one image or many (deepface's ``represent``), batched.

The faces of several images go through the recognition model together, at most
``batch_size`` per forward pass (see ``pipeline.map_faces_in_batches``); each face is
prepared exactly as deepface prepares it alone, so its embedding is the one deepface
computes.
"""

from dataclasses import dataclass
from typing import Any, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple, Union

import numpy as np
from numpy.typing import NDArray

from deepface.commons import image_utils, timings
from deepface.models.Detector import DetectedFace
from deepface.models.FacialRecognition import FacialRecognition
from deepface.modules import modeling
from deepface.modules.detection import (
    SKIP,
    ExtractOptions,
    detect_usable_faces,
    facial_area_dict,
    refuse_spoofs,
    rounded_confidence,
)
from deepface.modules.normalization import l2_scaled, minmax_scaled
from deepface.modules.pipeline import (
    ImageResult,
    collect_batch,
    collect_single,
    map_faces_in_batches,
)
from deepface.modules.preprocessing import normalize_input, resize_image
from deepface.options.verbs import DEFAULT_MODEL, EXTRACT, REPRESENT



class RepresentParts:
    """What ``RepresentOptions`` adds to its table (``deepface.options.verbs.REPRESENT``)."""

    def extract_options(self) -> ExtractOptions:
        """The detection half of the call, as ``extract_faces`` takes it."""
        return ExtractOptions(**{name: getattr(self, name) for name in REPRESENT.names if name in EXTRACT})

    def _finish(self) -> None:
        self.extract_options()  # the detection options' cross-field rules


#: The parameters of one ``represent`` call, checked once: one field per option of ``REPRESENT``.
RepresentOptions = REPRESENT.dataclass("RepresentOptions", base=RepresentParts, module=__name__)


@dataclass
class FaceEmbedding:
    """One face's embedding and, when asked, the model input it came from."""

    vector: NDArray[np.float32]
    model_input: Optional[NDArray[np.float32]] = None


# ---------------------------------------------------------------- public entry points


def represent(img_path: Any, **options: Any) -> Union[List[Dict[str, Any]], List[List[Dict[str, Any]]]]:
    """Embed the faces of one image or a batch (see ``DeepFace.represent``; ``options``: its
    keywords, the table ``REPRESENT``)."""
    return represent_with(img_path, RepresentOptions(**options))


def represent_with(img_path: Any, options: RepresentOptions) -> Union[List[Dict[str, Any]], List[List[Dict[str, Any]]]]:
    """:func:`represent` with its :class:`RepresentOptions`."""
    if image_utils.is_batch_input(img_path):
        imgs = image_utils.split_batch(img_path)
        return collect_batch(iter_represent(imgs, options), len(imgs))
    return collect_single(iter_represent([img_path], options, name_indices=False))


def iter_represent(
    imgs: Iterable[Any], options: RepresentOptions, name_indices: bool = True
) -> Iterator[Tuple[ImageResult, List[Dict[str, Any]]]]:
    """Stream ``imgs`` through detection and the recognition model, in bounded memory.

    Yields ``(result, embeddings)`` per input, in input order: ``embeddings`` holds one
    deepface dict per face (``embedding``, ``facial_area``, ``face_confidence``, and
    ``face`` with ``return_face``); it is empty when ``result.error`` says the input failed.
    """
    model = build_recognition_model(options.model_name, options.precision)
    detected = detect_usable_faces(imgs, options.extract_options(), name_indices)
    if options.anti_spoofing:
        detected = (refuse_spoofs(result, name_indices) for result in detected)
    embedded = map_faces_in_batches(detected, lambda faces: embed_faces(model, faces, options), options.batch_size)
    for result in embedded:
        yield result, (_responses(result, options) if result.error is None else [])


def build_recognition_model(model_name: str, precision: Optional[str] = None) -> FacialRecognition:
    """The recognition model ``model_name`` at ``precision``, built once per process."""
    return modeling.build_model(
        task="facial_recognition", model_name=model_name, **modeling.precision_options(precision)
    )


# ---------------------------------------------------------------- the model stage


def embed_faces(model: FacialRecognition, faces: Sequence[DetectedFace], options: RepresentOptions) -> List[FaceEmbedding]:
    """Embed ``faces`` (of any images) in one forward pass, normalised as asked."""
    with timings.stage("prepare"):
        inputs = np.concatenate([model_input(face.img, model, options) for face in faces])
    vectors = model.embed_batch(inputs)
    return [
        FaceEmbedding(
            vector=finish_embedding(vector, options),
            model_input=inputs[k] if options.return_face else None,
        )
        for k, vector in enumerate(vectors)
    ]


def model_input(pixels: NDArray[Any], model: FacialRecognition, options: RepresentOptions) -> NDArray[np.float32]:
    """One BGR face as deepface feeds it to ``model``: a ``(1, H, W, 3)`` float32 batch.

    A detected face is first scaled to ``[0, 1]`` in float64, as ``extract_faces`` returns
    it; with ``skip`` the image is resized as loaded (deepface's order of operations).
    """
    if options.detector_backend != SKIP and pixels.max() > 1:
        pixels = pixels / 255
    batch = resize_image(pixels, model.target_size)
    return normalize_input(batch, options.normalization)


def finish_embedding(vector: NDArray[np.float32], options: RepresentOptions) -> NDArray[Any]:
    """Min-max then L2 normalisation where asked (in float64, as deepface computes them)."""
    if not (options.minmax_normalize or options.l2_normalize):
        return vector
    result = vector.astype(np.float64)
    if options.minmax_normalize:
        result = minmax_scaled(result, options.model_name)
    if options.l2_normalize:
        result = l2_scaled(result)
    return result


# ---------------------------------------------------------------- API-edge dicts


def _responses(result: ImageResult, options: RepresentOptions) -> List[Dict[str, Any]]:
    height, width = result.shape[:2]
    return [
        to_response(face, embedded, width, height, options)
        for face, embedded in zip(result.faces, result.outputs)
    ]


def to_response(
    face: DetectedFace, embedded: FaceEmbedding, width: int, height: int, options: RepresentOptions
) -> Dict[str, Any]:
    """One face as deepface's ``represent`` dict."""
    response: Dict[str, Any] = {
        "embedding": embedded.vector.tolist(),
        "facial_area": facial_area_dict(face.facial_area, width, height),
        "face_confidence": rounded_confidence(face),
    }
    if options.return_face:
        response["face"] = embedded.model_input
    return response


__all__ = ["FaceEmbedding", "RepresentOptions", "embed_faces", "iter_represent", "represent"]
