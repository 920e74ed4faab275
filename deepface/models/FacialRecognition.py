"""The face recognition interface: preprocessed faces in, embeddings out, in batches."""

from abc import ABC, abstractmethod
from typing import Any, List, Tuple, Union

import numpy as np
from numpy.typing import NDArray

from deepface.commons.exceptions import InvalidEmbeddingsShapeError


class FacialRecognition(ABC):
    """A face recognition model.

    Subclasses set ``model_name``, ``input_shape`` and ``output_shape`` and implement
    :meth:`embed_batch`, the method the pipeline calls: it must give each face the
    embedding it would get alone (a batch is only a faster way to run the same faces).

    Attributes:
        model_name: deepface's name for the model, e.g. ``"VGG-Face"``.
        input_shape: ``(width, height)`` of the faces the model takes, as deepface
            writes it (DeepID's is ``(47, 55)``: 47 wide, 55 high).
        output_shape: the embedding's length.
        model: the underlying engine object (a Keras model, a dlib net, an onnxruntime
            session), for users who reach for it as in deepface.
    """

    model_name: str
    input_shape: Tuple[int, int]
    output_shape: int
    model: Any = None

    @property
    def target_size(self) -> Tuple[int, int]:
        """``(height, width)`` that faces are resized and padded to."""
        return self.input_shape[1], self.input_shape[0]

    @abstractmethod
    def embed_batch(self, faces: NDArray[np.float32]) -> NDArray[np.float32]:
        """Embed preprocessed faces.

        Args:
            faces: ``(N, height, width, 3)`` float32, BGR, as deepface feeds its models
                (``[0, 1]`` with the ``base`` normalization).

        Returns:
            ``(N, output_shape)`` float32 embeddings, row ``i`` for face ``i``.
        """

    def forward(self, img: NDArray[Any]) -> Union[List[float], List[List[float]]]:
        """deepface's ``forward``: one face (3-D, or 4-D with one row) gives one list of
        floats, several faces give a list of lists."""
        batch = np.asarray(img, dtype=np.float32)
        if batch.ndim == 3:
            batch = batch[np.newaxis]
        if batch.ndim != 4 or batch.shape[0] < 1:
            raise InvalidEmbeddingsShapeError(
                f"{self.model_name} takes faces shaped (N, H, W, 3), not {np.shape(img)}"
            )
        embeddings = self.embed_batch(batch)
        if embeddings.shape[0] == 1:
            return embeddings[0].tolist()
        return embeddings.tolist()
