"""The YOLO engine choice (auto, torch, onnx), the ONNX export's fall-backs and cache, the
onnxruntime thread budget, and torch/onnx equality for the v8, v11 and v12 architectures.

Random-weight models (no downloads): yolov8n from the session's ``weights_home``, yolov11n
and yolov12n written beside it here. Images are small so the whole file stays quick.
"""

import logging
import os
import shutil
import sys
import threading
import time
from pathlib import Path
from typing import Dict, List

import cv2
import numpy as np
import pytest

from tests.conftest import assert_same_regions, resize_to_width, synthetic_images

pytest.importorskip("ultralytics", reason="the YOLO detectors need ultralytics")
pytest.importorskip("onnxruntime", reason="the onnx engine needs onnxruntime")
pytest.importorskip("onnx", reason="the onnx export needs onnx")

from deepface.commons.exceptions import MissingDependencyError  # noqa: E402
from deepface.models.face_detection import Yolo, yolo_onnx  # noqa: E402
from deepface.commons import thread_budget  # noqa: E402
from deepface.models.face_detection.Yolo import YoloClient  # noqa: E402
from deepface.commons.thread_budget import CpuSlots  # noqa: E402
from testkit.random_yolo_models import write_random_yolo_pose_model  # noqa: E402

ARCHITECTURES = ("yolov8n", "yolov11n", "yolov12n")
LOW_CONFIDENCE = 0.05
THRESHOLDS = (Yolo.DEFAULT_CONFIDENCE, LOW_CONFIDENCE)
FRAME_SIZE = (320, 240)


@pytest.fixture(scope="module")
def yolo_weights(weights_home: Path) -> Path:
    """The weights folder, with random yolov11n and yolov12n models beside conftest's yolov8n."""
    folder = weights_home / ".deepface" / "weights"
    for name in ARCHITECTURES[1:]:
        target = folder / Yolo.YOLO_MODELS[name].file_name
        if not target.exists():
            write_random_yolo_pose_model(target, name)
    return folder


@pytest.fixture(scope="module")
def engines(yolo_weights: Path) -> Dict[str, Dict[str, YoloClient]]:
    """Per architecture: the torch engine and the default (auto) engine, built once."""
    return {
        name: {
            "torch": YoloClient(name, min_confidence=LOW_CONFIDENCE, engine="torch"),
            "auto": YoloClient(name, min_confidence=LOW_CONFIDENCE, device="cpu", group_batch=3),
        }
        for name in ARCHITECTURES
    }


@pytest.fixture(scope="module")
def photos(face_photos: Dict[str, np.ndarray]) -> List[np.ndarray]:
    """Three shared photos at small, different sizes."""
    return [
        resize_to_width(face_photos["couple.jpg"], 360),
        resize_to_width(face_photos["img1.jpg"], 300),
        resize_to_width(face_photos["img3.jpg"], 260),
    ]


@pytest.fixture(scope="module")
def frames(face_photos: Dict[str, np.ndarray]) -> List[np.ndarray]:
    """Three video-like frames of one size, and a face-free one."""
    cut = [cv2.resize(face_photos[name], FRAME_SIZE) for name in ("img2.jpg", "img4.jpg", "couple.jpg")]
    return cut + [cv2.resize(synthetic_images()[0], FRAME_SIZE)]


def private_weights(yolo_weights: Path, folder: Path) -> Path:
    """A copy of the yolov8n weights alone in ``folder`` (no export beside it yet)."""
    folder.mkdir(parents=True, exist_ok=True)
    return Path(shutil.copy(yolo_weights / "yolov8n-face.pt", folder / "yolov8n-face.pt"))


@pytest.fixture
def exports(engines: Dict[str, Dict[str, YoloClient]], monkeypatch: pytest.MonkeyPatch) -> List[Path]:
    """Every run of the exporter, recorded; each run gives the yolov8n export that the
    ``engines`` fixture made with ultralytics (the same weights, without a slow re-export)."""
    made_by_ultralytics = engines["yolov8n"]["auto"].onnx.model_path
    calls: List[Path] = []

    def copy_of_the_export(weights_copy: Path) -> Path:
        calls.append(weights_copy)
        return Path(shutil.copy(made_by_ultralytics, weights_copy.with_suffix(".onnx")))

    monkeypatch.setattr(yolo_onnx, "run_exporter", copy_of_the_export)
    return calls


