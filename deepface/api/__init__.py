"""The REST API: deepface's endpoints served in batches (``deepface serve``, ``python -m deepface.api``).

``deepface.api.src.app.create_app()`` builds the Flask application, as deepface's does;
``deepface.api.launcher`` serves it with gunicorn.
"""
