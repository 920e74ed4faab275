"""deepface.ray on a local Ray (2 CPUs) started once for the module: per-path results equal
the single-process call, one row per input (in order when asked), error rows, Parquet that
plain pyarrow reads back, images in (RGB) equal paths in, and an impossible resource plan
refused instead of hung."""

import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, List

import cv2
import numpy as np
import pytest

from tests.conftest import resize_to_width, shared_faces_or_skip, synthetic_images

ray = pytest.importorskip("ray", reason="deepface.ray needs the ray extra: pip install 'deepface[ray]'")
pytest.importorskip("ray.data", reason="deepface.ray needs Ray Data: pip install 'ray[data]'")
pq = pytest.importorskip("pyarrow.parquet", reason="deepface.ray needs pyarrow")

from deepface import DeepFace  # noqa: E402
from deepface.ray import (  # noqa: E402
    ResourcePlanError,
    extract_faces_dataset,
    extraction_schema,
    represent_dataset,
    representation_schema,
)

# Two Ray instances at once on one machine would compete for its CPUs and ports: under
# pytest-xdist, the Ray modules run in one worker, one after the other.
pytestmark = pytest.mark.xdist_group("ray")

PHOTOS = ("couple.jpg", "img1.jpg", "img3.jpg")
#: Small images keep the module fast: each photo is downscaled to this width.
WIDTH = 300


@pytest.fixture(scope="module")
def local_ray():
    """A 2-CPU Ray for this module, with a small object store, shut down at the end."""
    if ray.is_initialized():
        ray.shutdown()
    temp = tempfile.mkdtemp(prefix="ray", dir="/tmp")  # Ray's socket paths must stay short
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        _temp_dir=temp,
        object_store_memory=200 * 1024**2,
        log_to_driver=False,
    )
    ray.data.DataContext.get_current().enable_progress_bars = False
    yield ray
    ray.shutdown()
    shutil.rmtree(temp, ignore_errors=True)


