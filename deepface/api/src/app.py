"""The Flask application: ``create_app()`` as in deepface, configured by environment variables
(see ``dependencies.variables`` and ``dependencies.serving``; a ``.env`` file of the working
directory is read first, as deepface does) or by ``Variables`` and ``HttpSettings`` objects.
Cross-origin requests are answered (flask-cors), from every origin unless narrowed.

Every error answers JSON: a bad field 400 naming it, a missing or wrong token 401, a body
over the size limit 413, an unknown route 404; an unexpected error 500, logged here with
its traceback and never sent to the client.
"""

from typing import Any, Dict, Optional, Tuple

try:
    from flask import Flask
    from flask_cors import CORS
    from werkzeug.exceptions import HTTPException, RequestEntityTooLarge
except ImportError as import_err:  # pragma: no cover - depends on the installation
    from deepface.commons.exceptions import MissingDependencyError

    raise MissingDependencyError(
        f"{import_err.name} is required by the deepface API: pip install 'deepface[api]'"
    ) from import_err

from deepface import __version__
from deepface.api.src.dependencies.container import Container
from deepface.api.src.dependencies.serving import HttpSettings, load_env_file
from deepface.api.src.dependencies.variables import Variables
from deepface.api.src.modules.core.errors import RequestError
from deepface.api.src.modules.core.routes import CONTAINER_KEY, blueprint
from deepface.commons.logger import get_logger

logger = get_logger(__name__)

MEGABYTE = 1024 * 1024
ErrorAnswer = Tuple[Dict[str, Any], int]


def create_app(variables: Optional[Variables] = None, settings: Optional[HttpSettings] = None) -> Flask:
    """Build the application, its services, and the models to warm up (built here, once).

    Args:
        variables: the settings; ``Variables.from_env()`` (deepface's environment
            variables) when None.
        settings: CORS origins and strict fields; ``HttpSettings.from_env()`` when None.
    """
    if variables is None or settings is None:
        load_env_file()
    variables = variables or Variables.from_env()
    settings = settings or HttpSettings.from_env()
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = int(variables.max_request_mb * MEGABYTE)
    CORS(app, origins=list(settings.cors_origins))
    services = Container(variables=variables, settings=settings)
    app.extensions[CONTAINER_KEY] = services
    app.register_blueprint(blueprint)
    _register_error_handlers(app, variables)
    services.model_service.load_models_on_startup()
    logger.info(
        "DeepFace API v%s ready (auth %s, paths allowed: %s, URLs allowed: %s, CORS origins: %s, strict fields: %s)",
        __version__,
        "on" if services.auth_service.is_auth_enabled else "off",
        ", ".join(services.source_policy.allowed_folders) or "none",
        variables.allow_urls,
        ", ".join(settings.cors_origins),
        settings.strict_fields,
    )
    return app


def _register_error_handlers(app: Flask, variables: Variables) -> None:
    @app.errorhandler(RequestError)
    def bad_field(error: RequestError) -> ErrorAnswer:
        return error.body(), error.status

    @app.errorhandler(RequestEntityTooLarge)
    def too_large(_error: RequestEntityTooLarge) -> ErrorAnswer:
        limit = f"{variables.max_request_mb:g} MB"
        return {"error": f"the request body is larger than this server's limit of {limit}"}, 413

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> ErrorAnswer:
        return {"error": f"{error.name}: {error.description}"}, error.code or 500

    @app.errorhandler(Exception)
    def unexpected(error: Exception) -> ErrorAnswer:
        logger.exception("unexpected error", exc_info=error)
        return {"error": "internal server error"}, 500
