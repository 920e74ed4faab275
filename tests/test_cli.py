"""The command line: extract-faces (one JSON line per image, crops) and represent (one row
per face, Parquet or .npz); failures recorded, start-up failures leave the output alone."""

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Dict, List

import cv2
import numpy as np
import pytest

from deepface import DeepFace
from deepface.cli import embeddings
from deepface.cli import UsageError, main
from tests.conftest import REPO_DIR, resize_to_width, synthetic_images


def test_extract_faces_command_records_every_image(tmp_path: Path, face_photos) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    cv2.imwrite(str(folder / "a_face.jpg"), resize_to_width(face_photos["img1.jpg"], 400))
    cv2.imwrite(str(folder / "b_blank.png"), synthetic_images()[3])
    (folder / "c_broken.jpg").write_bytes(b"not a jpeg")
    output, crops = tmp_path / "faces.jsonl", tmp_path / "crops"

    code = main(["extract-faces", str(folder), "--output", str(output), "--crops", str(crops),
                 "--batch-size", "2", "--no-progress"])

    assert code == 1  # two of the three inputs failed
    lines = [json.loads(line) for line in output.read_text().splitlines()]
    assert [Path(line["path"]).name for line in lines] == ["a_face.jpg", "b_blank.png", "c_broken.jpg"]
    assert lines[0]["error"] is None and len(lines[0]["faces"]) >= 1
    assert all(Path(face["crop"]).is_file() and face["crop_error"] is None for face in lines[0]["faces"])
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
    with pytest.raises(UsageError):
        parse_detector_options(["no-equals-sign"])
    assert main(["extract-faces", str(REPO_DIR), "--detector-option", "oops"]) == 2


# ---------------------------------------------------------------- represent

DLIB = ["--model-name", "Dlib", "--detector-backend", "opencv", "--no-progress"]


@pytest.fixture(scope="module")
def photo_folder(tmp_path_factory: pytest.TempPathFactory, face_photos) -> Path:
    """Two photos (three faces or so), a faceless image and an unreadable file."""
    folder = tmp_path_factory.mktemp("represent-in")
    cv2.imwrite(str(folder / "a_face.jpg"), resize_to_width(face_photos["img1.jpg"], 400))
    cv2.imwrite(str(folder / "b_couple.jpg"), resize_to_width(face_photos["couple.jpg"], 520))
    cv2.imwrite(str(folder / "c_blank.png"), synthetic_images()[3])
    (folder / "d_broken.jpg").write_bytes(b"not a jpeg")
    return folder


def expected_rows(paths: List[Path], **kwargs) -> Dict[str, List[dict]]:
    """``DeepFace.represent`` of each image alone, by path."""
    return {str(path): DeepFace.represent(img_path=str(path), **kwargs) for path in paths}


def assert_rows_match(expected: List[dict], boxes, confidences, embeddings, where: str) -> None:
    assert len(boxes) == len(expected), where
    for k, want in enumerate(expected):
        area = want["facial_area"]
        assert list(boxes[k]) == [area["x"], area["y"], area["w"], area["h"]], f"{where} face {k}"
        assert abs(confidences[k] - want["face_confidence"]) <= 1e-6, f"{where} face {k}"
        np.testing.assert_allclose(embeddings[k], want["embedding"], atol=1e-5, err_msg=f"{where} face {k}")


