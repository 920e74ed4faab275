"""The per-batch run loop: frames from the source in chunks, the chunk's analysed frames
through the model stage at once, then every frame drawn and handed to the sinks."""

import time
from dataclasses import dataclass
from typing import Any, Callable, Iterable, List, Optional

from numpy.typing import NDArray

from deepface.commons.exceptions import VideoSourceError
from deepface.commons.logger import get_logger
from deepface.modules.streaming.analyser import FrameAnalyser
from deepface.modules.streaming.annotator import FaceFinding, annotate
from deepface.modules.streaming.options import DEFAULT_STREAM_BATCH_SIZE, Source, StreamOptions, StreamStats
from deepface.modules.streaming.sinks import Display, VideoOutput, progress_bar, video_output
from deepface.modules.streaming.sources import FrameReader, frame_chunks, open_source

logger = get_logger(__name__)

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

    output: VideoOutput
    display: Display
    progress: Any
    on_frame: Optional[FrameCallback]


def _run_chunks(
    frames: Iterable[NDArray[Any]], options: StreamOptions, analyser: FrameAnalyser, sinks: Sinks, stats: StreamStats
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
