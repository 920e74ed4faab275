"""``anti_spoofing=True`` through the pipeline: deepface 0.0.103's verdicts (same random
Fasnet weights, read by both packages), batched verdicts equal single ones, and a spoof
fails its own input in represent and analyze."""

import json
from pathlib import Path
from typing import Dict, List

import cv2
import numpy as np
import pytest

from deepface import DeepFace
from deepface.commons.exceptions import BatchError, SpoofDetected
from deepface.modules import modeling
from tests.helpers.oracle import ORACLE_DIR, oracle_or_skip, run_oracle_script

SCORE_TOLERANCE = 1e-5


@pytest.fixture(scope="module")
def fasnet_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Random Fasnet weights written by deepface's own code; the model built from them
    (the registry keeps it for this module)."""
    oracle_or_skip()
    home = tmp_path_factory.mktemp("fasnet-home")
    run_oracle_script("write_random_fasnet.py", [], home)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DEEPFACE_HOME", str(home))
        modeling.forget("spoofing", "Fasnet")
        modeling.build_model("spoofing", "Fasnet")
    yield home
    modeling.forget("spoofing", "Fasnet")


@pytest.fixture(scope="module")
def photo_files(face_photos: Dict[str, np.ndarray], tmp_path_factory: pytest.TempPathFactory) -> List[str]:
    folder = tmp_path_factory.mktemp("spoof-photos")
    paths = []
    for name in ("couple.jpg", "img1.jpg", "img3.jpg", "img4.jpg"):
        img = face_photos[name]
        path = folder / name
        cv2.imwrite(str(path), cv2.resize(img, (400, round(img.shape[0] * 400 / img.shape[1]))))
        paths.append(str(path))
    return paths


def _key(face: dict) -> tuple:
    return face["facial_area"]["x"], face["facial_area"]["y"]


def test_verdicts_equal_deepface(fasnet_home: Path, photo_files: List[str]) -> None:
    request = {"images": photo_files, "detector_backend": "opencv"}
    out = run_oracle_script("run_anti_spoofing.py", [json.dumps(request)], fasnet_home)
    line = [line for line in out.splitlines() if line.startswith("ORACLE-JSON ")][-1]
    answer = json.loads(line[len("ORACLE-JSON "):])
    assert Path(answer["deepface_file"]).resolve().is_relative_to(ORACLE_DIR.resolve())
    ours = DeepFace.extract_faces(photo_files, enforce_detection=False, anti_spoofing=True)
    for path, want, got in zip(photo_files, answer["answers"], ours):
        assert len(got) == len(want), path
        for expected, actual in zip(sorted(want, key=_key), sorted(got, key=_key)):
            assert actual["facial_area"]["x"] == expected["facial_area"]["x"], path
            assert actual["is_real"] == expected["is_real"], path
            assert abs(actual["antispoof_score"] - expected["antispoof_score"]) <= SCORE_TOLERANCE, path
    assert sum(len(faces) for faces in ours) >= 4, "too few faces to prove anything"


def test_batched_verdicts_equal_single_ones(fasnet_home: Path, mixed_batch: List[np.ndarray]) -> None:
    singles = [DeepFace.extract_faces(img, enforce_detection=False, anti_spoofing=True) for img in mixed_batch]
    for batch_size in (1, 4, 32):
        batched = DeepFace.extract_faces(mixed_batch, enforce_detection=False, anti_spoofing=True, batch_size=batch_size)
        for index, (single, batch) in enumerate(zip(singles, batched)):
            assert [face["is_real"] for face in batch] == [face["is_real"] for face in single], index
            for want, got in zip(single, batch):
                assert abs(got["antispoof_score"] - want["antispoof_score"]) <= SCORE_TOLERANCE, index
                assert list(got) == ["face", "facial_area", "confidence", "is_real", "antispoof_score"]


def test_a_spoof_fails_only_its_own_input(fasnet_home: Path, mixed_batch: List[np.ndarray]) -> None:
    verdicts = DeepFace.extract_faces(mixed_batch, enforce_detection=False, anti_spoofing=True)
    spoofed = [i for i, faces in enumerate(verdicts) if any(face["is_real"] is False for face in faces)]
    genuine = [i for i, faces in enumerate(verdicts) if all(face["is_real"] for face in faces)]
    if not spoofed or not genuine:
        pytest.fail(f"random weights judged {len(spoofed)} inputs spoofed and {len(genuine)} genuine: need both")
    with pytest.raises(BatchError) as caught:
        DeepFace.represent(mixed_batch, model_name="Dlib", enforce_detection=False, anti_spoofing=True)
    assert sorted(caught.value.errors) == spoofed
    assert all(isinstance(error, SpoofDetected) for error in caught.value.errors.values())
    assert sorted(caught.value.results) == genuine
    with pytest.raises(SpoofDetected, match="Spoof detected"):
        DeepFace.represent(mixed_batch[spoofed[0]], model_name="Dlib", enforce_detection=False, anti_spoofing=True)


def test_the_command_line_records_each_face_s_verdict(fasnet_home: Path, photo_files: List[str], tmp_path: Path) -> None:
    from deepface import cli

    output = tmp_path / "faces.jsonl"
    status = cli.main(["extract-faces", *photo_files, "--anti-spoofing", "--no-progress", "--output", str(output)])
    records = [json.loads(line) for line in output.read_text().splitlines()]
    expected = DeepFace.extract_faces(photo_files, anti_spoofing=True, enforce_detection=False)
    assert status == (1 if any(not faces for faces in expected) else 0)
    assert [record["path"] for record in records] == photo_files
    for record, faces in zip(records, expected):
        assert [face["facial_area"] for face in record["faces"]] == [
            json.loads(json.dumps(face["facial_area"])) for face in faces  # eyes as JSON lists
        ]
        assert [face["is_real"] for face in record["faces"]] == [face["is_real"] for face in faces]
        for got, want in zip(record["faces"], faces):
            assert abs(got["antispoof_score"] - want["antispoof_score"]) <= SCORE_TOLERANCE


def test_threads_get_the_verdicts_of_a_sequential_run(fasnet_home: Path, mixed_batch: List[np.ndarray]) -> None:
    from concurrent.futures import ThreadPoolExecutor

    def verdicts(job: List[np.ndarray]) -> List[List[tuple]]:
        faces = DeepFace.extract_faces(job, enforce_detection=False, anti_spoofing=True)
        return [[(face["is_real"], face["antispoof_score"]) for face in image] for image in faces]

    jobs = [[img] for img in mixed_batch] + [mixed_batch[:4], mixed_batch[4:]]
    sequential = [verdicts(job) for job in jobs]
    with ThreadPoolExecutor(4) as pool:
        threaded = list(pool.map(verdicts, jobs))
    for number, (want, got) in enumerate(zip(sequential, threaded)):
        assert [[real for real, _ in image] for image in got] == [[real for real, _ in image] for image in want], number
        for image_want, image_got in zip(want, got):
            for (_, expected), (_, actual) in zip(image_want, image_got):
                assert abs(actual - expected) <= SCORE_TOLERANCE, number
