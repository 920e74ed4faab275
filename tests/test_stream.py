"""``stream``: every frame of a video annotated where its faces are, faces analysed and
identified in batches of frames, ``frame_stride`` analysing fewer frames, output written
whole or not at all, and a headless run that never opens (or waits on) a window."""

import ast
import inspect
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple

import cv2
import numpy as np
import pytest

from deepface import DeepFace
from deepface.modules import modeling, streaming
from deepface.modules.streaming import (
    DisplayUnavailable,
    FaceFinding,
    StreamOptions,
    StreamStats,
    VideoOutputError,
    VideoSourceError,
    run_stream,
)
from tests.conftest import resize_to_width, shared_faces_or_skip
from tests.helpers.demography_weights import rescaled_demography_home
from tests.helpers.oracle import oracle_or_skip, run_oracle_script

FPS = 10
WIDTH, HEIGHT = 320, 240
#: The attribute models ``stream`` runs (deepface's model names).
STREAM_MODELS = ("Age", "Gender", "Emotion")
#: A pixel whose channels moved by more than this was drawn on (the video codec moves
#: the others by less).
DRAWN = 64
#: How far the label block may reach above or below a face's box.
LABEL_REACH = 60


# ---------------------------------------------------------------- helpers


def attribute_models_home(weights_home: Path) -> Path:
    """The run's DEEPFACE_HOME with the attribute models' rescaled random weights, and the
    models built from it into the registry."""
    oracle_or_skip()
    home = rescaled_demography_home(weights_home)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DEEPFACE_HOME", str(home))
        for name in STREAM_MODELS:
            modeling.forget("facial_attribute", name)
            modeling.build_model("facial_attribute", name)
    return home


def forget_attribute_models() -> None:
    for name in STREAM_MODELS:
        modeling.forget("facial_attribute", name)


def fit_frame(img: np.ndarray) -> np.ndarray:
    """``img`` scaled to fit a WIDTH x HEIGHT black frame, centred."""
    scale = min(WIDTH / img.shape[1], HEIGHT / img.shape[0])
    small = cv2.resize(img, (int(img.shape[1] * scale), int(img.shape[0] * scale)), interpolation=cv2.INTER_AREA)
    frame = np.zeros((HEIGHT, WIDTH, 3), np.uint8)
    top, left = (HEIGHT - small.shape[0]) // 2, (WIDTH - small.shape[1]) // 2
    frame[top : top + small.shape[0], left : left + small.shape[1]] = small
    return frame


def write_video(path: Path, frames: Sequence[np.ndarray], fps: int = FPS) -> Path:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (WIDTH, HEIGHT))
    assert writer.isOpened()
    for frame in frames:
        writer.write(frame)
    writer.release()
    return path


def read_video(path: Path) -> List[np.ndarray]:
    capture = cv2.VideoCapture(str(path))
    frames = []
    while True:
        has_frame, frame = capture.read()
        if not has_frame:
            break
        frames.append(frame)
    capture.release()
    return frames


def video_fps(path: Path) -> float:
    capture = cv2.VideoCapture(str(path))
    fps = capture.get(cv2.CAP_PROP_FPS)
    capture.release()
    return fps


def leftovers(folder: Path) -> List[str]:
    return [p.name for p in folder.iterdir() if ".part" in p.name]


def boxes_of(findings: List[FaceFinding]) -> List[Tuple[int, int, int, int]]:
    return sorted(finding.box for finding in findings)


def drawn_mask(annotated: np.ndarray, original: np.ndarray) -> np.ndarray:
    return np.abs(annotated.astype(np.int16) - original.astype(np.int16)).max(axis=2) > DRAWN


def near_boxes(boxes: Sequence[Tuple[int, int, int, int]], shape: Tuple[int, ...]) -> np.ndarray:
    """The pixels of each box, a few pixels around it, and the label's reach above and below."""
    mask = np.zeros(shape[:2], bool)
    for x, y, w, h in boxes:
        mask[max(0, y - LABEL_REACH) : y + h + LABEL_REACH, max(0, x - 8) : x + w + 8] = True
    return mask


