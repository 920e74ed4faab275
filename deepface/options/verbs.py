"""One options table per verb: ``extract_faces``, ``represent``, ``verify``, ``find``,
``analyze``, ``register``, ``search``, ``identify``, ``build_index``.

Each keyword is written once, as an :class:`~deepface.options.table.Option` below, and the
verbs compose them: represent = detection + the recognition model's options, analyze =
detection + actions, and so on. ``deepface.DeepFace`` keeps deepface's explicit signatures
(a test checks that their defaults are these); the modules' option dataclasses, the
command's flags, the REST API's fields and Ray's keywords are made from these tables.
"""

from typing import Any, Dict, Tuple

from deepface.commons import image_rules, openvino_utils
from deepface.commons.exceptions import DataTypeError, UnimplementedError
from deepface.commons.preprocessing import NORMALIZATIONS
from deepface.options.table import Option, Table

# ---------------------------------------------------------------- values the tables allow

#: Images decoded and detected together, and faces per forward pass of a model.
DEFAULT_BATCH_SIZE = 32
DEFAULT_MODEL = "VGG-Face"
DEFAULT_DATABASE = "postgres"
#: Stored faces added to a faiss index per call, and the index graph's degree.
DEFAULT_INDEX_BATCH = 1000
DEFAULT_MAX_NEIGHBORS = 32
#: The colour order of a face crop of ``extract_faces``.
COLOR_FACES = ("rgb", "bgr", "gray")
#: deepface's actions, in its default order.
ACTIONS = ("emotion", "age", "gender", "race")
METRICS = ("cosine", "euclidean", "euclidean_l2", "angular")
SEARCH_METHODS = ("exact", "ann")


# ---------------------------------------------------------------- checks with deepface's errors


def text(name: str, value: Any) -> Any:
    if not isinstance(value, str):
        raise DataTypeError(f"{name} must be a string, not {value!r}")
    return value


def color_face(name: str, value: Any) -> Any:
    if value not in COLOR_FACES:
        raise UnimplementedError(f"{name} must be one of {COLOR_FACES}, not {value!r}")
    return value


def normalization(name: str, value: Any) -> Any:
    """A normalization deepface knows, else an ``UnimplementedError``."""
    if value not in NORMALIZATIONS:
        raise UnimplementedError(
            f"unimplemented normalization type - {value}; choose one of {', '.join(NORMALIZATIONS)}"
        )
    return value


def actions(name: str, value: Any) -> Tuple[str, ...]:
    """deepface's rule: a string is one action; an empty or non-sequence value is a
    ``ValueError``; an unknown action an ``UnimplementedError``."""
    if isinstance(value, str):
        value = (value,)
    if not hasattr(value, "__getitem__") or not value:
        raise ValueError("`actions` must be a list of strings.")
    for action in value:
        if action not in ACTIONS:
            raise UnimplementedError(
                f"Invalid action passed ({action!r})). Valid actions are `emotion`, `age`, `gender`, `race`."
            )
    return tuple(value)


def precision(name: str, value: Any) -> Any:
    """None (the process's precision) or one of ``openvino_utils.PRECISIONS``, any case."""
    if value is None:
        return None
    return openvino_utils.resolve_precision(text(name, value))


def detection_border(name: str, value: Any) -> Any:
    if value is not None and not 0 <= float(value) <= 2:
        raise ValueError(f"{name} must be a fraction of the image size between 0 and 2, not {value!r}")
    return value


def max_faces(name: str, value: Any) -> Any:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
        raise ValueError(f"{name} must be None or a non-negative integer, not {value!r}")
    return value


