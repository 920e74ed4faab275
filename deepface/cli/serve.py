"""``deepface serve``: the REST API (its arguments and launcher live in ``deepface.api.launcher``)."""

import argparse
from typing import Any


def add_parser(commands: Any) -> None:
    from deepface.api.launcher import add_serve_parser  # the REST API lives in deepface.api

    add_serve_parser(commands)


def run(args: argparse.Namespace) -> int:
    """Serve the REST API with gunicorn (``deepface.api.launcher``) until stopped."""
    from deepface.api.launcher import serve_command as serve_api

    return serve_api(args)

