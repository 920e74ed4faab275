"""deepface's gRPC server: ``create_server`` and ``serve``, wire-compatible with deepface 0.0.103.

The service ``DeepFaceService`` (``deepface/api/proto/deepface.proto``) answers ``Represent``,
``Verify``, ``Analyze``, ``Register``, ``Search`` and ``BuildIndex`` through the REST API's
service layer (``modules.core.service``): the same library calls, answers and errors. Each
answer is ``DeepFaceResponse{result}``, the REST endpoint's JSON object as a ``Struct``.

A request field left unset is not passed on, so the library's own default applies. An
``Image`` holds encoded bytes (``content``) or a ``path`` (or URL), which the server reads
only where ``DEEPFACE_API_ALLOW_PATHS`` / ``DEEPFACE_API_ALLOW_URLS`` allow, as the REST API.
The token of ``DEEPFACE_AUTH_TOKEN`` travels in the ``authorization`` metadata
(``Bearer <token>``). Messages may be up to 100 MB. Settings: deepface's variables
(``dependencies.variables``), a ``.env`` file, ``DEEPFACE_GRPC_PORT`` (50051) and
``DEEPFACE_GRPC_MAX_WORKERS`` (1). Run it with ``python -m deepface.api.src.grpc_server``.

Status codes: a bad field or image ``INVALID_ARGUMENT`` (the message names the field), a
wrong token ``UNAUTHENTICATED``, an oversize message ``RESOURCE_EXHAUSTED`` (gRPC's own), no
database configured ``FAILED_PRECONDITION``, missing weights or engines ``UNAVAILABLE``,
anything else ``INTERNAL`` without details (logged here).
"""

import os
from concurrent import futures
from dataclasses import dataclass, replace
from typing import Any, Callable, Dict, Optional, Tuple

try:
    import grpc
    from google.protobuf.struct_pb2 import Struct
except ImportError as import_err:  # pragma: no cover - depends on the installation
    from deepface.commons.exceptions import MissingDependencyError

    raise MissingDependencyError(
        f"{import_err.name} is required by the deepface gRPC server: pip install 'deepface[grpc]'"
    ) from import_err

from deepface import __version__
from deepface.api.proto import deepface_pb2, deepface_pb2_grpc
from deepface.api.src.dependencies.container import Container
from deepface.api.src.dependencies.serving import LoadSettings, load_env_file
from deepface.api.src.dependencies.variables import Variables
from deepface.api.src.modules.core import service
from deepface.api.src.modules.core.errors import RequestError
from deepface.api.src.modules.core.scheduler import ServingRefusal
from deepface.commons import image_utils
from deepface.commons.logger import get_logger

logger = get_logger(__name__)

DEFAULT_PORT = 50051
DEFAULT_MAX_WORKERS = 1
#: deepface's bind address: every interface
DEFAULT_HOST = "[::]"
PORT_VARIABLE = "DEEPFACE_GRPC_PORT"
WORKERS_VARIABLE = "DEEPFACE_GRPC_MAX_WORKERS"
#: the largest message either way (gRPC's default of 4 MB is too small for photos); deepface's name
MAX_MESSAGE_LENGTH = 100 * 1024 * 1024
#: the service layer's HTTP statuses as gRPC codes
STATUS_CODES = {
    400: grpc.StatusCode.INVALID_ARGUMENT,
    401: grpc.StatusCode.UNAUTHENTICATED,
    413: grpc.StatusCode.RESOURCE_EXHAUSTED,
    500: grpc.StatusCode.INTERNAL,
    503: grpc.StatusCode.UNAVAILABLE,
    504: grpc.StatusCode.DEADLINE_EXCEEDED,
}
UNAUTHENTICATED = "Invalid or missing authentication token"
IMAGE_HINT = "an Image with content (the encoded bytes of a JPEG, PNG, ...) or a path"

Answer = Tuple[Dict[str, Any], int]


