"""``analyze``: age, gender, emotion and race of every face, in batches.

The faces of consecutive images are pooled (``pipeline.map_faces_in_batches``) and each
action's model runs once per pool of at most ``batch_size`` faces; each face gets the
numbers it gets alone in deepface, which runs every model once per face.
"""

from dataclasses import dataclass
from typing import Any, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple, Union

from deepface.commons import image_utils, timings
from deepface.models.Demography import Demography
from deepface.models.Detector import DetectedFace
from deepface.models.demography.DemographyUtils import ACTION_MODELS, prepare_faces
from deepface.models.demography.shared_trunk import predict_all
from deepface.modules import modeling
from deepface.modules.detection import (
    ExtractOptions,
    detect_usable_faces,
    facial_area_dict,
    refuse_spoofs,
    rounded_confidence,
)
from deepface.options import verbs
from deepface.options.verbs import ACTIONS
from deepface.modules.pipeline import (
    ImageResult,
    collect_batch,
    collect_single,
    map_faces_in_batches,
)


FaceAttributes = Dict[str, Any]


@dataclass(frozen=True)
class AnalyzeOptions:
    """The parameters of one ``analyze`` call, validated once."""

    actions: Tuple[str, ...]
    extract: ExtractOptions
    precision: Optional[str] = None

    @property
    def batch_size(self) -> int:
        return self.extract.batch_size

    @classmethod
    def create(
        cls, actions: Any = ACTIONS, silent: bool = False, precision: Optional[str] = None, **extract: Any
    ) -> "AnalyzeOptions":
        """Options from ``analyze``'s keywords (its table, ``ANALYZE``): ``actions`` checked
        as deepface checks them, the rest as :class:`ExtractOptions` takes them. ``silent``
        changes nothing: this package shows no per-face progress bars."""
        return cls(
            actions=check_actions(actions), extract=ExtractOptions(**extract),
            precision=verbs.precision("precision", precision),
        )


def check_actions(actions: Any) -> Tuple[str, ...]:
    """deepface's validation: a string is one action; an empty or non-sequence value is a
    ``ValueError``; an unknown action an ``UnimplementedError``."""
    return verbs.actions("actions", actions)


# ---------------------------------------------------------------- public entry points


def analyze(img_path: Any, **options: Any) -> Union[List[FaceAttributes], List[List[FaceAttributes]]]:
    """The attributes of every face of one image, or of each image of a batch
    (see ``DeepFace.analyze``; ``options``: its keywords, the table ``ANALYZE``)."""
    return analyze_with(img_path, AnalyzeOptions.create(**options))


def analyze_with(img_path: Any, options: AnalyzeOptions) -> Union[List[FaceAttributes], List[List[FaceAttributes]]]:
    """:func:`analyze` with its :class:`AnalyzeOptions`."""
    if image_utils.is_batch_input(img_path):
        imgs = image_utils.split_batch(img_path)
        return collect_batch(iter_analyze(imgs, options), len(imgs))
    return collect_single(iter_analyze([img_path], options, name_indices=False))


def iter_analyze(
    imgs: Iterable[Any], options: AnalyzeOptions, name_indices: bool = True
) -> Iterator[Tuple[ImageResult, List[FaceAttributes]]]:
    """Stream ``imgs`` through detection and the attribute models, in bounded memory.

    Yields ``(result, faces)`` per input, in input order: ``faces`` holds one dict per
    face as deepface's ``analyze`` returns it; it is empty when ``result.error`` says why
    the input failed (a spoof with ``anti_spoofing`` is a ``SpoofDetected`` error).
    """
    models = [build_attribute_model(action, options.precision) for action in options.actions]
    detected = detect_usable_faces(imgs, options.extract, name_indices)
    screened = (refuse_spoofs(result, name_indices) for result in detected) if options.extract.anti_spoofing else detected
    analysed = map_faces_in_batches(screened, lambda faces: analyze_faces(models, faces), options.batch_size)
    for result in analysed:
        yield result, (_responses(result, options) if result.error is None else [])


def build_attribute_model(action: str, precision: Optional[str] = None) -> Demography:
    """The model behind ``action`` (``"age"`` -> ``Age``) at ``precision``, built once per process."""
    return modeling.build_model(
        task="facial_attribute", model_name=ACTION_MODELS[action], **modeling.precision_options(precision)
    )


# ---------------------------------------------------------------- the model stage


def analyze_faces(
    models: Sequence[Demography], faces: Sequence[DetectedFace], share_trunk: bool = True
) -> List[List[FaceAttributes]]:
    """Each face's attributes, one dict per model in ``models``' order: every model runs
    once over all ``faces`` (leading layers that models hold identically run once for
    them all, see :mod:`~deepface.models.demography.shared_trunk`)."""
    with timings.stage("prepare"):
        prepared = prepare_faces([face.img for face in faces])
    per_model = predict_all(models, prepared, share_trunk)
    return [[model.attributes(rows[k]) for model, rows in zip(models, per_model)] for k in range(len(faces))]


# ---------------------------------------------------------------- API-edge dicts


def _responses(result: ImageResult, options: AnalyzeOptions) -> List[FaceAttributes]:
    height, width = result.shape[:2]
    return [
        _response(face, attributes, width, height)
        for face, attributes in zip(result.faces, result.outputs)
    ]


def _response(face: DetectedFace, attributes: List[FaceAttributes], width: int, height: int) -> FaceAttributes:
    """deepface's dict, keys in its order: the first action's, ``region``,
    ``face_confidence``, then the other actions'."""
    response: FaceAttributes = {}
    for position, entries in enumerate(attributes):
        response.update(entries)
        if position == 0:
            response["region"] = facial_area_dict(face.facial_area, width, height)
            response["face_confidence"] = rounded_confidence(face)
    return response


__all__ = ["ACTIONS", "AnalyzeOptions", "analyze", "analyze_faces", "check_actions", "iter_analyze"]