def detector_options(name: str, value: Any) -> Dict[str, Any]:
    """A copy of the keywords (``None``: none)."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise DataTypeError(f"{name} must be a dict of keyword arguments, not {value!r}")
    return dict(value)


def max_image_pixels(name: str, value: Any) -> int:
    """The pixel limit: the keyword, else ``$DEEPFACE_MAX_IMAGE_PIXELS``, else the default."""
    return image_rules.resolve_max_pixels(value)


# ---------------------------------------------------------------- detection

DETECTOR_BACKEND = Option(
    "detector_backend", "str", "opencv", "face detector: opencv, ssd, mtcnn, retinaface, yolov8n, ... or skip",
    check=text, cli=True, api=True, metavar="NAME",
)  # fmt: skip
ENFORCE_DETECTION = Option(
    "enforce_detection", "bool", True, "an image without a face is an error (else the whole image is the face)",
    cli=True, api=True,
)  # fmt: skip
ALIGN = Option("align", "bool", True, "rotate each face so that its eyes are level", cli=True, api=True)
EXPAND_PERCENTAGE = Option(
    "expand_percentage", "int", 0, "grow each face's box by this percentage", cli=True, api=True,
    metavar="PERCENT",
)
GRAYSCALE = Option("grayscale", "bool", False, "deprecated: gray face crops (use color_face)")
COLOR_FACE = Option("color_face", "str", "rgb", "channel order of the face crops", COLOR_FACES, check=color_face)
NORMALIZE_FACE = Option("normalize_face", "bool", True, "face crops as floats in [0, 1] (else 0-255)")
ANTI_SPOOFING = Option(
    "anti_spoofing", "bool", False,
    "judge each face real or spoofed (extract-faces records is_real and antispoof_score; the other "
    "verbs fail an image with a spoofed face, as deepface does)",
    cli=True, api=True,
)  # fmt: skip
MAX_FACES = Option(
    "max_faces", "int", None, "keep at most this many faces per image, the largest first",
    check=max_faces, surface_at_least=1, cli=True, api=True, metavar="N",
)  # fmt: skip
BATCH_SIZE = Option(
    "batch_size", "int", DEFAULT_BATCH_SIZE, "images per detector batch, faces per model pass",
    at_least=1, cli=True, metavar="N",
)  # fmt: skip
DETECTION_BORDER = Option(
    "detection_border", "float", None,
    "black border added before detection, as a fraction of the image (default: deepface's, "
    "half the image when aligning)",
    check=detection_border, cli=True, metavar="FRACTION",
)  # fmt: skip
DETECTOR_OPTIONS = Option(
    "detector_options", "dict", None, "a detector keyword, e.g. engine=onnx or min_confidence=0.4",
    check=detector_options, cli=True, cli_flag="--detector-option", metavar="KEY=VALUE",
)  # fmt: skip
MAX_IMAGE_PIXELS = Option(
    "max_image_pixels", "int", None, "refuse larger images (default: $DEEPFACE_MAX_IMAGE_PIXELS, else 100 M)",
    check=max_image_pixels,
)  # fmt: skip

# ---------------------------------------------------------------- recognition, analysis, search

MODEL_NAME = Option(
    "model_name", "str", DEFAULT_MODEL, "recognition model: VGG-Face, Facenet, ArcFace, ...",
    check=text, cli=True, api=True, metavar="NAME",
)  # fmt: skip
NORMALIZATION = Option(
    "normalization", "str", "base", "input normalization of the model", NORMALIZATIONS,
    check=normalization, cli=True, api=True,
)  # fmt: skip
L2_NORMALIZE = Option("l2_normalize", "bool", False, "scale each embedding to unit length", cli=True, api=True)
MINMAX_NORMALIZE = Option("minmax_normalize", "bool", False, "rescale each embedding into [0, 1] (model's range)")
RETURN_FACE = Option("return_face", "bool", False, "add each face's crop to its result")
DISTANCE_METRIC = Option(
    "distance_metric", "str", "cosine", "cosine, euclidean, euclidean_l2 or angular (verify, find: or a function)",
    api=True,
)  # fmt: skip
THRESHOLD = Option(
    "threshold", "float", None, "distance at or below which faces match (default: the model's)", api=True
)
SILENT = Option("silent", "bool", False, "no progress bars or logs")
PRECISION = Option(
    "precision", "str", None,
    "fp32 (default: $DEEPFACE_PRECISION, else fp32), bf16 (AVX-512 BF16/AMX CPUs), fp16 (GPU)",
    check=precision, cli=True, api=True,
)  # fmt: skip
ACTIONS_OPTION = Option(
    "actions", "list", ACTIONS, f"any of {', '.join(ACTIONS)} (default: all four)", ACTIONS,
    check=actions, cli=True, api=True, metavar="ACTION",
)  # fmt: skip
SIMILARITY_SEARCH = Option(
    "similarity_search", "bool", False, "return the closest faces even past the threshold", api=True
)
K = Option("k", "int", None, "return at most k matches per face", surface_at_least=1, api=True)
REFRESH_DATABASE = Option("refresh_database", "bool", True, "bring the folder's datastore up to date first")
DATASTORE_FORMAT = Option("datastore_format", "str", "npz", "the folder's datastore file: npz or pkl")
RETURN_TYPE = Option("return_type", "str", None, "pandas or dict (default: pandas where installed)")
IMG_NAME = Option("img_name", "texts", None, "the stored name of each image (default: its file name)", api=True)
DATABASE_TYPE = Option("database_type", "str", DEFAULT_DATABASE, "postgres, sqlite, mongo, weaviate, ...")
CONNECTION_DETAILS = Option("connection_details", "any", None, "the database's URI or a dict of its settings")
CONNECTION = Option("connection", "any", None, "an open connection to use instead")
GROUP_BY_INPUT = Option(
    "group_by_input", "bool", False, "a batch gives one list of face results per input (deepface: one flat list)"
)
SEARCH_METHOD = Option("search_method", "str", "exact", "exact or ann (an index)", SEARCH_METHODS, api=True)
INDEX_BATCH_SIZE = Option(
    "batch_size", "int", DEFAULT_INDEX_BATCH, "stored faces read per batch while indexing", at_least=1
)
MAX_NEIGHBORS_PER_NODE = Option(
    "max_neighbors_per_node", "int", DEFAULT_MAX_NEIGHBORS, "the index graph's degree", at_least=1
)

# ---------------------------------------------------------------- the verbs

EXTRACT = Table(
    "extract_faces",
    [DETECTOR_BACKEND, ENFORCE_DETECTION, ALIGN, EXPAND_PERCENTAGE, GRAYSCALE, COLOR_FACE, NORMALIZE_FACE,
     ANTI_SPOOFING, MAX_FACES, BATCH_SIZE, DETECTION_BORDER, DETECTOR_OPTIONS, MAX_IMAGE_PIXELS],
)  # fmt: skip
#: What every verb that detects takes from ``extract_faces``.
DETECTION = EXTRACT.only(
    "detector_backend", "enforce_detection", "align", "expand_percentage", "anti_spoofing",
    "batch_size", "detection_border", "detector_options", verb="detection",
)  # fmt: skip
REPRESENT = DETECTION.plus(
    "represent", MAX_FACES, MODEL_NAME, NORMALIZATION, L2_NORMALIZE, MINMAX_NORMALIZE, RETURN_FACE, PRECISION
)
VERIFY = DETECTION.plus("verify", MODEL_NAME, NORMALIZATION, DISTANCE_METRIC, THRESHOLD, SILENT, PRECISION)
FIND = DETECTION.plus(
    "find", MODEL_NAME, NORMALIZATION, DISTANCE_METRIC, THRESHOLD, SIMILARITY_SEARCH, K, SILENT,
    REFRESH_DATABASE, DATASTORE_FORMAT, RETURN_TYPE, PRECISION,
)  # fmt: skip
ANALYZE = DETECTION.plus("analyze", ACTIONS_OPTION, SILENT, PRECISION)
DATABASE = Table("database", [DATABASE_TYPE, CONNECTION_DETAILS, CONNECTION])
#: The detection options of the database verbs (deepface's: no border, no detector keywords).
DATABASE_DETECTION = DETECTION.without("detection_border", "detector_options", verb="database_detection")
REGISTER = DATABASE_DETECTION.plus("register", IMG_NAME, MODEL_NAME, NORMALIZATION, L2_NORMALIZE, DATABASE)
SEARCH = DATABASE_DETECTION.plus(
    "search", MODEL_NAME, NORMALIZATION, L2_NORMALIZE, DISTANCE_METRIC, SIMILARITY_SEARCH, K, SEARCH_METHOD,
    RETURN_TYPE, DATABASE, GROUP_BY_INPUT,
)  # fmt: skip
IDENTIFY = DATABASE_DETECTION.plus(
    "identify", MODEL_NAME, NORMALIZATION, L2_NORMALIZE, DISTANCE_METRIC, DATABASE
)
BUILD_INDEX = Table(
    "build_index",
    [MODEL_NAME, DETECTOR_BACKEND, ALIGN, L2_NORMALIZE, DATABASE_TYPE, CONNECTION, CONNECTION_DETAILS,
     MAX_NEIGHBORS_PER_NODE, INDEX_BATCH_SIZE],
)  # fmt: skip

#: Every verb's table, by the facade function that takes it.
VERBS = {
    table.verb: table
    for table in (EXTRACT, REPRESENT, VERIFY, FIND, ANALYZE, REGISTER, SEARCH, IDENTIFY, BUILD_INDEX)
}
