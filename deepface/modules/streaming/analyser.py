"""The model stage of a batch of frames: faces detected in all of them at once, then every
face through the attribute models and the recognition model together, and the closest
identity of ``db_path`` from one distance matrix."""

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

import numpy as np
from numpy.typing import NDArray

from deepface.commons.exceptions import EmptyDatasource, FaceNotDetected
from deepface.commons.logger import get_logger
from deepface.models.Demography import Demography
from deepface.models.Detector import DetectedFace
from deepface.models.FacialRecognition import FacialRecognition
from deepface.modules import datastore_files, demography, modeling, recognition
from deepface.modules.datastore_files import Representations
from deepface.modules.detection import SKIP, ExtractOptions, detect_usable_faces, facial_area_dict
from deepface.modules.pipeline import ImageResult, map_faces_in_batches
from deepface.modules.representation import RepresentOptions, build_recognition_model, embed_faces
from deepface.modules.streaming.annotator import FaceFinding
from deepface.modules.streaming.options import DATASTORE_FORMAT, STREAM_ACTIONS, StreamOptions
from deepface.modules.verification import find_threshold

logger = get_logger(__name__)


class FrameAnalyser:
    """Detects, analyses and identifies the faces of many frames at once."""

    def __init__(self, options: StreamOptions) -> None:
        self.extract = ExtractOptions(
            detector_backend=options.detector_backend,
            enforce_detection=True,  # a faceless frame has no findings, not a whole-frame face
            anti_spoofing=options.anti_spoofing,
            batch_size=options.batch_size,
        )
        if options.detector_backend != SKIP:  # an unknown name or missing weights fail now
            modeling.build_model(task="face_detector", model_name=options.detector_backend)
        if options.anti_spoofing:
            modeling.build_model(task="spoofing", model_name="Fasnet")
        self.attribute_models: List[Demography] = (
            [demography.build_attribute_model(action) for action in STREAM_ACTIONS]
            if options.enable_face_analysis
            else []
        )
        self.search = FaceSearch.load(options) if options.db_path else None

    def analyse(self, frames: Sequence[NDArray[Any]]) -> List[List[FaceFinding]]:
        """The findings of each frame, in order (none for a frame without faces)."""
        if not frames:
            return []
        detected = detect_usable_faces(frames, self.extract)
        described = map_faces_in_batches(detected, self._describe, self.extract.batch_size)
        return [_findings(result) for result in described]

    def _describe(self, faces: List[DetectedFace]) -> List["FaceFacts"]:
        attributes = (
            demography.analyze_faces(self.attribute_models, faces) if self.attribute_models else [[] for _ in faces]
        )
        matches = self.search.identify(faces) if self.search is not None else [None] * len(faces)
        return [FaceFacts(merge_attributes(entries), match) for entries, match in zip(attributes, matches)]


@dataclass(frozen=True)
class Match:
    """The closest stored face: its label and distance."""

    label: str
    distance: float


@dataclass(frozen=True)
class FaceFacts:
    """The model stage's output for one face."""

    attributes: Dict[str, Any]
    match: Optional[Match]


def merge_attributes(entries: Sequence[Dict[str, Any]]) -> Dict[str, Any]:
    merged: Dict[str, Any] = {}
    for entry in entries:
        merged.update(entry)
    return merged


def _findings(result: ImageResult) -> List[FaceFinding]:
    if result.error is not None:
        if not isinstance(result.error, FaceNotDetected):
            logger.warning("frame %d not analysed: %s", result.index, result.error)
        return []
    height, width = result.shape[:2]
    return [_finding(face, facts, width, height) for face, facts in zip(result.faces, result.outputs)]


def _finding(face: DetectedFace, facts: FaceFacts, width: int, height: int) -> FaceFinding:
    area = facial_area_dict(face.facial_area, width, height)
    attributes = facts.attributes
    age = attributes.get("age")
    return FaceFinding(
        box=(area["x"], area["y"], area["w"], area["h"]),
        confidence=float(face.facial_area.confidence or 0),
        age=None if age is None else int(age),
        gender=attributes.get("dominant_gender"),
        emotion=attributes.get("dominant_emotion"),
        identity=None if facts.match is None else facts.match.label,
        distance=None if facts.match is None else facts.match.distance,
        is_real=face.is_real,
        antispoof_score=face.antispoof_score,
    )


# ---------------------------------------------------------------- search in db_path


@dataclass
class FaceSearch:
    """The faces of ``db_path``, searched for the closest identity of many faces at once."""

    model: FacialRecognition
    represent: RepresentOptions
    gallery: Representations
    labels: List[str]
    metric: str
    threshold: float

    @classmethod
    def load(cls, options: StreamOptions) -> Optional["FaceSearch"]:
        """The folder's datastore, brought up to date (the file ``find`` uses with these
        settings); ``None``, with a warning, when the folder holds no image."""
        represent = RepresentOptions(
            model_name=options.model_name,
            detector_backend=options.detector_backend,
            batch_size=options.batch_size,
        )
        model = build_recognition_model(options.model_name)
        folder = recognition.local_folder(options.db_path)
        name = datastore_files.datastore_file_name(
            options.model_name, options.detector_backend, True, "base", 0, DATASTORE_FORMAT
        )
        try:
            gallery = recognition.sync_datastore(
                folder,
                os.path.join(folder, name),
                DATASTORE_FORMAT,
                embed=recognition.pipeline_embedder(represent),
                silent=True,
            )
        except EmptyDatasource:
            logger.warning("no image in %s: faces are not identified", folder)
            return None
        labels = [identity_label(identity, folder) for identity in gallery.identities]
        threshold = find_threshold(options.model_name, options.distance_metric)
        return cls(model, represent, gallery, labels, options.distance_metric, threshold)

    def identify(self, faces: Sequence[DetectedFace]) -> List[Optional[Match]]:
        """Each face's closest stored face within the threshold, or ``None``: one forward
        pass and one distance matrix for all ``faces``."""
        vectors = [embedded.vector for embedded in embed_faces(self.model, faces, self.represent)]
        queries = np.asarray(vectors, dtype=np.float64)
        valid = np.flatnonzero(self.gallery.has_embedding)
        distances = recognition.distance_matrix(self.gallery, valid, queries, self.metric)
        return [self._closest(row) for row in distances]

    def _closest(self, distances: NDArray[np.float64]) -> Optional[Match]:
        if distances.size == 0:
            return None
        best = int(np.argmin(distances))
        distance = float(distances[best])
        return Match(self.labels[best], distance) if distance <= self.threshold else None


def identity_label(identity: str, folder: str) -> str:
    """The name shown for a stored image: its folder below ``folder`` (``db/alice/1.jpg``
    -> ``alice``), or its file name's stem for an image directly in it (``db/bob.jpg`` -> ``bob``)."""
    relative = Path(os.path.relpath(identity, folder))
    return relative.parts[0] if len(relative.parts) > 1 else relative.stem
