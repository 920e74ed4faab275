"""Reading a request's fields: JSON bodies, form fields and multipart files, checked by type.

An endpoint's fields are the options of its verb's table marked ``api``
(``deepface.options.verbs``), each read by the parser of its kind (:func:`table_fields`).
A field the client leaves out (or sends as JSON ``null``) is not passed on, so the
library's own default applies: every default is written once, in the options table.
"""

import json
import numbers
import threading
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Mapping, Set, Tuple

from flask import request
from werkzeug.datastructures import FileStorage

from deepface.api.src.modules.core.errors import RequestError
from deepface.commons import image_utils
from deepface.commons.logger import get_logger
from deepface.options.table import Option, Table

logger = get_logger(__name__)

Parser = Callable[[str, Any], Any]
TRUE_WORDS = frozenset({"true", "1", "yes", "on"})
FALSE_WORDS = frozenset({"false", "0", "no", "off"})
IMAGE_HINT = "an image as a data:image/...;base64, URI, a multipart file, a path or a URL"


@dataclass(frozen=True)
class RequestArgs:
    """A request's fields: JSON values (typed) or form strings, and uploaded files by name."""

    values: Mapping[str, Any]
    files: Mapping[str, List[FileStorage]] = field(default_factory=dict)


def read_request() -> RequestArgs:
    """The current request's fields (a JSON object, or form fields and multipart files)."""
    if request.is_json:
        body = request.get_json(silent=True)
        if body is None and request.get_data():
            raise RequestError("body", "is not valid JSON")
        if body is not None and not isinstance(body, dict):
            raise RequestError("body", f"must be a JSON object, not {type(body).__name__}")
        return RequestArgs(values=body or {})
    files = {key: request.files.getlist(key) for key in request.files}
    return RequestArgs(values=request.form.to_dict(), files=files)


# ---------------------------------------------------------------- value parsers


