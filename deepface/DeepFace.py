"""The public API, compatible with deepface's ``DeepFace`` module.

``from deepface import DeepFace`` then ``DeepFace.extract_faces(...)`` works as in
deepface 0.0.10x; a list of images (or a 4-D array) is processed in batches.
"""

import inspect
from typing import IO, Any, Callable, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple, Union

from numpy.typing import NDArray

from deepface import __version__
from deepface.commons import backend_utils
from deepface.commons.exceptions import DataTypeError, MissingDependencyError
from deepface.commons.logger import Logger
from deepface.commons.preprocessing import resize_image
from deepface.modules import demography, detection, modeling, recognition, representation, streaming, verification
from deepface.modules import datastore
from deepface.modules.database import faiss_index
from deepface.modules.detection import ExtractOptions
from deepface.modules.pipeline import DEFAULT_BATCH_SIZE, ImageResult
from deepface.modules.representation import RepresentOptions
from deepface.options.verbs import ANALYZE, BUILD_INDEX, EXTRACT, FIND, IDENTIFY, REGISTER, REPRESENT, SEARCH, VERIFY

ImageInput = Union[str, NDArray[Any], IO[bytes], bytes]
ImagesInput = Union[ImageInput, List[ImageInput], Tuple[ImageInput, ...], NDArray[Any]]
Metric = Union[str, Callable[..., Any]]

#: The engine deepface's trained networks run on here (``DEEPFACE_BACKEND_ENGINE``, else
#: the first installed of tensorflow, pytorch and onnx); decided at import, as in deepface.
backend_engine = backend_utils.get_backend_engine()

__all__ = [
    "__version__",
    "analyze",
    "analyze_iter",
    "build_index",
    "build_model",
    "cli",
    "detectFace",
    "extract_faces",
    "extract_faces_iter",
    "find",
    "identify",
    "register",
    "represent",
    "represent_iter",
    "search",
    "stream",
    "verify",
]


def build_model(model_name: str, task: str = "facial_recognition", **options: Any) -> Any:
    """Build (once per process) and return a model, e.g. ``build_model("Facenet")`` or
    ``build_model("mtcnn", task="face_detector")``."""
    return modeling.build_model(task=task, model_name=model_name, **options)


def represent(
    img_path: ImagesInput,
    model_name: str = "VGG-Face",
    enforce_detection: bool = True,
    detector_backend: str = "opencv",
    align: bool = True,
    expand_percentage: int = 0,
    normalization: str = "base",
    anti_spoofing: bool = False,
    max_faces: Optional[int] = None,
    l2_normalize: bool = False,
    minmax_normalize: bool = False,
    return_face: bool = False,
    batch_size: int = DEFAULT_BATCH_SIZE,
    detection_border: Optional[float] = None,
    detector_options: Optional[Dict[str, Any]] = None,
    precision: Optional[str] = None,
) -> Union[List[Dict[str, Any]], List[List[Dict[str, Any]]]]:
    """Embed the faces of one image, or of each image of a batch.

    Args:
        img_path: one image (path, URL, base64 data URI, bytes, binary file object or BGR
            array) or a batch: a list/tuple of images or a 4-D array (N, H, W, 3).
        model_name: ``VGG-Face`` (default), ``Facenet``, ``Facenet512``, ``OpenFace``,
            ``DeepFace``, ``DeepID``, ``ArcFace``, ``Dlib``, ``SFace``, ``GhostFaceNet``
            or ``Buffalo_L``.
        enforce_detection: raise when an image has no face; otherwise the whole image is
            embedded as its face.
        detector_backend: as in :func:`extract_faces` (``skip`` embeds the whole image).
        align: rotate each face so that its eyes are level.
        expand_percentage: grow each detected box by this percentage.
        normalization: the model input's normalization: ``base`` (default), ``raw``,
            ``Facenet``, ``Facenet2018``, ``VGGFace``, ``VGGFace2`` or ``ArcFace``.
        anti_spoofing: judge each face with deepface's Fasnet models (batched); an input
            with a face judged fake fails with ``SpoofDetected``.
        max_faces: embed only the largest faces of each image.
        l2_normalize: scale each embedding to unit length.
        minmax_normalize: map each embedding into [0, 1] with the model's min-max range.
        return_face: add the model's input face (``face``) to each result.
        batch_size: faces per forward pass of the model, pooled across images (and images
            per call of a detector that batches natively).
        detection_border, detector_options: as in :func:`extract_faces`.
        precision: the networks' arithmetic: ``fp32`` (default: ``$DEEPFACE_PRECISION``,
            else ``fp32``, deepface's answers), ``bf16`` on CPUs with AVX-512 BF16 or AMX (faster,
            drifts: docs/engines.md), ``fp16`` on a GPU.

    Returns:
        For one image: a list with one dict per face: ``embedding`` (a list of floats),
        ``facial_area`` and ``face_confidence``. For a batch: one such list per input,
        in input order (``[img]`` gives ``[[...]]``, ``[]`` gives ``[]``).

    Raises:
        ImageLoadError, FaceNotDetected: as in :func:`extract_faces`; a batch raises
            ``BatchImageLoadError`` / ``BatchFaceNotDetected`` naming every failed input,
            with the other inputs' results in ``.results``.
    """
    return representation.represent(img_path, **REPRESENT.pick(locals()))


