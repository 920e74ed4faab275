"""Face extraction over batches: load -> frame -> detect -> crop and align -> respond.

Every image is processed exactly as deepface processes it alone (the same bordered image
reaches the detector, the same crop and rotation follow), but inputs are decoded ahead
in the background, and a detector that batches natively gets ``batch_size`` images at
once.
"""

import heapq
from dataclasses import dataclass
from typing import Any, Callable, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple, Union

import cv2
from numpy.typing import NDArray

from deepface.commons import image_rules, image_utils, stage_timing
from deepface.commons.logger import get_logger
from deepface.models.Detector import DetectedFace, Detector, FacialAreaRegion, Point
from deepface.modules import modeling
from deepface.modules.alignment import align_face_region, project_box, rotate_to_level_eyes, surrounding_window
from deepface.commons.exceptions import (
    DetectorFailure,
    FaceNotDetected,
    ImageLoadError,
    ImageTooLarge,
    SYSTEMIC_ERRORS,
    ImgNotFound,
    SpoofDetected,
)
from deepface.options.verbs import DEFAULT_BATCH_SIZE, EXTRACT
from deepface.modules.pipeline import (
    ImageResult,
    Prefetcher,
    collect_batch,
    collect_single,
    input_name,
    map_faces_in_batches,
    qualified_name,
)

logger = get_logger(__name__)

SKIP = "skip"
#: Images decoded ahead of a detector that takes them one by one.
LOOP_LOOKAHEAD = 2
#: deepface's border: half the image's height and width on each side, when aligning.
DEEPFACE_BORDER = 0.5


class ExtractRules:
    """What ``ExtractOptions`` adds to its table (``deepface.options.verbs.EXTRACT``)."""

    align: bool
    expand_percentage: int
    detection_border: Optional[float]

    def _finish(self) -> None:
        if self.expand_percentage < 0:
            logger.warning(
                "expand_percentage cannot be negative (got %s); using 0", self.expand_percentage
            )
            object.__setattr__(self, "expand_percentage", 0)

    @property
    def border_fraction(self) -> float:
        """The black border added on each side before detection, as a fraction of the size."""
        if self.detection_border is not None:
            return float(self.detection_border)
        return DEEPFACE_BORDER if self.align else 0.0


#: The parameters of one extraction call, checked once: one field per option of ``EXTRACT``.
ExtractOptions = EXTRACT.dataclass("ExtractOptions", base=ExtractRules, module=__name__)


@dataclass
class FramedImage:
    """An image as the detector sees it: with the black border deepface adds."""

    pixels: NDArray[Any]
    border_x: int
    border_y: int


# ---------------------------------------------------------------- public entry points


def extract_faces(img_path: Any, **options: Any) -> Union[List[Dict[str, Any]], List[List[Dict[str, Any]]]]:
    """Detect, align and crop the faces in one image or a batch (see ``DeepFace.extract_faces``;
    ``options``: its keywords, the table ``EXTRACT``)."""
    return extract_faces_with(img_path, ExtractOptions(**options))


def extract_faces_with(
    img_path: Any, options: ExtractOptions
) -> Union[List[Dict[str, Any]], List[List[Dict[str, Any]]]]:
    """:func:`extract_faces` with its :class:`ExtractOptions`."""
    if image_utils.is_batch_input(img_path):
        return _extract_batch(image_utils.split_batch(img_path), options)
    return _extract_single(img_path, options)


def iter_extract_faces(
    imgs: Iterable[Any], options: ExtractOptions, name_indices: bool = True
) -> Iterator[Tuple[ImageResult, List[Dict[str, Any]]]]:
    """Stream ``imgs`` through the pipeline (see :func:`detect_stream`).

    Yields, in input order, each input's :class:`ImageResult` and its faces as deepface
    dicts (empty when the input failed). Memory stays bounded by about two batches of
    decoded images, whatever the number of inputs.
    """
    for result in detect_usable_faces(imgs, options, name_indices):
        faces = _responses(result, options) if result.error is None else []
        yield result, faces


def detect_usable_faces(
    imgs: Iterable[Any], options: ExtractOptions, name_indices: bool = True
) -> Iterator[ImageResult]:
    """:func:`detect_stream` keeping only faces with pixels, as deepface returns them; an
    input left with none fails when ``enforce_detection`` asks for a face."""
    usable = (_keep_usable(result, options, name_indices) for result in detect_stream(imgs, options, name_indices))
    if options.anti_spoofing:
        yield from judge_spoofing(usable, options.batch_size)
    else:
        yield from usable


