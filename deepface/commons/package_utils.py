"""Facts about installed packages: TensorFlow's version, file hashes, pandas' presence.

TensorFlow is imported inside the functions that need it, never at import time, so a
process that does not use it never loads it.
"""

import hashlib
import importlib.util
import logging
from typing import Optional, Tuple

from deepface.commons.engines import import_tensorflow_safely
from deepface.commons.logger import get_logger

logger = get_logger(__name__)

RETURN_TYPES = ("pandas", "dict")
HASH_CHUNK_BYTES = 8192


def _tf_version() -> Tuple[int, int]:
    import_tensorflow_safely()
    import tensorflow as tf

    major, minor = tf.__version__.split(".")[:2]
    return int(major), int(minor)


def get_tf_major_version() -> int:
    """TensorFlow's major version (imports TensorFlow)."""
    return _tf_version()[0]


def get_tf_minor_version() -> int:
    """TensorFlow's minor version (imports TensorFlow)."""
    return _tf_version()[1]


def validate_for_keras3() -> None:
    """Raise ValueError if TensorFlow is 2.16 or newer and ``tf-keras`` is missing.

    From TensorFlow 2.16 on, Keras 3 is the default and deepface's Keras models need
    the ``tf-keras`` package.
    """
    major, minor = _tf_version()
    if major == 1 or (major == 2 and minor < 16):
        return
    if importlib.util.find_spec("tf_keras") is None:
        raise ValueError(
            f"You have tensorflow {major}.{minor} and this requires tf-keras package. "
            "Please run `pip install tf-keras` or downgrade your tensorflow."
        )


def configure_tensorflow_logging() -> None:
    """Keep TensorFlow 2's own logger to errors only."""
    if get_tf_major_version() == 2:
        import tensorflow as tf

        tf.get_logger().setLevel(logging.ERROR)


def find_file_hash(file_path: str, hash_algorithm: str = "sha256") -> str:
    """Hex digest of a file's content with ``hash_algorithm`` (any name ``hashlib.new`` takes)."""
    digest = hashlib.new(hash_algorithm)
    with open(file_path, "rb") as handle:
        for chunk in iter(lambda: handle.read(HASH_CHUNK_BYTES), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _pandas_installed() -> bool:
    try:
        return importlib.util.find_spec("pandas") is not None
    except (ImportError, ValueError):
        return False


def resolve_dataframe_return_type(return_type: Optional[str]) -> str:
    """The return type of ``find``/``search``: ``"pandas"`` or ``"dict"``.

    ``None`` means pandas when it is installed, dicts otherwise.

    Raises:
        ValueError: ``return_type`` is not None, ``"pandas"`` or ``"dict"``.
        ImportError: ``"pandas"`` was asked for and pandas is not installed.
    """
    if return_type is not None and return_type not in RETURN_TYPES:
        raise ValueError(f"Unsupported return_type: {return_type}. Options: 'pandas', 'dict'.")
    installed = _pandas_installed()
    if return_type is None:
        return "pandas" if installed else "dict"
    if return_type == "pandas" and not installed:
        raise ImportError(
            "pandas is an optional dependency, it is required for return_type='pandas'. "
            "Please either install it using 'pip install pandas' or set return_type to 'dict'."
        )
    return return_type
