"""A recognition model that is one of deepface's trained networks, on any engine."""

from typing import ClassVar, Optional

import numpy as np
from numpy.typing import NDArray

from deepface.models.engines import Network, Runner, load_runner
from deepface.models.FacialRecognition import FacialRecognition


class NetworkRecognition(FacialRecognition):
    """Embeddings from a :class:`~deepface.models.engines.Network` run by an engine.

    ``engine`` is ``None`` for the process's engine (``DEEPFACE_BACKEND_ENGINE``, else
    the first installed); the classes at deepface's module paths
    (``facial_recognition.tf.VGGFace`` ...) pin it. Subclasses post-process the raw
    output in :meth:`embed_batch` (VGG-Face l2-normalises it).
    """

    engine: ClassVar[Optional[str]] = None

    def __init__(self, network: Network, device: Optional[str] = None, precision: Optional[str] = None) -> None:
        self.runner: Runner = load_runner(network, self.engine, device, precision)
        self.model = self.runner.model

    def embed_batch(self, faces: NDArray[np.float32]) -> NDArray[np.float32]:
        return self.runner(faces).reshape(len(faces), -1)