def _keep_usable(result: ImageResult, options: ExtractOptions, name_indices: bool) -> ImageResult:
    if result.error is None:
        result.faces = [face for face in result.faces if face.img.shape[0] > 0 and face.img.shape[1] > 0]
        if not result.faces and options.enforce_detection:
            result.error = ImgNotFound(
                f"Exception while extracting faces from {input_name(result, name_indices)}. "
                "Consider to set enforce_detection arg to False."
            )
    return result


def judge_spoofing(results: Iterable[ImageResult], batch_size: int) -> Iterator[ImageResult]:
    """Set each face's ``is_real`` and ``antispoof_score``: the Fasnet models run over the
    faces of consecutive images, ``batch_size`` per pass, on crops of the original image
    around each face's box (deepface's ``facial_area``)."""
    model = modeling.build_model(task="spoofing", model_name="Fasnet")

    def spoof_item(result: ImageResult, face: DetectedFace) -> Tuple[NDArray[Any], Tuple[int, int, int, int]]:
        height, width = result.shape[:2]
        area = facial_area_dict(face.facial_area, width, height)
        return result.image, (area["x"], area["y"], area["w"], area["h"])

    for result in map_faces_in_batches(results, model.analyze_batch, batch_size, item=spoof_item):
        for face, (is_real, score) in zip(result.faces, result.outputs):
            face.is_real, face.antispoof_score = bool(is_real), float(score)
        result.outputs, result.image = [], None
        yield result


def refuse_spoofs(result: ImageResult, name_indices: bool = True) -> ImageResult:
    """Fail an input with a face judged fake (``SpoofDetected``), as deepface's
    ``represent``, ``verify``, ``find`` and ``analyze`` do with ``anti_spoofing``."""
    if result.error is None and any(face.is_real is False for face in result.faces):
        result.error = SpoofDetected(f"Spoof detected in the given image ({input_name(result, name_indices)}).")
    return result


def detect_stream(
    imgs: Iterable[Any], options: ExtractOptions, name_indices: bool = True
) -> Iterator[ImageResult]:
    """The batched pipeline: decode ahead, detect, crop; results in input order.

    Inputs are decoded ahead in the background. A detector that batches natively gets
    ``batch_size`` images per call, the next batch decoding meanwhile; one that loops
    gets them one by one, a couple decoded ahead. ``name_indices=False`` leaves input
    indices out of error messages (one-image calls).
    """
    detector = _detector_for(options)
    native = detector is not None and detector.native_batch
    group = options.batch_size if native else 1
    # Enough decoded ahead to keep the detector busy: the next batch for a native
    # batcher, a couple of images for a loop (more would only hold memory and go cold
    # in the cache: photos at batch size 64 measured 8% slower than at 1).
    lookahead = options.batch_size if native else min(options.batch_size, LOOP_LOOKAHEAD)
    with Prefetcher(imgs, lookahead, name_indices, options.max_image_pixels) as decoded:
        while True:
            loaded = decoded.take(group)
            if not loaded:
                return
            yield from _process_loaded(loaded, detector, options, name_indices)


# ---------------------------------------------------------------- single and batch API


def _extract_single(img: Any, options: ExtractOptions) -> List[Dict[str, Any]]:
    return collect_single(iter_extract_faces([img], options, name_indices=False))


def _extract_batch(imgs: Sequence[Any], options: ExtractOptions) -> List[List[Dict[str, Any]]]:
    return collect_batch(iter_extract_faces(imgs, options), len(imgs))


# ---------------------------------------------------------------- pipeline stages


def _detector_for(options: ExtractOptions) -> Optional[Detector]:
    if options.detector_backend == SKIP:
        return None
    return modeling.build_model(
        task="face_detector", model_name=options.detector_backend, **options.detector_options
    )


def _process_loaded(
    loaded_inputs: Sequence[Tuple[ImageResult, Optional[NDArray[Any]]]],
    detector: Optional[Detector],
    options: ExtractOptions,
    name_indices: bool = True,
) -> List[ImageResult]:
    results = [result for result, _ in loaded_inputs]
    images = {result.index: pixels for result, pixels in loaded_inputs if pixels is not None}
    loaded = [r for r in results if r.error is None]
    if options.anti_spoofing:  # the spoofing stage crops around each face in the original
        for result in loaded:
            result.image = images[result.index]
    if detector is None:
        for result in loaded:
            result.faces = [_whole_image(images[result.index])]
        return results

    for result, outcome in zip(loaded, _detect_all(loaded, images, detector, options)):
        if isinstance(outcome, ImageLoadError):
            result.error = outcome.located(result.index if name_indices else None, result.source)
            continue
        result.faces = outcome
        if not result.faces:
            if options.enforce_detection:
                result.error = FaceNotDetected(
                    f"Face could not be detected in {input_name(result, name_indices)}. Please confirm that the "
                    "picture is a face photo or consider to set enforce_detection param to False."
                )
            else:
                result.faces = [_whole_image(images[result.index])]
    return results


