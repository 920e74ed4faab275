"""Serving the REST API with gunicorn: ``deepface serve`` and ``python -m deepface.api``.

    deepface serve --host 0.0.0.0 --port 5005 --workers 2 --warm-up-model Facenet

Each worker process builds the application (and warms its models up) once, then serves
requests one at a time (``--threads N`` serves N at once; the engines are thread-safe).
The options win over the environment variables read by ``Variables.from_env``; the bearer
token is read from ``DEEPFACE_AUTH_TOKEN`` only, so that it never shows in a process list.
This module imports neither Flask nor gunicorn until a server starts.
"""

import argparse
import dataclasses
import logging
import math
import sys
from typing import Any, Dict, List, Optional, Sequence

from deepface.api.src.dependencies.serving import HttpSettings, LoadSettings, load_env_file
from deepface.api.src.dependencies.variables import DEFAULT_MAX_REQUEST_MB, Variables, split_names

logger = logging.getLogger(__name__)

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 5005  # deepface's
DEFAULT_TIMEOUT_S = LoadSettings.timeout_s
#: seconds a gunicorn worker may take to start (build its models) whatever the request deadline
START_TIMEOUT_S = 120
#: deepface's defaults for a request that names no model or detector
DEFAULT_WARM_UP_MODEL = "VGG-Face"
DEFAULT_WARM_UP_DETECTOR = "opencv"
EXIT_USAGE = 2


def add_serve_parser(commands: Any) -> argparse.ArgumentParser:
    """Add the ``serve`` subcommand to an argparse subparsers object."""
    serve = commands.add_parser(
        "serve",
        help="serve the REST API with gunicorn",
        description="Serve deepface's REST API (/represent, /verify, /analyze, /extract_faces, "
        "/register, /search, /build/index) with gunicorn. Requests may not name server files "
        "or URLs unless allowed here. Bearer token: DEEPFACE_AUTH_TOKEN.",
    )
    add_serve_arguments(serve)
    return serve


def add_serve_arguments(parser: argparse.ArgumentParser) -> None:
    """The server's options (shared by ``deepface serve`` and ``python -m deepface.api``)."""
    parser.add_argument("--host", default=DEFAULT_HOST, help=f"address to listen on (default: {DEFAULT_HOST})")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default: {DEFAULT_PORT})")
    parser.add_argument("--workers", type=_at_least_one, default=1, help="worker processes (default: 1)")
    parser.add_argument("--threads", type=_at_least_one, default=1, help="threads per worker (default: 1)")
    parser.add_argument(
        "--timeout", type=_at_least_one, default=None,
        help="a request not started this long (seconds) after it came answers 504; SIGTERM waits "
        f"this long for requests in flight (default: {DEFAULT_TIMEOUT_S:g}; $DEEPFACE_API_TIMEOUT)",
    )
    parser.add_argument(
        "--max-batch", type=_at_least_one, default=None, metavar="N",
        help=f"most concurrent one-image requests merged into one pipeline call (default: {LoadSettings.max_batch}; "
        "$DEEPFACE_API_MAX_BATCH)",
    )
    parser.add_argument(
        "--batch-wait-ms", type=_not_negative, default=None, metavar="MS",
        help=f"how long a request waits for others to merge with (default: {LoadSettings.batch_wait_ms:g}; "
        "0: no merging; $DEEPFACE_API_BATCH_WAIT_MS)",
    )
    parser.add_argument(
        "--max-queue", type=_at_least_one, default=None, metavar="N",
        help=f"requests a worker holds; one more answers 503 with Retry-After (default: {LoadSettings.max_queue}; "
        "$DEEPFACE_API_MAX_QUEUE)",
    )
    parser.add_argument(
        "--runs", type=_at_least_one, default=None, metavar="N",
        help=f"pipeline calls a worker runs at once (default: {LoadSettings.runs}; $DEEPFACE_API_RUNS)",
    )
    parser.add_argument(
        "--allow-paths", nargs="+", default=None, metavar="DIR",
        help="folders whose files a request may name (default: none; $DEEPFACE_API_ALLOW_PATHS)",
    )
    parser.add_argument("--allow-urls", action="store_true", default=None, help="let requests name http(s) URLs")
    parser.add_argument(
        "--max-request-mb", type=float, default=None, metavar="M",
        help=f"largest request body in MB (default: {DEFAULT_MAX_REQUEST_MB:g}; $DEEPFACE_API_MAX_REQUEST_MB)",
    )
    parser.add_argument(
        "--warm-up-model", action="append", default=None, metavar="NAME",
        help=f"recognition model built at start (repeatable; default: {DEFAULT_WARM_UP_MODEL}, "
        "or $DEEPFACE_FACE_RECOGNITION_MODELS)",
    )
    parser.add_argument(
        "--warm-up-detector", action="append", default=None, metavar="NAME",
        help=f"detector built at start (repeatable; default: {DEFAULT_WARM_UP_DETECTOR}, "
        "or $DEEPFACE_FACE_DETECTION_MODELS)",
    )
    parser.add_argument(
        "--cors-origins", nargs="+", default=None, metavar="ORIGIN",
        help="origins answered with CORS headers (default: all; $DEEPFACE_API_CORS_ORIGINS)",
    )
    parser.add_argument(
        "--strict", action="store_true", default=None,
        help="answer 400 for request fields an endpoint does not know (default: ignored "
        "with a warning; $DEEPFACE_API_STRICT)",
    )
    parser.add_argument("--no-warm-up", action="store_true", help="build models on first use only")
    parser.add_argument("-v", "--verbose", action="store_true")


