"""``stream``: face analysis and search over the frames of a video file or a camera, in batches.

    frames --read ahead in a thread--> chunks of frames --detector--> faces of many frames
           --attribute models and the recognition model, over all of them at once-->
           findings per analysed frame --drawn on every frame--> video file / window

Frames are read ahead by a background thread. They are analysed ``batch_size`` analysed
frames at a time: the detector takes them through the shared pipeline, then every face of
those frames goes through the age, gender and emotion models and the recognition model
together (at most ``batch_size`` faces per forward pass). The closest identity of
``db_path`` for each face comes from one distance matrix over the folder's datastore
(the file ``find`` keeps there, built or refreshed before the first frame is read).

With ``frame_stride=N`` every Nth frame is analysed; every frame is drawn and written,
each with the findings of the latest analysed frame at or before it. About two chunks of
``batch_size * frame_stride`` frames are held at once (the one analysed, the one read
ahead), so a live view lags by about one chunk: use a small ``batch_size`` for a camera.

The annotated video is written beside ``output_path`` and renamed over it when the run
ends (q or Esc in the window ends it too); a run that breaks off leaves an existing file
as it was. ``debug=True`` logs each analysed frame's findings (deepface writes debug
images into the working folder instead). With ``anti_spoofing=True`` each box is green
for a real face and red, labelled ``spoof``, for a fake one (as deepface colours them).

Unlike deepface 0.0.103, which freezes its window on one analysed frame for
``time_threshold`` seconds after ``frame_threshold`` consecutive frames with faces, every
frame here is annotated as it goes: the two thresholds are accepted (and validated as
deepface does) but change nothing. deepface also ignores faces at most 130 px wide in its
webcam window; here every detected face is annotated.
"""

import math
import os
import queue
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple, Union

import cv2
import numpy as np
from numpy.typing import NDArray

from deepface.commons.exceptions import (
    DisplayUnavailable,
    EmptyDatasource,
    FaceNotDetected,
    StreamError,
    VideoOutputError,
    VideoSourceError,
)
from deepface.commons.logger import get_logger
from deepface.models.Demography import Demography
from deepface.models.Detector import DetectedFace
from deepface.models.FacialRecognition import FacialRecognition
from deepface.modules import datastore_files, demography, modeling, recognition
from deepface.modules.datastore_files import Representations
from deepface.modules.detection import SKIP, ExtractOptions, detect_usable_faces, facial_area_dict
from deepface.modules.pipeline import ImageResult, map_faces_in_batches
from deepface.modules.representation import RepresentOptions, build_recognition_model, embed_faces
from deepface.modules.verification import find_threshold

logger = get_logger(__name__)

#: The attributes shown for each face (deepface's stream shows these three).
STREAM_ACTIONS = ("age", "gender", "emotion")
#: Analysed frames per batch (and faces per forward pass at most). Frames wait for their
#: batch before they are drawn, so a live camera lags by about this many frames times the
#: stride: use a smaller value (1 to 4) for a live view.
DEFAULT_STREAM_BATCH_SIZE = 8
#: The frame rate written when the source reports none (cameras often report 0).
FALLBACK_FPS = 30.0
#: The codec of the annotated video, as deepface writes it.
FOURCC = "mp4v"
WINDOW_NAME = "deepface"
#: Keys that close the window: q and Esc.
QUIT_KEYS = (ord("q"), 27)
DATASTORE_FORMAT = "npz"

BOX_COLOR = (0, 200, 255)
REAL_COLOR = (0, 200, 0)
SPOOF_COLOR = (0, 0, 255)
LABEL_BACKGROUND = (48, 48, 48)
TEXT_COLOR = (255, 255, 255)
FONT = cv2.FONT_HERSHEY_SIMPLEX
FONT_SCALE = 0.45
LINE_GAP = 4
LABEL_PAD = 3

Box = Tuple[int, int, int, int]
Source = Union[int, str, "os.PathLike[str]"]


# ---------------------------------------------------------------- records


