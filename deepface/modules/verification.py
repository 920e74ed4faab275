"""Are two faces the same person? (deepface's ``verify``), and the distances behind it.

``verify(img1, img2)`` answers for one pair, as deepface does. ``verify(list1, list2)``
answers for many pairs at once: every distinct image is embedded once, and all their
faces go through the model in batched passes.
"""

import math
import time
from dataclasses import dataclass
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Tuple, Union

import numpy as np
from numpy.typing import NDArray

from deepface.commons import image_utils
from deepface.commons.exceptions import (
    BatchError,
    DataTypeError,
    DimensionMismatchError,
    InvalidEmbeddingsShapeError,
)
from deepface.commons.logger import get_logger
from deepface.config.confidence import confidences
from deepface.config.threshold import thresholds
from deepface.options.verbs import METRICS, REPRESENT, VERIFY
from deepface.modules.representation import RepresentOptions, build_recognition_model, iter_represent

logger = get_logger(__name__)

Metric = Union[str, Callable[[NDArray[Any], NDArray[Any]], Any]]
#: Decimals kept by ``find_distance`` for the named metrics, as deepface rounds them.
DISTANCE_DECIMALS = 6
#: The facial area reported for an input given as a precomputed embedding.
NO_FACIAL_AREA: Dict[str, Any] = {"x": None, "y": None, "w": None, "h": None, "left_eye": None, "right_eye": None}


# ---------------------------------------------------------------- distances


def l2_normalize(x: Any, axis: Optional[int] = None, epsilon: float = 1e-10) -> NDArray[Any]:
    """``x`` divided by its L2 norm (along ``axis``; the whole array when None), plus ``epsilon``."""
    array = np.asarray(x)
    return array / (np.linalg.norm(array, axis=axis, keepdims=True) + epsilon)


def _check_dims(source: NDArray[Any], test: NDArray[Any]) -> None:
    if not (source.ndim == test.ndim and source.ndim in (1, 2)):
        raise InvalidEmbeddingsShapeError(
            f"Embeddings must be 1D or 2D, but received source shape: {source.shape}, test shape: {test.shape}"
        )


def _cosine_similarity(source: NDArray[Any], test: NDArray[Any]) -> Any:
    if source.ndim == 1:
        return np.dot(source, test) / (np.linalg.norm(source) * np.linalg.norm(test))
    return np.dot(l2_normalize(test, axis=1), l2_normalize(source, axis=1).T)


def find_cosine_distance(source_representation: Any, test_representation: Any) -> Any:
    """1 - cosine similarity: a float for two vectors; for batches ``(N, D)`` and
    ``(M, D)``, an ``(M, N)`` matrix (rows: ``test``, columns: ``source``)."""
    source, test = np.asarray(source_representation), np.asarray(test_representation)
    _check_dims(source, test)
    return 1 - _cosine_similarity(source, test)


def find_angular_distance(source_representation: Any, test_representation: Any) -> Any:
    """The angle between the vectors as a fraction of pi (0 same direction, 1 opposite);
    batches as in :func:`find_cosine_distance`."""
    source, test = np.asarray(source_representation), np.asarray(test_representation)
    _check_dims(source, test)
    return np.arccos(np.clip(_cosine_similarity(source, test), -1.0, 1.0)) / np.pi


def find_euclidean_distance(source_representation: Any, test_representation: Any) -> Any:
    """Euclidean distance; batches as in :func:`find_cosine_distance`."""
    source, test = np.asarray(source_representation), np.asarray(test_representation)
    _check_dims(source, test)
    if source.ndim == 1:
        return np.linalg.norm(source - test)
    return np.linalg.norm(source[np.newaxis, :, :] - test[:, np.newaxis, :], axis=2)


def find_distance(alpha_embedding: Any, beta_embedding: Any, distance_metric: Metric = "cosine") -> Any:
    """The distance between two embeddings (or an ``(M, N)`` matrix between two batches:
    rows ``beta``, columns ``alpha``), rounded to 6 decimals for the named metrics.

    A callable metric gets both as numpy arrays and its result is returned unchanged.
    """
    alpha, beta = np.asarray(alpha_embedding), np.asarray(beta_embedding)
    if not isinstance(distance_metric, str):
        return distance_metric(alpha, beta)
    if alpha.ndim != beta.ndim or alpha.ndim not in (1, 2):
        raise ValueError(
            f"Both embeddings must be either 1D or 2D, but received alpha shape: {alpha.shape}, "
            f"beta shape: {beta.shape}"
        )
    if distance_metric == "cosine":
        distance = find_cosine_distance(alpha, beta)
    elif distance_metric == "angular":
        distance = find_angular_distance(alpha, beta)
    elif distance_metric == "euclidean":
        distance = find_euclidean_distance(alpha, beta)
    elif distance_metric == "euclidean_l2":
        axis = None if alpha.ndim == 1 else 1
        distance = find_euclidean_distance(l2_normalize(alpha, axis=axis), l2_normalize(beta, axis=axis))
    else:
        raise ValueError(f"Invalid distance_metric passed - {distance_metric}; choose one of {METRICS}")
    return np.round(distance, DISTANCE_DECIMALS)


