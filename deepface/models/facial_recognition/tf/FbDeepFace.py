"""deepface's ``facial_recognition.tf.FbDeepFace``: the network described once in
``deepface.models.facial_recognition.FbDeepFace``, pinned to TensorFlow."""

from deepface.commons.backend_utils import TENSORFLOW
from deepface.models.facial_recognition import FbDeepFace as network


class DeepFaceClient(network.DeepFaceClient):
    """FbDeepFace on TensorFlow."""

    engine = TENSORFLOW
