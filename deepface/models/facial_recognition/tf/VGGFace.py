"""deepface's ``facial_recognition.tf.VGGFace``: the network described once in
``deepface.models.facial_recognition.VGGFace``, pinned to TensorFlow."""

from deepface.commons.backend_utils import TENSORFLOW
from deepface.models.facial_recognition import VGGFace as network


class VggFaceClient(network.VggFaceClient):
    """VGGFace on TensorFlow."""

    engine = TENSORFLOW