def find_threshold(model_name: str, distance_metric: Metric = "cosine") -> float:
    """deepface's pre-tuned threshold: distances at or below it mean the same person
    (0.0 for a callable metric, which has none)."""
    if not isinstance(distance_metric, str):
        return 0.0
    model_thresholds = thresholds.get(model_name)
    if model_thresholds is None:
        raise ValueError(f"Model {model_name} is not supported. ")
    threshold = model_thresholds.get(distance_metric)
    if threshold is None:
        raise ValueError(f"Distance metric {distance_metric} is not available for model {model_name}. ")
    return threshold


def _sigmoid(z: float) -> float:
    """1 / (1 + e^-z), without overflow for large ``|z|``."""
    if z >= 0:
        return 1 / (1 + math.exp(-z))
    exp_z = math.exp(z)
    return exp_z / (1 + exp_z)


def find_confidence(distance: float, model_name: str, verified: bool, distance_metric: Metric = "cosine") -> float:
    """How sure the verdict is, in percent: 51-100 for the same person, 0-49 otherwise.

    deepface's logistic model of the distance (``config.confidence``), rescaled into the
    verdict's band; 51 / 49 where no model exists (a callable metric, an unknown model).
    """
    if distance <= 0:
        return 100.0 if verified else 0.0
    config = confidences.get(model_name, {}).get(distance_metric) if isinstance(distance_metric, str) else None
    if config is None:
        return 51 if verified else 49
    if config["normalizer"] > 1:
        distance = distance / config["normalizer"]
    confidence = 100 * _sigmoid(config["w"] * distance + config["b"])
    if verified:
        low, high = config["denorm_min_true"], config["denorm_max_true"]
        target_low, target_high = max(51, low), 100
    else:
        low, high = config["denorm_min_false"], config["denorm_max_false"]
        target_low, target_high = 0, min(49, int(high))
    rescaled = (confidence - low) / (high - low) * (target_high - target_low) + target_low
    rescaled = max(rescaled, 51) if verified else min(rescaled, 49)
    return round(min(max(rescaled, 0), 100), 2)


# ---------------------------------------------------------------- verify


@dataclass(frozen=True)
class VerifyOptions:
    """The parameters of one ``verify`` call."""

    represent: RepresentOptions
    distance_metric: Metric
    silent: bool
    threshold: Optional[float]

    @classmethod
    def create(cls, **keywords: Any) -> "VerifyOptions":
        """Options from ``verify``'s keywords (the table ``VERIFY``): the detection and model
        ones as :class:`RepresentOptions` takes them."""
        values = VERIFY.checked(keywords)
        represent = {name: values.pop(name) for name in list(values) if name in REPRESENT}
        return cls(represent=RepresentOptions(**represent), **values)

    def __post_init__(self) -> None:
        if not isinstance(self.distance_metric, str) and self.threshold is None:
            raise ValueError("Threshold must be specified when using custom distance metrics")
        if isinstance(self.distance_metric, str) and self.distance_metric not in METRICS:
            raise ValueError(f"Invalid distance_metric passed - {self.distance_metric}; choose one of {METRICS}")


@dataclass
class Side:
    """One side of a pair, once embedded: its faces' embeddings and facial areas."""

    embeddings: List[List[float]]
    facial_areas: List[Dict[str, Any]]
    error: Optional[Exception] = None


def verify(img1_path: Any, img2_path: Any, **options: Any) -> Union[Dict[str, Any], List[Dict[str, Any]]]:
    """Verify one pair (a dict) or many pairs (a list of dicts; see ``DeepFace.verify``;
    ``options``: its keywords, the table ``VERIFY``)."""
    return verify_with(img1_path, img2_path, VerifyOptions.create(**options))


def verify_with(img1_path: Any, img2_path: Any, options: VerifyOptions) -> Union[Dict[str, Any], List[Dict[str, Any]]]:
    """:func:`verify` with its :class:`VerifyOptions`."""
    started = time.time()
    if is_pair_batch(img1_path, img2_path):
        return _verify_pairs(image_utils.split_batch(img1_path), image_utils.split_batch(img2_path), options, started)
    sides = embed_sides([img1_path, img2_path], [1, 2], options)
    for number, side in enumerate(sides, start=1):
        if side.error is not None:
            raise ValueError(f"Exception while processing img{number}_path: {side.error}") from side.error
    return verdict(sides[0], sides[1], options, started)


def is_pair_batch(img1: Any, img2: Any) -> bool:
    """Whether ``verify`` got two batches of images (pairs) rather than one pair: both are
    lists, tuples or 4-D arrays, and neither is an embedding (a list of numbers)."""
    return all(image_utils.is_batch_input(img) and not _is_embedding_like(img) for img in (img1, img2))


def _is_embedding_like(value: Any) -> bool:
    return isinstance(value, (list, tuple)) and len(value) > 0 and all(_is_number(item) for item in value)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)


