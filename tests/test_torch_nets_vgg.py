"""deepface/models/torch_nets/vgg.py against deepface 0.0.103's PyTorch VGG-Face and the
age, gender and race networks on its trunk (files of ~550 MB each, written once)."""

import pytest

from tests.helpers.torch_nets import NetCase, TorchNetChecks

MODULE = "deepface.models.torch_nets.vgg"
#: Three faces at two scales: a VGG forward pass costs ~31 GFLOP a face. The class heads
#: are a near-uniform softmax of the trunk's small random-weight answer, which differs
#: enough from face to face only at pixel values times 255 (see NetCase.input_scale).
FACES = dict(shape=(224, 224, 3), random_faces=1, real_faces=2, input_scale=255.0 * 255.0)
CASES = (
    NetCase("VGG-Face", "vgg_face_weights", f"{MODULE}:vgg_face", **FACES),
    NetCase("Age", "age_model_weights", f"{MODULE}:age", **FACES),
    NetCase("Gender", "gender_model_weights", f"{MODULE}:gender", **FACES),
    NetCase("Race", "race_model_single_batch", f"{MODULE}:race", **FACES),
)


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name, scope="class")
class TestVggTorch(TorchNetChecks):
    CASES = CASES