def represent_iter(
    imgs: Iterable[ImageInput],
    model_name: str = "VGG-Face",
    enforce_detection: bool = True,
    detector_backend: str = "opencv",
    align: bool = True,
    expand_percentage: int = 0,
    normalization: str = "base",
    anti_spoofing: bool = False,
    max_faces: Optional[int] = None,
    l2_normalize: bool = False,
    minmax_normalize: bool = False,
    return_face: bool = False,
    batch_size: int = DEFAULT_BATCH_SIZE,
    detection_border: Optional[float] = None,
    detector_options: Optional[Dict[str, Any]] = None,
    precision: Optional[str] = None,
) -> Iterator[Tuple[ImageResult, List[Dict[str, Any]]]]:
    """Stream any iterable of images through ``represent``, in bounded memory.

    Yields ``(result, embeddings)`` per input, in order: ``embeddings`` is what
    ``represent`` returns for that image; ``result.error`` holds the exception for an
    input that failed (its list is empty) and the stream goes on.
    """
    options = RepresentOptions(**REPRESENT.pick(locals()))
    return representation.iter_represent(imgs, options)


def verify(
    img1_path: Union[ImageInput, List[float], List[Any], NDArray[Any]],
    img2_path: Union[ImageInput, List[float], List[Any], NDArray[Any]],
    model_name: str = "VGG-Face",
    detector_backend: str = "opencv",
    distance_metric: Metric = "cosine",
    enforce_detection: bool = True,
    align: bool = True,
    expand_percentage: int = 0,
    normalization: str = "base",
    silent: bool = False,
    threshold: Optional[float] = None,
    anti_spoofing: bool = False,
    batch_size: int = DEFAULT_BATCH_SIZE,
    detection_border: Optional[float] = None,
    detector_options: Optional[Dict[str, Any]] = None,
    precision: Optional[str] = None,
) -> Union[Dict[str, Any], List[Dict[str, Any]]]:
    """Do two images show the same person? One pair, or many pairs at once.

    Args:
        img1_path, img2_path: an image each (as in :func:`represent`) or a precomputed
            embedding (a list of floats). Two lists/tuples of images (or two 4-D
            arrays) of the same length verify pair by pair: ``(img1_path[i],
            img2_path[i])``; each distinct image is embedded once, all faces batched.
        model_name, detector_backend, enforce_detection, align, expand_percentage,
            normalization: as in :func:`represent`.
        distance_metric: ``cosine`` (default), ``euclidean``, ``euclidean_l2``,
            ``angular``, or a callable ``f(a, b) -> distance`` (then ``threshold`` is
            required).
        silent: no warning when embeddings are passed directly.
        threshold: the distance at or below which the faces match; deepface's
            pre-tuned value for the model and metric by default.
        anti_spoofing: judge each face with deepface's Fasnet models (batched); an input
            with a face judged fake fails with ``SpoofDetected``.
        batch_size, detection_border, detector_options: as in :func:`represent`.
        precision: the networks' arithmetic: ``fp32`` (default: ``$DEEPFACE_PRECISION``,
            else ``fp32``, deepface's answers), ``bf16`` on CPUs with AVX-512 BF16 or AMX (faster,
            drifts: docs/engines.md), ``fp16`` on a GPU.

    Returns:
        A dict (one pair) or a list of dicts (pairs): ``verified``, ``distance``,
        ``threshold``, ``confidence``, ``model``, ``detector_backend``,
        ``similarity_metric``, ``facial_areas`` (``img1``, ``img2``) and ``time``. With
        several faces in an image, the closest pair of faces decides.

    Raises:
        ValueError: an image failed ("Exception while processing img1_path ..."); for
            pairs, a ``BatchError`` naming each failed pair with the others' dicts in
            ``.results``.
    """
    return verification.verify(img1_path, img2_path, **VERIFY.pick(locals()))


