"""deepface's ``facial_recognition.onnx.SFace``: OpenCV's SFace graph on onnxruntime, whichever engine runs the rest."""

from deepface.models.facial_recognition.SFace import SFaceClient

__all__ = ["SFaceClient"]
