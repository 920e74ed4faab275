"""Where model weights live: ``$DEEPFACE_HOME/.deepface/weights`` (home directory by default)."""

import os


def get_deepface_home() -> str:
    """The folder that holds ``.deepface``: ``$DEEPFACE_HOME`` or the user's home directory."""
    return str(os.getenv("DEEPFACE_HOME", default=os.path.expanduser("~")))


def get_weights_dir() -> str:
    """The weights cache folder, created on first use."""
    path = os.path.join(get_deepface_home(), ".deepface", "weights")
    os.makedirs(path, exist_ok=True)
    return path
