"""Which image sources a request may name: server-side paths and URLs are refused by default.

A face API must not read the server's files or fetch arbitrary URLs for a caller. A path is
accepted only when it resolves (symbolic links and ``..`` followed) inside one of the
allowed folders; a URL only when the server allows URLs. Base64 data URIs, uploaded files
and embeddings are always accepted.
"""

import os
from dataclasses import dataclass
from typing import Any, Iterable, Tuple

from deepface.api.src.modules.core.errors import RequestError
from deepface.commons.image_utils import DATA_URI_PREFIX, URL_PREFIXES


@dataclass(frozen=True)
class SourcePolicy:
    """The folders whose files requests may name, and whether they may name URLs."""

    allowed_folders: Tuple[str, ...] = ()
    allow_urls: bool = False

    @classmethod
    def create(cls, folders: Iterable[str], allow_urls: bool = False) -> "SourcePolicy":
        """A policy over ``folders``, each resolved to its real path; each must exist."""
        resolved = []
        for folder in folders:
            real = os.path.realpath(folder)
            if not os.path.isdir(real):
                raise ValueError(f"allowed path {folder!r} is not a folder")
            resolved.append(real)
        return cls(tuple(resolved), allow_urls)

    def check(self, image: Any, field: str) -> Any:
        """Return ``image`` (a path resolved to its real path) or raise ``RequestError``.

        A list is checked item by item, each named ``field[i]``.
        """
        if isinstance(image, list):
            return [self.check(item, f"{field}[{i}]") for i, item in enumerate(image)]
        if not isinstance(image, str) or image.startswith(DATA_URI_PREFIX):
            return image
        if image.lower().startswith(URL_PREFIXES):
            return self._checked_url(image, field)
        return self._checked_path(image, field)

    def _checked_url(self, url: str, field: str) -> str:
        if not self.allow_urls:
            raise RequestError(
                field,
                "this server does not fetch URLs (set DEEPFACE_API_ALLOW_URLS=1 or start it with "
                "--allow-urls); send the image as a data:image/...;base64, URI or a multipart file",
            )
        return url

    def _checked_path(self, path: str, field: str) -> str:
        if not self.allowed_folders:
            raise RequestError(
                field,
                "this server does not read files named in requests (set DEEPFACE_API_ALLOW_PATHS "
                "to the folders it may read, or start it with --allow-paths DIR); "
                "send the image as a data:image/...;base64, URI or a multipart file",
            )
        real = os.path.realpath(path)
        if not any(_is_inside(real, folder) for folder in self.allowed_folders):
            raise RequestError(
                field, f"path {path!r} is outside the folders this server may read (DEEPFACE_API_ALLOW_PATHS)"
            )
        return real


def _is_inside(path: str, folder: str) -> bool:
    return os.path.commonpath([path, folder]) == folder
