"""Distance below which two faces are the same person, per model and distance metric."""

from typing import Dict, Tuple, Union

Number = Union[int, float]

METRICS = ("cosine", "euclidean", "euclidean_l2", "angular")

# model: thresholds in the order of METRICS
_ROWS: Dict[str, Tuple[Number, Number, Number, Number]] = {
    "VGG-Face": (0.68, 1.17, 1.17, 0.39),
    "Facenet": (0.40, 10, 0.80, 0.33),
    "Facenet512": (0.30, 23.56, 1.04, 0.35),
    "ArcFace": (0.68, 4.15, 1.13, 0.39),
    "Dlib": (0.07, 0.6, 0.4, 0.12),
    "SFace": (0.593, 10.734, 1.055, 0.36),
    "OpenFace": (0.10, 0.55, 0.55, 0.11),
    "DeepFace": (0.23, 64, 0.64, 0.12),
    "DeepID": (0.015, 45, 0.17, 0.04),
    "GhostFaceNet": (0.65, 35.71, 1.10, 0.38),
    "Buffalo_L": (0.55, 0.6, 1.1, 0.45),
}

thresholds: Dict[str, Dict[str, Number]] = {
    model: dict(zip(METRICS, row)) for model, row in _ROWS.items()
}
