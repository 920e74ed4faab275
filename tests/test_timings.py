"""Per-stage timings on request (issue 25, item 6): ``deepface.commons.timings``, the
pipeline's stages, ``DEEPFACE_TIMINGS`` and the command line's ``--timings``."""

import itertools
import threading
import time
from pathlib import Path
from typing import Iterator, List

import cv2
import pytest

from deepface import DeepFace
from deepface.cli import main
from deepface.commons import timings
from tests.conftest import resize_to_width

PIPELINE_STAGES = {"load", "detect", "align", "prepare", "forward"}
REPRESENT = {"model_name": "Dlib", "detector_backend": "opencv", "batch_size": 2}


@pytest.fixture(autouse=True)
def no_server_listener() -> Iterator[None]:
    """No stage listener of a server built by an earlier test in this process (the REST
    API's metrics listen for the whole process): these tests see only their collectors."""
    previous = timings.listen(None)
    yield
    timings.listen(previous)


@pytest.fixture
def fake_clock(monkeypatch: pytest.MonkeyPatch) -> List[float]:
    """``timings``' clock, advanced by hand: ``clock[0] += seconds``."""
    clock = [0.0]
    monkeypatch.setattr(timings, "_clock", lambda: clock[0])
    return clock


@pytest.fixture(scope="module")
def photos(tmp_path_factory: pytest.TempPathFactory, face_photos) -> List[str]:
    folder = tmp_path_factory.mktemp("timings-in")
    paths = []
    for name in ("img1.jpg", "couple.jpg", "img2.jpg"):
        path = folder / name
        cv2.imwrite(str(path), resize_to_width(face_photos[name], 400))
        paths.append(str(path))
    return paths


@pytest.fixture(scope="module")
def warm(photos: List[str]) -> None:
    """The detector and the model built before anything is timed."""
    DeepFace.represent(photos[0], model_name=REPRESENT["model_name"], detector_backend="opencv")


def test_nested_stages_count_exclusively(fake_clock: List[float]) -> None:
    with timings.collect() as recorded:
        with timings.stage("forward"):
            fake_clock[0] += 1.0
            with timings.stage("prepare"):
                fake_clock[0] += 0.25
            fake_clock[0] += 0.5
        with timings.stage("load"):
            fake_clock[0] += 2.0
    assert recorded.seconds == {"forward": 1.5, "prepare": 0.25, "load": 2.0}
    assert recorded.calls == {"forward": 1, "prepare": 1, "load": 1}
    assert recorded.ordered() == ["load", "prepare", "forward"]  # pipeline order
    assert recorded.total == pytest.approx(3.75)
    assert recorded.summary() == "load 2.00 s, prepare 0.25 s, forward 1.50 s"
    assert list(recorded.as_dict()["seconds"]) == ["load", "prepare", "forward"]


def test_every_open_collector_records_and_a_closed_one_stops(fake_clock: List[float]) -> None:
    with timings.collect() as outer:
        with timings.collect() as inner:
            with timings.stage("detect"):
                fake_clock[0] += 1.0
        with timings.stage("detect"):
            fake_clock[0] += 3.0
    assert inner.seconds == {"detect": 1.0}
    assert outer.seconds == {"detect": 4.0} and outer.calls == {"detect": 2}


def test_other_threads_record_into_the_collector() -> None:
    with timings.collect() as recorded:
        done = threading.Event()

        def work() -> None:
            with timings.stage("align"):
                pass
            done.set()

        worker = threading.Thread(target=work)
        worker.start()
        worker.join()
    assert done.is_set() and recorded.calls == {"align": 1}


def test_off_records_nothing_and_reads_no_clock(monkeypatch: pytest.MonkeyPatch, photos, warm) -> None:
    monkeypatch.delenv(timings.ENV_VAR, raising=False)
    timings.reset()
    reads = itertools.count()
    monkeypatch.setattr(timings, "_clock", lambda: float(next(reads)))
    assert not timings.recording()
    assert timings.stage("forward") is timings.stage("detect")  # one shared no-op
    DeepFace.represent(photos, **REPRESENT)
    assert next(reads) == 0, "the clock was read with timings off"
    assert timings.process_totals() is None


def test_collect_times_each_stage_of_a_batched_call(photos: List[str], warm) -> None:
    started = time.perf_counter()
    with timings.collect() as recorded:
        faces = DeepFace.represent(photos, **REPRESENT)
    wall = time.perf_counter() - started
    assert PIPELINE_STAGES <= set(recorded.seconds), recorded.seconds
    assert all(seconds >= 0 for seconds in recorded.seconds.values())
    assert recorded.total <= wall * 1.01 + 1e-3, (recorded.seconds, wall)  # exclusive: no double counting
    assert recorded.total >= 0.2 * wall, (recorded.seconds, wall)  # the stages are where the time goes
    face_count = sum(len(per_image) for per_image in faces)
    # one pass per pool of at most batch_size faces (pools end at image boundaries)
    assert -(-face_count // REPRESENT["batch_size"]) <= recorded.calls["forward"] <= face_count
    assert recorded.calls["load"] >= 1


def test_extract_faces_records_its_stages(photos: List[str], warm) -> None:
    with timings.collect() as extracted:
        DeepFace.extract_faces(photos, detector_backend="opencv", batch_size=2)
    assert {"load", "detect", "align"} <= set(extracted.seconds)
    assert "forward" not in extracted.seconds  # no model stage in extract_faces


def test_environment_variable_records_for_the_whole_process(monkeypatch: pytest.MonkeyPatch, photos, warm) -> None:
    monkeypatch.setenv(timings.ENV_VAR, "1")
    timings.reset()
    try:
        DeepFace.represent(photos[:1], **REPRESENT)
        totals = timings.process_totals()
        assert totals is not None and PIPELINE_STAGES <= set(totals.seconds)
    finally:
        monkeypatch.delenv(timings.ENV_VAR)
        timings.reset()
    assert timings.process_totals() is None and not timings.recording()


def test_cli_prints_the_stages_in_its_summary(
    photos: List[str], warm, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    output = tmp_path / "faces.npz"
    code = main(["represent", *photos, "--output", str(output), "--model-name", "Dlib",
                 "--detector-backend", "opencv", "--batch-size", "2", "--no-progress", "--timings"])
    assert code == 0
    err = capsys.readouterr().err
    line = next(l for l in err.splitlines() if l.startswith("timings: "))
    for name in (*PIPELINE_STAGES, "write"):
        assert f"{name} " in line, line
    assert not timings.recording()


def test_cli_prints_no_timings_without_the_flag(photos: List[str], warm, tmp_path: Path, capsys) -> None:
    code = main(["extract-faces", photos[0], "--output", str(tmp_path / "f.jsonl"), "--no-progress"])
    assert code == 0
    assert "timings:" not in capsys.readouterr().err
