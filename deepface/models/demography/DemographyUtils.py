"""What the attribute models share, whatever the engine: deepface's labels, the apparent
age, and the face preparation that deepface's ``analyze`` applies to a face crop."""

from typing import Any, Dict, List, Sequence, Union

import numpy as np
from numpy.typing import NDArray

from deepface.commons.exceptions import InvalidEmbeddingsShapeError
from deepface.commons.preprocessing import resize_image

#: deepface's emotion labels, in the emotion model's output order.
EMOTION_LABELS: List[str] = ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"]
#: deepface's gender labels, in the gender model's output order.
GENDER_LABELS: List[str] = ["Woman", "Man"]
#: deepface's race labels, in the race model's output order.
RACE_LABELS: List[str] = ["asian", "indian", "black", "white", "middle eastern", "latino hispanic"]
#: The age model's classes are the ages 0 to 100.
AGE_CLASSES = 101
#: ``analyze``'s actions and the ``facial_attribute`` model that serves each.
ACTION_MODELS: Dict[str, str] = {"emotion": "Emotion", "age": "Age", "gender": "Gender", "race": "Race"}
#: Side of the square faces that ``analyze`` gives every attribute model.
FACE_SIZE = 224


def find_apparent_age(age_predictions: NDArray[Any]) -> np.float64:
    """The expected age under one face's 101 class probabilities (ages 0..100)."""
    if np.ndim(age_predictions) != 1:
        raise InvalidEmbeddingsShapeError(
            f"expected one face's age probabilities, shaped (101,), not {np.shape(age_predictions)}"
        )
    return np.float64(np.sum(age_predictions * np.arange(0, AGE_CLASSES)))


def apparent_ages(age_predictions: NDArray[Any]) -> NDArray[np.float64]:
    """:func:`find_apparent_age` of each row of ``(N, 101)`` probabilities, as ``(N,)``."""
    if np.ndim(age_predictions) != 2:
        raise InvalidEmbeddingsShapeError(
            f"expected age probabilities shaped (N, 101), not {np.shape(age_predictions)}"
        )
    return np.sum(age_predictions * np.arange(0, AGE_CLASSES), axis=1, dtype=np.float64)


def scale_face(crop: NDArray[Any]) -> NDArray[Any]:
    """A face crop in ``[0, 1]``: divided by 255 when its maximum is above 1, as deepface's
    ``extract_faces`` returns faces."""
    return crop / 255 if crop.max() > 1 else crop


def prepare_face(crop: NDArray[Any]) -> NDArray[np.float32]:
    """One BGR face crop as ``analyze`` gives it to the attribute models.

    Scaled to ``[0, 1]`` (:func:`scale_face`), fitted into 224x224 with black padding
    (``resize_image``); returns ``(224, 224, 3)`` float32, BGR.
    """
    if crop.ndim != 3 or crop.shape[0] == 0 or crop.shape[1] == 0:
        raise InvalidEmbeddingsShapeError(f"expected a face crop shaped (H, W, 3), not {crop.shape}")
    return resize_image(scale_face(crop), (FACE_SIZE, FACE_SIZE))[0]


def prepare_faces(crops: Sequence[NDArray[Any]]) -> NDArray[np.float32]:
    """:func:`prepare_face` of each crop, stacked as ``(N, 224, 224, 3)``."""
    if len(crops) == 0:
        return np.zeros((0, FACE_SIZE, FACE_SIZE, 3), dtype=np.float32)
    return np.stack([prepare_face(crop) for crop in crops])


def face_batch(img: Union[NDArray[Any], Sequence[NDArray[Any]]]) -> NDArray[np.float32]:
    """One face ``(H, W, C)``, a list of faces or a batch ``(N, H, W, C)`` as a 4-D float32
    batch (deepface's models take all three)."""
    batch = np.asarray(img, dtype=np.float32)
    if batch.ndim == 3:
        batch = batch[np.newaxis]
    if batch.ndim != 4:
        raise InvalidEmbeddingsShapeError(
            f"expected faces shaped (H, W, C) or (N, H, W, C), not {np.shape(batch)}"
        )
    return batch
