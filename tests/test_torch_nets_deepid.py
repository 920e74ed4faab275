"""deepface/models/torch_nets/deepid.py against deepface 0.0.103's PyTorch DeepID."""

import pytest

from tests.helpers.torch_nets import NetCase, TorchNetChecks

CASES = (NetCase("DeepID", "deepid_weights", "deepface.models.torch_nets.deepid:deepid", (55, 47, 3)),)


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name, scope="class")
class TestDeepIdTorch(TorchNetChecks):
    CASES = CASES