@dataclass
class Run:
    stats: StreamStats
    findings: Dict[int, List[FaceFinding]]
    output: Path


def run(options: StreamOptions) -> Run:
    findings: Dict[int, List[FaceFinding]] = {}
    stats = run_stream(options, on_frame=lambda index, found: findings.__setitem__(index, found))
    return Run(stats, findings, Path(options.output_path) if options.output_path else Path())


def quick(source: Path, output: Optional[Path], **options: Any) -> StreamOptions:
    """Options of a fast run: no attributes, no progress bar, no window."""
    defaults: Dict[str, Any] = {"enable_face_analysis": False, "progress": False, "show": False}
    target = None if output is None else str(output)
    return StreamOptions(source=str(source), output_path=target, **{**defaults, **options})


# ---------------------------------------------------------------- videos


@dataclass
class Clip:
    path: Path
    frames: List[np.ndarray]  # as decoded from the file: what stream reads
    switch: int  # the first frame of the second person


@pytest.fixture(scope="module")
def photo_clip(face_photos: Dict[str, np.ndarray], tmp_path_factory: pytest.TempPathFactory) -> Clip:
    """Two seconds at 10 fps: one person's photo for a second, then another's."""
    first, second = fit_frame(face_photos["img1.jpg"]), fit_frame(face_photos["img3.jpg"])
    path = write_video(tmp_path_factory.mktemp("clip") / "people.mp4", [first] * 10 + [second] * 10)
    return Clip(path, read_video(path), switch=10)


