"""deepface 0.0.103's helper functions of ``deepface.modules.streaming``, with its signatures
and return values, as thin adapters over this package's own steps.

deepface's ``analysis`` drives these one frame and one face at a time; this package's
``stream`` does not use them (see :mod:`~deepface.modules.streaming.runner`). They draw with
this package's annotator (a box, and a label block beside it), not with deepface's
pictures: ``overlay_identified_face`` labels the box with the identity and does not paste
the thumbnail, ``overlay_emotion`` names the dominant emotion instead of drawing a bar per
emotion. ``countdown_to_freeze`` and ``countdown_to_release`` draw deepface's counters
(frames left before the window freezes, seconds left until it moves on), though this
package's stream never freezes its window.
"""

import os
import time
from typing import Any, Dict, List, Optional, Sequence, Tuple

import cv2
from numpy.typing import NDArray

from deepface.commons.exceptions import EmptyDatasource, FaceNotDetected
from deepface.commons.logger import get_logger
from deepface.modules import demography, detection, modeling, recognition
from deepface.modules.streaming.annotator import Box, FaceFinding, annotate, draw_label
from deepface.modules.streaming.options import STREAM_ACTIONS

logger = get_logger(__name__)

#: Side of the identity's picture that ``search_identity`` returns (deepface's size).
IDENTIFIED_IMG_SIZE = 112
#: deepface's face coordinates: ``(x, y, w, h, is_real, antispoof_score)``.
FaceCoordinates = Tuple[int, int, int, int, bool, float]
#: ``search_identity``'s answer: the identity's file name, its picture and the confidence.
Identity = Tuple[Optional[str], Optional[NDArray[Any]], float]
NO_IDENTITY: Identity = (None, None, 0)


# ---------------------------------------------------------------- models


def build_facial_recognition_model(model_name: str) -> None:
    """Build (and cache) the recognition model ``model_name``."""
    modeling.build_model(task="facial_recognition", model_name=model_name)
    logger.info("%s is built", model_name)


def build_demography_models(enable_face_analysis: bool) -> None:
    """Build (and cache) the age, gender and emotion models, where analysis is enabled."""
    if enable_face_analysis:
        for action in STREAM_ACTIONS:
            demography.build_attribute_model(action)


# ---------------------------------------------------------------- faces in a frame


def grab_facial_areas(
    img: NDArray[Any], detector_backend: str, threshold: int = 130, anti_spoofing: bool = False
) -> List[FaceCoordinates]:
    """The faces of ``img`` wider than ``threshold`` pixels, as deepface's coordinate tuples
    (``is_real`` True and score 0 without anti-spoofing); ``[]`` where no face is found."""
    try:
        faces = detection.extract_faces(
            img_path=img, detector_backend=detector_backend, expand_percentage=0, anti_spoofing=anti_spoofing
        )
    except FaceNotDetected:
        return []
    coordinates = [_coordinates(face) for face in faces]
    return [entry for entry in coordinates if entry[2] > threshold]


def _coordinates(face: Dict[str, Any]) -> FaceCoordinates:
    area = face["facial_area"]
    return (area["x"], area["y"], area["w"], area["h"], face.get("is_real", True), face.get("antispoof_score", 0))


def extract_facial_areas(img: NDArray[Any], faces_coordinates: Sequence[FaceCoordinates]) -> List[NDArray[Any]]:
    """The pixels inside each face's box (views of ``img``)."""
    return [img[int(y) : int(y + h), int(x) : int(x + w)] for x, y, w, h, *_ in faces_coordinates]


# ---------------------------------------------------------------- identities


def search_identity(
    detected_face: NDArray[Any], db_path: str, model_name: str, detector_backend: str, distance_metric: str
) -> Identity:
    """The closest identity of ``db_path`` for one face: its file name, its face resized to
    ``IDENTIFIED_IMG_SIZE`` square (BGR) and ``find``'s confidence; ``(None, None, 0)``
    when nothing matches or the folder holds no image."""
    return search_identities([detected_face], db_path, model_name, detector_backend, distance_metric)[0]


def search_identities(
    faces: Sequence[NDArray[Any]], db_path: str, model_name: str, detector_backend: str, distance_metric: str
) -> List[Identity]:
    """:func:`search_identity` for many faces, in one ``find`` call."""
    if not faces:
        return []
    try:
        per_face = recognition.find(
            img_path=list(faces),
            db_path=db_path,
            model_name=model_name,
            detector_backend=detector_backend,
            distance_metric=distance_metric,
            enforce_detection=False,
            silent=True,
            return_type="dict",
        )
    except EmptyDatasource:
        logger.warning("no image in %s: faces are not identified", db_path)
        return [NO_IDENTITY] * len(faces)
    return [_identity(tables[0] if tables else [], detector_backend) for tables in per_face]


def _identity(candidates: List[Dict[str, Any]], detector_backend: str) -> Identity:
    if not candidates:
        return NO_IDENTITY
    best = candidates[0]  # find sorts by distance
    path, confidence = best["identity"], best["confidence"]
    logger.info("Hello, %s (confidence: %s%%)", path, confidence)
    return os.path.basename(path), identity_picture(path, detector_backend), confidence


def identity_picture(path: str, detector_backend: str) -> NDArray[Any]:
    """The stored image's face (BGR, 0-255) where it holds exactly one, else the whole
    image, resized to ``IDENTIFIED_IMG_SIZE`` square."""
    faces = detection.extract_faces(img_path=path, detector_backend=detector_backend, enforce_detection=False)
    picture = faces[0]["face"][:, :, ::-1] * 255 if len(faces) == 1 else cv2.imread(path)
    return cv2.resize(picture, (IDENTIFIED_IMG_SIZE, IDENTIFIED_IMG_SIZE))


