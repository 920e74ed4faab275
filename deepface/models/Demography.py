"""The facial attribute interface: faces prepared as ``analyze`` prepares them in,
per-face predictions out, in batches."""

from abc import ABC, abstractmethod
from typing import Any, Dict, List, Sequence, Union

import numpy as np
from numpy.typing import NDArray

from deepface.models.demography.DemographyUtils import face_batch

Faces = Union[NDArray[Any], Sequence[NDArray[Any]]]


class Demography(ABC):
    """A facial attribute model (deepface's ``facial_attribute`` task).

    Every model takes the same faces: ``(N, 224, 224, 3)`` float32 BGR in ``[0, 1]``, as
    :func:`~deepface.models.demography.DemographyUtils.prepare_face` makes them from a
    crop. A batch is only a faster way to run the same faces: each face's prediction
    is the one it gets alone.

    Attributes:
        model_name: deepface's name for the model: ``"Age"``, ``"Gender"``, ``"Race"``
            or ``"Emotion"``.
        action: the ``analyze`` action it serves: ``"age"``, ``"gender"``, ...
        labels: the class labels in output order (empty for the age model).
        model: the underlying engine object (a Keras model), as in deepface.
    """

    model_name: str
    action: str
    labels: List[str] = []
    model: Any = None

    @abstractmethod
    def class_probabilities(self, faces: Faces) -> NDArray[np.float32]:
        """The network's softmax output for each face, ``(N, classes)`` float32."""

    def predict_batch(self, faces: Faces) -> NDArray[Any]:
        """Each face's prediction as deepface's ``predict`` gives it, stacked: class
        probabilities ``(N, classes)`` (the age model gives ``(N,)`` apparent ages)."""
        return self.from_probabilities(self.class_probabilities(faces))

    def from_probabilities(self, probabilities: NDArray[np.float32]) -> NDArray[Any]:
        """:meth:`predict_batch`'s rows from the network's softmax output (as they are,
        but for the age model)."""
        return probabilities

    def predict(self, img: Faces) -> Union[NDArray[Any], np.float64]:
        """deepface's ``predict``: one face (3-D, or 4-D with one row) gives that face's
        prediction; several faces give one row each."""
        batch = face_batch(img)
        predictions = self.predict_batch(batch)
        return predictions[0] if len(batch) == 1 else predictions

    def attributes(self, prediction: Any) -> Dict[str, Any]:
        """One face's :meth:`predict_batch` row as ``analyze`` reports it: percentages
        per label (over their sum, as deepface computes them) and the dominant label."""
        probabilities = np.asarray(prediction)
        total = probabilities.sum()
        return {
            self.action: {label: 100 * probabilities[i] / total for i, label in enumerate(self.labels)},
            f"dominant_{self.action}": self.labels[int(np.argmax(probabilities))],
        }