Outcome = Union[List[DetectedFace], ImageLoadError]


def _detect_all(
    loaded: Sequence[ImageResult], images: Dict[int, NDArray[Any]], detector: Detector, options: ExtractOptions
) -> Iterator[Outcome]:
    """The faces of each loaded image, in order, or the typed error that stopped it.

    A detector that batches natively gets the whole chunk at once (when that call fails,
    each image is retried alone, so one bad image does not cost the others). One that
    loops gets the images one by one through :func:`detect_faces`, so only one bordered
    copy (4x the image with deepface's border) exists at a time: holding a chunk of them
    measured slower (page faults) for nothing.
    """
    if not detector.native_batch:
        for result in loaded:
            yield _guarded(lambda: detect_faces(  # by keyword, as deepface calls it (tests patch it)
                detector_backend=options.detector_backend,
                img=images[result.index],
                align=options.align,
                expand_percentage=options.expand_percentage,
                max_faces=options.max_faces,
                options=options,
            ))
        return
    try:
        for image in (images[r.index] for r in loaded):
            check_detector_input(detector, image.shape, options)
        framed = [frame_image(images[r.index], options.border_fraction) for r in loaded]
        with stage_timing.timed("detect"):
            batch = detector.detect_faces_batch([image_rules.to_detector_pixels(f.pixels) for f in framed])
        yield from [_faces_from_regions(regions, frame, options) for frame, regions in zip(framed, batch)]
    except SYSTEMIC_ERRORS:
        raise
    except Exception:  # noqa: BLE001  (isolate the image that failed: each one alone)
        logger.debug("a batch of %d failed in %s; retrying one by one", len(loaded), options.detector_backend)
        for result in loaded:
            yield _guarded(lambda: _detect_framed(detector, images[result.index], options))


def _guarded(detect: Callable[[], List[DetectedFace]]) -> Outcome:
    """``detect()``, or the typed error of this one image when it raises."""
    try:
        return detect()
    except SYSTEMIC_ERRORS:
        raise
    except ImageLoadError as error:
        return error
    except Exception as error:  # noqa: BLE001  (an engine's failure on this image becomes its error)
        logger.debug("detection failed on one image", exc_info=True)
        failure = DetectorFailure(f"the detector failed on this image: {qualified_name(error)}: {error}")
        failure.__cause__ = error
        return failure


def check_detector_input(detector: Detector, shape: Tuple[int, ...], options: ExtractOptions) -> None:
    """Raise :class:`ImageTooLarge` when the bordered image exceeds what ``detector`` can take."""
    limit = detector.max_input_pixels
    if limit is None:
        return
    fraction = options.border_fraction
    height = shape[0] + 2 * int(fraction * shape[0])
    width = shape[1] + 2 * int(fraction * shape[1])
    if width * height > limit:
        raise ImageTooLarge(
            f"with the detection border the {options.detector_backend} detector would get "
            f"{width}x{height} = {width * height:,} pixels, more than the {limit:,} it can take "
            "(pass detection_border=0, align=False or a smaller image)"
        )


def detect_faces(
    detector_backend: str,
    img: NDArray[Any],
    align: bool = True,
    expand_percentage: int = 0,
    max_faces: Optional[int] = None,
    *,
    options: Optional[ExtractOptions] = None,
) -> List[DetectedFace]:
    """deepface's ``detect_faces``: the faces of one BGR image, cropped (and aligned), with
    their regions in the image's coordinates; ``[]`` when there is none.

    ``options`` (this package's) carries the rest of a call's settings (border, detector
    keywords); without it deepface's defaults apply.
    """
    if options is None:
        options = ExtractOptions(
            detector_backend=detector_backend, align=align, expand_percentage=expand_percentage, max_faces=max_faces
        )
    detector = _detector_for(options)
    if detector is None:
        return [_whole_image(img)]
    return _detect_framed(detector, img, options)


def _detect_framed(detector: Detector, img: NDArray[Any], options: ExtractOptions) -> List[DetectedFace]:
    """One image through ``detector``: size check, border, detection, crops."""
    check_detector_input(detector, img.shape, options)
    frame = frame_image(img, options.border_fraction)
    with stage_timing.timed("detect"):
        (regions,) = detector.detect_faces_batch([image_rules.to_detector_pixels(frame.pixels)])
    return _faces_from_regions(regions, frame, options)


