"""Apparent age: VGG-Face with a 101-class head (ages 0..100); the apparent age is the
expectation over those classes."""

from typing import Any, Dict, Optional

import numpy as np
from numpy.typing import NDArray

from deepface.models.demography.DemographyUtils import AGE_CLASSES, apparent_ages, find_apparent_age
from deepface.models.demography.keras_models import NetworkDemography, attribute_network, build_vgg_classifier

__all__ = ["ApparentAgeClient", "find_apparent_age", "apparent_ages", "WEIGHT_FILE", "WEIGHTS_URL"]

WEIGHT_FILE = "age_model_weights.h5"
WEIGHTS_URL = [
    "https://github.com/serengil/deepface_models/releases/download/v1.0/age_model_weights.h5",
    "https://huggingface.co/serengil/deepface/resolve/main/age_model_weights.h5",
]


def load_model() -> Any:
    """The age network with deepface's weights."""
    return build_vgg_classifier(AGE_CLASSES, WEIGHT_FILE, WEIGHTS_URL)


#: The network on each engine: deepface's ``.h5``, ``.pth`` and ``.onnx`` files.
NETWORK = attribute_network("Age", "age_model_weights", WEIGHT_FILE, load_model, "vgg:age")


class ApparentAgeClient(NetworkDemography):
    """Apparent age of 224x224 BGR faces in ``[0, 1]``."""

    model_name = "Age"
    action = "age"

    def __init__(self, device: Optional[str] = None, precision: Optional[str] = None) -> None:
        super().__init__(NETWORK, AGE_CLASSES, device, precision)

    def from_probabilities(self, probabilities: NDArray[np.float32]) -> NDArray[np.float64]:
        """Each face's apparent age, ``(N,)`` float64."""
        return apparent_ages(probabilities)

    def attributes(self, prediction: Any) -> Dict[str, Any]:
        """``analyze``'s entry: the apparent age truncated to an int."""
        return {"age": int(prediction)}