def boolean(name: str, value: Any) -> bool:
    """JSON ``true``/``false``, ``0``/``1``, or the words ``true``/``false``/``yes``/``no``."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in TRUE_WORDS | FALSE_WORDS:
        return value.strip().lower() in TRUE_WORDS
    raise RequestError(name, f"must be true or false, not {value!r}")


def integer(name: str, value: Any) -> int:
    """A whole number, or a string holding one."""
    if isinstance(value, bool):
        raise RequestError(name, f"must be an integer, not {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            pass
    raise RequestError(name, f"must be an integer, not {value!r}")


def positive_integer(name: str, value: Any) -> int:
    number = integer(name, value)
    if number < 1:
        raise RequestError(name, f"must be at least 1, not {number}")
    return number


def real_number(name: str, value: Any) -> float:
    """A number, or a string holding one."""
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            pass
    raise RequestError(name, f"must be a number, not {value!r}")


def text(name: str, value: Any) -> str:
    """A non-empty string."""
    if isinstance(value, str) and value.strip():
        return value
    raise RequestError(name, f"must be a non-empty string, not {value!r}")


def text_or_texts(name: str, value: Any) -> Any:
    """A non-empty string, or a list of them (one per image of a batch)."""
    if isinstance(value, list):
        return [text(f"{name}[{i}]", item) for i, item in enumerate(value)]
    return text(name, value)


def actions(name: str, value: Any) -> List[str]:
    """A list of action names; a form sends it as text: ``["age", "gender"]`` or ``age,gender``."""
    if isinstance(value, str):
        value = _list_from_text(value)
    if isinstance(value, list) and value and all(isinstance(item, str) and item for item in value):
        return value
    raise RequestError(name, f"must be a non-empty list of action names, not {value!r}")


def _list_from_text(value: str) -> Any:
    try:
        return json.loads(value)
    except ValueError:
        return [part.strip(" \"'[]()") for part in value.split(",") if part.strip(" \"'[]()")]


#: How a field of each kind of option is read.
PARSERS_BY_KIND: Mapping[str, Parser] = {
    "str": text,
    "bool": boolean,
    "int": integer,
    "float": real_number,
    "list": actions,
    "texts": text_or_texts,
}


def option_parser(option: Option) -> Parser:
    """The parser of ``option``'s field: its kind's, with its least number for whole numbers."""
    if option.kind not in PARSERS_BY_KIND:
        raise ValueError(f"option {option.name} of kind {option.kind} cannot be a request field")
    least = option.least_asked
    if option.kind != "int" or least is None:
        return PARSERS_BY_KIND[option.kind]
    if least == 1:
        return positive_integer

    def bounded(name: str, value: Any) -> int:
        number = integer(name, value)
        if number < least:
            raise RequestError(name, f"must be at least {least}, not {number}")
        return number

    return bounded


def table_fields(table: Table, *extra: Option) -> Dict[str, Parser]:
    """The request fields of an endpoint: the options of ``table`` (and ``extra``) marked ``api``."""
    return {option.name: option_parser(option) for option in (*table, *extra) if option.api}


def parse_options(
    args: RequestArgs,
    parsers: Mapping[str, Parser],
    image_fields: Tuple[str, ...] = (),
    strict: bool = False,
    endpoint: str = "",
) -> Dict[str, Any]:
    """The fields of ``parsers`` that the request sends, parsed.

    Any other field is ignored, as deepface ignores it, with one warning in the log for each
    endpoint and field name; with ``strict`` it is refused (``RequestError``, a 400).
    """
    sent = sorted(set(args.values) | set(args.files))
    unknown = [name for name in sent if name not in parsers and name not in image_fields]
    if unknown and strict:
        known = ", ".join(sorted([*image_fields, *parsers]))
        raise RequestError(unknown[0], f"is not a field of this endpoint (known: {known})")
    if unknown:
        _warn_unknown(endpoint, unknown)
    return {
        name: parse(name, args.values[name])
        for name, parse in parsers.items()
        if args.values.get(name) is not None
    }


_warned_fields: Set[Tuple[str, str]] = set()
_warned_lock = threading.Lock()


def _warn_unknown(endpoint: str, names: List[str]) -> None:
    """Log each (endpoint, field) once per process: a client repeating it does not flood the log."""
    with _warned_lock:
        new = [name for name in names if (endpoint, name) not in _warned_fields]
        _warned_fields.update((endpoint, name) for name in new)
    if new:
        logger.warning(
            "%s: ignoring field(s) this endpoint does not know: %s (DEEPFACE_API_STRICT=1 refuses them)",
            endpoint or "request", ", ".join(new),
        )


# ---------------------------------------------------------------- images


def image_field(args: RequestArgs, name: str, allow_embeddings: bool = False) -> Any:
    """One image or a list of images from field ``name``.

    Uploaded files are decoded (several files under one name are a batch); a string is an
    image (data URI, path or URL: the service checks what it may read); a JSON list is a
    batch. With ``allow_embeddings``, a list of numbers is an embedding (as in ``verify``).
    """
    uploads = [upload for upload in args.files.get(name, []) if upload.filename]
    if uploads:
        images = [_decoded_upload(upload, f"{name}[{i}]" if len(uploads) > 1 else name) for i, upload in enumerate(uploads)]
        return images if len(images) > 1 else images[0]
    value = args.values.get(name)
    if value is None or value == "":
        raise RequestError(name, f"is required: {IMAGE_HINT}")
    if isinstance(value, str):
        return value
    if allow_embeddings and _is_embedding(value):
        return value
    if isinstance(value, list):
        for i, item in enumerate(value):
            if not (isinstance(item, str) and item) and not (allow_embeddings and _is_embedding(item)):
                raise RequestError(f"{name}[{i}]", f"must be {IMAGE_HINT}, not {type(item).__name__}")
        return value
    raise RequestError(name, f"must be {IMAGE_HINT}, or a list of them, not {type(value).__name__}")


def extract_image_from_request(img_key: str) -> Any:
    """deepface's helper: the image (or list of images) of field ``img_key`` of the current
    request, uploaded files decoded to arrays."""
    return image_field(read_request(), img_key)


def _is_embedding(value: Any) -> bool:
    return (
        isinstance(value, list)
        and bool(value)
        and all(isinstance(x, numbers.Real) and not isinstance(x, bool) for x in value)
    )


def _decoded_upload(upload: FileStorage, name: str) -> Any:
    try:
        return image_utils.load_image_from_file_storage(upload)
    except ValueError as err:
        raise RequestError(name, f"the uploaded file {upload.filename!r} is not an image ({err})") from err