def find(
    img_path: ImagesInput,
    db_path: str,
    model_name: str = "VGG-Face",
    distance_metric: Metric = "cosine",
    enforce_detection: bool = True,
    detector_backend: str = "opencv",
    align: bool = True,
    similarity_search: bool = False,
    k: Optional[int] = None,
    expand_percentage: int = 0,
    threshold: Optional[float] = None,
    normalization: str = "base",
    silent: bool = False,
    refresh_database: bool = True,
    anti_spoofing: bool = False,
    datastore_format: str = "npz",
    return_type: Optional[str] = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    detection_border: Optional[float] = None,
    detector_options: Optional[Dict[str, Any]] = None,
    precision: Optional[str] = None,
) -> Any:
    """Find the faces of ``db_path`` (a folder of images) that match each query face.

    The folder is embedded once into a datastore file inside it (deepface's name and
    format, ``npz`` by default, also ``feather`` or ``parquet``), in batched passes;
    later calls embed only new or changed images (``refresh_database``).

    Args:
        img_path: the query: one image, or a batch (list/tuple/4-D array) of images.
        db_path: the folder of images to search.
        similarity_search: return the ``k`` most similar faces whatever the threshold.
        k: keep at most ``k`` matches per query face.
        threshold: as in :func:`verify`.
        silent: no progress bar or informational logging.
        datastore_format: ``npz``, ``feather`` or ``parquet``.
        return_type: ``pandas`` (default when pandas is installed) or ``dict``.
        other arguments: as in :func:`verify` and :func:`represent`.

    Returns:
        For one image: one result per face found in it (a pandas DataFrame, or a list of
        dicts with ``return_type="dict"``) with ``identity``, ``hash``, ``target_x/y/w/h``,
        ``source_x/y/w/h``, ``threshold``, ``distance`` and ``confidence``, closest first.
        For a batch: one such list per input, in input order.
    """
    return recognition.find(img_path, db_path, **FIND.pick(locals()))


def analyze(
    img_path: ImagesInput,
    actions: Union[Tuple[str, ...], List[str], str] = demography.ACTIONS,
    enforce_detection: bool = True,
    detector_backend: str = "opencv",
    align: bool = True,
    expand_percentage: int = 0,
    silent: bool = False,
    anti_spoofing: bool = False,
    batch_size: int = DEFAULT_BATCH_SIZE,
    detection_border: Optional[float] = None,
    detector_options: Optional[Dict[str, Any]] = None,
    precision: Optional[str] = None,
) -> Union[List[Dict[str, Any]], List[List[Dict[str, Any]]]]:
    """Estimate the age, gender, emotion and race of every face.

    Args:
        img_path: one image or a batch, as in :func:`extract_faces`.
        actions: any of ``"emotion"``, ``"age"``, ``"gender"``, ``"race"`` (default: all four).
        enforce_detection, detector_backend, align, expand_percentage: as in :func:`extract_faces`.
        silent: accepted for deepface's signature (no per-face progress bars are shown).
        anti_spoofing: check each face; a spoof raises ``SpoofDetected``.
        batch_size: faces per forward pass of each attribute model, pooled across images.
        detection_border, detector_options: as in :func:`extract_faces`.
        precision: the networks' arithmetic: ``fp32`` (default: ``$DEEPFACE_PRECISION``,
            else ``fp32``, deepface's answers), ``bf16`` on CPUs with AVX-512 BF16 or AMX (faster,
            drifts: docs/engines.md), ``fp16`` on a GPU.

    Returns:
        For one image: one dict per face: ``region`` (the facial area), ``face_confidence``,
        and per action ``age`` (int); ``gender`` (percentages for ``Woman`` and ``Man``) and
        ``dominant_gender``; ``emotion`` (seven percentages) and ``dominant_emotion``;
        ``race`` (six percentages) and ``dominant_race``, as deepface 0.0.103 gives them.
        For a batch: one such list per input, in input order.

    Raises:
        ValueError: ``actions`` is empty or not a sequence; ``UnimplementedError`` for an
            unknown action. Per input: as in :func:`extract_faces` (batch errors carry
            the other inputs' results).
    """
    return demography.analyze(img_path, **ANALYZE.pick(locals()))