def same_faces_any_order(expected: list, actual: list, context: str) -> None:
    """Same faces as :func:`assert_same_regions` checks them, matched in any order: a random
    model scores some boxes equally (within 1e-6), and NMS may list such ties either way."""
    assert len(actual) == len(expected), f"{context}: {len(actual)} faces, expected {len(expected)}"
    unmatched = list(actual)
    for k, want in enumerate(expected):
        for candidate in unmatched:
            try:
                assert_same_regions([want], [candidate])
            except AssertionError:
                continue
            unmatched.remove(candidate)
            break
        else:
            raise AssertionError(f"{context} face {k}: no match for {want}")


# ---------------------------------------------------------------- the engine choice


def test_auto_runs_onnx_on_a_cpu_and_says_so(yolo_weights: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG, logger=Yolo.__name__):
        detector = YoloClient("yolov8n", device="cpu")
    assert (detector.requested_engine, detector.engine) == ("auto", "onnx")
    assert detector.onnx is not None and detector.group_batch == 1
    choices = [r for r in caplog.records if r.name == Yolo.__name__ and "runs on" in r.getMessage()]
    assert len(choices) == 1 and choices[0].levelno == logging.DEBUG
    assert "onnx" in choices[0].getMessage()


def test_auto_keeps_torch_on_a_gpu(yolo_weights: Path) -> None:
    detector = YoloClient("yolov8n", device="cuda:0")  # nothing runs: only the choice is made
    assert detector.engine == "torch" and detector.onnx is None
    assert detector.group_batch == Yolo.GPU_GROUP_BATCH


def test_torch_engine_stays_torch(yolo_weights: Path) -> None:
    detector = YoloClient("yolov8n", device="cpu", engine="torch")
    assert detector.engine == "torch" and detector.onnx is None


def test_unknown_engine_is_named(yolo_weights: Path) -> None:
    with pytest.raises(ValueError, match="'tensorrt'"):
        YoloClient("yolov8n", engine="tensorrt")


def test_without_onnxruntime_auto_is_torch_and_onnx_says_what_to_install(
    yolo_weights: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # as if it were not installed
    with caplog.at_level(logging.WARNING):
        detector = YoloClient("yolov8n", device="cpu")
    assert detector.engine == "torch" and "onnxruntime" in detector.engine_reason
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]  # a choice, not a problem
    with pytest.raises(MissingDependencyError, match="pip install onnxruntime"):
        YoloClient("yolov8n", device="cpu", engine="onnx")


def test_a_failed_export_falls_back_to_torch_with_one_warning(
    yolo_weights: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
    frames: List[np.ndarray],
) -> None:
    def broken_exporter(weights_copy: Path) -> Path:
        raise RuntimeError("exporter exploded")

    monkeypatch.setattr(yolo_onnx, "read_verified", lambda path, digest: None)  # nothing cached
    monkeypatch.setattr(yolo_onnx, "run_exporter", broken_exporter)
    with caplog.at_level(logging.WARNING):
        detector = YoloClient("yolov8n", device="cpu", min_confidence=LOW_CONFIDENCE, onnx_cache_dir=str(tmp_path))
    assert detector.engine == "torch" and "exporter exploded" in detector.engine_reason
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1 and "falls back to the torch engine" in warnings[0].getMessage()
    assert isinstance(detector.detect_faces(frames[0]), list)  # and it still detects


# ---------------------------------------------------------------- the export and its cache


def test_export_is_written_beside_the_weights_with_a_checksum(
    yolo_weights: Path, tmp_path: Path, exports: List[Path]
) -> None:
    weights = private_weights(yolo_weights, tmp_path / "weights")
    first = yolo_onnx.OnnxYolo(str(weights), True, cache_dir=str(tmp_path / "cache"))
    assert first.model_path == weights.with_suffix(".onnx") and len(exports) == 1
    assert yolo_onnx.read_verified(first.model_path, yolo_onnx.sha256_of(weights)) is not None
    again = yolo_onnx.OnnxYolo(str(weights), True, cache_dir=str(tmp_path / "cache"))
    assert again.model_path == first.model_path and len(exports) == 1  # reused, not exported again
    assert sorted(p.name for p in weights.parent.iterdir()) == [
        "yolov8n-face.onnx", "yolov8n-face.onnx.json", "yolov8n-face.pt"]  # no temporary left
    assert not (tmp_path / "cache").exists()


