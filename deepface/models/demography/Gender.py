"""Gender: VGG-Face with a two-class head, labels Woman and Man."""

from typing import Any, Dict, Optional

import numpy as np

from deepface.models.demography.DemographyUtils import GENDER_LABELS
from deepface.models.demography.keras_models import NetworkDemography, attribute_network, build_vgg_classifier

WEIGHT_FILE = "gender_model_weights.h5"
WEIGHTS_URL = [
    "https://github.com/serengil/deepface_models/releases/download/v1.0/gender_model_weights.h5",
    "https://huggingface.co/serengil/deepface/resolve/main/gender_model_weights.h5",
]
labels = GENDER_LABELS  # deepface's module-level name


def load_model() -> Any:
    """The gender network with deepface's weights."""
    return build_vgg_classifier(len(GENDER_LABELS), WEIGHT_FILE, WEIGHTS_URL)


#: The network on each engine: deepface's ``.h5``, ``.pth`` and ``.onnx`` files.
NETWORK = attribute_network("Gender", "gender_model_weights", WEIGHT_FILE, load_model, "vgg:gender")


class GenderClient(NetworkDemography):
    """Woman/Man probabilities of 224x224 BGR faces in ``[0, 1]``."""

    model_name = "Gender"
    action = "gender"
    labels = GENDER_LABELS

    def __init__(self, device: Optional[str] = None, precision: Optional[str] = None) -> None:
        super().__init__(NETWORK, len(GENDER_LABELS), device, precision)

    def attributes(self, prediction: Any) -> Dict[str, Any]:
        """``analyze``'s entries: each probability times 100 (deepface does not divide by
        their sum here) and the dominant label."""
        probabilities = np.asarray(prediction)
        return {
            "gender": {label: 100 * probabilities[i] for i, label in enumerate(self.labels)},
            "dominant_gender": self.labels[int(np.argmax(probabilities))],
        }