@dataclass(frozen=True)
class StreamOptions:
    """The parameters of one ``stream`` call, validated once."""

    db_path: str = ""
    model_name: str = "VGG-Face"
    detector_backend: str = "opencv"
    distance_metric: str = "cosine"
    enable_face_analysis: bool = True
    source: Source = 0
    time_threshold: int = 5
    frame_threshold: int = 5
    anti_spoofing: bool = False
    output_path: Optional[str] = None
    debug: bool = False
    frame_stride: int = 1
    batch_size: int = DEFAULT_STREAM_BATCH_SIZE
    show: Optional[bool] = None
    progress: Optional[bool] = None

    def __post_init__(self) -> None:
        for name in ("frame_stride", "batch_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, not {value!r}")
        # deepface's own rule: at least 1 (they shape only its freeze display)
        object.__setattr__(self, "time_threshold", max(self.time_threshold, 1))
        object.__setattr__(self, "frame_threshold", max(self.frame_threshold, 1))
        if self.db_path:
            find_threshold(self.model_name, self.distance_metric)  # ValueError for an unknown pair

    @property
    def frames_per_chunk(self) -> int:
        """Frames read per batch: ``batch_size`` analysed frames and those strided over."""
        return self.batch_size * self.frame_stride


@dataclass
class FaceFinding:
    """What is drawn for one face: its box and whatever was learnt about it."""

    box: Box
    confidence: float = 0.0
    age: Optional[int] = None
    gender: Optional[str] = None
    emotion: Optional[str] = None
    identity: Optional[str] = None
    distance: Optional[float] = None
    is_real: Optional[bool] = None  # with anti_spoofing only
    antispoof_score: Optional[float] = None

    def label_lines(self) -> List[str]:
        """The text beside the box: ``spoof`` for a fake face, identity, age and gender, emotion."""
        spoof = "spoof" if self.is_real is False else None
        summary = " ".join(str(value) for value in (self.age, self.gender) if value is not None)
        return [line for line in (spoof, self.identity, summary, self.emotion) if line]

    @property
    def color(self) -> Tuple[int, int, int]:
        """The box's colour: green real, red spoof, orange without anti-spoofing."""
        if self.is_real is None:
            return BOX_COLOR
        return REAL_COLOR if self.is_real else SPOOF_COLOR


@dataclass
class StreamStats:
    """What a run did (``run_stream``'s answer; ``stream`` returns ``None`` as deepface does)."""

    source: str = ""
    fps: float = 0.0
    frame_size: Tuple[int, int] = (0, 0)
    frames_read: int = 0
    frames_analysed: int = 0
    frames_written: int = 0
    batches: int = 0
    faces_found: int = 0
    faces_identified: int = 0
    shown: bool = False
    stopped_by_user: bool = False
    output_path: Optional[str] = None
    seconds: float = 0.0


@dataclass(frozen=True)
class SourceInfo:
    """An opened source: its name, frame rate, frame count (files) and kind."""

    name: str
    fps: float
    frame_count: Optional[int]
    is_camera: bool


#: Called with each analysed frame's index and its findings (tests, custom sinks).
FrameCallback = Callable[[int, List[FaceFinding]], None]


# ---------------------------------------------------------------- public entry points


