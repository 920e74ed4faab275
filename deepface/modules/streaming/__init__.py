"""``stream``: face analysis and search over the frames of a video file or a camera, in batches.

    frames --read ahead in a thread--> chunks of frames --detector--> faces of many frames
           --attribute models and the recognition model, over all of them at once-->
           findings per analysed frame --drawn on every frame--> video file / window

One job a module, each importing only those listed before it:

- :mod:`.options`: what a run is asked (``StreamOptions``) and what it did (``StreamStats``);
- :mod:`.sources`: the camera or file, read ahead by a thread, handed on in chunks;
- :mod:`.annotator`: each face's box and label drawn on a frame (``FaceFinding``);
- :mod:`.sinks`: the window (or none, headless), the progress bar, the video file;
- :mod:`.analyser`: the model stage of a batch of frames, and the search in ``db_path``;
- :mod:`.runner`: the per-batch run loop (``stream``, ``analysis``, ``run_stream``);
- :mod:`.compat`: deepface 0.0.103's helper functions of this module, as adapters.

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

Patch a function where it is defined (``streaming.sinks.why_no_window``), not here: the
names below are re-exported for callers.
"""

from deepface.commons.exceptions import DisplayUnavailable, StreamError, VideoOutputError, VideoSourceError
from deepface.modules.streaming import analyser, annotator, compat, options, runner, sinks, sources
from deepface.modules.streaming.analyser import FaceFacts, FaceSearch, FrameAnalyser, Match, identity_label, merge_attributes
from deepface.modules.streaming.annotator import (
    BOX_COLOR,
    FONT,
    FONT_SCALE,
    LABEL_BACKGROUND,
    LABEL_PAD,
    LINE_GAP,
    REAL_COLOR,
    SPOOF_COLOR,
    TEXT_COLOR,
    Box,
    FaceFinding,
    annotate,
    draw_face,
    draw_label,
    label_top,
)
from deepface.modules.streaming.compat import (
    IDENTIFIED_IMG_SIZE,
    build_demography_models,
    build_facial_recognition_model,
    countdown_to_freeze,
    countdown_to_release,
    extract_facial_areas,
    grab_facial_areas,
    highlight_facial_areas,
    overlay_age_gender,
    overlay_emotion,
    overlay_identified_face,
    perform_demography_analysis,
    perform_facial_recognition,
    search_identity,
)
from deepface.modules.streaming.options import (
    DATASTORE_FORMAT,
    DEFAULT_STREAM_BATCH_SIZE,
    STREAM_ACTIONS,
    Source,
    StreamOptions,
    StreamStats,
)
from deepface.modules.streaming.runner import FrameCallback, Sinks, analysis, run_stream, stream
from deepface.modules.streaming.sinks import (
    FOURCC,
    QUIT_KEYS,
    WINDOW_NAME,
    Display,
    VideoOutput,
    opencv_has_gui,
    progress_bar,
    video_output,
    why_no_window,
)
from deepface.modules.streaming.sources import (
    FALLBACK_FPS,
    FrameReader,
    SourceInfo,
    camera_index,
    frame_chunks,
    open_source,
    usable_fps,
)

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
    # deepface 0.0.103's helpers (see .compat)
    "build_demography_models",
    "build_facial_recognition_model",
    "countdown_to_freeze",
    "countdown_to_release",
    "extract_facial_areas",
    "grab_facial_areas",
    "highlight_facial_areas",
    "overlay_age_gender",
    "overlay_emotion",
    "overlay_identified_face",
    "perform_demography_analysis",
    "perform_facial_recognition",
    "search_identity",
]
