"""The Flask application: ``create_app()`` as in deepface, configured by environment variables
(see ``dependencies.variables`` and ``dependencies.serving``; a ``.env`` file of the working
directory is read first, as deepface does) or by ``Variables`` and ``HttpSettings`` objects.
Cross-origin requests are answered (flask-cors), from every origin unless narrowed.

Every error answers JSON: a bad field 400 naming it, a missing or wrong token 401, a body
over the size limit 413, an unknown route 404; an unexpected error 500, logged here with
its traceback and never sent to the client.
"""

import time
from typing import Any, Dict, Optional, Tuple

try:
    from flask import Flask, Response, g, request
    from flask_cors import CORS
    from werkzeug.exceptions import HTTPException, RequestEntityTooLarge
except ImportError as import_err:  # pragma: no cover - depends on the installation
    from deepface.commons.exceptions import MissingDependencyError

    raise MissingDependencyError(
        f"{import_err.name} is required by the deepface API: pip install 'deepface[api]'"
    ) from import_err

from deepface import __version__
from deepface.api.src.dependencies.container import Container
from deepface.api.src.dependencies.serving import HttpSettings, LoadSettings, load_env_file
from deepface.api.src.dependencies.variables import Variables
from deepface.api.src.modules.core.errors import RequestError
from deepface.api.src.modules.core.metrics import ServerMetrics
from deepface.api.src.modules.core.routes import CONTAINER_KEY, blueprint
from deepface.api.src.modules.core.scheduler import Overloaded, ServingRefusal
from deepface.commons.logger import get_logger

logger = get_logger(__name__)

MEGABYTE = 1024 * 1024
ErrorAnswer = Tuple[Dict[str, Any], int]


def create_app(
    variables: Optional[Variables] = None,
    settings: Optional[HttpSettings] = None,
    load: Optional[LoadSettings] = None,
) -> Flask:
    """Build the application, its services, and the models to warm up (built here, once).

    Args:
        variables: the settings; ``Variables.from_env()`` (deepface's environment
            variables) when None.
        settings: CORS origins and strict fields; ``HttpSettings.from_env()`` when None.
        load: merging, queue and timeout; ``LoadSettings.from_env()`` when None.
    """
    if variables is None or settings is None or load is None:
        load_env_file()
    variables = variables or Variables.from_env()
    settings = settings or HttpSettings.from_env()
    load = load or LoadSettings.from_env()
    metrics = ServerMetrics()
    metrics.listen_to_pipeline()
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = int(variables.max_request_mb * MEGABYTE)
    CORS(app, origins=list(settings.cors_origins))
    services = Container(variables=variables, settings=settings, load=load, metrics=metrics)
    app.extensions[CONTAINER_KEY] = services
    app.register_blueprint(blueprint)
    _register_error_handlers(app, variables)
    _count_requests(app, metrics)
    services.model_service.load_models_on_startup()
    logger.info(
        "DeepFace API v%s ready (auth %s, paths allowed: %s, URLs allowed: %s, CORS origins: %s, strict fields: %s, "
        "%s)",
        __version__,
        "on" if services.auth_service.is_auth_enabled else "off",
        ", ".join(services.source_policy.allowed_folders) or "none",
        variables.allow_urls,
        ", ".join(settings.cors_origins),
        settings.strict_fields,
        f"merging up to {load.max_batch} requests within {load.batch_wait_ms:g} ms" if load.merging else "no merging",
    )
    return app


def _count_requests(app: Flask, metrics: ServerMetrics) -> None:
    """Count every answer by route (the rule it matched) and status code, with its time."""

    @app.before_request
    def started() -> None:
        g.deepface_started = time.perf_counter()

    @app.after_request
    def answered(response: Response) -> Response:
        route = request.url_rule.rule if request.url_rule is not None else "unmatched"
        spent = time.perf_counter() - g.get("deepface_started", time.perf_counter())
        metrics.observe_request(route, response.status_code, spent)
        return response


def _register_error_handlers(app: Flask, variables: Variables) -> None:
    @app.errorhandler(RequestError)
    def bad_field(error: RequestError) -> ErrorAnswer:
        return error.body(), error.status

    @app.errorhandler(ServingRefusal)
    def refused(error: ServingRefusal) -> Tuple[Dict[str, Any], int, Dict[str, str]]:
        headers = {"Retry-After": str(error.retry_after_s)} if isinstance(error, Overloaded) else {}
        return error.body(), error.status, headers

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
