"""Where model weights live: ``$DEEPFACE_HOME/.deepface/weights`` (home directory by default)."""

import os
import tempfile

from deepface.commons.logger import get_logger

logger = get_logger(__name__)


def get_deepface_home() -> str:
    """The folder that holds ``.deepface``: ``$DEEPFACE_HOME`` or the user's home directory."""
    return str(os.getenv("DEEPFACE_HOME", default=os.path.expanduser("~")))


def get_weights_dir() -> str:
    """The weights cache folder, created on first use."""
    path = os.path.join(get_deepface_home(), ".deepface", "weights")
    os.makedirs(path, exist_ok=True)
    return path


def initialize_folder() -> None:
    """Create ``$DEEPFACE_HOME/.deepface/weights`` (deepface's start-up step); each folder
    made is logged. Raises ``OSError`` when it cannot be created."""
    weights = os.path.join(get_deepface_home(), ".deepface", "weights")
    for folder in (os.path.dirname(weights), weights):
        if not os.path.isdir(folder):
            os.makedirs(folder, exist_ok=True)
            logger.info("Directory %s has been created", folder)


def write_atomically(path: str, data: bytes) -> None:
    """Write ``data`` to ``path``, replacing it at once: a reader never sees half a file, and
    an interrupted write leaves the previous one (a temporary file beside it, renamed)."""
    folder = os.path.dirname(os.path.abspath(path))
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=".", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.remove(temporary)
        raise
