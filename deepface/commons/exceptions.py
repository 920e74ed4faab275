"""Typed errors, at the ground floor: every layer imports them from here.

Every class derives from ``ValueError`` as deepface's do, so existing ``except
ValueError`` code keeps working.
"""

from typing import Any, Dict, List, Optional


class ImgNotFound(ValueError):
    """The input image is not found or cannot be loaded."""


class PathNotFound(ValueError):
    """The input path is not found."""


class FileStoreError(PathNotFound):
    """A file store of ``find`` (S3, FTP) cannot be reached, refuses the credentials, lacks
    the bucket or folder, or did not take a whole upload. The message names the host and
    the bucket or path, never a password or a secret key."""


class FaceNotDetected(ValueError):
    """No face was detected in an input image (``enforce_detection=True``)."""


class SpoofDetected(ValueError):
    """Anti-spoofing judged a face to be fake (``anti_spoofing=True``)."""


class EmptyDatasource(ValueError):
    """A database or folder to search holds no embeddings."""


class DimensionMismatchError(ValueError):
    """Embeddings of different lengths were compared or stored together."""


class InvalidEmbeddingsShapeError(ValueError):
    """An array given to a model or as an embedding has the wrong shape."""


class DuplicateEntryError(ValueError):
    """An entry to store already exists."""


class DataTypeError(ValueError):
    """An input has a type or shape this package cannot read."""


class UnimplementedError(ValueError):
    """A requested option or model is not implemented."""


class WeightsUnavailable(ValueError):
    """A weight file is neither cached nor downloadable."""


class MissingDependencyError(ImportError, ValueError):
    """An optional engine is not installed; the message names the ``pip install`` that fixes it.

    Also a ``ValueError``: deepface raises that for a missing engine, and code written for
    it catches ``ValueError``."""


class ImageLoadError(ImgNotFound):
    """One input of a call could not be read.

    Attributes:
        index: position of the input in the batch (``None`` for a single image).
        source: a short description of the input (its path, or its kind).
        detail: the message without the input's name.
    """

    def __init__(self, message: str, index: Optional[int] = None, source: str = "") -> None:
        self.detail = message
        self.index = index
        self.source = source
        where = f"input {index} ({source})" if index is not None else source
        super().__init__(f"{where}: {message}" if where else message)

    def located(self, index: Optional[int], source: str) -> "ImageLoadError":
        """The same error (same class and cause) naming input ``index`` / ``source``."""
        error = type(self)(self.detail, index=index, source=source)
        error.__cause__ = self.__cause__
        return error


class ImageTooLarge(ImageLoadError):
    """An input has more pixels than the configured limit (or than a detector can take)."""


class DetectorFailure(ImageLoadError):
    """A detector failed on one input (its engine raised); the other inputs are unaffected.

    The engine's own exception is chained as ``__cause__``.
    """


class ModelFailure(ImageLoadError):
    """A model (recognition, attributes) failed on the faces of one input; the other
    inputs are unaffected. The engine's own exception is chained as ``__cause__``."""


class StreamError(ValueError):
    """``stream`` could not run."""


class VideoSourceError(StreamError):
    """The camera or video file cannot be opened, or gives no frame."""


class VideoOutputError(StreamError):
    """The annotated video cannot be written to ``output_path``."""


class DisplayUnavailable(StreamError):
    """``show=True``, but OpenCV has no GUI backend here or there is no display."""


#: Errors that concern a whole call (an engine or its weights missing, an unknown
#: option), never one input: the pipeline lets them through instead of blaming an input.
SYSTEMIC_ERRORS = (MissingDependencyError, WeightsUnavailable, UnimplementedError)


class BatchError(ValueError):
    """Some inputs of a batch failed; the rest succeeded and are kept.

    Attributes:
        errors: input index -> the exception raised for that input.
        results: input index -> the faces found, for every input that succeeded.
    """

    def __init__(self, summary: str, errors: Dict[int, Exception], results: Dict[int, List[Any]]):
        self.errors = errors
        self.results = results
        details = "; ".join(f"[{i}] {err}" for i, err in sorted(errors.items()))
        super().__init__(f"{summary}: {details}")


class BatchFaceNotDetected(BatchError, FaceNotDetected):
    """``enforce_detection=True`` and no face was found in one or more inputs of a batch."""


class BatchImageLoadError(BatchError, ImgNotFound):
    """One or more inputs of a batch could not be read."""


class DatabaseError(ValueError):
    """A face database (``register``, ``search``, ``identify``, ``build_index``) cannot be used."""


class UnknownDatabaseType(DatabaseError):
    """``database_type`` is not a name deepface knows; the message lists the available ones."""


class DatabaseNotAvailable(DatabaseError, UnimplementedError):
    """``database_type`` is a deepface backend this package does not provide yet; the
    message lists the available ones."""


class DatabaseConnectionError(DatabaseError):
    """The connection information is missing or of the wrong type, or the database refused it."""


class EmbeddingSizeMismatch(DatabaseError, DimensionMismatchError):
    """Embeddings to store do not have the length of those the table (or collection)
    already holds for the same criteria, or differ among themselves; nothing was written."""


class IndexNotFound(DatabaseError):
    """``search_method="ann"`` found no index for the criteria: run ``build_index`` first."""


class IdentityNotFound(DatabaseError):
    """``identify`` got an ``identity_id`` that the database does not hold."""


class IncompatibleIdentity(DatabaseError):
    """The stored identity was embedded with another model or normalisation than the query."""