def perform_facial_recognition(
    img: NDArray[Any],
    detected_faces: Sequence[NDArray[Any]],
    faces_coordinates: Sequence[FaceCoordinates],
    db_path: str,
    detector_backend: str,
    distance_metric: str,
    model_name: str,
) -> NDArray[Any]:
    """Label each face of ``img`` that matches an identity of ``db_path``; ``img``."""
    identities = search_identities(detected_faces, db_path, model_name, detector_backend, distance_metric)
    for (x, y, w, h, *_), (label, picture, confidence) in zip(faces_coordinates, identities):
        if label is not None and picture is not None:
            img = overlay_identified_face(img, picture, label, x, y, w, h, confidence)
    return img


# ---------------------------------------------------------------- attributes and drawing


def perform_demography_analysis(
    enable_face_analysis: bool,
    img: NDArray[Any],
    faces_coordinates: Sequence[FaceCoordinates],
    detected_faces: Sequence[NDArray[Any]],
) -> NDArray[Any]:
    """Label each face of ``img`` with its age, gender and emotion (all faces through the
    models at once); ``img``."""
    if not enable_face_analysis or not faces_coordinates:
        return img
    per_face = demography.analyze(
        img_path=list(detected_faces),
        actions=STREAM_ACTIONS,
        detector_backend="skip",
        enforce_detection=False,
        silent=True,
    )
    for (x, y, w, h, *_), found in zip(faces_coordinates, per_face):
        if found:
            facts = found[0]  # the detector is skip: one face, the crop
            finding = FaceFinding(
                box=(x, y, w, h),
                age=int(facts["age"]),
                gender=facts["dominant_gender"],
                emotion=facts["dominant_emotion"],
            )
            draw_label(img, finding.label_lines(), finding.box)
    return img


def highlight_facial_areas(
    img: NDArray[Any], faces_coordinates: Sequence[FaceCoordinates], anti_spoofing: bool = False
) -> NDArray[Any]:
    """Draw each face's box (green real, red spoof with ``anti_spoofing``); ``img``."""
    findings = [
        FaceFinding(box=(x, y, w, h), is_real=bool(is_real) if anti_spoofing else None)
        for x, y, w, h, is_real, _ in faces_coordinates
    ]
    return annotate(img, findings)


def overlay_identified_face(
    img: NDArray[Any], target_img: NDArray[Any], label: str, x: int, y: int, w: int, h: int, confidence: float
) -> NDArray[Any]:
    """Label the box with the identity and ``find``'s confidence; ``img``. (``target_img``
    is accepted for deepface's signature; this package's overlay shows no thumbnail.)"""
    draw_label(img, [f"{label} ({confidence}%)"], _box(x, y, w, h))
    return img


def overlay_emotion(
    img: NDArray[Any], emotion_probas: Dict[str, float], x: int, y: int, w: int, h: int
) -> NDArray[Any]:
    """Label the box with the most probable emotion; ``img``."""
    if emotion_probas:
        draw_label(img, [max(emotion_probas, key=emotion_probas.__getitem__)], _box(x, y, w, h))
    return img


def overlay_age_gender(
    img: NDArray[Any], apparent_age: float, gender: str, x: int, y: int, w: int, h: int
) -> NDArray[Any]:
    """Label the box with the age and gender (``"31 M"``); ``img``."""
    draw_label(img, [f"{int(apparent_age)} {gender}"], _box(x, y, w, h))
    return img


#: The counters' text: white, OpenCV's plain font.
COUNTER_COLOR = (255, 255, 255)
#: The release counter's grey patch in the top left corner (x1, y1, x2, y2).
RELEASE_PATCH = (10, 10, 90, 50)


def countdown_to_freeze(
    img: NDArray[Any], faces_coordinates: Sequence[FaceCoordinates], frame_threshold: int, num_frames_with_faces: int
) -> NDArray[Any]:
    """Write over each face how many frames with faces remain before deepface's stream
    freezes (large, white); ``img``."""
    remaining = str(frame_threshold - num_frames_with_faces % frame_threshold)
    for x, y, w, h, _, _ in faces_coordinates:
        origin = (int(x + w / 4), int(y + h / 1.5))
        cv2.putText(img, remaining, origin, cv2.FONT_HERSHEY_SIMPLEX, 4, COUNTER_COLOR, 2)
    return img


def countdown_to_release(img: Optional[NDArray[Any]], tic: float, time_threshold: int) -> Optional[NDArray[Any]]:
    """Write the whole seconds left of a freeze that began at ``tic`` (``time.time()``) on a
    grey patch in the top left corner; ``img`` (None stays None: nothing is frozen)."""
    if img is None:
        return None
    seconds_left = int(time_threshold - (time.time() - tic) + 1)
    x1, y1, x2, y2 = RELEASE_PATCH
    cv2.rectangle(img, (x1, y1), (x2, y2), (67, 67, 67), cv2.FILLED)
    cv2.putText(img, str(seconds_left), (40, 40), cv2.FONT_HERSHEY_SIMPLEX, 1, COUNTER_COLOR, 1)
    return img


def _box(x: int, y: int, w: int, h: int) -> Box:
    return int(x), int(y), int(w), int(h)