def test_represent_writes_parquet_rows_per_face(
    photo_folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    pq = pytest.importorskip("pyarrow.parquet")
    monkeypatch.setattr(embeddings, "PARQUET_ROWS_PER_GROUP", 2)  # several row groups: written as it goes
    output = tmp_path / "embeddings.parquet"

    code = main(["represent", str(photo_folder), *DLIB, "--enforce-detection", "--batch-size", "2",
                 "--output", str(output)])

    assert code == 1
    assert "2 of 4 inputs failed" in capsys.readouterr().err
    table = pq.read_table(output)  # plain pyarrow, no pandas and no deepface needed
    assert table.schema.names == ["path", "face_index", "x", "y", "w", "h", "confidence", "embedding", "error"]
    assert str(table.schema.field("embedding").type) == "fixed_size_list<element: float>[128]"
    assert pq.ParquetFile(output).metadata.num_row_groups >= 2
    rows = table.to_pylist()
    good = [photo_folder / "a_face.jpg", photo_folder / "b_couple.jpg"]
    for path, faces in expected_rows(good, model_name="Dlib", detector_backend="opencv").items():
        mine = [row for row in rows if row["path"] == path]
        assert [row["face_index"] for row in mine] == list(range(len(faces))) and faces, path
        assert all(row["error"] is None for row in mine)
        boxes = [(row["x"], row["y"], row["w"], row["h"]) for row in mine]
        assert_rows_match(faces, boxes, [row["confidence"] for row in mine], [row["embedding"] for row in mine], path)
    errors = {Path(row["path"]).name: row for row in rows if row["face_index"] == -1}
    assert sorted(errors) == ["c_blank.png", "d_broken.jpg"]
    assert "FaceNotDetected" in errors["c_blank.png"]["error"]
    assert "ImageLoadError" in errors["d_broken.jpg"]["error"]
    broken = errors["d_broken.jpg"]
    assert broken["x"] is None and broken["embedding"] is None and broken["confidence"] is None
    assert [Path(row["path"]).name for row in rows][-1] == "d_broken.jpg"  # input order
    assert [p.name for p in tmp_path.iterdir()] == ["embeddings.parquet"]  # no temporary left


def test_represent_writes_npz(photo_folder: Path, tmp_path: Path) -> None:
    output = tmp_path / "embeddings.npz"

    code = main(["represent", str(photo_folder), *DLIB, "--output", str(output)])

    assert code == 1
    data = np.load(output)  # no pickles
    assert data["embeddings"].dtype == np.float32 and data["embeddings"].shape[1] == 128
    assert data["boxes"].shape == (len(data["paths"]), 4)
    assert [Path(p).name for p in data["failed_paths"]] == ["d_broken.jpg"]
    assert "ImageLoadError" in str(data["errors"][0])
    good = [photo_folder / "a_face.jpg", photo_folder / "b_couple.jpg", photo_folder / "c_blank.png"]
    expected = expected_rows(good, model_name="Dlib", detector_backend="opencv", enforce_detection=False)
    assert len(data["paths"]) == sum(len(faces) for faces in expected.values())
    for path, faces in expected.items():
        mine = data["paths"] == path
        assert list(data["face_index"][mine]) == list(range(len(faces)))
        assert_rows_match(faces, data["boxes"][mine], data["confidence"][mine], data["embeddings"][mine], path)


def test_represent_forwards_the_model_options(face_photos, tmp_path: Path) -> None:
    image = tmp_path / "face.jpg"
    cv2.imwrite(str(image), resize_to_width(face_photos["couple.jpg"], 520))
    output = tmp_path / "options.npz"

    code = main(["represent", str(image), *DLIB, "--normalization", "Facenet", "--l2-normalize",
                 "--no-align", "--max-faces", "1", "--output", str(output)])

    assert code == 0
    data = np.load(output)
    faces = DeepFace.represent(img_path=str(image), model_name="Dlib", normalization="Facenet",
                               l2_normalize=True, align=False, max_faces=1)
    assert len(faces) == 1
    assert_rows_match(faces, data["boxes"], data["confidence"], data["embeddings"], "options")
    np.testing.assert_allclose(np.linalg.norm(data["embeddings"], axis=1), 1.0, atol=1e-5)


@pytest.mark.parametrize(
    "bad",
    [["--model-name", "NoSuchModel"], ["--model-name", "Dlib", "--detector-option", "no_such_keyword=1"]],
    ids=["unknown-model", "bad-detector-option"],
)
@pytest.mark.parametrize("suffix", [".parquet", ".npz"])
def test_represent_start_up_failure_keeps_existing_output(
    photo_folder: Path, tmp_path: Path, bad: List[str], suffix: str, capsys: pytest.CaptureFixture
) -> None:
    if suffix == ".parquet":
        pytest.importorskip("pyarrow")
    output = tmp_path / f"old{suffix}"
    output.write_bytes(b"results of an earlier run")

    code = main(["represent", str(photo_folder), *bad, "--no-progress", "--output", str(output)])

    assert code == 2
    assert "left as it was" in capsys.readouterr().err
    assert output.read_bytes() == b"results of an earlier run"
    assert [p.name for p in tmp_path.iterdir()] == [output.name]


@pytest.mark.parametrize(
    "error, status", [(KeyboardInterrupt(), 130), (RuntimeError("disk on fire"), 2)], ids=["ctrl-c", "exception"]
)
def test_represent_broken_off_keeps_existing_output(
    photo_folder: Path, tmp_path: Path, error: BaseException, status: int,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture,
) -> None:
    real = DeepFace.represent_iter

    def breaking(*args, **kwargs):
        stream = real(*args, **kwargs)
        yield next(stream)
        stream.close()
        raise error

    monkeypatch.setattr(DeepFace, "represent_iter", breaking)
    output = tmp_path / "old.npz"
    output.write_bytes(b"results of an earlier run")

    assert main(["represent", str(photo_folder), *DLIB, "--output", str(output)]) == status
    assert f"{output} left as it was" in capsys.readouterr().err
    assert output.read_bytes() == b"results of an earlier run"
    assert [p.name for p in tmp_path.iterdir()] == [output.name]


def test_represent_without_pyarrow_fails_before_any_work(
    photo_folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # import pyarrow now raises ImportError
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    monkeypatch.setattr(DeepFace, "build_model", lambda *a, **k: pytest.fail("a model was built"))
    output = tmp_path / "out.parquet"

    assert main(["represent", str(photo_folder), *DLIB, "--output", str(output)]) == 2
    assert "pip install pyarrow" in capsys.readouterr().err
    assert not output.exists()


@pytest.mark.parametrize("output", ["out.csv", "missing-folder/out.npz"])
def test_represent_rejects_unusable_outputs(photo_folder: Path, tmp_path: Path, output: str) -> None:
    assert main(["represent", str(photo_folder), *DLIB, "--output", str(tmp_path / output)]) == 2
    assert list(tmp_path.iterdir()) == []


def test_represent_as_a_subprocess(face_photos, tmp_path: Path) -> None:
    pq = pytest.importorskip("pyarrow.parquet")
    image = tmp_path / "face.jpg"
    cv2.imwrite(str(image), resize_to_width(face_photos["img1.jpg"], 400))
    output = tmp_path / "out.parquet"
    env = {**os.environ, "PYTHONPATH": str(REPO_DIR)}

    done = subprocess.run(
        [sys.executable, "-m", "deepface.cli", "represent", str(image), "--model-name", "Dlib",
         "--output", str(output)],
        cwd=REPO_DIR, env=env, capture_output=True, text=True, timeout=600, check=False,
    )

    assert done.returncode == 0, done.stderr[-3000:]
    assert "1 images" in done.stderr and "100%" in done.stderr  # summary and the progress bar
    table = pq.read_table(output)
    assert table.num_rows >= 1 and table.column("error").null_count == table.num_rows