def stream(
    db_path: str = "",
    model_name: str = "VGG-Face",
    detector_backend: str = "opencv",
    distance_metric: str = "cosine",
    enable_face_analysis: bool = True,
    source: Source = 0,
    time_threshold: int = 5,
    frame_threshold: int = 5,
    anti_spoofing: bool = False,
    output_path: Optional[str] = None,
    debug: bool = False,
    *,
    frame_stride: int = 1,
    batch_size: int = DEFAULT_STREAM_BATCH_SIZE,
    show: Optional[bool] = None,
    progress: Optional[bool] = None,
) -> None:
    """Annotate the faces of a camera or a video file (see ``DeepFace.stream``); ``None``."""
    options = StreamOptions(
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
    run_stream(options)


def analysis(
    db_path: str,
    model_name: str = "VGG-Face",
    detector_backend: str = "opencv",
    distance_metric: str = "cosine",
    enable_face_analysis: bool = True,
    source: Source = 0,
    time_threshold: int = 5,
    frame_threshold: int = 5,
    anti_spoofing: bool = False,
    output_path: Optional[str] = None,
    debug: bool = False,
) -> None:
    """deepface's ``deepface.modules.streaming.analysis``: :func:`stream` with deepface's arguments."""
    stream(
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
    )


def run_stream(options: StreamOptions, on_frame: Optional[FrameCallback] = None) -> StreamStats:
    """Run the stream; its statistics. ``on_frame`` gets each analysed frame's findings.

    The models and the datastore of ``db_path`` are ready before the source is opened
    (as deepface does). The window, when shown, closes on q or Esc.

    Raises:
        VideoSourceError: the source cannot be opened or gives no frame.
        VideoOutputError: ``output_path`` cannot be written (an existing file is left as it was).
        DisplayUnavailable: ``show=True`` where no window can be shown.
    """
    tic = time.time()
    display = Display.resolve(options.show)
    analyser = FrameAnalyser(options)
    capture, info = open_source(options.source)
    stats = StreamStats(source=info.name, fps=info.fps, shown=display.enabled, output_path=options.output_path)
    try:
        with FrameReader(capture, lookahead=options.frames_per_chunk) as frames, display:
            with progress_bar(info, options.progress) as bar, video_output(options.output_path, info.fps) as output:
                _run_chunks(frames, options, analyser, Sinks(output, display, bar, on_frame), stats)
                if stats.frames_read == 0:  # inside: an opened output is removed
                    raise VideoSourceError(f"no frame could be read from {info.name}")
    finally:
        capture.release()
    stats.shown = display.enabled  # False when OpenCV could not show the window after all
    stats.seconds = time.time() - tic
    logger.info(
        "stream %s: %d frames, %d analysed, %d faces (%d identified) in %.1f s",
        info.name, stats.frames_read, stats.frames_analysed, stats.faces_found, stats.faces_identified, stats.seconds,
    )
    return stats


# ---------------------------------------------------------------- the frame loop


@dataclass
class Sinks:
    """Where each annotated frame goes."""

    output: "VideoOutput"
    display: "Display"
    progress: Any
    on_frame: Optional[FrameCallback]


def _run_chunks(
    frames: Iterable[NDArray[Any]], options: StreamOptions, analyser: "FrameAnalyser", sinks: Sinks, stats: StreamStats
) -> None:
    latest: List[FaceFinding] = []
    for chunk in frame_chunks(frames, options.frames_per_chunk):
        sinks.output.open_for(chunk[0][1])  # fails before any analysis when it cannot write
        kept = [(index, frame) for index, frame in chunk if index % options.frame_stride == 0]
        findings = dict(zip([index for index, _ in kept], analyser.analyse([frame for _, frame in kept])))
        stats.batches += 1
        for index, frame in chunk:
            if index in findings:
                latest = findings[index]
                _count_analysed(index, latest, options, sinks, stats)
            if not _emit(frame, latest, sinks, stats):
                stats.stopped_by_user = True
                return


def frame_chunks(frames: Iterable[NDArray[Any]], size: int) -> Iterator[List[Tuple[int, NDArray[Any]]]]:
    """``(index, frame)`` pairs in lists of ``size`` (the last may be shorter)."""
    chunk: List[Tuple[int, NDArray[Any]]] = []
    for index, frame in enumerate(frames):
        chunk.append((index, frame))
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _count_analysed(
    index: int, findings: List[FaceFinding], options: StreamOptions, sinks: Sinks, stats: StreamStats
) -> None:
    stats.frames_analysed += 1
    stats.faces_found += len(findings)
    stats.faces_identified += sum(finding.identity is not None for finding in findings)
    if options.debug:
        logger.info("frame %d: %s", index, findings)
    if sinks.on_frame is not None:
        sinks.on_frame(index, findings)


def _emit(frame: NDArray[Any], findings: List[FaceFinding], sinks: Sinks, stats: StreamStats) -> bool:
    """Draw, write and show one frame; ``False`` when the viewer asked to stop."""
    stats.frames_read += 1
    stats.frame_size = (frame.shape[1], frame.shape[0])
    annotated = annotate(frame, findings)  # the chunk's analysis is done: drawn in place
    if sinks.output.write(annotated):
        stats.frames_written += 1
    sinks.progress.update(1)
    return sinks.display.show(annotated)


# ---------------------------------------------------------------- analysis of a batch of frames


class FrameAnalyser:
    """Detects, analyses and identifies the faces of many frames at once."""

    def __init__(self, options: StreamOptions) -> None:
        self.extract = ExtractOptions(
            detector_backend=options.detector_backend,
            enforce_detection=True,  # a faceless frame has no findings, not a whole-frame face
            anti_spoofing=options.anti_spoofing,
            batch_size=options.batch_size,
        )
        if options.detector_backend != SKIP:  # an unknown name or missing weights fail now
            modeling.build_model(task="face_detector", model_name=options.detector_backend)
        if options.anti_spoofing:
            modeling.build_model(task="spoofing", model_name="Fasnet")
        self.attribute_models: List[Demography] = (
            [demography.build_attribute_model(action) for action in STREAM_ACTIONS]
            if options.enable_face_analysis
            else []
        )
        self.search = FaceSearch.load(options) if options.db_path else None

    def analyse(self, frames: Sequence[NDArray[Any]]) -> List[List[FaceFinding]]:
        """The findings of each frame, in order (none for a frame without faces)."""
        if not frames:
            return []
        detected = detect_usable_faces(frames, self.extract)
        described = map_faces_in_batches(detected, self._describe, self.extract.batch_size)
        return [_findings(result) for result in described]

    def _describe(self, faces: List[DetectedFace]) -> List["FaceFacts"]:
        attributes = (
            demography.analyze_faces(self.attribute_models, faces) if self.attribute_models else [[] for _ in faces]
        )
        matches = self.search.identify(faces) if self.search is not None else [None] * len(faces)
        return [FaceFacts(merge_attributes(entries), match) for entries, match in zip(attributes, matches)]


@dataclass(frozen=True)
class Match:
    """The closest stored face: its label and distance."""

    label: str
    distance: float


@dataclass(frozen=True)
class FaceFacts:
    """The model stage's output for one face."""

    attributes: Dict[str, Any]
    match: Optional[Match]


def merge_attributes(entries: Sequence[Dict[str, Any]]) -> Dict[str, Any]:
    merged: Dict[str, Any] = {}
    for entry in entries:
        merged.update(entry)
    return merged


def _findings(result: ImageResult) -> List[FaceFinding]:
    if result.error is not None:
        if not isinstance(result.error, FaceNotDetected):
            logger.warning("frame %d not analysed: %s", result.index, result.error)
        return []
    height, width = result.shape[:2]
    return [_finding(face, facts, width, height) for face, facts in zip(result.faces, result.outputs)]


def _finding(face: DetectedFace, facts: FaceFacts, width: int, height: int) -> FaceFinding:
    area = facial_area_dict(face.facial_area, width, height)
    attributes = facts.attributes
    age = attributes.get("age")
    return FaceFinding(
        box=(area["x"], area["y"], area["w"], area["h"]),
        confidence=float(face.facial_area.confidence or 0),
        age=None if age is None else int(age),
        gender=attributes.get("dominant_gender"),
        emotion=attributes.get("dominant_emotion"),
        identity=None if facts.match is None else facts.match.label,
        distance=None if facts.match is None else facts.match.distance,
        is_real=face.is_real,
        antispoof_score=face.antispoof_score,
    )


# ---------------------------------------------------------------- search in db_path


@dataclass
class FaceSearch:
    """The faces of ``db_path``, searched for the closest identity of many faces at once."""

    model: FacialRecognition
    represent: RepresentOptions
    gallery: Representations
    labels: List[str]
    metric: str
    threshold: float

    @classmethod
    def load(cls, options: StreamOptions) -> Optional["FaceSearch"]:
        """The folder's datastore, brought up to date (the file ``find`` uses with these
        settings); ``None``, with a warning, when the folder holds no image."""
        represent = RepresentOptions(
            model_name=options.model_name,
            detector_backend=options.detector_backend,
            batch_size=options.batch_size,
        )
        model = build_recognition_model(options.model_name)
        folder = recognition.local_folder(options.db_path)
        name = datastore_files.datastore_file_name(
            options.model_name, options.detector_backend, True, "base", 0, DATASTORE_FORMAT
        )
        try:
            gallery = recognition.sync_datastore(
                folder,
                os.path.join(folder, name),
                DATASTORE_FORMAT,
                embed=recognition.pipeline_embedder(represent),
                silent=True,
            )
        except EmptyDatasource:
            logger.warning("no image in %s: faces are not identified", folder)
            return None
        labels = [identity_label(identity, folder) for identity in gallery.identities]
        threshold = find_threshold(options.model_name, options.distance_metric)
        return cls(model, represent, gallery, labels, options.distance_metric, threshold)

    def identify(self, faces: Sequence[DetectedFace]) -> List[Optional[Match]]:
        """Each face's closest stored face within the threshold, or ``None``: one forward
        pass and one distance matrix for all ``faces``."""
        vectors = [embedded.vector for embedded in embed_faces(self.model, faces, self.represent)]
        queries = np.asarray(vectors, dtype=np.float64)
        valid = np.flatnonzero(self.gallery.has_embedding)
        distances = recognition.distance_matrix(self.gallery, valid, queries, self.metric)
        return [self._closest(row) for row in distances]

    def _closest(self, distances: NDArray[np.float64]) -> Optional[Match]:
        if distances.size == 0:
            return None
        best = int(np.argmin(distances))
        distance = float(distances[best])
        return Match(self.labels[best], distance) if distance <= self.threshold else None


def identity_label(identity: str, folder: str) -> str:
    """The name shown for a stored image: its folder below ``folder`` (``db/alice/1.jpg``
    -> ``alice``), or its file name's stem for an image directly in it (``db/bob.jpg`` -> ``bob``)."""
    relative = Path(os.path.relpath(identity, folder))
    return relative.parts[0] if len(relative.parts) > 1 else relative.stem


# ---------------------------------------------------------------- the overlay


def annotate(frame: NDArray[Any], findings: Sequence[FaceFinding]) -> NDArray[Any]:
    """Draw each face's box and label on ``frame`` (in place); ``frame``."""
    for finding in findings:
        draw_face(frame, finding)
    return frame


def draw_face(img: NDArray[Any], finding: FaceFinding) -> None:
    x, y, w, h = finding.box
    cv2.rectangle(img, (x, y), (x + w, y + h), finding.color, 2)
    lines = finding.label_lines()
    if lines:
        draw_label(img, lines, finding.box)


def draw_label(img: NDArray[Any], lines: Sequence[str], box: Box) -> None:
    """Lines of text on a dark block touching the box: above it where there is room,
    else below it, else inside its top."""
    x, y, w, h = box
    sizes = [cv2.getTextSize(line, FONT, FONT_SCALE, 1) for line in lines]
    line_height = max(size[1] + baseline for size, baseline in sizes) + LINE_GAP
    block_w = max(size[0] for size, _ in sizes) + 2 * LABEL_PAD
    block_h = line_height * len(lines) + LABEL_PAD
    top = label_top(y, h, block_h, img.shape[0])
    left = max(0, min(x, img.shape[1] - block_w))
    cv2.rectangle(img, (left, top), (left + block_w, top + block_h), LABEL_BACKGROUND, cv2.FILLED)
    for k, line in enumerate(lines):
        baseline_y = top + (k + 1) * line_height - LINE_GAP // 2
        cv2.putText(img, line, (left + LABEL_PAD, baseline_y), FONT, FONT_SCALE, TEXT_COLOR, 1, cv2.LINE_AA)


def label_top(y: int, h: int, block_h: int, image_height: int) -> int:
    if y - block_h >= 0:
        return y - block_h
    if y + h + block_h <= image_height:
        return y + h
    return max(0, y)


# ---------------------------------------------------------------- the source


def open_source(source: Source) -> Tuple[Any, SourceInfo]:
    """An opened ``cv2.VideoCapture`` and what it is.

    ``source`` is a camera index (an int, or a string of digits naming no file), a stream
    URL (``rtsp://...``) or a video file.
    """
    index = camera_index(source)
    if index is not None:
        capture, name = cv2.VideoCapture(index), f"camera {index}"
    else:
        name = os.fspath(source)
        if "://" not in name and not os.path.isfile(name):
            raise VideoSourceError(f"no such video file: {name}")
        capture = cv2.VideoCapture(name)
    if not capture.isOpened():
        capture.release()
        raise VideoSourceError(f"cannot open video source {name}")
    count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
    info = SourceInfo(
        name=name,
        fps=usable_fps(capture.get(cv2.CAP_PROP_FPS)),
        frame_count=count if index is None and count > 0 else None,
        is_camera=index is not None,
    )
    return capture, info


def camera_index(source: Source) -> Optional[int]:
    if isinstance(source, bool):
        raise VideoSourceError(f"source must be a camera index, a URL or a video file, not {source!r}")
    if isinstance(source, int):
        return source
    text = os.fspath(source)
    if text.isdigit() and not os.path.exists(text):
        return int(text)
    return None


def usable_fps(reported: float) -> float:
    if reported and math.isfinite(reported) and reported > 0:
        return float(reported)
    logger.info("the source reports no frame rate; writing %s fps", FALLBACK_FPS)
    return FALLBACK_FPS


_END = object()


@dataclass
class _ReadFailure:
    error: BaseException


class FrameReader:
    """Reads frames in a background thread, at most ``lookahead`` ahead of the consumer
    (``cv2.VideoCapture.read`` releases the GIL: decoding overlaps the analysis)."""

    def __init__(self, capture: Any, lookahead: int) -> None:
        self._capture = capture
        self._queue: "queue.Queue[Any]" = queue.Queue(maxsize=max(1, lookahead))
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._read, name="deepface-stream-reader", daemon=True)

    def __enter__(self) -> "FrameReader":
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join()

    def __iter__(self) -> Iterator[NDArray[Any]]:
        while True:
            item = self._queue.get()
            if item is _END:
                return
            if isinstance(item, _ReadFailure):
                raise item.error
            yield item

    def _read(self) -> None:
        try:
            while not self._stop.is_set():
                has_frame, frame = self._capture.read()
                if not has_frame:
                    break
                self._put(frame)
        except BaseException as error:  # noqa: BLE001  (handed to the consumer, raised there)
            self._put(_ReadFailure(error))
        self._put(_END)

    def _put(self, item: Any) -> None:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.05)
                return
            except queue.Full:
                continue


