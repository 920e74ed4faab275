"""deepface's module path for the dlib recognition model (no engine needed)."""
