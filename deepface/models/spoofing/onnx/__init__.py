"""deepface's module paths for the spoofing networks on ONNX Runtime."""