def test_read_only_weights_folder_exports_to_the_user_cache(
    yolo_weights: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, exports: List[Path]
) -> None:
    weights = private_weights(yolo_weights, tmp_path / "read-only")
    os.chmod(weights.parent, 0o555)
    if os.geteuid() == 0:  # root writes through file modes: refuse that folder as the OS would
        real_mkdtemp = yolo_onnx.tempfile.mkdtemp

        def mkdtemp(dir: str, prefix: str) -> str:
            if Path(dir) == weights.parent:
                raise PermissionError(13, "Permission denied", dir)
            return real_mkdtemp(dir=dir, prefix=prefix)

        monkeypatch.setattr(yolo_onnx.tempfile, "mkdtemp", mkdtemp)
    try:
        cache = tmp_path / "cache"
        detector = yolo_onnx.OnnxYolo(str(weights), True, cache_dir=str(cache))
        digest = yolo_onnx.sha256_of(weights)
        assert detector.model_path == cache / f"yolov8n-face-{digest[:16]}.onnx"
        assert sorted(p.name for p in weights.parent.iterdir()) == ["yolov8n-face.pt"]
        assert yolo_onnx.OnnxYolo(str(weights), True, cache_dir=str(cache)).model_path == detector.model_path
        assert len(exports) == 1  # the second one found it in the cache
    finally:
        os.chmod(weights.parent, 0o755)


