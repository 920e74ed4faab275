"""Race: VGG-Face with a six-class head, deepface's labels in deepface's order."""

from typing import Any, Optional

from deepface.models.demography.DemographyUtils import RACE_LABELS
from deepface.models.demography.keras_models import NetworkDemography, attribute_network, build_vgg_classifier

WEIGHT_FILE = "race_model_single_batch.h5"
WEIGHTS_URL = [
    "https://github.com/serengil/deepface_models/releases/download/v1.0/race_model_single_batch.h5",
    "https://huggingface.co/serengil/deepface/resolve/main/race_model_single_batch.h5",
]
labels = RACE_LABELS  # deepface's module-level name


def load_model() -> Any:
    """The race network with deepface's weights."""
    return build_vgg_classifier(len(RACE_LABELS), WEIGHT_FILE, WEIGHTS_URL)


#: The network on each engine: deepface's ``.h5``, ``.pth`` and ``.onnx`` files.
NETWORK = attribute_network("Race", "race_model_single_batch", WEIGHT_FILE, load_model, "vgg:race")


class RaceClient(NetworkDemography):
    """Race probabilities of 224x224 BGR faces in ``[0, 1]``."""

    model_name = "Race"
    action = "race"
    labels = RACE_LABELS

    def __init__(self, device: Optional[str] = None, precision: Optional[str] = None) -> None:
        super().__init__(NETWORK, len(RACE_LABELS), device, precision)
