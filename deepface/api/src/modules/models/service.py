"""Model warm-up: build the configured models once per process before serving."""

from typing import Sequence

from deepface import DeepFace
from deepface.commons.logger import get_logger

logger = get_logger(__name__)


class ModelService:
    """Builds recognition models and face detectors at start-up, so the first request is fast."""

    def __init__(self, face_recognition_models: Sequence[str] = (), face_detection_models: Sequence[str] = ()) -> None:
        self.face_recognition_models = tuple(face_recognition_models)
        self.face_detection_models = tuple(face_detection_models)

    def load_models_on_startup(self) -> None:
        """Build every configured model; one that cannot be built (offline, no weights) is
        logged as a warning and built on first use instead: start-up never fails on it."""
        for name in self.face_recognition_models:
            self._warm_up("facial_recognition", name)
        for name in self.face_detection_models:
            self._warm_up("face_detector", name)

    @staticmethod
    def _warm_up(task: str, model_name: str) -> None:
        try:
            DeepFace.build_model(model_name=model_name, task=task)
        except Exception as err:  # any engine or download failure must not stop the server
            logger.warning("warm-up: %s model %s not built (%s); it will be built on first use", task, model_name, err)
            return
        logger.info("warm-up: %s model %s built", task, model_name)