@pytest.fixture(scope="module")
def photo_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three shared photos as small PNGs (lossless: both decoders give the same pixels)."""
    shared = shared_faces_or_skip()
    folder = tmp_path_factory.mktemp("ray-photos")
    for name in PHOTOS:
        small = resize_to_width(cv2.imread(str(shared / name)), WIDTH)
        cv2.imwrite(str(folder / name.replace(".jpg", ".png")), small)
    return folder


@pytest.fixture(scope="module")
def inputs(photo_folder: Path, tmp_path_factory: pytest.TempPathFactory) -> List[str]:
    """The photos, and one of each failure: no face, missing, corrupt, not an image."""
    bad = tmp_path_factory.mktemp("ray-bad")
    cv2.imwrite(str(bad / "no_face.png"), synthetic_images()[0])
    (bad / "corrupt.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    (bad / "notes.txt").write_text("not an image")
    photos = sorted(str(path) for path in photo_folder.iterdir())
    return [photos[0], str(bad / "no_face.png"), photos[1], str(bad / "missing.png"),
            str(bad / "corrupt.jpg"), photos[2], str(bad / "notes.txt")]


def local_faces(path: str) -> Any:
    """The single-process call for one path: its faces, or the exception it raises."""
    try:
        return DeepFace.extract_faces(path, detector_backend="opencv")
    except ValueError as error:
        return error


def assert_row_matches_local(row: Dict[str, Any], expected: Any) -> None:
    if isinstance(expected, Exception):
        assert row["faces"] == [] and row["error"].startswith(type(expected).__name__), (row["path"], row["error"])
        return
    assert row["error"] is None, row
    assert len(row["faces"]) == len(expected), row["path"]
    for got, want in zip(row["faces"], expected):
        area = want["facial_area"]
        assert got["facial_area"] == {
            **{key: area.get(key) for key in ("x", "y", "w", "h")},
            **{key: None if area.get(key) is None else list(area[key])
               for key in ("left_eye", "right_eye", "nose", "mouth_left", "mouth_right")},
        }, row["path"]
        assert got["confidence"] == want["confidence"]


@pytest.fixture(scope="module")
def extracted_rows(local_ray, inputs: List[str]) -> List[Dict[str, Any]]:
    """Paths in, two 1-CPU actors, order preserved, JPEG crops."""
    paths = local_ray.data.from_items([{"path": path} for path in inputs])
    faces = extract_faces_dataset(paths, detector_backend="opencv", num_actors=2, batch_size=2,
                                  preserve_order=True, crops="jpeg")
    return faces.take_all()


@pytest.mark.timeout(120)
def test_paths_in_give_the_local_call_results_one_row_per_input_in_order(extracted_rows, inputs):
    assert [row["path"] for row in extracted_rows] == inputs
    for row, path in zip(extracted_rows, inputs):
        assert_row_matches_local(row, local_faces(path))
    errors = {os.path.basename(row["path"]): row["error"] for row in extracted_rows if row["error"]}
    assert set(errors) == {"no_face.png", "missing.png", "corrupt.jpg", "notes.txt"}
    assert "FaceNotDetected" in errors["no_face.png"] and "no such file" in errors["missing.png"]


@pytest.mark.timeout(120)
def test_crops_are_encoded_images_of_the_local_crops(extracted_rows, inputs):
    row = extracted_rows[0]
    local = DeepFace.extract_faces(inputs[0], detector_backend="opencv", color_face="bgr", normalize_face=False)
    for face, want in zip(row["faces"], local):
        crop = cv2.imdecode(np.frombuffer(face["crop"], np.uint8), cv2.IMREAD_COLOR)
        assert crop.shape == want["face"].shape
        assert np.abs(crop.astype(int) - want["face"].astype(int)).mean() < 8  # JPEG's loss only


@pytest.mark.timeout(120)
def test_images_in_rgb_equal_paths_in(local_ray, photo_folder, extracted_rows):
    images = local_ray.data.read_images(str(photo_folder), include_paths=True, mode="RGB")
    faces = extract_faces_dataset(images, column="image", detector_backend="opencv", num_actors=1)
    by_name = {os.path.basename(row["path"]): row for row in faces.take_all()}
    expected = {os.path.basename(row["path"]): row for row in extracted_rows if row["error"] is None}
    assert set(by_name) == set(expected) and len(expected) == len(PHOTOS)
    for name, row in by_name.items():
        assert row["error"] is None
        want = [face["facial_area"] for face in expected[name]["faces"]]
        assert [face["facial_area"] for face in row["faces"]] == want


@pytest.mark.timeout(120)
def test_extraction_parquet_reads_back_with_plain_pyarrow(local_ray, inputs, tmp_path):
    import pyarrow.dataset as pads

    paths = local_ray.data.from_items([{"path": path} for path in inputs])
    # one input per batch: some batches have only successes, whose error column is all null
    extract_faces_dataset(paths, detector_backend="opencv", batch_size=1).write_parquet(str(tmp_path / "faces"))
    table = pq.read_table(str(tmp_path / "faces"))
    assert table.schema.remove_metadata() == extraction_schema()
    assert sorted(table.column("path").to_pylist()) == sorted(inputs)
    assert pads.dataset(str(tmp_path / "faces"), format="parquet").count_rows() == len(inputs)


@pytest.mark.timeout(120)
def test_represent_equals_the_local_call_exploded_to_parquet(local_ray, inputs, tmp_path):
    paths = local_ray.data.from_items([{"path": path} for path in inputs])
    embedded = represent_dataset(paths, model_name="Dlib", detector_backend="opencv", explode=True, batch_size=3)
    embedded.write_parquet(str(tmp_path / "embeddings"))
    table = pq.read_table(str(tmp_path / "embeddings"))
    assert table.schema.remove_metadata() == representation_schema(128, explode=True)
    rows = table.to_pylist()
    assert {row["path"] for row in rows} == set(inputs)  # every input has a row
    for path in inputs:
        mine = sorted((row for row in rows if row["path"] == path), key=lambda row: row["face_index"])
        try:
            local = DeepFace.represent(path, model_name="Dlib", detector_backend="opencv")
        except ValueError as error:
            assert [(row["face_index"], row["error"].split(":")[0]) for row in mine] == [(-1, type(error).__name__)]
            continue
        assert [row["face_index"] for row in mine] == list(range(len(local)))
        for row, want in zip(mine, local):
            assert row["error"] is None
            assert row["facial_area"] == {**row["facial_area"], **{key: want["facial_area"][key] for key in "xywh"}}
            assert row["face_confidence"] == want["face_confidence"]
            np.testing.assert_allclose(row["embedding"], np.float32(want["embedding"]), rtol=0, atol=1e-6)


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    "plan, reason",
    [
        ({"num_actors": 2, "num_cpus": 1}, "need 1"),  # the read task would never get a CPU
        ({"num_gpus": 1}, "GPU"),
        ({"num_cpus": 3}, "no node can hold one actor"),
    ],
)
def test_an_impossible_plan_is_refused_not_hung(local_ray, photo_folder, plan, reason):
    images = local_ray.data.read_images(str(photo_folder), include_paths=True)
    started = time.monotonic()
    with pytest.raises(ResourcePlanError, match=reason):
        extract_faces_dataset(images, column="image", **plan).take_all()
    assert time.monotonic() - started < 10


@pytest.mark.timeout(60)
def test_fractional_cpus_let_the_read_task_run(local_ray, photo_folder):
    images = local_ray.data.read_images(str(photo_folder), include_paths=True)
    rows = extract_faces_dataset(images, column="image", num_actors=2, num_cpus=0.5).take_all()
    assert len(rows) == len(PHOTOS) and all(row["error"] is None for row in rows)


@pytest.mark.timeout(120)
@pytest.mark.parametrize("command", ["extract-faces", "represent"])
def test_cli_writes_a_parquet_folder(local_ray, inputs, tmp_path, command):
    from deepface import cli

    existing = [path for path in inputs if os.path.exists(path)]  # the command refuses a missing one
    out = tmp_path / "out"
    model = ["--model-name", "Dlib"] if command == "represent" else []
    flags = ["--ray", "--output", str(out), "--no-progress", "--batch-size", "2"]  # several batches
    status = cli.main([command, *existing, *model, *flags])
    assert status == 1  # some inputs failed, and were recorded
    table = pq.read_table(str(out))
    written = table.column("path").to_pylist()
    assert list(dict.fromkeys(written)) == existing  # every input, in input order
    failed = {os.path.basename(path) for path, error in zip(table.column("path").to_pylist(),
                                                             table.column("error").to_pylist()) if error}
    # represent embeds a faceless image whole (without --enforce-detection), as the local command does
    assert failed == {"corrupt.jpg", "notes.txt"} | ({"no_face.png"} if command == "extract-faces" else set())
    assert not [name for name in os.listdir(tmp_path) if name.endswith(".part")]


def test_cli_ray_refuses_stdout_and_a_full_folder(local_ray, inputs, tmp_path, capsys):
    from deepface import cli

    assert cli.main(["extract-faces", inputs[0], "--ray"]) == 2
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.txt").write_text("x")
    assert cli.main(["extract-faces", inputs[0], "--ray", "--output", str(tmp_path / "full")]) == 2
    err = capsys.readouterr().err
    assert "--ray needs --output FOLDER" in err and "is not empty" in err


@pytest.mark.timeout(60)
def test_an_actor_caps_its_engine_threads_to_its_cpus(local_ray):
    from deepface.ray.datasets import actor_runtime_env
    from deepface.ray.resources import ResourcePlan

    plan = ResourcePlan(num_cpus=1)

    @local_ray.remote(num_cpus=1, runtime_env=actor_runtime_env(plan, None))
    def probe():
        from deepface.ray.actors import BatchLayout, FaceExtractor

        before = cv2.getNumThreads()
        FaceExtractor(BatchLayout(threads=plan.engine_threads), {"detector_backend": "opencv"})
        return before, cv2.getNumThreads(), os.environ["TF_NUM_INTRAOP_THREADS"], os.environ.get("DEEPFACE_HOME")

    before, after, tf_threads, home = local_ray.get(probe.remote())
    assert (after, tf_threads) == (1, "1")
    assert before != 1 or os.cpu_count() == 1  # OpenCV alone would take every core
    assert home == os.environ.get("DEEPFACE_HOME")  # the driver's weights folder reaches the actors


def test_unknown_names_and_options_fail_in_the_driver(local_ray):
    paths = local_ray.data.from_items([{"path": "a.jpg"}])
    with pytest.raises(ValueError, match="unknown face_detector 'nope'"):
        extract_faces_dataset(paths, detector_backend="nope")
    with pytest.raises(ValueError, match="unknown facial_recognition 'Nope'"):
        represent_dataset(paths, model_name="Nope")
    with pytest.raises(TypeError):
        extract_faces_dataset(paths, not_an_option=1)
    with pytest.raises(ValueError, match="crops"):
        extract_faces_dataset(paths, crops="gif")
    with pytest.raises(ValueError, match="channels"):
        extract_faces_dataset(paths, channels="hsv")


class TestResourcePlans:
    """check_plan on made-up clusters (no Ray needed)."""

    @staticmethod
    def nodes(*cpus_gpus):
        from deepface.ray.resources import NodeCapacity

        return [NodeCapacity(f"n{k}", cpus, gpus, 8 * 1024**3) for k, (cpus, gpus) in enumerate(cpus_gpus)]

    @pytest.mark.parametrize(
        "plan, cluster, reserve, reason",
        [
            ({"num_actors": 2}, [(2, 0)], 1.0, "need 1"),
            ({"num_gpus": 0.5}, [(8, 0)], 0.0, "has none"),
            ({"num_cpus": 4}, [(2, 0), (2, 0)], 0.0, "no node can hold one actor"),
            ({"num_actors": 3, "num_gpus": 1}, [(8, 1), (8, 1)], 0.0, "do not fit"),
            ({"memory": 9 * 1024**3}, [(8, 0)], 0.0, "no node can hold one actor"),
        ],
    )
    def test_refused(self, plan, cluster, reserve, reason):
        from deepface.ray.resources import ResourcePlan, check_plan

        with pytest.raises(ResourcePlanError, match=reason):
            check_plan(ResourcePlan(**plan), self.nodes(*cluster), reserve)

    @pytest.mark.parametrize(
        "plan, cluster, reserve",
        [
            ({"num_actors": 2, "num_cpus": 0.5}, [(2, 0)], 1.0),
            ({"num_actors": 2}, [(2, 0)], 0.0),
            ({"num_actors": 4, "num_gpus": 0.5, "num_cpus": 1}, [(4, 1), (4, 1)], 1.0),
        ],
    )
    def test_accepted(self, plan, cluster, reserve):
        from deepface.ray.resources import ResourcePlan, check_plan

        check_plan(ResourcePlan(**plan), self.nodes(*cluster), reserve)

    @pytest.mark.parametrize("bad", [{"num_actors": 0}, {"num_cpus": -1}, {"num_cpus": 0}, {"memory": 0}])
    def test_bad_numbers(self, bad):
        from deepface.ray.resources import ResourcePlan

        with pytest.raises(ResourcePlanError):
            ResourcePlan(**bad)


@pytest.fixture(scope="module")
def emotion_home(weights_home: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A DEEPFACE_HOME with the Emotion model's random weights (written by the oracle,
    rescaled to answer decisively), the small attribute model."""
    from testkit.rescaled_weights import rescale_random_weights
    from tests.helpers.demography_weights import WEIGHT_FILES
    from tests.helpers.oracle import oracle_or_skip, write_random_weights

    oracle_or_skip()
    write_random_weights(weights_home, ["Emotion"])
    home = tmp_path_factory.mktemp("ray-analyze-home")
    folder = home / ".deepface" / "weights"
    folder.mkdir(parents=True)
    shutil.copyfile(weights_home / ".deepface" / "weights" / WEIGHT_FILES["Emotion"], folder / WEIGHT_FILES["Emotion"])
    rescale_random_weights(folder / WEIGHT_FILES["Emotion"])
    return home


