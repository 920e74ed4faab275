"""The Flask application, its dependencies and its endpoints (deepface's module layout)."""
