"""The public API, compatible with deepface's ``DeepFace`` module.

``from deepface import DeepFace`` then ``DeepFace.extract_faces(...)`` works as in
deepface 0.0.10x; a list of images (or a 4-D array) is processed in batches.
"""

from typing import IO, Any, Dict, Iterable, Iterator, List, Optional, Tuple, Union

from numpy.typing import NDArray

from deepface import __version__
from deepface.modules import detection, modeling
from deepface.modules.detection import DEFAULT_BATCH_SIZE, ExtractOptions, ImageResult

ImageInput = Union[str, NDArray[Any], IO[bytes], bytes]

__all__ = ["__version__", "build_model", "extract_faces", "extract_faces_iter"]


def build_model(model_name: str, task: str = "face_detector", **options: Any) -> Any:
    """Build (once per process) and return a model, e.g. ``build_model("mtcnn")``."""
    return modeling.build_model(task=task, model_name=model_name, **options)


def extract_faces(
    img_path: Union[ImageInput, List[ImageInput], Tuple[ImageInput, ...], NDArray[Any]],
    detector_backend: str = "opencv",
    enforce_detection: bool = True,
    align: bool = True,
    expand_percentage: int = 0,
    grayscale: bool = False,
    color_face: str = "rgb",
    normalize_face: bool = True,
    anti_spoofing: bool = False,
    max_faces: Optional[int] = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    detection_border: Optional[float] = None,
    detector_options: Optional[Dict[str, Any]] = None,
) -> Union[List[Dict[str, Any]], List[List[Dict[str, Any]]]]:
    """Detect, align and crop faces.

    Args:
        img_path: one image (a path, URL, base64 data URI, bytes, binary file object or
            BGR numpy array) or a batch: a list/tuple of images or a 4-D array (N, H, W, 3).
        detector_backend: ``opencv`` (default), ``mtcnn``, ``yolov8n`` ... or ``skip``.
        enforce_detection: raise when an image has no face; otherwise the whole image is
            returned as its face with confidence 0.
        align: rotate each face so that its eyes are level.
        expand_percentage: grow each detected box by this percentage.
        grayscale: deprecated, use ``color_face="gray"``.
        color_face: ``"rgb"``, ``"bgr"`` or ``"gray"``.
        normalize_face: divide the face's pixels by 255.
        anti_spoofing: not available yet; ``True`` raises.
        max_faces: keep only the largest faces of each image.
        batch_size: how many images go at once to a detector that batches natively
            (the next batch is decoded meanwhile); a detector that loops takes the images
            one by one as they are decoded.
        detection_border: black border added on each side before detection, as a fraction
            of the image's size. ``None`` means deepface's choice (0.5 with ``align``, else
            0); ``0`` is fastest but misses faces cut by the frame for scanning detectors.
        detector_options: keyword arguments for the detector, e.g.
            ``{"min_confidence": 0.5, "device": "cuda"}`` for YOLO. They win over the
            environment variables deepface reads.

    Returns:
        For one image: a list of faces, each a dict with ``face`` (array),
        ``facial_area`` (``x``, ``y``, ``w``, ``h``, ``left_eye``, ``right_eye``, and
        ``nose``, ``mouth_left``, ``mouth_right`` where the detector gives them) and
        ``confidence``. For a batch: one such list per input, in input order.

    Raises:
        ImageLoadError: an input cannot be read (a batch raises ``BatchImageLoadError``
            naming every failed index; the others' results are in its ``results``).
        FaceNotDetected: no face and ``enforce_detection`` (``BatchFaceNotDetected`` for a
            batch, naming every index without a face).
    """
    return detection.extract_faces(
        img_path,
        detector_backend=detector_backend,
        enforce_detection=enforce_detection,
        align=align,
        expand_percentage=expand_percentage,
        grayscale=grayscale,
        color_face=color_face,
        normalize_face=normalize_face,
        anti_spoofing=anti_spoofing,
        max_faces=max_faces,
        batch_size=batch_size,
        detection_border=detection_border,
        detector_options=detector_options,
    )


def extract_faces_iter(
    imgs: Iterable[ImageInput],
    detector_backend: str = "opencv",
    enforce_detection: bool = True,
    align: bool = True,
    expand_percentage: int = 0,
    grayscale: bool = False,
    color_face: str = "rgb",
    normalize_face: bool = True,
    max_faces: Optional[int] = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    detection_border: Optional[float] = None,
    detector_options: Optional[Dict[str, Any]] = None,
) -> Iterator[Tuple[ImageResult, List[Dict[str, Any]]]]:
    """Stream any iterable of images through ``extract_faces``, in bounded memory.

    Yields ``(result, faces)`` per input, in order: ``faces`` is what ``extract_faces``
    returns for that image; ``result.error`` holds the exception for an input that
    failed (unreadable, or no face with ``enforce_detection``), whose ``faces`` is
    empty; the stream goes on. About two batches of decoded images are held at most.
    """
    options = ExtractOptions(
        detector_backend=detector_backend,
        enforce_detection=enforce_detection,
        align=align,
        expand_percentage=expand_percentage,
        grayscale=grayscale,
        color_face=color_face,
        normalize_face=normalize_face,
        max_faces=max_faces,
        batch_size=batch_size,
        detection_border=detection_border,
        detector_options=dict(detector_options or {}),
    )
    return detection.iter_extract_faces(imgs, options)