@pytest.mark.parametrize("damage", ["flipped bytes", "unloadable with a matching checksum", "other weights"])
def test_a_damaged_or_stale_export_is_rebuilt(
    damage: str, yolo_weights: Path, tmp_path: Path, exports: List[Path], frames: List[np.ndarray]
) -> None:
    weights = private_weights(yolo_weights, tmp_path / "weights")
    good = yolo_onnx.OnnxYolo(str(weights), True, cache_dir=str(tmp_path / "cache"))
    expected = good.predict([frames[0]], LOW_CONFIDENCE)[0]
    onnx_file, sidecar = good.model_path, yolo_onnx.sidecar_of(good.model_path)
    if damage == "flipped bytes":
        data = bytearray(onnx_file.read_bytes())
        data[len(data) // 2] ^= 0xFF
        onnx_file.write_bytes(bytes(data))
    elif damage == "unloadable with a matching checksum":
        onnx_file.write_bytes(b"not an onnx model")
        record = {"weights_sha256": yolo_onnx.sha256_of(weights),
                  "onnx_sha256": yolo_onnx.hashlib.sha256(b"not an onnx model").hexdigest()}
        sidecar.write_text(yolo_onnx.json.dumps(record))
    else:
        sidecar.write_text(sidecar.read_text().replace('"weights_sha256": "', '"weights_sha256": "0'))
    rebuilt = yolo_onnx.OnnxYolo(str(weights), True, cache_dir=str(tmp_path / "cache"))
    assert len(exports) == 2 and rebuilt.model_path == onnx_file
    assert yolo_onnx.read_verified(onnx_file, yolo_onnx.sha256_of(weights)) is not None
    found = rebuilt.predict([frames[0]], LOW_CONFIDENCE)[0]
    np.testing.assert_allclose(found.xywh, expected.xywh, atol=1e-3)


def test_concurrent_exports_leave_one_whole_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two writers at once (a slow stand-in exporter): the target is always a whole export."""
    weights = tmp_path / "w" / "model.pt"
    weights.parent.mkdir()
    weights.write_bytes(b"weights")
    payloads = {"A": b"A" * 300_000, "B": b"B" * 300_000}

    def slow_exporter(weights_copy: Path) -> Path:
        out = weights_copy.with_suffix(".onnx")
        payload = payloads[threading.current_thread().name]
        with open(out, "wb") as handle:
            for start in range(0, len(payload), 50_000):
                handle.write(payload[start:start + 50_000])
                handle.flush()
                time.sleep(0.01)
        return out

    monkeypatch.setattr(yolo_onnx, "run_exporter", slow_exporter)
    target = weights.with_suffix(".onnx")
    digest = yolo_onnx.sha256_of(weights)
    writers = [threading.Thread(name=name, target=yolo_onnx.export_to, args=(target, weights, digest))
               for name in payloads]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join()
    assert target.read_bytes() in payloads.values()
    assert sorted(p.name for p in weights.parent.iterdir()) == ["model.onnx", "model.onnx.json", "model.pt"]


# ---------------------------------------------------------------- threads


def test_usable_cpus_follow_affinity_and_container_quota(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cpu_max = tmp_path / "cpu.max"
    missing = tmp_path / "absent"
    for text, expected in (("max 100000", None), ("150000 100000", 1.5), ("50000 100000", 0.5)):
        cpu_max.write_text(text)
        assert thread_budget.cgroup_cpu_quota(cpu_max, missing, missing) == expected
    assert thread_budget.cgroup_cpu_quota(missing, missing, missing) is None
    monkeypatch.delenv(thread_budget.THREADS_ENV_VAR, raising=False)
    monkeypatch.setattr(thread_budget, "affinity_cpus", lambda: 8)
    monkeypatch.setattr(thread_budget, "cgroup_cpu_quota", lambda: 2.5)
    assert thread_budget.usable_cpus() == 3
    monkeypatch.setattr(thread_budget, "cgroup_cpu_quota", lambda: 0.5)
    assert thread_budget.usable_cpus() == 1
    monkeypatch.setattr(thread_budget, "cgroup_cpu_quota", lambda: None)
    assert thread_budget.usable_cpus() == 8 == thread_budget.resolve_threads(None)
    assert thread_budget.resolve_threads(3) == 3
    with pytest.raises(ValueError, match="intra_op_threads"):
        thread_budget.resolve_threads(0)


def test_cpu_slots_never_hand_out_more_than_the_budget() -> None:
    slots = CpuSlots(3)
    inside: List[int] = []

    def work(threads: int) -> None:
        with slots.hold(threads):
            inside.append(slots.in_use)
            time.sleep(0.02)

    workers = [threading.Thread(target=work, args=(n,)) for n in (2, 2, 1, 5, 3)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert len(inside) == 5 and slots.peak <= 3 and slots.in_use == 0


def test_two_sessions_in_one_process_do_not_oversubscribe(
    engines: Dict[str, Dict[str, YoloClient]], frames: List[np.ndarray], monkeypatch: pytest.MonkeyPatch
) -> None:
    usable = thread_budget.usable_cpus()
    sessions = [engines["yolov8n"]["auto"].onnx, engines["yolov11n"]["auto"].onnx]
    for session in sessions:
        assert session.session.get_session_options().intra_op_num_threads == session.threads == usable
    budget = CpuSlots(usable)
    monkeypatch.setattr(yolo_onnx, "CPU_SLOTS", budget)

    def detect(session: yolo_onnx.OnnxYolo) -> None:
        for frame in frames[:2]:
            session.predict([frame], LOW_CONFIDENCE)

    workers = [threading.Thread(target=detect, args=(s,)) for s in sessions * 2]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert budget.peak == usable  # each pass took the whole budget, and never two at once
    one_thread = yolo_onnx.OnnxYolo(engines["yolov8n"]["auto"].weights_path, True, intra_op_threads=1)
    assert one_thread.session.get_session_options().intra_op_num_threads == 1


# ---------------------------------------------------------------- equality


@pytest.mark.timeout(300)
@pytest.mark.parametrize("threshold", THRESHOLDS)
@pytest.mark.parametrize("name", ARCHITECTURES)
def test_onnx_finds_what_torch_finds(
    name: str, threshold: float, engines: Dict[str, Dict[str, YoloClient]],
    photos: List[np.ndarray], frames: List[np.ndarray], monkeypatch: pytest.MonkeyPatch,
) -> None:
    torch_engine, auto_engine = engines[name]["torch"], engines[name]["auto"]
    assert auto_engine.engine == "onnx"
    for detector in (torch_engine, auto_engine):
        monkeypatch.setattr(detector, "min_confidence", threshold)
    found_any = 0
    for where, images in (("photo", photos), ("frame", frames)):
        for index, img in enumerate(images):
            expected = torch_engine.detect_faces(img)
            same_faces_any_order(expected, auto_engine.detect_faces(img), f"{name} @{threshold} {where} {index}")
            found_any += len(expected)
    if threshold == LOW_CONFIDENCE:
        assert found_any > 0, "the random model should find something at the low threshold"


@pytest.mark.parametrize("name", ARCHITECTURES)
def test_auto_engine_batch_equals_single(
    name: str, engines: Dict[str, Dict[str, YoloClient]], frames: List[np.ndarray], photos: List[np.ndarray]
) -> None:
    detector = engines[name]["auto"]
    images = frames + photos  # stacked frames (group_batch=3) and photos of their own sizes
    singles = [detector.detect_faces(img) for img in images]
    for index, (single, batched) in enumerate(zip(singles, detector.detect_faces_batch(images))):
        assert_same_regions(single, batched, f"{name} input {index}")
