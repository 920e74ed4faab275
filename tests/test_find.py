"""``find``: the datastore files, their refresh, and the results against deepface 0.0.103.

The datastore and refresh tests run without models (a fake embedder stands in for the
pipeline). The end-to-end tests compare with upstream deepface (the oracle, run in a
subprocess) on the shared photos, with random-weight Facenet models written by it.
"""

import hashlib
import io
import json
import logging
import os
import shutil
import time
import zipfile
from pathlib import Path
from typing import Any, Dict, Iterator, List, Sequence

import cv2
import numpy as np
import pytest

from deepface.commons.exceptions import (
    BatchFaceNotDetected,
    DimensionMismatchError,
    EmptyDatasource,
    PathNotFound,
    UnimplementedError,
)
from deepface.modules import datastore_files
from deepface.modules.datastore_files import Representations, StoredFace
from tests.conftest import resize_to_width, shared_faces_or_skip, synthetic_images
from tests.helpers.oracle import oracle_or_skip, run_oracle_script, write_random_weights

recognition = pytest.importorskip("deepface.modules.recognition")

ROWS = [
    StoredFace("db/a.jpg", "h1", [0.1, 0.2, -0.3], (1, 2, 3, 4)),
    StoredFace("db/b.jpg", "h2", None, (0, 0, 0, 0)),
    StoredFace("db/sub/é.jpg", "h3", [1.5, 2.5, 1e-300], (10, 20, 30, 40)),
    StoredFace("db/sub/é.jpg", "h3", [-7.0, 0.0, 3.25], (50, 60, 70, 80)),
]


def needs_pyarrow(datastore_format: str) -> None:
    if datastore_format in datastore_files.ARROW_FORMATS:
        pytest.importorskip("pyarrow")


def as_json_rows(rows: Sequence[StoredFace]) -> List[Dict[str, Any]]:
    return [
        {"identity": r.identity, "hash": r.hash, "embedding": None if r.embedding is None else list(r.embedding),
         **dict(zip(datastore_files.BOX_COLUMNS, r.box))}
        for r in rows
    ]


# ---------------------------------------------------------------- datastore files


@pytest.mark.parametrize("datastore_format", datastore_files.DATASTORE_FORMATS)
@pytest.mark.parametrize("rows", [ROWS, []], ids=["rows", "empty"])
def test_datastore_round_trip(tmp_path: Path, datastore_format: str, rows: List[StoredFace]) -> None:
    needs_pyarrow(datastore_format)
    path = str(tmp_path / f"ds.{datastore_format}")
    datastore_files.write_datastore(path, Representations.from_rows(rows), datastore_format)
    back = datastore_files.read_datastore(path, datastore_format)
    assert list(back.rows()) == rows
    assert os.listdir(tmp_path) == [f"ds.{datastore_format}"]  # no temporary file left


def test_datastore_file_name_is_deepfaces() -> None:
    name = datastore_files.datastore_file_name("VGG-Face", "opencv", True, "base", 0, "npz")
    assert name == "ds_model_vggface_detector_opencv_aligned_normalization_base_expand_0.npz"
    name = datastore_files.datastore_file_name("Facenet512", "yolov11n", False, "Facenet2018", 10, "parquet")
    assert name == "ds_model_facenet512_detector_yolov11n_unaligned_normalization_facenet2018_expand_10.parquet"
    assert recognition.border_suffix(None, True) == recognition.border_suffix(0.5, True) == ""
    assert recognition.border_suffix(0.0, False) == ""
    assert recognition.border_suffix(0.0, True) == "_border_0"
    assert recognition.border_suffix(0.25, True) == "_border_0p25"


def test_mixed_embedding_lengths_are_refused() -> None:
    with pytest.raises(DimensionMismatchError):
        Representations.from_rows([StoredFace("a", "h", [1.0]), StoredFace("b", "h", [1.0, 2.0])])
    first = Representations.from_rows([StoredFace("a", "h", [1.0])])
    with pytest.raises(DimensionMismatchError):
        first.extend(Representations.from_rows([StoredFace("b", "h", [1.0, 2.0])]))
    # rows without a face take the others' length
    widened = Representations.from_rows([StoredFace("a", "h")]).extend(first)
    assert widened.embeddings.shape == (2, 1) and widened.dimension == 1