def _not_negative(text: str) -> float:
    value = float(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must not be negative, got {value:g}")
    return value


def _at_least_one(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def server_variables(args: argparse.Namespace, base: Optional[Variables] = None) -> Variables:
    """The environment's settings, overridden by the command line's options."""
    base = base or Variables.from_env()
    changes: Dict[str, Any] = {}
    if args.allow_paths is not None:
        changes["allow_paths"] = tuple(args.allow_paths)
    if args.allow_urls:
        changes["allow_urls"] = True
    if args.max_request_mb is not None:
        changes["max_request_mb"] = args.max_request_mb
    changes["face_recognition_models"] = _warm_up_names(
        args.warm_up_model, base.face_recognition_models, DEFAULT_WARM_UP_MODEL, args.no_warm_up
    )
    changes["face_detection_models"] = _warm_up_names(
        args.warm_up_detector, base.face_detection_models, DEFAULT_WARM_UP_DETECTOR, args.no_warm_up
    )
    return dataclasses.replace(base, **changes)


def server_settings(args: argparse.Namespace, base: Optional[HttpSettings] = None) -> HttpSettings:
    """The environment's CORS and strict-field settings, overridden by the command line's options."""
    base = base or HttpSettings.from_env()
    changes: Dict[str, Any] = {}
    if args.cors_origins is not None:
        changes["cors_origins"] = tuple(args.cors_origins)
    if args.strict:
        changes["strict_fields"] = True
    return dataclasses.replace(base, **changes)


def server_load(args: argparse.Namespace, base: Optional[LoadSettings] = None) -> LoadSettings:
    """The environment's merging, queue and timeout settings, overridden by the command line's."""
    base = base or LoadSettings.from_env()
    names = {"max_batch": "max_batch", "batch_wait_ms": "batch_wait_ms", "max_queue": "max_queue",
             "timeout_s": "timeout", "runs": "runs"}
    changes = {field: getattr(args, option) for field, option in names.items() if getattr(args, option, None) is not None}
    if getattr(args, "threads", 1) == 1:  # one request at a time: nothing to merge with, so no window
        changes["batch_wait_ms"] = 0.0
    return dataclasses.replace(base, **changes)


def _warm_up_names(given: Optional[List[str]], from_env: Sequence[str], default: str, off: bool) -> tuple:
    if off:
        return ()
    if given is not None:
        return tuple(name for item in given for name in split_names(item))
    return tuple(from_env) or (default,)


def gunicorn_options(args: argparse.Namespace, load: Optional[LoadSettings] = None) -> Dict[str, Any]:
    """gunicorn's settings for these options (a SIGTERM waits up to the timeout for requests
    in flight: gunicorn's graceful timeout)."""
    deadline = math.ceil((load or server_load(args)).timeout_s)
    return {
        "bind": f"{args.host}:{args.port}",
        "workers": args.workers,
        "threads": args.threads,
        "worker_class": "gthread" if args.threads > 1 else "sync",
        # a worker may take this long to start (its models built); gthread workers answer
        # gunicorn's heartbeat while requests run, so a request's own limit is the deadline
        "timeout": max(deadline, START_TIMEOUT_S),
        "graceful_timeout": deadline,
        "accesslog": "-" if args.verbose else None,
        "errorlog": "-",
        "loglevel": "info" if args.verbose else "warning",
        # newer gunicorn's runtime-management socket (under the home folder): an API needs none
        "control_socket_disable": True,
    }


def serve(
    variables: Variables,
    options: Dict[str, Any],
    settings: Optional[HttpSettings] = None,
    load: Optional[LoadSettings] = None,
) -> None:
    """Run gunicorn until it is stopped; each worker builds its own application."""
    from gunicorn.app.base import BaseApplication  # imported here: only a server needs it

    class DeepFaceServer(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            for key, value in options.items():
                if key in self.cfg.settings:  # an older gunicorn lacks the newer settings
                    self.cfg.set(key, value)

        def load(self) -> Any:
            from deepface.api.src.app import create_app

            return create_app(variables, settings or HttpSettings.from_env(), load or LoadSettings.from_env())

    DeepFaceServer().run()


def serve_command(args: argparse.Namespace) -> int:
    """Check the options, then serve; exit status 2 for options that cannot work."""
    try:
        load_env_file()
        variables = server_variables(args)
        settings = server_settings(args)
        load = server_load(args)
        _check_can_serve(variables)
    except (ValueError, ImportError) as error:
        print(f"deepface serve: {error}", file=sys.stderr)
        return EXIT_USAGE
    logger.info("serving on %s:%s with %d worker(s)", args.host, args.port, args.workers)
    serve(variables, gunicorn_options(args, load), settings, load)
    return 0


def _check_can_serve(variables: Variables) -> None:
    """Fail before forking workers: the allowed folders must exist, Flask and gunicorn be installed."""
    from deepface.api.src.modules.core.sources import SourcePolicy

    SourcePolicy.create(variables.allow_paths, variables.allow_urls)
    for module in ("flask", "flask_cors", "gunicorn"):
        try:
            __import__(module)
        except ImportError as err:
            raise ImportError(f"{module} is required by `deepface serve`: pip install 'deepface[api]'") from err


def main(argv: Optional[Sequence[str]] = None) -> int:
    """``python -m deepface.api [options]``."""
    parser = argparse.ArgumentParser(prog="python -m deepface.api", description=__doc__.split("\n")[0])
    add_serve_arguments(parser)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING)
    return serve_command(args)
