"""The command line: one JSON line per image, failures recorded, crops written."""

import json
from pathlib import Path

import cv2
import pytest

from deepface.cli import main
from tests.conftest import resize_to_width, synthetic_images


def test_extract_faces_command_records_every_image(tmp_path: Path, face_photos) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    cv2.imwrite(str(folder / "a_face.jpg"), resize_to_width(face_photos["img1.jpg"], 400))
    cv2.imwrite(str(folder / "b_blank.png"), synthetic_images()[3])
    (folder / "c_broken.jpg").write_bytes(b"not a jpeg")
    output, crops = tmp_path / "faces.jsonl", tmp_path / "crops"

    code = main(["extract-faces", str(folder), "--output", str(output), "--crops", str(crops),
                 "--batch-size", "2", "--no-progress"])

    assert code == 0
    lines = [json.loads(line) for line in output.read_text().splitlines()]
    assert [Path(line["path"]).name for line in lines] == ["a_face.jpg", "b_blank.png", "c_broken.jpg"]
    assert lines[0]["error"] is None and len(lines[0]["faces"]) >= 1
    assert "FaceNotDetected" in lines[1]["error"]
    assert "ImageLoadError" in lines[2]["error"]
    assert len(list(crops.glob("*.jpg"))) == len(lines[0]["faces"])


def test_missing_input_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["extract-faces", str(tmp_path / "nothing")]) == 2
    assert "no such file" in capsys.readouterr().err


def test_detector_options_are_typed() -> None:
    from deepface.cli import parse_detector_options

    assert parse_detector_options(["engine=onnx", "min_confidence=0.4", "group_batch=4"]) == {
        "engine": "onnx", "min_confidence": 0.4, "group_batch": 4,
    }
    with pytest.raises(SystemExit):
        parse_detector_options(["no-equals-sign"])