@pytest.mark.timeout(240)
def test_analyze_equals_the_local_call(local_ray, inputs, emotion_home, monkeypatch):
    from deepface.modules import modeling
    from deepface.ray import analysis_schema, analyze_dataset

    monkeypatch.setenv("DEEPFACE_HOME", str(emotion_home))  # forwarded to the actors too
    actions = ("emotion",)  # the small model: a TensorFlow actor starts fast enough
    for name in ("Emotion",):
        modeling.forget("facial_attribute", name)  # this process may hold other weights
    try:
        chosen = inputs[:3]  # a photo, the faceless image, a photo
        faces = analyze_dataset(local_ray.data.from_items([{"path": path} for path in chosen]), actions=actions,
                                detector_backend="opencv", preserve_order=True)
        rows = faces.take_all()
        assert faces.schema().base_schema.remove_metadata() == analysis_schema()
        for row, path in zip(rows, chosen):
            try:
                local = DeepFace.analyze(path, actions=actions, detector_backend="opencv")
            except ValueError as error:
                assert row["faces"] == [] and row["error"].startswith(type(error).__name__)
                continue
            assert row["error"] is None and len(row["faces"]) == len(local)
            for got, want in zip(row["faces"], local):
                assert (got["region"]["x"], got["region"]["w"], got["dominant_emotion"]) == (
                    want["region"]["x"], want["region"]["w"], want["dominant_emotion"])
                assert got["emotion"] == pytest.approx(want["emotion"], abs=1e-3)
                assert got["age"] is None and got["gender"] is None and got["dominant_race"] is None
    finally:
        for name in ("Emotion",):
            modeling.forget("facial_attribute", name)