def frame_image(img: NDArray[Any], fraction: float) -> FramedImage:
    """Add deepface's black border: ``int(fraction * size)`` pixels on each side."""
    border_y, border_x = int(fraction * img.shape[0]), int(fraction * img.shape[1])
    if border_x == 0 and border_y == 0:
        return FramedImage(img, 0, 0)
    padded = cv2.copyMakeBorder(
        img, border_y, border_y, border_x, border_x, cv2.BORDER_CONSTANT, value=[0, 0, 0]
    )
    return FramedImage(padded, border_x, border_y)


def _whole_image(img: NDArray[Any]) -> DetectedFace:
    height, width = img.shape[:2]
    return DetectedFace(
        img=img, facial_area=FacialAreaRegion(x=0, y=0, w=width, h=height, confidence=0), confidence=0
    )


def _faces_from_regions(
    regions: List[FacialAreaRegion], frame: FramedImage, options: ExtractOptions
) -> List[DetectedFace]:
    if options.max_faces is not None and options.max_faces < len(regions):
        regions = heapq.nlargest(options.max_faces, regions, key=lambda r: r.w * r.h)
    return [crop_face(region, frame, options) for region in regions]


def crop_face(region: FacialAreaRegion, frame: FramedImage, options: ExtractOptions) -> DetectedFace:
    """Expand, crop and (optionally) align one face; report it in original coordinates."""
    img = frame.pixels
    x, y, w, h = _expand_and_clip(region, img.shape, options.expand_percentage)
    face = img[y : y + h, x : x + w]
    left_eye, right_eye = _eyes_or_fallback(region, face, x, y, options.detector_backend)

    if options.align:
        face = align_face_region(img, (x, y, w, h), left_eye, right_eye)

    def unframe(point: Optional[Point]) -> Optional[Point]:
        return None if point is None else (point[0] - frame.border_x, point[1] - frame.border_y)

    return DetectedFace(
        img=face,
        facial_area=FacialAreaRegion(
            x=x - frame.border_x,
            y=y - frame.border_y,
            w=w,
            h=h,
            confidence=region.confidence,
            left_eye=unframe(left_eye),
            right_eye=unframe(right_eye),
            nose=unframe(region.nose),
            mouth_left=unframe(region.mouth_left),
            mouth_right=unframe(region.mouth_right),
        ),
        confidence=region.confidence or 0,
    )


def _expand_and_clip(
    region: FacialAreaRegion, shape: Tuple[int, ...], expand_percentage: int
) -> Tuple[int, int, int, int]:
    x, y, w, h = region.x, region.y, region.w, region.h
    if expand_percentage > 0:
        grown_w = w + int(w * expand_percentage / 100)
        grown_h = h + int(h * expand_percentage / 100)
        x = max(0, x - int((grown_w - w) / 2))
        y = max(0, y - int((grown_h - h) / 2))
        w = min(shape[1] - x, grown_w)
        h = min(shape[0] - y, grown_h)
    # Clip to the image before slicing (a negative index would count from the end).
    w = max(0, min(shape[1], x + w) - max(0, x))
    h = max(0, min(shape[0], y + h) - max(0, y))
    return int(max(0, x)), int(max(0, y)), int(w), int(h)


def _eyes_or_fallback(
    region: FacialAreaRegion, face: NDArray[Any], x: int, y: int, backend: str
) -> Tuple[Optional[Point], Optional[Point]]:
    """The detector's eyes; where it gave none, the OpenCV eye cascade's (as deepface does)."""
    left_eye, right_eye = region.left_eye, region.right_eye
    if backend == "opencv" or (left_eye is not None and right_eye is not None):
        return left_eye, right_eye
    eye_finder = modeling.build_model(task="face_detector", model_name="opencv")
    found_left, found_right = eye_finder.find_eyes(face)
    if left_eye is None and found_left is not None:
        left_eye = (int(found_left[0]) + x, int(found_left[1]) + y)
    if right_eye is None and found_right is not None:
        right_eye = (int(found_right[0]) + x, int(found_right[1]) + y)
    return left_eye, right_eye


# ---------------------------------------------------------------- API-edge dicts


def _responses(result: ImageResult, options: ExtractOptions) -> List[Dict[str, Any]]:
    height, width = result.shape[:2]
    return [to_response(face, width, height, options) for face in result.faces]


