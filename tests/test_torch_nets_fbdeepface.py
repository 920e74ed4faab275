"""deepface/models/torch_nets/fbdeepface.py against deepface 0.0.103's PyTorch DeepFace
(locally connected layers)."""

import pytest

from tests.helpers.torch_nets import NetCase, TorchNetChecks

CASES = (
    NetCase(
        "DeepFace",
        "VGGFace2_DeepFace_weights_val-0.9034",
        "deepface.models.torch_nets.fbdeepface:deepface",
        (152, 152, 3),
    ),
)


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name, scope="class")
class TestFbDeepFaceTorch(TorchNetChecks):
    CASES = CASES