class Refusal(Exception):
    """A request answered with a gRPC status other than OK."""

    def __init__(self, code: grpc.StatusCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Rpc:
    """One RPC: its service function, the image fields it reads (field -> keyword) and
    whether it needs the database."""

    call: Callable[..., Answer]
    images: Dict[str, str]
    needs_database: bool = False


RPCS: Dict[str, Rpc] = {
    "Represent": Rpc(service.represent, {"img": "img_path"}),
    "Verify": Rpc(service.verify, {"img1": "img1_path", "img2": "img2_path"}),
    "Analyze": Rpc(service.analyze, {"img": "img_path"}),
    "Register": Rpc(service.register, {"img": "img"}, needs_database=True),
    "Search": Rpc(service.search, {"img": "img"}, needs_database=True),
    "BuildIndex": Rpc(service.build_index, {}, needs_database=True),
}


# ---------------------------------------------------------------- messages


def image_of(message: Any, field: str) -> Any:
    """The image of an ``Image`` message: decoded pixels (BGR) for ``content``, the text of ``path``."""
    source = message.WhichOneof("source")
    if source is None:
        raise RequestError(field, f"is required: {IMAGE_HINT}")
    if source == "path":
        if not message.path.strip():
            raise RequestError(field, f"path is empty: {IMAGE_HINT}")
        return message.path
    if not message.content:
        raise RequestError(field, "content is empty: send the encoded bytes of a JPEG, PNG, ...")
    pixels = image_utils.decode_bytes(message.content)
    if pixels is None:
        raise RequestError(
            field, f"content ({len(message.content)} bytes) is not an image OpenCV can decode (JPEG, PNG, ...)"
        )
    return pixels


def load_image(img: Any) -> Any:
    """deepface's helper: the image of an ``Image`` message (a ``ValueError`` when unusable)."""
    return image_of(img, "img")


def value_or(request: Any, field: str, default: Any) -> Any:
    """deepface's helper: the request's field when the client set it, else ``default``."""
    return getattr(request, field) if request.HasField(field) else default


def options_of(request: Any, image_fields: Dict[str, str]) -> Dict[str, Any]:
    """The request's option fields that the client set (repeated ones when non-empty)."""
    options = {}
    for field in request.DESCRIPTOR.fields:
        if field.name in image_fields:
            continue
        value = getattr(request, field.name)
        if _is_repeated(field):
            if len(value):
                options[field.name] = list(value)
        elif field.has_presence and request.HasField(field.name):
            options[field.name] = value
    return options


def _is_repeated(field: Any) -> bool:
    repeated = getattr(field, "is_repeated", None)  # newer protobuf; ``label`` is deprecated there
    return bool(repeated) if repeated is not None else field.label == field.LABEL_REPEATED


def to_struct(answer: Dict[str, Any]) -> Struct:
    """The service's JSON answer as a ``Struct`` (numbers become doubles, as in JSON)."""
    struct = Struct()
    struct.update(service.to_native(answer))
    return struct


# ---------------------------------------------------------------- the service


class DeepFaceServicer(deepface_pb2_grpc.DeepFaceServiceServicer):  # type: ignore[misc,name-defined]
    """The RPCs, each through the REST API's service layer (deepface's constructor)."""

    def __init__(self, variables: Variables, container: Optional[Container] = None) -> None:
        self.variables = variables
        self.services = container or Container(variables=variables)

    def Represent(self, request: Any, context: Any) -> Any:  # noqa: N802 - gRPC's method names
        return self._serve("Represent", request, context)

    def Verify(self, request: Any, context: Any) -> Any:  # noqa: N802
        return self._serve("Verify", request, context)

    def Analyze(self, request: Any, context: Any) -> Any:  # noqa: N802
        return self._serve("Analyze", request, context)

    def Register(self, request: Any, context: Any) -> Any:  # noqa: N802
        return self._serve("Register", request, context)

    def Search(self, request: Any, context: Any) -> Any:  # noqa: N802
        return self._serve("Search", request, context)

    def BuildIndex(self, request: Any, context: Any) -> Any:  # noqa: N802
        return self._serve("BuildIndex", request, context)

    def _serve(self, name: str, request: Any, context: Any) -> Any:
        try:
            result = self._answer(RPCS[name], request, context)
            return deepface_pb2.DeepFaceResponse(result=result)  # type: ignore[attr-defined]
        except Refusal as refusal:
            refused = refusal
        except ServingRefusal as refusal:  # the worker's queue is full, or the request waited too long
            refused = Refusal(STATUS_CODES[refusal.status], str(refusal))
        except Exception:  # a bug here: logged, never shown to the client
            logger.exception("unexpected error in %s", name)
            refused = Refusal(grpc.StatusCode.INTERNAL, f"Exception in {name}: internal server error")
        context.abort(refused.code, refused.message)  # raises: outside the try, so not caught above

    def _answer(self, rpc: Rpc, request: Any, context: Any) -> Struct:
        self._check_token(context)
        if rpc.needs_database and not self.services.variables.database_configured:
            raise Refusal(grpc.StatusCode.FAILED_PRECONDITION, service.DATABASE_NOT_CONFIGURED)
        try:
            images = {keyword: image_of(getattr(request, field), field) for field, keyword in rpc.images.items()}
        except RequestError as err:
            raise Refusal(grpc.StatusCode.INVALID_ARGUMENT, str(err)) from err
        body, status = rpc.call(**images, **options_of(request, rpc.images), **self._context_of(rpc))
        if status != 200:
            raise Refusal(STATUS_CODES.get(status, grpc.StatusCode.UNKNOWN), _message(body))
        return to_struct(body)

    def _check_token(self, context: Any) -> None:
        metadata = {key.lower(): value for key, value in context.invocation_metadata()}
        if not self.services.auth_service.validate({"Authorization": metadata.get("authorization", "")}):
            raise Refusal(grpc.StatusCode.UNAUTHENTICATED, UNAUTHENTICATED)

    def _context_of(self, rpc: Rpc) -> Dict[str, Any]:
        """The service function's server-side arguments: the source policy and the database."""
        extra: Dict[str, Any] = {}
        if rpc.images:
            extra["sources"] = self.services.source_policy
            extra["scheduler"] = self.services.scheduler
        if rpc.needs_database:
            extra["variables"] = self.services.variables
        return extra


def _message(body: Dict[str, Any]) -> str:
    text = str(body.get("error") or body.get("message") or body)
    errors = body.get("errors")
    return f"{text} ({errors})" if errors else text


# ---------------------------------------------------------------- the server


def create_server(
    port: int = DEFAULT_PORT,
    max_workers: int = DEFAULT_MAX_WORKERS,
    host: str = DEFAULT_HOST,
    variables: Optional[Variables] = None,
    max_message_bytes: int = MAX_MESSAGE_LENGTH,
) -> Tuple[grpc.Server, int]:
    """A gRPC server of ``DeepFaceService``, not started yet, and the port it is bound to.

    Args:
        port: the port to listen on; 0 picks a free one.
        max_workers: requests served at once (threads).
        host: the address to listen on (deepface's: every interface).
        variables: the settings; ``Variables.from_env()`` (after the ``.env`` file) when None.
        max_message_bytes: the largest request or answer.
    """
    if max_workers < 1:
        raise ValueError(f"max_workers must be at least 1, got {max_workers} ({WORKERS_VARIABLE})")
    if variables is None:
        load_env_file()
        variables = Variables.from_env()
    load = LoadSettings.from_env()
    if max_workers == 1:  # one request at a time: nothing to merge with, so no window
        load = replace(load, batch_wait_ms=0.0)
    services = Container(variables=variables, load=load)
    services.model_service.load_models_on_startup()
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="deepface-grpc"),
        options=[
            ("grpc.max_receive_message_length", max_message_bytes),
            ("grpc.max_send_message_length", max_message_bytes),
        ],
    )
    servicer = DeepFaceServicer(variables, services)
    deepface_pb2_grpc.add_DeepFaceServiceServicer_to_server(servicer, server)  # type: ignore[attr-defined]
    bound = server.add_insecure_port(f"{host}:{port}")
    if bound == 0:
        raise OSError(f"the gRPC server could not listen on {host}:{port} ({PORT_VARIABLE})")
    return server, bound


def serve() -> None:
    """Serve on ``DEEPFACE_GRPC_PORT`` with ``DEEPFACE_GRPC_MAX_WORKERS`` threads until stopped."""
    load_env_file()
    port = _int_variable(PORT_VARIABLE, DEFAULT_PORT)
    max_workers = _int_variable(WORKERS_VARIABLE, DEFAULT_MAX_WORKERS)
    server, bound = create_server(port=port, max_workers=max_workers)
    server.start()
    logger.info("DeepFace gRPC API v%s listening on port %d (%d worker(s))", __version__, bound, max_workers)
    server.wait_for_termination()


def _int_variable(name: str, default: int) -> int:
    text = os.environ.get(name, "").strip()
    try:
        return int(text) if text else default
    except ValueError as err:
        raise ValueError(f"{name} must be a whole number, not {text!r}") from err


if __name__ == "__main__":
    serve()