def analyze_iter(
    imgs: Iterable[ImageInput],
    actions: Union[Tuple[str, ...], List[str], str] = demography.ACTIONS,
    enforce_detection: bool = True,
    detector_backend: str = "opencv",
    align: bool = True,
    expand_percentage: int = 0,
    anti_spoofing: bool = False,
    batch_size: int = DEFAULT_BATCH_SIZE,
    detection_border: Optional[float] = None,
    detector_options: Optional[Dict[str, Any]] = None,
    precision: Optional[str] = None,
) -> Iterator[Tuple[ImageResult, List[Dict[str, Any]]]]:
    """Stream any iterable of images through ``analyze``, in bounded memory.

    Yields ``(result, faces)`` per input, in order: ``faces`` is what ``analyze`` returns
    for that image; ``result.error`` holds the exception for an input that failed (its
    list is empty) and the stream goes on.
    """
    options = demography.AnalyzeOptions.create(**ANALYZE.without("silent").pick(locals()))
    return demography.iter_analyze(imgs, options)


def extract_faces(
    img_path: ImagesInput,
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
    max_image_pixels: Optional[int] = None,
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
        anti_spoofing: judge each face with deepface's Fasnet models (batched) and add
            ``is_real`` and ``antispoof_score`` to each face.
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
        max_image_pixels: refuse larger images (``ImageTooLarge``) before decoding them;
            default ``$DEEPFACE_MAX_IMAGE_PIXELS``, else 100 million.

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
    return detection.extract_faces(img_path, **EXTRACT.pick(locals()))


def extract_faces_iter(
    imgs: Iterable[ImageInput],
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
    max_image_pixels: Optional[int] = None,
) -> Iterator[Tuple[ImageResult, List[Dict[str, Any]]]]:
    """Stream any iterable of images through ``extract_faces``, in bounded memory.

    Yields ``(result, faces)`` per input, in order: ``faces`` is what ``extract_faces``
    returns for that image; ``result.error`` holds the exception for an input that
    failed (unreadable, or no face with ``enforce_detection``), whose ``faces`` is
    empty; the stream goes on. About two batches of decoded images are held at most.
    When ``imgs`` itself raises, the inputs taken from it before are yielded first, then
    its exception propagates.
    """
    options = ExtractOptions(**EXTRACT.pick(locals()))
    return detection.iter_extract_faces(imgs, options)


def stream(
    db_path: str = "",
    model_name: str = "VGG-Face",
    detector_backend: str = "opencv",
    distance_metric: str = "cosine",
    enable_face_analysis: bool = True,
    source: Any = 0,
    time_threshold: int = 5,
    frame_threshold: int = 5,
    anti_spoofing: bool = False,
    output_path: Optional[str] = None,
    debug: bool = False,
    *,
    frame_stride: int = 1,
    batch_size: int = streaming.DEFAULT_STREAM_BATCH_SIZE,
    show: Optional[bool] = None,
    progress: Optional[bool] = None,
) -> None:
    """Annotate a camera or a video file: every face boxed, with age, gender and emotion
    (``enable_face_analysis``) and the closest identity in ``db_path`` (when given).

    Frames are read ahead in a thread and analysed ``batch_size`` at a time (every model
    runs over all their faces at once); every frame is annotated (frames skipped by
    ``frame_stride`` reuse the latest results) and written to ``output_path`` when given.
    A window is shown when ``show`` is True, or (``None``) when OpenCV has a GUI and a
    display; a headless run never waits on one. ``time_threshold`` and
    ``frame_threshold`` are accepted for deepface's signature (they shape deepface's
    freeze display only). Progress goes to stderr for files (``progress``).

    Raises:
        VideoSourceError, VideoOutputError, DisplayUnavailable: the source cannot be read,
            the output cannot be written, or ``show=True`` where no window can open.
    """
    return streaming.stream(
        db_path=db_path,
        model_name=model_name,
        detector_backend=detector_backend,
        distance_metric=distance_metric,
        enable_face_analysis=enable_face_analysis,
        source=source,
        time_threshold=time_threshold,
        frame_threshold=frame_threshold,
        anti_spoofing=anti_spoofing,
        output_path=output_path,
        debug=debug,
        frame_stride=frame_stride,
        batch_size=batch_size,
        show=show,
        progress=progress,
    )


# ---------------------------------------------------------------- face databases


def register(
    img: ImagesInput,
    img_name: Optional[Union[str, List[str]]] = None,
    model_name: str = "VGG-Face",
    detector_backend: str = "opencv",
    enforce_detection: bool = True,
    align: bool = True,
    l2_normalize: bool = False,
    expand_percentage: int = 0,
    normalization: str = "base",
    anti_spoofing: bool = False,
    database_type: str = "postgres",
    connection_details: Optional[Union[Dict[str, Any], str]] = None,
    connection: Any = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> Dict[str, Any]:
    """Embed the faces of one image or a batch and store them in a database.

    Args:
        img: one image or a batch (list/tuple/4-D array), embedded in batched passes.
        img_name: the name stored with the faces; by default the image's path (for .jpg,
            .jpeg, .png) or a random UUID. A list gives one name per image.
        database_type: ``postgres`` (default), ``sqlite``, ``qdrant`` or ``milvus``; the
            other names deepface accepts raise ``DatabaseNotAvailable``. With no PostgreSQL
            configured (``connection``, ``connection_details``, ``DEEPFACE_POSTGRES_URI``),
            ``$DEEPFACE_HOME/.deepface/embeddings.sqlite`` is used.
        connection_details: a URI, path or dict of the client's keywords (else the
            backend's environment variable: ``DEEPFACE_POSTGRES_URI``,
            ``DEEPFACE_SQLITE_PATH``, ``DEEPFACE_QDRANT_URI``, ``DEEPFACE_MILVUS_URI``).
        connection: an open client of the backend, used and left open.
        batch_size: faces per forward pass of the model.
        other arguments: as in :func:`represent`.

    Returns:
        ``{"inserted": n}``, the number of faces stored.
    """
    return datastore.register(img, **REGISTER.pick(locals()))


def search(
    img: ImagesInput,
    model_name: str = "VGG-Face",
    detector_backend: str = "opencv",
    distance_metric: str = "cosine",
    enforce_detection: bool = True,
    align: bool = True,
    l2_normalize: bool = False,
    expand_percentage: int = 0,
    normalization: str = "base",
    anti_spoofing: bool = False,
    similarity_search: bool = False,
    k: Optional[int] = None,
    database_type: str = "postgres",
    connection_details: Optional[Union[Dict[str, Any], str]] = None,
    connection: Any = None,
    search_method: str = "exact",
    return_type: Optional[str] = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    group_by_input: bool = False,
) -> List[Any]:
    """The stored faces that match each face of ``img`` (one image or a batch).

    Args:
        similarity_search: keep the closest faces whatever the threshold.
        k: keep at most ``k`` matches per query face (``ann``: 20 when not given).
        search_method: ``exact`` (every stored embedding) or ``ann`` (the faiss index of
            :func:`build_index`, or the vector database's own search).
        return_type: ``pandas`` (default when pandas is installed) or ``dict``.
        group_by_input: for a batch, one list of face results per input instead of
            deepface's one flat list.
        other arguments: as in :func:`register` and :func:`verify`.

    Returns:
        One result per query face, in order: the faces of one image, or of every image of
        a list, tuple or 4-D array one after the other (deepface's flat list); with
        ``group_by_input``, a batch gives one such list per input (``[img]`` gives
        ``[[...]]``). Each result is a DataFrame (or a list of dicts) of ``id``, ``img_name``, ``model_name``,
        ``detector_backend``, ``aligned``, ``l2_normalized``, ``search_method``,
        ``target_x/y/w/h`` (the query face), ``threshold``, ``distance_metric``,
        ``distance`` and ``confidence``, closest first.
    """
    return datastore.search(img, **SEARCH.pick(locals()))


def identify(
    img: ImageInput,
    identity_id: Union[str, int],
    model_name: str = "VGG-Face",
    detector_backend: str = "opencv",
    distance_metric: str = "cosine",
    enforce_detection: bool = True,
    align: bool = True,
    l2_normalize: bool = False,
    expand_percentage: int = 0,
    normalization: str = "base",
    anti_spoofing: bool = False,
    database_type: str = "postgres",
    connection_details: Optional[Union[Dict[str, Any], str]] = None,
    connection: Any = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> Dict[str, Any]:
    """Verify one image against one stored identity (its closest face decides).

    Returns:
        deepface's dict: ``verified``, ``distance``, ``threshold``, ``confidence``,
        ``model``, ``detector_backend``, ``similarity_metric``, ``id``, ``img_name``,
        ``facial_areas`` (``img1``: the query face, ``img2``: None) and ``time``.

    Raises:
        IdentityNotFound: no record has ``identity_id``.
        IncompatibleIdentity: it was stored with another model or ``l2_normalize``.
    """
    return datastore.identify(img, identity_id, **IDENTIFY.pick(locals()))


def build_index(
    model_name: str = "VGG-Face",
    detector_backend: str = "opencv",
    align: bool = True,
    l2_normalize: bool = False,
    database_type: str = "postgres",
    connection: Any = None,
    connection_details: Optional[Union[Dict[str, Any], str]] = None,
    max_neighbors_per_node: int = faiss_index.DEFAULT_MAX_NEIGHBORS,
    batch_size: int = faiss_index.DEFAULT_ADD_BATCH,
) -> None:
    """Build, or extend with the rows it lacks, the faiss HNSW index that
    ``search(search_method="ann")`` uses, stored in the database (``embeddings_index``).
    Vector databases (``qdrant``, ``milvus``) index by themselves: nothing to do.
    Positional order is deepface's (``connection`` before ``connection_details``);
    ``batch_size`` (stored faces read per batch) is this package's."""
    datastore.build_index(**BUILD_INDEX.pick(locals()))


# ---------------------------------------------------------------- deepface's command line


def cli(command: Optional[Sequence[str]] = None) -> None:
    """deepface's command line: `fire <https://github.com/google/python-fire>`_ over this
    module's public functions, with fire's argument syntax::

        deepface verify img1.jpg img2.jpg
        deepface represent img.jpg --model_name Facenet

    Args:
        command: the arguments (default: ``sys.argv[1:]``).

    Raises:
        MissingDependencyError: fire is not installed (``pip install "deepface[cli]"``).
    """
    try:
        import fire  # pylint: disable=import-outside-toplevel
    except ImportError as error:
        raise MissingDependencyError(
            'fire is required to use deepface from the command line: pip install "deepface[cli]"'
        ) from error
    fire.Fire(_cli_functions(), command=None if command is None else list(command), name="deepface")


def _cli_functions() -> Dict[str, Callable[..., Any]]:
    """The functions ``cli`` offers: every public function of this module but ``cli``."""
    return {
        name: value
        for name, value in globals().items()
        if inspect.isfunction(value) and value.__module__ == __name__
        and not name.startswith("_") and name != "cli"
    }


# ---------------------------------------------------------------- deprecated


def detectFace(
    img_path: Union[str, NDArray[Any], IO[bytes]],
    target_size: Tuple[int, int] = (224, 224),
    detector_backend: str = "opencv",
    enforce_detection: bool = True,
    align: bool = True,
) -> Optional[NDArray[Any]]:
    """Deprecated (as in deepface): use :func:`extract_faces`.

    Returns:
        The first face of ``img_path`` (RGB, values in [0, 1]) fitted into ``target_size``
        with black padding, as a ``(1, height, width, 3)`` float32 array; None when no face
        was found (with ``enforce_detection=False`` the whole image counts as the face).
    """
    Logger().warn("Function detectFace is deprecated. Use extract_faces instead.")
    if isinstance(img_path, (list, tuple)):
        raise DataTypeError("detectFace takes one image; use extract_faces for a batch")
    faces = extract_faces(
        img_path, detector_backend=detector_backend, enforce_detection=enforce_detection, align=align
    )
    if not faces:
        return None
    return resize_image(faces[0]["face"], target_size)
