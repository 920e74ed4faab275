"""deepface's module paths for the facial recognition networks on ONNX Runtime."""