@pytest.fixture(scope="module")
def photo_db(face_photos: Dict[str, np.ndarray], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three people: another photo of the first in a folder of their own, the second's photo
    as a file, and someone else."""
    db = tmp_path_factory.mktemp("people")
    (db / "angelina").mkdir()
    other = cv2.imread(str(shared_faces_or_skip() / "img8.jpg"))
    for name, img in [("angelina/img2.jpg", face_photos["img2.jpg"]), ("img3.jpg", face_photos["img3.jpg"]),
                      ("img8.jpg", other)]:
        cv2.imwrite(str(db / name), resize_to_width(img, 400))
    return db


def pattern(seed: int) -> np.ndarray:
    """A face-free frame of large coloured blocks (survives the video codec)."""
    rng = np.random.default_rng(seed)
    blocks = rng.integers(0, 256, (6, 8, 3), dtype=np.uint8)
    return cv2.resize(blocks, (WIDTH, HEIGHT), interpolation=cv2.INTER_NEAREST)


@pytest.fixture(scope="module")
def synthetic_clip(tmp_path_factory: pytest.TempPathFactory) -> Clip:
    """Twelve face-free frames (no photos needed): one pattern, then another."""
    path = write_video(tmp_path_factory.mktemp("synthetic") / "blocks.mp4", [pattern(1)] * 6 + [pattern(2)] * 6)
    return Clip(path, read_video(path), switch=6)


# ---------------------------------------------------------------- a run over photos, with search


@pytest.fixture(scope="module")
def searched(photo_clip: Clip, photo_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Run:
    output = tmp_path_factory.mktemp("searched") / "annotated.mp4"
    return run(quick(photo_clip.path, output, db_path=str(photo_db), model_name="Dlib", batch_size=4))


def test_every_frame_is_written_at_the_source_s_size_and_rate(searched: Run, photo_clip: Clip) -> None:
    frames = read_video(searched.output)
    assert len(frames) == len(photo_clip.frames) == 20
    assert all(frame.shape == (HEIGHT, WIDTH, 3) for frame in frames)
    assert video_fps(searched.output) == pytest.approx(FPS)
    stats = searched.stats
    assert (stats.frames_read, stats.frames_analysed, stats.frames_written) == (20, 20, 20)
    assert stats.batches == 5 and stats.frame_size == (WIDTH, HEIGHT) and not stats.shown
    assert leftovers(searched.output.parent) == []


def test_faces_are_identified_by_folder_or_file_stem(searched: Run, photo_clip: Clip, photo_db: Path) -> None:
    identities = [[finding.identity for finding in searched.findings[index]] for index in range(20)]
    assert identities == [["angelina"]] * photo_clip.switch + [["img3"]] * (20 - photo_clip.switch)
    assert searched.stats.faces_identified == searched.stats.faces_found == 20
    assert list(photo_db.glob("ds_model_dlib_detector_opencv_*.npz")), "the datastore find uses is kept"


def test_overlays_are_drawn_where_the_faces_are(searched: Run, photo_clip: Clip) -> None:
    annotated = read_video(searched.output)
    for index in (0, photo_clip.switch, 19):
        original = photo_clip.frames[index]
        faces = DeepFace.extract_faces(original, detector_backend="opencv")
        boxes = sorted((f["facial_area"]["x"], f["facial_area"]["y"], f["facial_area"]["w"], f["facial_area"]["h"])
                       for f in faces)
        assert boxes_of(searched.findings[index]) == boxes
        drawn = drawn_mask(annotated[index], original)
        assert drawn.sum() > 300, f"frame {index}: nothing drawn"
        inside = drawn[near_boxes(boxes, original.shape)].sum() / drawn.sum()
        assert inside > 0.95, f"frame {index}: {inside:.1%} of the drawn pixels near the faces"
        for x, y, w, h in boxes:  # the box itself: most of its edges are drawn
            edges = np.concatenate(
                [drawn[y, x : x + w], drawn[y + h, x : x + w], drawn[y : y + h, x], drawn[y : y + h, x + w]]
            )
            assert edges.mean() > 0.5, f"frame {index}: box {x, y, w, h} not drawn"


# ---------------------------------------------------------------- attributes


@pytest.fixture(scope="module")
def attribute_models(weights_home: Path) -> Iterator[Path]:
    yield attribute_models_home(weights_home)
    forget_attribute_models()


def test_attributes_are_analyze_s_and_stride_analyses_every_nth_frame(
    attribute_models: Path, photo_clip: Clip, tmp_path: Path
) -> None:
    output = tmp_path / "analysed.mp4"
    analysed = run(quick(photo_clip.path, output, enable_face_analysis=True, frame_stride=5, batch_size=4))

    assert sorted(analysed.findings) == [0, 5, 10, 15]
    assert (analysed.stats.frames_analysed, analysed.stats.frames_written, analysed.stats.batches) == (4, 20, 1)
    assert len(read_video(output)) == 20
    for index in (0, photo_clip.switch):
        expected = DeepFace.analyze(photo_clip.frames[index], actions=("age", "gender", "emotion"))
        got = analysed.findings[index]
        assert len(got) == len(expected) >= 1
        for finding, face in zip(sorted(got, key=lambda f: f.box), sorted(expected, key=lambda f: f["region"]["x"])):
            assert (finding.age, finding.gender, finding.emotion) == (
                face["age"], face["dominant_gender"], face["dominant_emotion"]
            )
            assert finding.label_lines() == [f"{face['age']} {face['dominant_gender']}", face["dominant_emotion"]]


# ---------------------------------------------------------------- anti-spoofing


@pytest.fixture(scope="module")
def fasnet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Random Fasnet weights written by deepface's own code, the model built from them."""
    oracle_or_skip()
    home = tmp_path_factory.mktemp("stream-fasnet")
    run_oracle_script("write_random_fasnet.py", [], home)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DEEPFACE_HOME", str(home))
        modeling.forget("spoofing", "Fasnet")
        modeling.build_model("spoofing", "Fasnet")
    yield home
    modeling.forget("spoofing", "Fasnet")


def test_anti_spoofing_colours_each_box_by_its_verdict(fasnet: Path, photo_clip: Clip, tmp_path: Path) -> None:
    output = tmp_path / "spoofing.mp4"
    checked = run(quick(photo_clip.path, output, anti_spoofing=True, frame_stride=10, batch_size=2))

    annotated = read_video(output)
    colours = {True: streaming.REAL_COLOR, False: streaming.SPOOF_COLOR}
    for index in (0, photo_clip.switch):
        expected = DeepFace.extract_faces(photo_clip.frames[index], anti_spoofing=True)
        got = sorted(checked.findings[index], key=lambda finding: finding.box)
        by_place = sorted(expected, key=lambda face: (face["facial_area"]["x"], face["facial_area"]["y"]))
        assert [finding.is_real for finding in got] == [face["is_real"] for face in by_place]
        for finding in got:
            x, y, w, h = finding.box
            left_edge = annotated[index][y + 5 : y + h - 5, x].astype(float).mean(axis=0)
            nearest = min(colours, key=lambda verdict: np.abs(left_edge - colours[verdict]).sum())
            assert nearest == finding.is_real, f"frame {index}: box colour {left_edge} for is_real={finding.is_real}"
            assert ("spoof" in finding.label_lines()) == (not finding.is_real)


# ---------------------------------------------------------------- synthetic frames (no photos needed)


def test_stride_writes_every_frame_and_faceless_frames_are_left_as_they_are(
    synthetic_clip: Clip, tmp_path: Path
) -> None:
    for stride, analysed in [(1, 12), (4, 3), (5, 3), (20, 1)]:
        output = tmp_path / f"stride{stride}.mp4"
        stats = run(quick(synthetic_clip.path, output, frame_stride=stride, batch_size=2)).stats
        assert (stats.frames_read, stats.frames_written, stats.frames_analysed) == (12, 12, analysed)
        assert stats.faces_found == 0
        frames = read_video(output)
        assert len(frames) == 12
        for original, annotated in zip(synthetic_clip.frames, frames):
            assert not drawn_mask(annotated, original).any()


def test_whole_frames_are_identified_with_the_skip_detector(synthetic_clip: Clip, tmp_path: Path) -> None:
    db = tmp_path / "patterns"
    db.mkdir()
    cv2.imwrite(str(db / "first.png"), pattern(1))
    cv2.imwrite(str(db / "second.png"), pattern(2))
    output = tmp_path / "identified.mp4"

    found = run(quick(synthetic_clip.path, output, detector_backend="skip", db_path=str(db), model_name="Dlib",
                      distance_metric="euclidean_l2", batch_size=4))

    names = [[finding.identity for finding in found.findings[index]] for index in range(12)]
    assert names == [["first"]] * 6 + [["second"]] * 6
    assert all(found.findings[index][0].box[:2] == (0, 0) for index in range(12))
    annotated = read_video(output)
    assert drawn_mask(annotated[0], synthetic_clip.frames[0])[:40].any()  # the label, inside the frame's top


# ---------------------------------------------------------------- the window: headless runs never block


@pytest.fixture
def no_window(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if a window is opened or waited on."""
    monkeypatch.setattr(cv2, "imshow", lambda *a: pytest.fail("cv2.imshow called in a headless run"))
    monkeypatch.setattr(cv2, "waitKey", lambda *a: pytest.fail("cv2.waitKey called in a headless run"))


@pytest.mark.parametrize("gui", [False, True], ids=["headless-opencv", "gui-opencv"])
def test_no_display_means_no_window(
    synthetic_clip: Clip, tmp_path: Path, no_window: None, gui: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setattr(streaming.sinks, "opencv_has_gui", lambda: gui)
    for show in (None, False):
        stats = run(quick(synthetic_clip.path, tmp_path / "out.mp4", show=show)).stats
        assert stats.frames_written == 12 and not stats.shown


def test_a_window_that_cannot_open_falls_back_to_headless(
    synthetic_clip: Clip, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = []

    def refuse(*args: Any) -> None:
        calls.append(args[0])
        raise cv2.error("The function is not implemented")

    monkeypatch.setattr(streaming.sinks, "why_no_window", lambda: None)
    monkeypatch.setattr(cv2, "imshow", refuse)
    stats = run(quick(synthetic_clip.path, tmp_path / "out.mp4", show=None)).stats
    assert stats.frames_written == 12 and not stats.shown and len(calls) == 1


def test_show_true_displays_every_frame_and_q_stops(
    synthetic_clip: Clip, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shown: List[np.ndarray] = []
    monkeypatch.setattr(streaming.sinks, "why_no_window", lambda: None)
    monkeypatch.setattr(cv2, "imshow", lambda name, frame: shown.append(frame.copy()))
    monkeypatch.setattr(cv2, "waitKey", lambda delay: ord("q") if len(shown) == 4 else -1)
    monkeypatch.setattr(cv2, "destroyWindow", lambda name: None)
    output = tmp_path / "out.mp4"

    stats = run(quick(synthetic_clip.path, output, show=True, batch_size=3)).stats

    assert stats.shown and stats.stopped_by_user
    assert stats.frames_written == len(shown) == 4 == len(read_video(output))


@pytest.mark.parametrize("gui", [False, True], ids=["headless-opencv", "no-display"])
def test_show_true_without_a_window_is_a_typed_error(
    synthetic_clip: Clip, tmp_path: Path, no_window: None, gui: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(streaming.sinks, "opencv_has_gui", lambda: gui)
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    output = tmp_path / "out.mp4"
    with pytest.raises(DisplayUnavailable):
        run_stream(quick(synthetic_clip.path, output, show=True))
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------- errors: typed, output never half-written


OLD = b"an earlier annotated video"


@pytest.mark.parametrize("source", ["missing.mp4", "not-a-video.mp4", 99], ids=["missing", "not-a-video", "camera-99"])
def test_a_source_that_cannot_be_opened_is_a_typed_error(tmp_path: Path, source: Any) -> None:
    (tmp_path / "not-a-video.mp4").write_text("hello")
    output = tmp_path / "old.mp4"
    output.write_bytes(OLD)
    if isinstance(source, str):
        source = str(tmp_path / source)
    with pytest.raises(VideoSourceError):
        run_stream(StreamOptions(source=source, output_path=str(output), enable_face_analysis=False, show=False))
    assert output.read_bytes() == OLD and leftovers(tmp_path) == []


def test_an_output_that_cannot_be_written_is_a_typed_error(synthetic_clip: Clip, tmp_path: Path) -> None:
    output = tmp_path / "old.unknown-container"
    output.write_bytes(OLD)
    with pytest.raises(VideoOutputError):
        run_stream(quick(synthetic_clip.path, output))
    assert output.read_bytes() == OLD and leftovers(tmp_path) == []


def test_a_run_that_breaks_off_leaves_the_output_as_it_was(
    synthetic_clip: Clip, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = streaming.FrameAnalyser.analyse
    calls = []

    def breaking(self: Any, frames: Any) -> Any:
        calls.append(len(frames))
        if len(calls) == 2:
            raise RuntimeError("disk on fire")
        return real(self, frames)

    monkeypatch.setattr(streaming.FrameAnalyser, "analyse", breaking)
    output = tmp_path / "old.mp4"
    output.write_bytes(OLD)
    with pytest.raises(RuntimeError, match="disk on fire"):
        run_stream(quick(synthetic_clip.path, output, batch_size=2))
    assert output.read_bytes() == OLD and leftovers(tmp_path) == []


def test_bad_arguments_are_refused() -> None:
    for bad in ({"frame_stride": 0}, {"batch_size": 0}, {"frame_stride": 1.5}):
        with pytest.raises(ValueError):
            StreamOptions(**bad)
    with pytest.raises(ValueError):
        StreamOptions(db_path="people", distance_metric="manhattan")
    assert StreamOptions(time_threshold=0, frame_threshold=-3).frame_threshold == 1  # deepface's floor


def test_the_public_function_returns_none(synthetic_clip: Clip, tmp_path: Path) -> None:
    output = tmp_path / "out.mp4"
    assert streaming.stream(source=str(synthetic_clip.path), output_path=str(output), enable_face_analysis=False,
                            show=False, progress=False, frame_stride=3) is None
    assert len(read_video(output)) == 12


# ---------------------------------------------------------------- pieces


def test_identity_labels_name_the_folder_or_the_file(tmp_path: Path) -> None:
    db = str(tmp_path)
    assert streaming.identity_label(str(tmp_path / "alice" / "1.jpg"), db) == "alice"
    assert streaming.identity_label(str(tmp_path / "alice" / "holiday" / "2.png"), db) == "alice"
    assert streaming.identity_label(str(tmp_path / "bob.jpg"), db) == "bob"


def test_the_label_goes_above_the_box_or_below_when_there_is_no_room() -> None:
    grey = np.full((HEIGHT, WIDTH, 3), 128, np.uint8)
    for box, label_side in [((100, 120, 60, 60), "above"), ((100, 5, 60, 60), "below")]:
        frame = grey.copy()
        finding = FaceFinding(box=box, age=31, gender="Man", emotion="happy", identity="alice")
        streaming.annotate(frame, [finding])
        drawn = (frame != grey).any(axis=2)
        x, y, w, h = box
        rows = np.flatnonzero(drawn.any(axis=1))
        if label_side == "above":
            assert rows.min() < y - 30 and rows.max() <= y + h + 1
        else:
            assert rows.min() >= y - 1 and rows.max() > y + h + 30
        columns = np.flatnonzero(drawn.any(axis=0))
        assert columns.min() >= x - 1 and columns.max() <= x + w + 1


def test_frames_are_read_ahead_in_a_thread_and_the_reader_stops_early() -> None:
    class Capture:
        def __init__(self) -> None:
            self.reads = 0

        def read(self) -> Tuple[bool, np.ndarray]:
            self.reads += 1
            return True, np.zeros((2, 2, 3), np.uint8)  # an endless camera

    capture = Capture()
    with streaming.FrameReader(capture, lookahead=3) as frames:
        taken = [frame for _, frame in zip(range(5), frames)]
    assert len(taken) == 5 and capture.reads <= 5 + 3 + 1  # bounded read-ahead; the thread ended


def test_box_colours_say_real_spoof_or_unchecked() -> None:
    grey = np.full((HEIGHT, WIDTH, 3), 128, np.uint8)
    for is_real, colour in [(None, streaming.BOX_COLOR), (True, streaming.REAL_COLOR), (False, streaming.SPOOF_COLOR)]:
        frame = streaming.annotate(grey.copy(), [FaceFinding(box=(100, 120, 60, 60), is_real=is_real)])
        assert tuple(frame[150, 100]) == colour  # the left edge
        assert FaceFinding(box=(0, 0, 1, 1), is_real=is_real).label_lines() == (["spoof"] if is_real is False else [])


# ---------------------------------------------------------------- deepface 0.0.103's helpers of this module

BOX = (100, 120, 60, 60)


def upstream_helpers() -> Dict[str, ast.FunctionDef]:
    """The public functions of deepface 0.0.103's ``deepface/modules/streaming.py``, read
    from the oracle's source (not imported: one deepface per process)."""
    source = oracle_or_skip() / "deepface" / "modules" / "streaming.py"
    tree = ast.parse(source.read_text(encoding="utf-8"))
    return {node.name: node for node in tree.body if isinstance(node, ast.FunctionDef) and node.name[0] != "_"}


def test_deepface_s_helpers_are_importable_with_deepface_s_parameters() -> None:
    upstream = upstream_helpers()
    assert len(upstream) == 14
    for name, node in upstream.items():
        parameters = inspect.signature(getattr(streaming, name)).parameters
        names = [arg.arg for arg in node.args.args]
        assert list(parameters)[: len(names)] == names, name
        defaults = [ast.literal_eval(value) for value in node.args.defaults]
        ours = [parameters[arg].default for arg in names[len(names) - len(defaults):]]
        assert ours == defaults, name


def drawn_with(draw: Any) -> np.ndarray:
    frame = np.full((HEIGHT, WIDTH, 3), 128, np.uint8)
    assert draw(frame) is frame, "the helper returns the frame it drew on"
    return frame


def labelled(lines: List[str]) -> np.ndarray:
    return drawn_with(lambda frame: streaming.draw_label(frame, lines, BOX) or frame)


def test_deepface_s_drawing_helpers_draw_with_the_annotator() -> None:
    x, y, w, h = BOX
    for anti_spoofing, is_real, colour in [(False, False, streaming.BOX_COLOR), (True, False, streaming.SPOOF_COLOR),
                                           (True, True, streaming.REAL_COLOR)]:
        frame = drawn_with(lambda f: streaming.highlight_facial_areas(f, [(x, y, w, h, is_real, 0.7)], anti_spoofing))
        assert tuple(frame[y + h // 2, x]) == colour
    thumbnail = np.zeros((112, 112, 3), np.uint8)
    assert np.array_equal(
        drawn_with(lambda f: streaming.overlay_identified_face(f, thumbnail, "alice.jpg", x, y, w, h, 88.5)),
        labelled(["alice.jpg (88.5%)"]),
    )
    emotions = {"sad": 20.0, "happy": 70.0, "angry": 10.0}
    assert np.array_equal(drawn_with(lambda f: streaming.overlay_emotion(f, emotions, x, y, w, h)), labelled(["happy"]))
    assert np.array_equal(drawn_with(lambda f: streaming.overlay_age_gender(f, 31.8, "M", x, y, w, h)),
                          labelled(["31 M"]))


def test_deepface_s_face_helpers_find_and_crop_the_faces(face_photos: Dict[str, np.ndarray]) -> None:
    frame = fit_frame(face_photos["img1.jpg"])
    faces = DeepFace.extract_faces(frame, detector_backend="opencv")
    expected = [(f["facial_area"]["x"], f["facial_area"]["y"], f["facial_area"]["w"], f["facial_area"]["h"], True, 0)
                for f in faces]
    found = streaming.grab_facial_areas(frame, "opencv", threshold=0)
    assert found == expected and len(found) >= 1
    assert streaming.grab_facial_areas(frame, "opencv") == [c for c in expected if c[2] > 130]
    assert streaming.grab_facial_areas(pattern(1), "opencv", threshold=0) == []
    crops = streaming.extract_facial_areas(frame, found)
    assert [crop.shape for crop in crops] == [(h, w, 3) for _, _, w, h, _, _ in found]
    assert np.array_equal(crops[0], frame[found[0][1] : found[0][1] + found[0][3], found[0][0] : found[0][0] + found[0][2]])


def test_deepface_s_search_identity_names_the_closest_stored_image(
    face_photos: Dict[str, np.ndarray], photo_db: Path, tmp_path: Path
) -> None:
    frame = fit_frame(face_photos["img1.jpg"])
    coordinates = streaming.grab_facial_areas(frame, "opencv", threshold=0)
    crop = streaming.extract_facial_areas(frame, coordinates)[0]
    label, picture, confidence = streaming.search_identity(crop, str(photo_db), "Dlib", "opencv", "cosine")
    assert label == "img2.jpg" and picture.shape == (112, 112, 3) and confidence > 0
    annotated = streaming.perform_facial_recognition(
        frame.copy(), [crop], coordinates, str(photo_db), "opencv", "cosine", "Dlib"
    )
    x, y, w, h, _, _ = coordinates[0]
    expected = frame.copy()
    streaming.draw_label(expected, [f"img2.jpg ({confidence}%)"], (x, y, w, h))
    assert np.array_equal(annotated, expected)
    (tmp_path / "empty").mkdir()
    assert streaming.search_identity(crop, str(tmp_path / "empty"), "Dlib", "opencv", "cosine") == (None, None, 0)


def test_deepface_s_demography_helper_labels_each_face_with_analyze_s_answer(
    attribute_models: Path, face_photos: Dict[str, np.ndarray]
) -> None:
    frame = fit_frame(face_photos["img3.jpg"])
    coordinates = streaming.grab_facial_areas(frame, "opencv", threshold=0)
    crops = streaming.extract_facial_areas(frame, coordinates)
    assert streaming.perform_demography_analysis(False, frame.copy(), coordinates, crops).tolist() == frame.tolist()
    annotated = streaming.perform_demography_analysis(True, frame.copy(), coordinates, crops)
    expected = frame.copy()
    for (x, y, w, h, _, _), crop in zip(coordinates, crops):
        face = DeepFace.analyze(crop, actions=("age", "gender", "emotion"), detector_backend="skip")[0]
        streaming.draw_label(expected, [f"{face['age']} {face['dominant_gender']}", face["dominant_emotion"]],
                             (x, y, w, h))
    assert np.array_equal(annotated, expected) and not np.array_equal(annotated, frame)
