"""deepface's endpoints (``/represent``, ``/verify``, ``/analyze``, ``/register``, ``/search``,
``/build/index``) plus ``/extract_faces``: same fields and answers as deepface 0.0.103.

Each endpoint reads its fields (JSON, form fields or multipart files; a JSON list of images
is one batch), checks their types, and hands them to ``service``; fields a request leaves
out take the library's defaults.
"""

import functools
from dataclasses import replace
from typing import Any, Callable, Dict, Mapping, Tuple

from flask import Blueprint, Response, current_app, request

from deepface import __version__
from deepface.options import verbs
from deepface.api.src.dependencies.container import Container
from deepface.api.src.modules.core import service
from deepface.api.src.modules.core.fields import (
    Parser,
    RequestArgs,
    image_field,
    parse_options,
    read_request,
    table_fields,
)

# deepface's helper, kept under its name for code that imports it from here
from deepface.api.src.modules.core.fields import extract_image_from_request  # noqa: F401

blueprint = Blueprint("routes", __name__)
CONTAINER_KEY = "deepface.api"
UNAUTHORIZED = {"message": "Invalid or missing authentication token"}
DATABASE_NOT_CONFIGURED = {"error": service.DATABASE_NOT_CONFIGURED}

Answer = Tuple[Dict[str, Any], int]

# Each endpoint's fields: its verb's options marked ``api`` (deepface's fields), read by kind.
REPRESENT_FIELDS: Mapping[str, Parser] = table_fields(verbs.REPRESENT)
VERIFY_FIELDS = table_fields(verbs.VERIFY)
ANALYZE_FIELDS = table_fields(verbs.ANALYZE)
#: ``/extract_faces`` also answers each face's crop when asked (``return_face``, as ``represent`` names it).
EXTRACT_FACES_FIELDS = table_fields(verbs.EXTRACT, replace(verbs.RETURN_FACE, api=True))
REGISTER_FIELDS = table_fields(verbs.REGISTER)
SEARCH_FIELDS = table_fields(verbs.SEARCH)
BUILD_INDEX_FIELDS = table_fields(verbs.BUILD_INDEX)


def request_options(
    args: RequestArgs, parsers: Mapping[str, Parser], image_fields: Tuple[str, ...] = ()
) -> Dict[str, Any]:
    """The request's options for this endpoint; unknown fields refused under the strict setting."""
    strict = container().settings.strict_fields
    return parse_options(args, parsers, image_fields, strict=strict, endpoint=request.path)


def container() -> Container:
    """The services of the application serving the current request."""
    return current_app.extensions[CONTAINER_KEY]


def authenticated(view: Callable[[], Any]) -> Callable[[], Any]:
    """Answer 401 unless the request carries the configured bearer token (when one is set)."""

    @functools.wraps(view)
    def guarded() -> Any:
        if not container().auth_service.validate(request.headers):
            return UNAUTHORIZED, 401
        return view()

    return guarded


def needs_database(view: Callable[[], Answer]) -> Callable[[], Answer]:
    """Answer 500, as deepface does, when the server has no database configured."""

    @functools.wraps(view)
    def guarded() -> Answer:
        if not container().variables.database_configured:
            return DATABASE_NOT_CONFIGURED, 500
        return view()

    return guarded


@blueprint.route("/")
def home() -> str:
    return f"<h1>Welcome to DeepFace API v{__version__}!</h1>"


@blueprint.route("/metrics")
@authenticated
def metrics() -> Any:
    """The server's metrics in Prometheus' text format."""
    body, content_type = container().metrics.exposition()
    return Response(body, mimetype=None, content_type=content_type)


@blueprint.route("/represent", methods=["POST"])
@authenticated
def represent() -> Answer:
    args = read_request()
    options = request_options(args, REPRESENT_FIELDS, ("img",))
    return service.represent(img_path=image_field(args, "img"), sources=container().source_policy,
        scheduler=container().scheduler, **options)


@blueprint.route("/verify", methods=["POST"])
@authenticated
def verify() -> Answer:
    args = read_request()
    options = request_options(args, VERIFY_FIELDS, ("img1", "img2"))
    return service.verify(
        img1_path=image_field(args, "img1", allow_embeddings=True),
        img2_path=image_field(args, "img2", allow_embeddings=True),
        sources=container().source_policy,
        scheduler=container().scheduler,
        **options,
    )


@blueprint.route("/analyze", methods=["POST"])
@authenticated
def analyze() -> Answer:
    args = read_request()
    options = request_options(args, ANALYZE_FIELDS, ("img",))
    return service.analyze(img_path=image_field(args, "img"), sources=container().source_policy,
        scheduler=container().scheduler, **options)


@blueprint.route("/extract_faces", methods=["POST"])
@authenticated
def extract_faces() -> Answer:
    args = read_request()
    options = request_options(args, EXTRACT_FACES_FIELDS, ("img",))
    return service.extract_faces(img_path=image_field(args, "img"), sources=container().source_policy,
        scheduler=container().scheduler, **options)


@blueprint.route("/register", methods=["POST"])
@authenticated
@needs_database
def register() -> Answer:
    args = read_request()
    options = request_options(args, REGISTER_FIELDS, ("img",))
    return service.register(
        img=image_field(args, "img"),
        sources=container().source_policy,
        variables=container().variables,
        scheduler=container().scheduler,
        **options,
    )


@blueprint.route("/search", methods=["POST"])
@authenticated
@needs_database
def search() -> Answer:
    args = read_request()
    options = request_options(args, SEARCH_FIELDS, ("img",))
    return service.search(
        img=image_field(args, "img"),
        sources=container().source_policy,
        variables=container().variables,
        scheduler=container().scheduler,
        **options,
    )


@blueprint.route("/build/index", methods=["POST"])
@authenticated
@needs_database
def build_index() -> Answer:
    options = request_options(read_request(), BUILD_INDEX_FIELDS)
    return service.build_index(variables=container().variables, **options)