@pytest.mark.parametrize("datastore_format", datastore_files.DATASTORE_FORMATS)
def test_missing_columns_are_reported(tmp_path: Path, datastore_format: str) -> None:
    needs_pyarrow(datastore_format)
    if datastore_format == "npz":
        sink = io.BytesIO()
        np.savez(sink, identity=np.array(["a"]))
        content = sink.getvalue()
    else:
        import pyarrow as pa
        import pyarrow.feather
        import pyarrow.parquet

        table = pa.table({"identity": ["a"]})
        out = pa.BufferOutputStream()
        (pa.feather.write_feather if datastore_format == "feather" else pa.parquet.write_table)(table, out)
        content = out.getvalue().to_pybytes()
    with pytest.raises(ValueError, match="does not have some required columns"):
        datastore_files.deserialize(content, datastore_format, "x")


def test_unknown_format_and_return_type_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="Unsupported datastore_format pkl"):
        recognition.find(np.zeros((10, 10, 3), np.uint8), str(tmp_path), datastore_format="pkl")
    with pytest.raises(ValueError, match="Unsupported return_type"):
        recognition.find(np.zeros((10, 10, 3), np.uint8), str(tmp_path), return_type="list")
    with pytest.raises(ValueError, match="Threshold must be specified"):
        recognition.find(np.zeros((10, 10, 3), np.uint8), str(tmp_path), distance_metric=lambda a, b: 0)


def test_unknown_scheme_and_missing_folders(tmp_path: Path) -> None:
    """(s3:// and ftp:// folders: tests/test_filestore.py, against servers it starts.)"""
    img = np.zeros((10, 10, 3), np.uint8)
    with pytest.raises(ValueError, match="Unsupported db_path scheme"):
        recognition.find(img, "gs://bucket")
    with pytest.raises(PathNotFound, match="does not exist"):
        recognition.find(img, str(tmp_path / "absent"))


def test_invalid_options_fail_before_the_folder_is_embedded(image_folder: Path) -> None:
    before = sorted(os.listdir(image_folder))
    with pytest.raises(UnimplementedError, match="normalization"):
        recognition.find(np.zeros((10, 10, 3), np.uint8), str(image_folder), normalization="nope")
    with pytest.raises(ValueError, match="Distance metric manhattan is not available"):
        recognition.find(np.zeros((10, 10, 3), np.uint8), str(image_folder), distance_metric="manhattan")
    assert sorted(os.listdir(image_folder)) == before  # no datastore written