# ---------------------------------------------------------------- the window


class Display:
    """The window, or nothing when headless (then ``show`` never blocks)."""

    def __init__(self, enabled: bool, required: bool = False) -> None:
        self.enabled = enabled
        self.required = required

    @classmethod
    def resolve(cls, show: Optional[bool]) -> "Display":
        """``show=True``: a window, or :class:`DisplayUnavailable`; ``False``: none;
        ``None``: a window where OpenCV has a GUI backend and there is a display."""
        if show is False:
            return cls(False)
        problem = why_no_window()
        if show and problem:
            raise DisplayUnavailable(f"show=True, but {problem}")
        if problem:
            logger.info("no window: %s", problem)
        return cls(not problem, required=bool(show))

    def show(self, frame: NDArray[Any]) -> bool:
        """Show ``frame``; ``False`` when the viewer pressed q or Esc."""
        if not self.enabled:
            return True
        try:
            cv2.imshow(WINDOW_NAME, frame)
            key = cv2.waitKey(1) & 0xFF
        except cv2.error as error:
            if self.required:
                raise DisplayUnavailable(f"show=True, but OpenCV cannot show a window: {error}") from error
            logger.info("no window (OpenCV cannot show one): %s", error)
            self.enabled = False
            return True
        return key not in QUIT_KEYS

    def __enter__(self) -> "Display":
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.enabled:
            try:
                cv2.destroyWindow(WINDOW_NAME)
            except cv2.error:
                pass


