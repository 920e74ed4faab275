"""``deepface analyze`` (one JSON line per image, plain JSON numbers, extract-faces' rules for
output and exit status) and ``deepface stream`` (the annotated video)."""

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, Iterator, List

import cv2
import numpy as np
import pytest

from deepface import DeepFace
from deepface.cli import analyze as analyze_command
from deepface.cli import main
from deepface.commons.exceptions import FaceNotDetected, WeightsUnavailable
from deepface.modules import streaming
from deepface.modules.pipeline import ImageResult
from tests.conftest import REPO_DIR, resize_to_width, synthetic_images
from tests.test_stream import (
    attribute_models_home,
    forget_attribute_models,
    leftovers,
    pattern,
    read_video,
    write_video,
)

OLD_OUTPUT = b'{"path": "earlier.jpg", "faces": [], "error": null}\n'
OLD_VIDEO = b"an earlier annotated video"
PERCENT_TOLERANCE = 1e-3


@pytest.fixture(scope="module")
def attribute_models(weights_home: Path) -> Iterator[Path]:
    yield attribute_models_home(weights_home)
    forget_attribute_models()


@pytest.fixture
def faceless_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "faceless"
    folder.mkdir()
    cv2.imwrite(str(folder / "a_ramp.png"), synthetic_images()[0])
    cv2.imwrite(str(folder / "b_grey.png"), synthetic_images()[3])
    return folder


@pytest.fixture
def old_output(tmp_path: Path) -> Path:
    output = tmp_path / "out" / "attributes.jsonl"
    output.parent.mkdir()
    output.write_bytes(OLD_OUTPUT)
    return output