@pytest.fixture(scope="module")
def oracle_datastores(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Datastores of ROWS and of no rows, written by deepface's own serializers."""
    oracle_or_skip()
    pytest.importorskip("pyarrow")
    folder = tmp_path_factory.mktemp("oracle-ds")
    jobs = []
    for name, rows in (("rows", ROWS), ("empty", [])):
        (folder / f"{name}.json").write_text(json.dumps(as_json_rows(rows)))
        for datastore_format in datastore_files.DATASTORE_FORMATS:
            jobs.append(["serialize", datastore_format, str(folder / f"{name}.json"),
                         str(folder / f"{name}.{datastore_format}")])
    (folder / "jobs.json").write_text(json.dumps(jobs))
    run_oracle_script("run_find.py", ["many", str(folder / "jobs.json")], folder)  # one process for all
    return folder


@pytest.fixture(scope="module")
def oracle_loads_ours(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This package's datastores of ROWS and of no rows (``ours.<name>.<format>``), each read
    back by deepface's own loader (``ours.<name>.<format>.json``), all in one oracle process."""
    oracle_or_skip()
    pytest.importorskip("pyarrow")
    folder = tmp_path_factory.mktemp("ours-ds")
    jobs = []
    for name, rows in (("rows", ROWS), ("empty", [])):
        for datastore_format in datastore_files.DATASTORE_FORMATS:
            path = folder / f"ours.{name}.{datastore_format}"
            path.write_bytes(datastore_files.serialize(Representations.from_rows(rows), datastore_format))
            jobs.append(["load", datastore_format, str(path), f"{path}.json"])
    (folder / "jobs.json").write_text(json.dumps(jobs))
    run_oracle_script("run_find.py", ["many", str(folder / "jobs.json")], folder)
    return folder


@pytest.mark.parametrize("datastore_format", datastore_files.DATASTORE_FORMATS)
@pytest.mark.parametrize("name", ["rows", "empty"])
def test_datastores_are_byte_compatible_with_deepface(
    oracle_datastores: Path, oracle_loads_ours: Path, datastore_format: str, name: str
) -> None:
    rows = ROWS if name == "rows" else []
    theirs = (oracle_datastores / f"{name}.{datastore_format}").read_bytes()
    # deepface's file read here
    assert list(datastore_files.deserialize(theirs, datastore_format).rows()) == rows
    # this package writes the same bytes (npz: the same arrays; the zip stamps the time)
    ours = datastore_files.serialize(Representations.from_rows(rows), datastore_format)
    assert same_datastore_content(ours, theirs, datastore_format)
    # and deepface reads this package's file (written by the fixture as here, read by deepface there)
    path = oracle_loads_ours / f"ours.{name}.{datastore_format}"
    assert same_datastore_content(path.read_bytes(), ours, datastore_format)
    assert json.loads(Path(f"{path}.json").read_text()) == as_json_rows(rows)


def same_datastore_content(first: bytes, second: bytes, datastore_format: str) -> bool:
    """The same bytes (npz: the same arrays; the zip stamps the time)."""
    if datastore_format != "npz":
        return first == second
    one, other = zipfile.ZipFile(io.BytesIO(first)), zipfile.ZipFile(io.BytesIO(second))
    return one.namelist() == other.namelist() and all(one.read(m) == other.read(m) for m in one.namelist())


# ---------------------------------------------------------------- refresh, with a fake embedder


class FakeEmbedder:
    """Embeds an image as statistics of its pixels; records what it was asked to embed.
    Images whose name contains ``bad`` fail; ``blank`` ones have no face; ``two`` two."""

    def __init__(self) -> None:
        self.calls: List[List[str]] = []

    def __call__(self, paths: Sequence[str]) -> Iterator[Any]:
        self.calls.append(list(paths))
        for index, path in enumerate(paths):
            name = os.path.basename(path)
            if "bad" in name:
                yield recognition.EmbeddedImage(index=index, error=ValueError(f"cannot read {name}"))
                continue
            if "blank" in name:
                yield recognition.EmbeddedImage(index=index)
                continue
            pixels = cv2.imread(path).astype(np.float64)
            faces = [recognition.EmbeddedFace([pixels.mean(), pixels.std(), float(pixels.shape[1])], (1, 2, 3, 4))]
            if "two" in name:
                faces.append(recognition.EmbeddedFace([0.0, 1.0, 2.0], (5, 6, 7, 8)))
            yield recognition.EmbeddedImage(index=index, faces=faces)

    @property
    def embedded(self) -> List[str]:
        return sorted(os.path.basename(p) for call in self.calls for p in call)


def write_image(path: Path, seed: int, width: int = 40) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    cv2.imwrite(str(path), rng.integers(0, 255, (30, width, 3), dtype=np.uint8))


@pytest.fixture
def image_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "db"
    write_image(folder / "a.jpg", 1)
    write_image(folder / "two.png", 2)
    write_image(folder / "sub" / "c.JPEG", 3)
    write_image(folder / "sub" / "blank.jpg", 4)
    (folder / "notes.txt").write_text("not an image")
    (folder / "fake.jpg").write_bytes(b"RIFF\x00\x00\x00\x00WEBPVP8 ")  # not JPEG content
    return folder


def sync(folder: Path, embedder: FakeEmbedder, datastore_format: str = "npz", refresh: bool = True) -> Representations:
    path = os.path.join(str(folder), f"ds.{datastore_format}")
    return recognition.sync_datastore(str(folder), path, datastore_format, embedder, refresh=refresh, silent=True)


@pytest.mark.parametrize("datastore_format", datastore_files.DATASTORE_FORMATS)
def test_refresh_embeds_only_added_and_changed_images(image_folder: Path, datastore_format: str) -> None:
    needs_pyarrow(datastore_format)
    first = FakeEmbedder()
    reps = sync(image_folder, first, datastore_format)
    assert first.embedded == ["a.jpg", "blank.jpg", "c.JPEG", "two.png"]  # not notes.txt nor fake.jpg
    assert len(first.calls) == 1  # one batch
    assert len(reps) == 5 and int(reps.has_embedding.sum()) == 4  # two faces in two.png, none in blank
    assert set(reps.identities) == {str(p) for p in (image_folder / "a.jpg", image_folder / "two.png",
                                                     image_folder / "sub" / "c.JPEG", image_folder / "sub" / "blank.jpg")}

    unchanged = FakeEmbedder()
    datastore = image_folder / f"ds.{datastore_format}"
    stamp = datastore.stat().st_mtime_ns
    again = sync(image_folder, unchanged, datastore_format)
    assert unchanged.calls == [] and datastore.stat().st_mtime_ns == stamp
    assert list(again.rows()) == list(reps.rows())

    write_image(image_folder / "new.jpg", 5)
    (image_folder / "sub" / "c.JPEG").unlink()
    time.sleep(0.01)
    write_image(image_folder / "a.jpg", 6, width=50)  # replaced: size and times change
    changed = FakeEmbedder()
    updated = sync(image_folder, changed, datastore_format)
    assert changed.embedded == ["a.jpg", "new.jpg"]
    names = sorted(os.path.basename(i) for i in updated.identities)
    assert names == ["a.jpg", "blank.jpg", "new.jpg", "two.png", "two.png"]
    a_row = next(r for r in updated.rows() if r.identity.endswith("a.jpg"))
    assert a_row.embedding[2] == 50.0 and a_row.hash == deepface_hash(image_folder / "a.jpg")
    assert list(datastore_files.read_datastore(str(datastore), datastore_format).rows()) == list(updated.rows())


def deepface_hash(path: Path) -> str:
    """deepface 0.0.103's image fingerprint, as its image_utils.find_image_hash computes it."""
    stats = os.stat(path)
    return hashlib.sha1(f"{stats.st_size}-{stats.st_ctime}-{stats.st_mtime}".encode("utf-8")).hexdigest()


def test_rows_hold_deepfaces_hash_and_boxes(image_folder: Path) -> None:
    reps = sync(image_folder, FakeEmbedder())
    for row in reps.rows():
        assert row.hash == deepface_hash(Path(row.identity))
        assert row.box == ((0, 0, 0, 0) if "blank" in row.identity else row.box)
    two = [r.box for r in reps.rows() if r.identity.endswith("two.png")]
    assert two == [(1, 2, 3, 4), (5, 6, 7, 8)]


def test_bad_image_is_logged_and_skipped(image_folder: Path, caplog: pytest.LogCaptureFixture) -> None:
    write_image(image_folder / "bad.jpg", 7)
    with caplog.at_level(logging.ERROR, logger="deepface"):
        reps = sync(image_folder, FakeEmbedder())
    assert "bad.jpg" in caplog.text and "cannot read" in caplog.text
    bad = [r for r in reps.rows() if r.identity.endswith("bad.jpg")]
    assert bad == [StoredFace(str(image_folder / "bad.jpg"), deepface_hash(image_folder / "bad.jpg"))]
    assert sum(1 for r in reps.rows() if r.embedding is not None) == 4  # the others are kept


def test_empty_folder_and_empty_datastore(tmp_path: Path) -> None:
    (tmp_path / "readme.txt").write_text("no images here")
    with pytest.raises(EmptyDatasource, match=f"No item found in {tmp_path}"):
        sync(tmp_path, FakeEmbedder())
    assert (tmp_path / "ds.npz").exists()  # deepface leaves an empty datastore too
    with pytest.raises(EmptyDatasource, match="Nothing is found in .*ds.npz"):
        sync(tmp_path, FakeEmbedder(), refresh=False)


def test_without_refresh_changes_are_ignored(image_folder: Path) -> None:
    reps = sync(image_folder, FakeEmbedder())
    write_image(image_folder / "later.jpg", 9)
    skipped = FakeEmbedder()
    assert list(sync(image_folder, skipped, refresh=False).rows()) == list(reps.rows())
    assert skipped.calls == []


def test_distance_matrix_slices_the_gallery(monkeypatch: pytest.MonkeyPatch) -> None:
    from deepface.modules import verification

    rng = np.random.default_rng(0)
    rows = [StoredFace(f"i{n}", "h", rng.normal(size=8).tolist() if n % 3 else None) for n in range(50)]
    gallery = Representations.from_rows(rows)
    valid = np.flatnonzero(gallery.has_embedding)
    queries = rng.normal(size=(3, 8))
    whole = recognition.distance_matrix(gallery, valid, queries, "euclidean")
    monkeypatch.setattr(recognition, "DISTANCE_CHUNK_VALUES", 24 * 7)  # 7 gallery rows at a time
    sliced = recognition.distance_matrix(gallery, valid, queries, "euclidean")
    np.testing.assert_allclose(sliced, whole, atol=1e-12)
    assert np.isinf(whole[:, ~gallery.has_embedding]).all()
    for i, query in enumerate(queries):
        for n in valid:
            assert whole[i, n] == pytest.approx(float(verification.find_distance(gallery.embeddings[n], query, "euclidean")), abs=1e-6)


# ---------------------------------------------------------------- end to end, against deepface 0.0.103

MODEL = "Facenet"
DETECTOR = "opencv"
DB_PHOTOS = {"img1.jpg": 300, "img2.jpg": 320, "img3.jpg": 280, "couple.jpg": 480, "img4.jpg": 360}
QUERY_PHOTOS = {"img1.jpg": 340, "couple.jpg": 520}


@pytest.fixture(scope="module")
def find_setup(tmp_path_factory: pytest.TempPathFactory, weights_home: Path) -> Dict[str, Any]:
    """Two identical image folders (one per package first), query images, random weights."""
    oracle_or_skip()
    pytest.importorskip("pandas")
    faces = shared_faces_or_skip()
    write_random_weights(weights_home, [MODEL])
    root = tmp_path_factory.mktemp("find")
    folders = {}
    for side in ("theirs", "ours"):
        folder = root / side / "db"
        (folder / "people").mkdir(parents=True)
        folders[side] = folder
    queries = root / "queries"
    queries.mkdir()
    for name, width in DB_PHOTOS.items():
        small = resize_to_width(cv2.imread(str(faces / name)), width)
        cv2.imwrite(str(folders["theirs"] / "people" / name), small)
    cv2.imwrite(str(folders["theirs"] / "no_face.png"), synthetic_images()[0])
    (folders["theirs"] / "people" / "corrupt.jpg").write_bytes(b"\xff\xd8\xff\xe0 not a whole JPEG")
    for name, width in QUERY_PHOTOS.items():
        cv2.imwrite(str(queries / name), resize_to_width(cv2.imread(str(faces / name)), width))
    shutil.rmtree(folders["ours"])
    shutil.copytree(folders["theirs"], folders["ours"])
    return {"root": root, "home": weights_home, "folders": folders, "queries": sorted(str(p) for p in queries.iterdir())}


SEARCHES = [  # random weights put every face within 0.004 (cosine) of the others
    {"return_type": "dict", "threshold": 0.0015},
    {"return_type": "pandas"},
    {"return_type": "dict", "distance_metric": "euclidean_l2", "similarity_search": True},  # with the faceless row
    {"return_type": "pandas", "distance_metric": "euclidean", "similarity_search": True, "k": 4},
]


def typed(value: Any) -> List[Any]:
    plain = value.item() if isinstance(value, np.generic) else value
    return [type(value).__name__, plain]


def as_comparable(result: List[Any], return_type: str) -> List[Any]:
    """This package's result, written as the oracle script writes deepface's."""
    if return_type == "dict":
        return [[{key: typed(value) for key, value in row.items()} for row in face] for face in result]
    return [
        {
            "columns": list(frame.columns),
            "dtypes": [str(dtype) for dtype in frame.dtypes],
            "rows": [{key: typed(value) for key, value in row.items()} for row in frame.to_dict("records")],
        }
        for frame in result
    ]


def by_source_box(faces: List[Any], return_type: str) -> List[Any]:
    """Query faces ordered by their box: deepface's opencv gives a photo's faces in an
    order that depends on its threads, this package left to right (see README)."""

    def key(face: Any) -> List[Any]:
        rows = face["rows"] if return_type == "pandas" else face
        return [rows[0][name][1] for name in ("source_x", "source_y")] if rows else [-1, -1]

    return sorted(faces, key=key)


def faceless_rows_by_identity(rows: List[Any]) -> List[Any]:
    """Rows at an infinite distance (images without a face) tie: deepface orders them as
    its datastore happens to be (a set's order, per process), so compare them by identity."""

    def infinite(row: Any) -> bool:
        return "distance" in row and not np.isfinite(float(row["distance"][1]))

    def identity(row: Any) -> str:
        return str(row["identity"][1]).split("/db/")[-1]

    return [row for row in rows if not infinite(row)] + sorted((r for r in rows if infinite(r)), key=identity)


def assert_same_answer(ours: List[Any], theirs: List[Any], return_type: str, where: str) -> None:
    """Same faces, same matches in the same order (distances within 1e-5), same types."""
    assert len(ours) == len(theirs), f"{where}: {len(ours)} faces, deepface {len(theirs)}"
    ours, theirs = by_source_box(ours, return_type), by_source_box(theirs, return_type)
    for f, (mine, upstream) in enumerate(zip(ours, theirs)):
        if return_type == "pandas":
            assert mine["columns"] == upstream["columns"], where
            assert mine["dtypes"] == upstream["dtypes"], where
            mine, upstream = mine["rows"], upstream["rows"]
        assert len(mine) == len(upstream), f"{where} face {f}: {len(mine)} matches, deepface {len(upstream)}"
        mine, upstream = faceless_rows_by_identity(mine), faceless_rows_by_identity(upstream)
        for r, (got, want) in enumerate(zip(mine, upstream)):
            at = f"{where} face {f} row {r}"
            assert list(got) == list(want) or return_type == "dict", at  # dict: deepface's key order is a set's
            assert set(got) == set(want), at
            for key, (want_type, want_value) in want.items():
                got_type, got_value = got[key]
                assert got_type == want_type, f"{at} {key}: {got_type} vs {want_type}"
                if key == "identity":
                    assert got_value.split("/db/")[1] == want_value.split("/db/")[1], at
                elif key == "hash":
                    assert len(got_value) == 40, at
                elif key == "distance":
                    assert got_value == pytest.approx(want_value, abs=1e-5), at
                elif key == "confidence":
                    assert got_value == pytest.approx(want_value, abs=0.011), at
                else:
                    assert got_value == want_value, f"{at} {key}"


def test_find_equals_deepface_and_datastores_are_shared(find_setup: Dict[str, Any]) -> None:
    folders, queries, root = find_setup["folders"], find_setup["queries"], find_setup["root"]
    common = {"model_name": MODEL, "detector_backend": DETECTOR, "silent": True}
    datastore_name = datastore_files.datastore_file_name(MODEL, DETECTOR, True, "base", 0, "npz")

    # 1. this package builds the datastore of its folder
    ours_first = [
        [as_comparable(recognition.find(q, str(folders["ours"]), **common, **s), s["return_type"]) for q in queries]
        for s in SEARCHES
    ]
    our_datastore = folders["ours"] / datastore_name
    our_bytes = our_datastore.read_bytes()

    # 2. deepface builds its own, then searches this package's folder with this package's datastore
    request = {
        "common": common,
        "queries": [
            {"img_path": q, "db_path": str(folders[side]), **s}
            for side in ("theirs", "ours") for s in SEARCHES for q in queries
        ],
    }
    (root / "request.json").write_text(json.dumps(request))
    run_oracle_script(
        "run_find.py", ["find", str(root / "request.json"), str(root / "answers.json")], find_setup["home"]
    )
    answers = json.loads((root / "answers.json").read_text())
    assert ".oracle" in answers["deepface_file"]
    assert our_datastore.read_bytes() == our_bytes, "deepface re-embedded or rewrote this package's datastore"
    per_side = len(SEARCHES) * len(queries)
    theirs_own, theirs_on_ours = answers["answers"][:per_side], answers["answers"][per_side:]

    # 3. this package searches deepface's folder with deepface's datastore, without rewriting it
    their_datastore = folders["theirs"] / datastore_name
    their_bytes = their_datastore.read_bytes()
    ours_on_theirs = [
        [as_comparable(recognition.find(q, str(folders["theirs"]), **common, **s), s["return_type"]) for q in queries]
        for s in SEARCHES
    ]
    assert their_datastore.read_bytes() == their_bytes, "this package re-embedded deepface's datastore"

    for s_index, search in enumerate(SEARCHES):
        for q_index, query in enumerate(queries):
            n = s_index * len(queries) + q_index
            where = f"{search} {os.path.basename(query)}"
            rt = search["return_type"]
            assert_same_answer(ours_first[s_index][q_index], theirs_own[n], rt, f"{where} (each its own datastore)")
            assert_same_answer(ours_first[s_index][q_index], theirs_on_ours[n], rt, f"{where} (deepface on ours)")
            assert_same_answer(ours_on_theirs[s_index][q_index], theirs_own[n], rt, f"{where} (ours on deepface's)")
    # the comparisons covered a threshold that cuts, and the row of the image without a face
    stored = datastore_files.read_datastore(str(our_datastore), "npz")
    faceless = sorted(os.path.basename(i) for i, has in zip(stored.identities, stored.has_embedding) if not has)
    assert faceless == ["corrupt.jpg", "no_face.png"]
    kept = [len(face) for per_query in ours_first[0] for face in per_query]
    assert 0 < min(kept) and max(kept) < int(stored.has_embedding.sum()), kept
    assert all(face[-1]["distance"][1] == float("inf") for per_query in ours_first[2] for face in per_query)


def test_batch_query_equals_single_queries(find_setup: Dict[str, Any]) -> None:
    folder, queries = str(find_setup["folders"]["ours"]), find_setup["queries"]
    common = {"model_name": MODEL, "detector_backend": DETECTOR, "silent": True, "similarity_search": True}
    for return_type in ("dict", "pandas"):
        singles = [recognition.find(q, folder, return_type=return_type, **common) for q in queries]
        for batch in (queries, tuple(queries)):
            together = recognition.find(batch, folder, return_type=return_type, batch_size=2, **common)
            assert len(together) == len(queries)
            for one, many, q in zip(singles, together, queries):
                assert_same_answer(as_comparable(many, return_type), as_comparable(one, return_type), return_type, q)
    # [img] gives [[...]], and a 4-D array is a batch
    assert len(recognition.find([queries[0]], folder, return_type="dict", **common)) == 1
    frame = cv2.imread(queries[0])
    stacked = recognition.find(np.stack([frame, frame]), folder, return_type="dict", **common)
    alone = recognition.find(frame, folder, return_type="dict", **common)
    assert len(stacked) == 2
    for answer in stacked:
        assert_same_answer(as_comparable(answer, "dict"), as_comparable(alone, "dict"), "dict", "4-D array")


def test_batch_query_errors_keep_the_other_results(find_setup: Dict[str, Any]) -> None:
    folder, queries = str(find_setup["folders"]["ours"]), find_setup["queries"]
    no_face = synthetic_images()[0]
    with pytest.raises(BatchFaceNotDetected) as caught:
        recognition.find([queries[0], no_face], folder, model_name=MODEL, silent=True, return_type="dict")
    assert set(caught.value.errors) == {1} and set(caught.value.results) == {0}
    relaxed = recognition.find(
        [queries[0], no_face], folder, model_name=MODEL, silent=True, return_type="dict",
        enforce_detection=False, similarity_search=True,
    )
    assert len(relaxed) == 2 and len(relaxed[1]) == 1  # the whole image as the face
    # deepface reports a whole image's box one pixel short of its width and height
    assert relaxed[1][0][0]["source_x"] == 0 and relaxed[1][0][0]["source_w"] == no_face.shape[1] - 1


def test_custom_metric(find_setup: Dict[str, Any]) -> None:
    folder, query = str(find_setup["folders"]["ours"]), find_setup["queries"][0]
    common = {"model_name": MODEL, "detector_backend": DETECTOR, "silent": True, "threshold": 1e9}

    def pairwise(alpha: np.ndarray, beta: np.ndarray) -> Any:
        if alpha.ndim == 1:
            return float(np.abs(alpha - beta).sum())
        return np.abs(alpha[None, :, :] - beta[:, None, :]).sum(axis=2)

    as_dicts = recognition.find(query, folder, distance_metric=pairwise, return_type="dict", **common)
    as_frames = recognition.find(query, folder, distance_metric=pairwise, return_type="pandas", **common)
    for rows, frame in zip(as_dicts, as_frames):
        assert [r["identity"] for r in rows] == frame["identity"].tolist()
        np.testing.assert_allclose([r["distance"] for r in rows], frame["distance"], rtol=1e-12)
        assert {r["confidence"] for r in rows} <= {51, 100.0}