def why_no_window() -> Optional[str]:
    """Why no window can be shown here (``None`` when one can)."""
    if not opencv_has_gui():
        return "this OpenCV build has no GUI backend (a -headless package; pip install opencv-contrib-python)"
    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        return "there is no display (DISPLAY is not set)"
    return None


def opencv_has_gui() -> bool:
    """Whether OpenCV was built with a GUI backend (``GUI: NONE`` in its build information)."""
    for line in cv2.getBuildInformation().splitlines():
        name, _, value = line.strip().partition(":")
        if name == "GUI":
            return value.strip().upper() != "NONE"
    return True  # not reported: let cv2.imshow tell


# ---------------------------------------------------------------- progress and output


@contextmanager
def progress_bar(info: SourceInfo, enabled: Optional[bool]) -> Iterator[Any]:
    """A tqdm bar on stderr; by default for files only (a camera has no end)."""
    from tqdm import tqdm

    show = (not info.is_camera) if enabled is None else enabled
    with tqdm(total=info.frame_count, unit="frame", file=sys.stderr, disable=not show, desc="stream") as bar:
        yield bar


class VideoOutput:
    """Annotated frames into a temporary file beside ``path`` (same name's extension, so
    OpenCV picks the same container), renamed over ``path`` when the run ends; removed,
    ``path`` untouched, when it breaks off. ``path=None`` writes nothing."""

    def __init__(self, path: Optional[str], fps: float) -> None:
        self.path = path
        self.fps = fps
        self.temp: Optional[str] = None
        self.size: Optional[Tuple[int, int]] = None
        self._writer: Any = None

    def open_for(self, frame: NDArray[Any]) -> None:
        """Open the writer for frames like ``frame`` (once; nothing without a path)."""
        if self.path is None or self._writer is not None:
            return
        folder = os.path.dirname(os.path.abspath(self.path))
        os.makedirs(folder, exist_ok=True)  # as deepface does
        stem, extension = os.path.splitext(os.path.basename(self.path))
        handle, self.temp = tempfile.mkstemp(prefix=f".{stem}.", suffix=f".part{extension}", dir=folder)
        os.close(handle)
        self.size = (frame.shape[1], frame.shape[0])
        self._writer = cv2.VideoWriter(self.temp, cv2.VideoWriter_fourcc(*FOURCC), self.fps, self.size)
        if not self._writer.isOpened():
            raise VideoOutputError(
                f"OpenCV cannot write {FOURCC} video to {self.path} (a name ending in .mp4 works)"
            )

    def write(self, frame: NDArray[Any]) -> bool:
        """Append ``frame`` (resized to the video's size if it differs); whether written."""
        if self.path is None:
            return False
        self.open_for(frame)
        if (frame.shape[1], frame.shape[0]) != self.size:
            frame = cv2.resize(frame, self.size)
        self._writer.write(frame)
        return True

    def commit(self) -> None:
        if self._writer is None:
            return
        self._writer.release()
        with open(self.temp, "rb") as handle:  # type: ignore[arg-type]
            os.fsync(handle.fileno())
        os.replace(self.temp, self.path)  # type: ignore[arg-type]
        self.temp = None

    def abort(self) -> None:
        if self._writer is not None:
            self._writer.release()
        if self.temp is not None and os.path.exists(self.temp):
            os.remove(self.temp)
        self.temp = None


@contextmanager
def video_output(path: Optional[str], fps: float) -> Iterator[VideoOutput]:
    output = VideoOutput(path, fps)
    try:
        yield output
    except BaseException:
        output.abort()
        raise
    output.commit()


__all__ = [
    "DEFAULT_STREAM_BATCH_SIZE",
    "DisplayUnavailable",
    "FaceFinding",
    "StreamError",
    "StreamOptions",
    "StreamStats",
    "VideoOutputError",
    "VideoSourceError",
    "analysis",
    "annotate",
    "run_stream",
    "stream",
]
