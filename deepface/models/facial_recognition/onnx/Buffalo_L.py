"""deepface's ``facial_recognition.onnx.Buffalo_L``: insightface's graph on onnxruntime, whichever engine runs the rest."""

from deepface.models.facial_recognition.Buffalo_L import Buffalo_L

__all__ = ["Buffalo_L"]
