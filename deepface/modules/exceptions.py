"""deepface's ``deepface.modules.exceptions``: the typed errors, defined in ``commons``."""

from deepface.commons.exceptions import (  # noqa: F401  (re-exported for deepface's users)
    BatchError,
    BatchFaceNotDetected,
    BatchImageLoadError,
    DataTypeError,
    DetectorFailure,
    DimensionMismatchError,
    DuplicateEntryError,
    EmptyDatasource,
    FaceNotDetected,
    ImageLoadError,
    ImageTooLarge,
    ImgNotFound,
    InvalidEmbeddingsShapeError,
    MissingDependencyError,
    ModelFailure,
    PathNotFound,
    SpoofDetected,
    UnimplementedError,
    WeightsUnavailable,
)