def to_response(face: DetectedFace, width: int, height: int, options: ExtractOptions) -> Dict[str, Any]:
    """One face as deepface's dict: ``face``, ``facial_area`` and ``confidence`` (and
    ``is_real``, ``antispoof_score`` with anti-spoofing)."""
    response = {
        "face": _format_pixels(face.img, options),
        "facial_area": facial_area_dict(face.facial_area, width, height),
        "confidence": rounded_confidence(face),
    }
    if options.anti_spoofing:
        response["is_real"] = face.is_real
        response["antispoof_score"] = face.antispoof_score
    return response


def rounded_confidence(face: DetectedFace) -> float:
    """The detector's confidence as deepface reports it: a float with two decimals."""
    return round(float(face.facial_area.confidence or 0), 2)


def facial_area_dict(area: FacialAreaRegion, width: int, height: int) -> Dict[str, Any]:
    """A region as deepface's ``facial_area`` dict: Python ints, the box kept inside the
    ``width`` x ``height`` image, landmarks outside it set to ``None``."""
    x, y = max(0, int(area.x)), max(0, int(area.y))
    facial_area: Dict[str, Any] = {
        "x": x,
        "y": y,
        "w": min(width - x - 1, int(area.w)),
        "h": min(height - y - 1, int(area.h)),
        "left_eye": _valid_point(area.left_eye, width, height),
        "right_eye": _valid_point(area.right_eye, width, height),
    }
    for name in ("nose", "mouth_left", "mouth_right"):
        point = getattr(area, name)
        if point is not None:
            facial_area[name] = _valid_point(point, width, height)
    return facial_area


def is_valid_landmark(coord: Optional[Sequence[Any]], width: int, height: int) -> bool:
    """Whether ``coord`` is an ``(x, y)`` pair inside a ``width`` x ``height`` image."""
    if not isinstance(coord, (tuple, list)) or len(coord) != 2:
        return False
    return 0 <= coord[0] < width and 0 <= coord[1] < height


def _valid_point(point: Optional[Sequence[Any]], width: int, height: int) -> Optional[Point]:
    if point is None:
        return None
    px, py = int(point[0]), int(point[1])
    return (px, py) if is_valid_landmark((px, py), width, height) else None


def _format_pixels(pixels: NDArray[Any], options: ExtractOptions) -> NDArray[Any]:
    """The face as deepface returns it: RGB, BGR or gray, scaled to [0, 1] if it was not."""
    if options.grayscale:
        logger.warning("grayscale is deprecated; use color_face='gray' instead")
    if options.grayscale or options.color_face == "gray":
        pixels = cv2.cvtColor(pixels, cv2.COLOR_BGR2GRAY)
    # deepface 0.0.103 divides only when the maximum is above 1 (an all-dark face, max <= 1,
    # stays as it is). The maximum is taken before the channels are reversed: the same
    # value, 100x faster on the contiguous array than on the reversed view.
    scale = options.normalize_face and pixels.max() > 1
    if not options.grayscale and options.color_face == "rgb":
        pixels = pixels[:, :, ::-1]
    return pixels / 255 if scale else pixels


# ---------------------------------------------------------------- deepface's helper names

#: deepface's ``extract_sub_image(img, facial_area)``: the face's box grown by half its size
#: on each side (black off the image), and the box's offset in it.
extract_sub_image = surrounding_window
#: deepface's ``align_img_wrt_eyes(img, left_eye, right_eye)``: the image turned so the eyes
#: are level, and the angle.
align_img_wrt_eyes = rotate_to_level_eyes
#: deepface's ``project_facial_area(facial_area, angle, size)``: a box after the turn.
project_facial_area = project_box


def extract_face(
    facial_area: FacialAreaRegion,
    img: NDArray[Any],
    align: bool,
    expand_percentage: int,
    width_border: int,
    height_border: int,
    detector_backend: str = "opencv",
) -> DetectedFace:
    """deepface's: one detected region of ``img`` (an image with deepface's black border of
    ``width_border`` x ``height_border``, which counts only with ``align``, as in deepface)
    expanded, cut out and aligned, reported in the unbordered image's coordinates."""
    frame = FramedImage(img, width_border, height_border) if align else FramedImage(img, 0, 0)
    options = ExtractOptions(detector_backend=detector_backend, align=align, expand_percentage=expand_percentage)
    return crop_face(facial_area, frame, options)


__all__ = [
    "DEFAULT_BATCH_SIZE",
    "DetectedFace",
    "ExtractOptions",
    "FacialAreaRegion",
    "ImageResult",
    "crop_face",
    "detect_faces",
    "detect_stream",
    "detect_usable_faces",
    "facial_area_dict",
    "extract_faces",
    "frame_image",
    "is_valid_landmark",
    "iter_extract_faces",
    "align_img_wrt_eyes",
    "extract_face",
    "extract_sub_image",
    "project_facial_area",
    "to_response",
]
