"""deepface/models/torch_nets/emotion.py against deepface 0.0.103's PyTorch emotion network."""

import pytest

from tests.helpers.torch_nets import NetCase, TorchNetChecks

CASES = (
    NetCase("Emotion", "facial_expression_model_weights", "deepface.models.torch_nets.emotion:emotion", (48, 48, 1)),
)


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name, scope="class")
class TestEmotionTorch(TorchNetChecks):
    CASES = CASES
