"""deepface's ``deepface.modules.exceptions``: the typed errors, defined in ``commons``."""

from deepface.commons.exceptions import (  # noqa: F401  (re-exported for deepface's users)
    BatchError,
    BatchFaceNotDetected,
    BatchImageLoadError,
    DataTypeError,
    DimensionMismatchError,
    DuplicateEntryError,
    EmptyDatasource,
    FaceNotDetected,
    ImageLoadError,
    ImgNotFound,
    InvalidEmbeddingsShapeError,
    MissingDependencyError,
    PathNotFound,
    SpoofDetected,
    UnimplementedError,
    WeightsUnavailable,
)
