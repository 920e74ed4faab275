"""Weight files: the same public URLs and cache folder as deepface.

A weight file already in ``$DEEPFACE_HOME/.deepface/weights`` is used as is; otherwise it
is downloaded there once. With no network, place the file there by hand.
"""

import bz2
import importlib.util
import os
import zipfile
from typing import Any, List, Optional, Sequence, Union

from deepface.commons.folder_utils import get_weights_dir
from deepface.commons.logger import get_logger
from deepface.commons.exceptions import UnimplementedError, WeightsUnavailable

logger = get_logger(__name__)

COMPRESS_TYPES = ("zip", "bz2")
#: deepface's name for the compressions a download may come in.
ALLOWED_COMPRESS_TYPES = list(COMPRESS_TYPES)


#: The package that ships dlib's model files (installed with ``deepface[dlib]``).
SHIPPING_PACKAGE = "face_recognition_models"


def shipped_model_file(file_name: str, package: str = SHIPPING_PACKAGE) -> Optional[str]:
    """``models/<file_name>`` inside ``package`` (``face_recognition_models``), if installed.

    Found through the package's import spec, without importing it: its ``__init__`` needs
    ``pkg_resources``.
    """
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        path = os.path.join(folder, "models", file_name)
        if os.path.isfile(path):
            return path
    return None


def weight_path(file_name: str) -> str:
    """Where ``file_name`` lives in the weights cache (whether or not it is there yet)."""
    return os.path.normpath(os.path.join(get_weights_dir(), file_name))


def download_weights_if_necessary(
    file_name: str,
    source_url: Union[str, Sequence[str]],
    compress_type: Optional[str] = None,
) -> str:
    """Return the cached path of ``file_name``, downloading it first if it is missing.

    Args:
        file_name: the file's name in the weights folder.
        source_url: a URL, or several tried in order.
        compress_type: ``"zip"`` or ``"bz2"`` when the download is compressed.

    Raises:
        WeightsUnavailable: every source failed; the message says where to place the file.
    """
    target = weight_path(file_name)
    if os.path.isfile(target):
        return target
    if compress_type is not None and compress_type not in COMPRESS_TYPES:
        raise UnimplementedError(
            f"unimplemented compress type - {compress_type} (known: {', '.join(COMPRESS_TYPES)})"
        )

    urls: List[str] = [source_url] if isinstance(source_url, str) else list(source_url)
    download_to = target if compress_type is None else f"{target}.{compress_type}"
    errors = []
    for url in urls:
        try:
            _download(url, download_to)
            break
        except Exception as err:  # network libraries raise many unrelated types
            errors.append(f"{url}: {err}")
            if os.path.isfile(download_to):
                os.remove(download_to)
            logger.warning("downloading %s from %s failed: %s", file_name, url, err)
    else:
        raise WeightsUnavailable(
            f"⛓️‍💥 An exception occurred while downloading {file_name} from {', '.join(urls)}. "
            f"Consider downloading it manually to {target}. ({'; '.join(errors)})"
        )
    if compress_type is not None:
        _decompress(download_to, target, compress_type)
    return target


def load_model_weights(model: Any, weight_file: str) -> Any:
    """Load ``weight_file`` into the Keras ``model`` and return it.

    Raises:
        ValueError: the file does not fit the model (or cannot be read); the message names it.
    """
    try:
        model.load_weights(weight_file)
    except Exception as err:  # Keras raises many unrelated types for a mismatched file
        raise ValueError(
            f"An exception occurred while loading the pre-trained weights from {weight_file}. "
            "The file may be incomplete or belong to another model: delete it to download it "
            f"again, or place the right file there. ({err})"
        ) from err
    return model


def _download(url: str, output: str) -> None:
    import gdown  # imported lazily: only a missing weight file needs it

    logger.info("downloading %s to %s", url, output)
    if "drive.google.com" not in url:
        ensure_source_is_reachable(url)
    result = gdown.download(url, output, quiet=False)
    if result is None or not os.path.isfile(output):
        raise ValueError("the download produced no file")


def ensure_source_is_reachable(url: str) -> None:
    """Ask ``url`` for its headers first (deepface's check): gdown would save an error page
    as the weight file. Raises ``ValueError`` for an HTTP error status (405, a server that
    refuses HEAD, passes)."""
    import requests  # imported lazily: only a missing weight file needs it

    response = requests.head(url, allow_redirects=True, timeout=30)
    if response.status_code >= 400 and response.status_code != 405:
        raise ValueError(f"{url} responded with status code {response.status_code}")


def _decompress(archive: str, target: str, compress_type: str) -> None:
    if compress_type == "zip":
        with zipfile.ZipFile(archive) as zipped:
            zipped.extractall(os.path.dirname(target))
    else:
        with bz2.BZ2File(archive) as packed, open(target, "wb") as out:
            out.write(packed.read())
    logger.info("unpacked %s", archive)