def _verify_pairs(firsts: List[Any], seconds: List[Any], options: VerifyOptions, started: float) -> List[Dict[str, Any]]:
    if len(firsts) != len(seconds):
        raise ValueError(
            f"verify takes two batches of the same length (one pair per position), "
            f"got {len(firsts)} and {len(seconds)} images"
        )
    sides = embed_sides(firsts + seconds, [1] * len(firsts) + [2] * len(seconds), options)
    results: Dict[int, Dict[str, Any]] = {}
    errors: Dict[int, Exception] = {}
    for pair, (first, second) in enumerate(zip(sides[: len(firsts)], sides[len(firsts) :])):
        failed = [(number, side.error) for number, side in ((1, first), (2, second)) if side.error is not None]
        if failed:
            number, error = failed[0]
            errors[pair] = ValueError(f"Exception while processing img{number}_path of pair {pair}: {error}")
        else:
            results[pair] = verdict(first, second, options, started)
    if errors:
        raise BatchError(f"{len(errors)} of {len(firsts)} pairs failed", errors, results)  # type: ignore[arg-type]
    return [results[pair] for pair in range(len(firsts))]


def embed_sides(imgs: Sequence[Any], numbers: Sequence[int], options: VerifyOptions) -> List[Side]:
    """Each input as a :class:`Side`: embeddings given directly (lists) are checked;
    images are embedded together, each distinct image once, in batched passes.
    ``numbers`` says whether each input is an ``img1`` or an ``img2`` (for messages)."""
    model = build_recognition_model(options.represent.model_name, options.represent.precision)
    sides: List[Optional[Side]] = [None] * len(imgs)
    to_embed: Dict[Any, List[int]] = {}
    images: List[Any] = []
    for position, img in enumerate(imgs):
        if isinstance(img, list):
            sides[position] = _given_embedding(img, numbers[position], model.output_shape, options)
            continue
        key = _identity(img)
        if key not in to_embed:
            to_embed[key] = []
            images.append(img)
        to_embed[key].append(position)
    for (result, faces), positions in zip(_embed_images(images, options), to_embed.values()):
        side = Side(
            embeddings=[face["embedding"] for face in faces],
            facial_areas=[face["facial_area"] for face in faces],
            error=result.error,
        )
        for position in positions:
            sides[position] = side
    return [side for side in sides if side is not None]


def _identity(img: Any) -> Any:
    """A key under which an input is embedded once: a path by its text, anything else by
    the object itself."""
    return ("path", img) if isinstance(img, str) else ("object", id(img))


def _embed_images(images: List[Any], options: VerifyOptions) -> Iterable[Tuple[Any, List[Dict[str, Any]]]]:
    if not images:
        return []
    return iter_represent(images, options.represent)


def _given_embedding(value: List[Any], number: int, dims: int, options: VerifyOptions) -> Side:
    """An input that is already an embedding, checked as deepface checks it."""
    if not all(isinstance(item, (float, int)) for item in value):
        raise DataTypeError(
            f"When passing img{number}_path as a list, ensure that all its items are of type float."
        )
    if not options.silent:
        logger.warning(
            "img%s_path was passed as a precomputed embedding; make sure it was computed with %s",
            number, options.represent.model_name,
        )
    if len(value) != dims:
        raise DimensionMismatchError(
            f"embeddings of {options.represent.model_name} should have {dims} dimensions,"
            f" but {number}-th image has {len(value)} dimensions input"
        )
    return Side(embeddings=[value], facial_areas=[dict(NO_FACIAL_AREA)])


def verdict(first: Side, second: Side, options: VerifyOptions, started: float) -> Dict[str, Any]:
    """deepface's verify dict for the closest pair of faces across the two sides."""
    model_name = options.represent.model_name
    best = (float("inf"), None, None)
    for i, alpha in enumerate(first.embeddings):
        for j, beta in enumerate(second.embeddings):
            distance = float(find_distance(alpha, beta, options.distance_metric))
            if distance < best[0]:
                best = (distance, i, j)
    distance, i, j = best
    threshold = find_threshold(model_name, options.distance_metric) if options.threshold is None else options.threshold
    verified = distance <= threshold
    return {
        "verified": verified,
        "distance": distance,
        "threshold": threshold,
        "confidence": find_confidence(distance, model_name, verified, options.distance_metric),
        "model": model_name,
        "detector_backend": options.represent.detector_backend,
        "similarity_metric": options.distance_metric,
        "facial_areas": {
            "img1": dict(NO_FACIAL_AREA) if i is None else first.facial_areas[i],
            "img2": dict(NO_FACIAL_AREA) if j is None else second.facial_areas[j],
        },
        "time": round(time.time() - started, 2),
    }


__all__ = [
    "find_angular_distance",
    "find_confidence",
    "find_cosine_distance",
    "find_distance",
    "find_euclidean_distance",
    "find_threshold",
    "l2_normalize",
    "verify",
]