def read_lines(path: Path) -> List[Dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


# ---------------------------------------------------------------- analyze


def test_analyze_writes_one_plain_json_line_per_image(
    attribute_models: Path, face_photos: Dict[str, np.ndarray], tmp_path: Path
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    cv2.imwrite(str(folder / "a_face.jpg"), resize_to_width(face_photos["img1.jpg"], 400))
    cv2.imwrite(str(folder / "b_blank.png"), synthetic_images()[3])
    (folder / "c_broken.jpg").write_bytes(b"not a jpeg")
    output = tmp_path / "attributes.jsonl"

    code = main(["analyze", str(folder), "--actions", "age", "emotion", "--output", str(output),
                 "--batch-size", "2", "--no-progress"])

    assert code == 1  # two of the three inputs failed
    lines = read_lines(output)
    assert [Path(line["path"]).name for line in lines] == ["a_face.jpg", "b_blank.png", "c_broken.jpg"]
    assert "FaceNotDetected" in lines[1]["error"] and lines[1]["faces"] == []
    assert "ImageLoadError" in lines[2]["error"]
    assert lines[0]["error"] is None
    expected = DeepFace.analyze(str(folder / "a_face.jpg"), actions=("age", "emotion"))
    assert len(lines[0]["faces"]) == len(expected) >= 1
    for got, want in zip(lines[0]["faces"], expected):
        assert list(got) == ["age", "region", "face_confidence", "emotion", "dominant_emotion"]
        assert type(got["age"]) is int and got["age"] == want["age"]
        assert type(got["face_confidence"]) is float and got["face_confidence"] == want["face_confidence"]
        assert got["region"]["x"] == want["region"]["x"] and got["region"]["w"] == want["region"]["w"]
        assert got["dominant_emotion"] == want["dominant_emotion"]
        for label, percent in want["emotion"].items():
            assert type(got["emotion"][label]) is float
            assert abs(got["emotion"][label] - float(percent)) <= PERCENT_TOLERANCE


def test_analyze_streams_to_stdout(
    attribute_models: Path, faceless_folder: Path, capsys: pytest.CaptureFixture
) -> None:
    assert main(["analyze", str(faceless_folder), "--actions", "emotion", "--no-progress"]) == 1
    captured = capsys.readouterr()
    lines = [json.loads(line) for line in captured.out.splitlines()]
    assert [Path(line["path"]).name for line in lines] == ["a_ramp.png", "b_grey.png"]
    assert all("FaceNotDetected" in line["error"] for line in lines)
    assert "2 images, 0 faces, 2 failed" in captured.err


def raise_missing_weights(action: str) -> None:
    raise WeightsUnavailable(f"the weights of the {action} model are not cached and cannot be downloaded")


@pytest.mark.parametrize(
    "bad, expected, weights_missing",
    [
        (["--detector-backend", "no_such_detector"], "choose one of", False),
        (["--detector-option", "no_such_keyword=1"], "no_such_keyword", False),
        ([], "cannot be downloaded", True),
    ],
    ids=["unknown-detector", "bad-detector-option", "missing-weights"],
)
@pytest.mark.parametrize("resume", [False, True], ids=["replace", "resume"])
def test_analyze_start_up_failure_touches_no_output(
    faceless_folder: Path, old_output: Path, bad: List[str], expected: str, weights_missing: bool, resume: bool,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture,
) -> None:
    if weights_missing:
        monkeypatch.setattr(analyze_command, "build_attribute_model", raise_missing_weights)
    old_output.write_bytes(OLD_OUTPUT + b'{"path": "torn')  # --resume would cut the torn line
    flags = ["--resume"] if resume else []

    code = main(["analyze", str(faceless_folder), "--no-progress", *bad, *flags, "--output", str(old_output)])

    assert code == 2
    err = capsys.readouterr().err
    assert expected in err and "left as it was" in err
    assert old_output.read_bytes() == OLD_OUTPUT + b'{"path": "torn'
    assert leftovers(old_output.parent) == []


def fake_analysis(error: BaseException = None, after: int = 1) -> Any:
    """An ``iter_analyze`` stand-in: every input faceless, and ``error`` raised after ``after`` of them."""

    def analyse(paths: List[str], options: Any) -> Iterator[Any]:
        for index, path in enumerate(paths):
            if error is not None and index == after:
                raise error
            yield ImageResult(index=index, source=path, error=FaceNotDetected("no face")), []

    return analyse


@pytest.mark.parametrize(
    "error, status, expected",
    [(KeyboardInterrupt(), 130, "interrupted"), (RuntimeError("disk on fire"), 2, "RuntimeError: disk on fire")],
    ids=["ctrl-c", "exception"],
)
def test_analyze_broken_off_leaves_the_output_as_it_was(
    faceless_folder: Path, old_output: Path, error: BaseException, status: int, expected: str,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture,
) -> None:
    monkeypatch.setattr(analyze_command, "build_attribute_model", lambda action: None)
    monkeypatch.setattr(analyze_command, "iter_analyze", fake_analysis(error))

    assert main(["analyze", str(faceless_folder), "--no-progress", "--output", str(old_output)]) == status

    err = capsys.readouterr().err
    assert expected in err and f"{old_output} left as it was" in err
    assert old_output.read_bytes() == OLD_OUTPUT
    assert [p.name for p in old_output.parent.iterdir()] == [old_output.name]


def test_analyze_resume_appends_the_inputs_not_yet_recorded(
    faceless_folder: Path, old_output: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    done = json.dumps({"path": str(faceless_folder / "a_ramp.png"), "faces": [], "error": None}) + "\n"
    old_output.write_text(done + '{"path": "to')  # and a torn line
    monkeypatch.setattr(analyze_command, "build_attribute_model", lambda action: None)
    monkeypatch.setattr(analyze_command, "iter_analyze", fake_analysis())

    code = main(["analyze", str(faceless_folder), "--no-progress", "--output", str(old_output), "--resume"])

    assert code == 1
    lines = read_lines(old_output)
    assert [Path(line["path"]).name for line in lines] == ["a_ramp.png", "b_grey.png"]
    assert lines[0]["error"] is None and "FaceNotDetected" in lines[1]["error"]


def test_analyze_refuses_unknown_actions(faceless_folder: Path) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["analyze", str(faceless_folder), "--actions", "smile"])
    assert caught.value.code == 2


def test_plain_json_turns_numpy_values_into_numbers() -> None:
    value = {"age": np.int64(31), "gender": {"Man": np.float32(97.5)}, "eye": (np.int32(3), 4), "none": None}
    plain = analyze_command.plain_json(value)
    assert plain == {"age": 31, "gender": {"Man": 97.5}, "eye": [3, 4], "none": None}
    assert type(plain["age"]) is int and type(plain["gender"]["Man"]) is float
    json.dumps(plain)


# ---------------------------------------------------------------- stream


@pytest.fixture
def clip(tmp_path: Path) -> Path:
    """Twelve face-free frames (no photos needed)."""
    return write_video(tmp_path / "clip.mp4", [pattern(1)] * 6 + [pattern(2)] * 6)


def test_stream_writes_the_annotated_video(clip: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    output = tmp_path / "annotated.mp4"

    code = main(["stream", str(clip), "--output", str(output), "--no-analysis", "--frame-stride", "3", "--no-progress"])

    assert code == 0
    assert len(read_video(output)) == 12
    err = capsys.readouterr().err
    assert "12 frames, 4 analysed, 0 faces" in err and f"wrote 12 frames to {output}" in err
    assert leftovers(tmp_path) == []


def test_stream_passes_its_flags_on(clip: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: List[streaming.StreamOptions] = []
    monkeypatch.setattr(streaming, "run_stream", lambda options: seen.append(options) or streaming.StreamStats())
    people = tmp_path / "people"
    people.mkdir()

    code = main(["stream", str(clip), "--output", str(tmp_path / "out.mp4"), "--db-path", str(people),
                 "--model-name", "Dlib", "--distance-metric", "euclidean_l2", "--frame-stride", "4",
                 "--batch-size", "2", "--no-analysis", "--no-show", "--no-progress"])

    assert code == 0
    (options,) = seen
    assert (options.source, options.output_path, options.db_path) == (str(clip), str(tmp_path / "out.mp4"), str(people))
    assert (options.model_name, options.distance_metric, options.detector_backend) == ("Dlib", "euclidean_l2", "opencv")
    assert (options.frame_stride, options.batch_size, options.enable_face_analysis) == (4, 2, False)
    assert (options.show, options.progress) == (False, False)


@pytest.mark.parametrize(
    "flags, expected",
    [
        (["{tmp}/missing.mp4", "--output", "{old}"], "no such video file"),
        (["{clip}", "--output", "{tmp}/annotated.txt"], "--output must end in"),
        (["{clip}", "--output", "{tmp}/no/such/folder/a.mp4"], "no such folder for --output"),
        (["{clip}", "--output", "{old}", "--detector-backend", "no_such_detector"], "choose one of"),
        (["{clip}", "--output", "{old}", "--db-path", "{tmp}/nobody"], "no such folder for --db-path"),
        (["{clip}", "--no-show"], "nothing to do"),
    ],
    ids=["missing-video", "bad-suffix", "missing-folder", "unknown-detector", "missing-db", "no-output"],
)
def test_stream_start_up_failure_touches_no_output(
    clip: Path, tmp_path: Path, flags: List[str], expected: str, capsys: pytest.CaptureFixture
) -> None:
    old = tmp_path / "old.mp4"
    old.write_bytes(OLD_VIDEO)
    before = sorted(p.name for p in tmp_path.iterdir())
    flags = [flag.format(tmp=tmp_path, clip=clip, old=old) for flag in flags]

    assert main(["stream", *flags, "--no-analysis", "--no-progress"]) == 2

    assert expected in capsys.readouterr().err
    assert old.read_bytes() == OLD_VIDEO
    assert sorted(p.name for p in tmp_path.iterdir()) == before


@pytest.mark.parametrize(
    "error, status, expected",
    [(KeyboardInterrupt(), 130, "interrupted"), (RuntimeError("disk on fire"), 2, "RuntimeError: disk on fire")],
    ids=["ctrl-c", "exception"],
)
def test_stream_broken_off_leaves_the_output_as_it_was(
    clip: Path, tmp_path: Path, error: BaseException, status: int, expected: str,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture,
) -> None:
    real = streaming.FrameAnalyser.analyse
    calls: List[int] = []

    def breaking(self: Any, frames: Any) -> Any:
        calls.append(len(frames))
        if len(calls) == 2:
            raise error
        return real(self, frames)

    monkeypatch.setattr(streaming.FrameAnalyser, "analyse", breaking)
    old = tmp_path / "old.mp4"
    old.write_bytes(OLD_VIDEO)

    code = main(["stream", str(clip), "--output", str(old), "--no-analysis", "--batch-size", "2", "--no-progress"])

    assert code == status
    err = capsys.readouterr().err
    assert expected in err and f"{old} left as it was" in err
    assert old.read_bytes() == OLD_VIDEO and leftovers(tmp_path) == []


def test_stream_as_a_subprocess_shows_progress_and_never_waits_on_a_window(clip: Path, tmp_path: Path) -> None:
    output = tmp_path / "annotated.mp4"
    env = {key: value for key, value in os.environ.items() if key not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env["PYTHONPATH"] = str(REPO_DIR)

    done = subprocess.run(
        [sys.executable, "-m", "deepface.cli", "stream", str(clip), "--output", str(output), "--no-analysis"],
        cwd=REPO_DIR, env=env, capture_output=True, text=True, timeout=300, check=False,
    )

    assert done.returncode == 0, done.stderr[-3000:]
    assert "100%" in done.stderr and "12 frames" in done.stderr
    assert len(read_video(output)) == 12
