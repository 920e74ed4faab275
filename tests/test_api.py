"""The REST API through Flask's test client: every endpoint, batches, uploads, auth, the
path/URL policy, the size limit and bad fields.

The recognition model is Dlib (its real weights ship with face_recognition_models) and the
detector opencv (its cascades ship with OpenCV); /analyze uses a random-weight Emotion
model. Expected answers are the library's own, called directly on the same images.
"""

import base64
import io
import os
from pathlib import Path
from typing import Any, Dict, List

import cv2
import numpy as np
import pytest

from deepface import DeepFace
from deepface.api.src.app import create_app
from deepface.api.src.dependencies.serving import HttpSettings
from deepface.api.src.dependencies.variables import Variables
from tests.conftest import resize_to_width, synthetic_images
from tests.helpers.oracle import write_random_weights

MODEL = {"model_name": "Dlib", "detector_backend": "opencv"}
ENDPOINTS_WITH_IMG = ["/represent", "/analyze", "/extract_faces", "/register", "/search"]


def data_uri(jpeg: bytes) -> str:
    return "data:image/jpeg;base64," + base64.b64encode(jpeg).decode("ascii")


def encoded(img: np.ndarray) -> bytes:
    ok, buffer = cv2.imencode(".jpg", img)
    assert ok
    return buffer.tobytes()


@pytest.fixture(scope="module")
def jpegs(face_photos: Dict[str, np.ndarray]) -> List[bytes]:
    """Two small portraits, JPEG-encoded."""
    return [encoded(resize_to_width(face_photos[name], 320)) for name in ("img1.jpg", "img2.jpg")]


@pytest.fixture(scope="module")
def uris(jpegs: List[bytes]) -> List[str]:
    return [data_uri(jpeg) for jpeg in jpegs]


@pytest.fixture(scope="module")
def client() -> Any:
    """An application with deepface's default settings (no token, no paths, no URLs)."""
    return create_app(Variables()).test_client()


def make_client(**settings: Any) -> Any:
    return create_app(Variables(**settings)).test_client()


def decoded(jpeg: bytes) -> np.ndarray:
    return cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)


def without_time(answer: Dict[str, Any]) -> Dict[str, Any]:
    return {key: value for key, value in answer.items() if key != "time"}


def json_like(value: Any) -> Any:
    """``value`` as it comes back from JSON (tuples as lists)."""
    if isinstance(value, dict):
        return {key: json_like(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_like(item) for item in value]
    return value


def assert_close(actual: Any, expected: Any, where: str = "results") -> None:
    """Equal JSON trees, floats within 1e-5 (the library's batch == single tolerance)."""
    if isinstance(expected, dict):
        assert isinstance(actual, dict) and set(actual) == set(expected), where
        for key in expected:
            assert_close(actual[key], expected[key], f"{where}.{key}")
    elif isinstance(expected, list):
        assert isinstance(actual, list) and len(actual) == len(expected), where
        for i, (got, want) in enumerate(zip(actual, expected)):
            assert_close(got, want, f"{where}[{i}]")
    elif isinstance(expected, float):
        assert actual == pytest.approx(expected, abs=1e-5), where
    else:
        assert actual == expected, where


# ---------------------------------------------------------------- endpoints


def test_home_names_the_version(client: Any) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert DeepFace.__version__ in response.get_data(as_text=True)


def test_represent_answers_the_library_results(client: Any, jpegs: List[bytes], uris: List[str]) -> None:
    response = client.post("/represent", json={"img": uris[0], **MODEL})
    assert response.status_code == 200, response.json
    expected = DeepFace.represent(decoded(jpegs[0]), **MODEL)
    assert response.json == {"results": json_like(expected)}


def test_represent_batch_equals_single_requests(client: Any, uris: List[str]) -> None:
    singles = [client.post("/represent", json={"img": uri, **MODEL}).json["results"] for uri in uris]
    batch = client.post("/represent", json={"img": [uris[1], uris[0]], **MODEL})
    assert batch.status_code == 200, batch.json
    assert batch.json["results"] == [singles[1], singles[0]]
    one = client.post("/represent", json={"img": [uris[0]], **MODEL}).json["results"]
    assert one == [singles[0]]  # a list of one is a batch of one: the shape follows the type


def test_multipart_upload_equals_base64(client: Any, jpegs: List[bytes], uris: List[str]) -> None:
    from_json = client.post("/represent", json={"img": uris[0], **MODEL}).json
    upload = client.post(
        "/represent",
        data={"img": (_file(jpegs[0]), "a.jpg"), **MODEL, "align": "true"},
        content_type="multipart/form-data",
    )
    assert upload.status_code == 200, upload.json
    assert upload.json == from_json
    several = client.post(
        "/represent",
        data={"img": [(_file(jpegs[0]), "a.jpg"), (_file(jpegs[1]), "b.jpg")], **MODEL},
        content_type="multipart/form-data",
    )
    expected = client.post("/represent", json={"img": uris, **MODEL}).json
    assert several.status_code == 200, several.json
    assert several.json == expected  # several files under one name are one batch


def _file(data: bytes) -> Any:
    return io.BytesIO(data)


def test_verify_single_pair_and_batch_of_pairs(client: Any, jpegs: List[bytes], uris: List[str]) -> None:
    single = client.post("/verify", json={"img1": uris[0], "img2": uris[1], **MODEL})
    assert single.status_code == 200, single.json
    expected = DeepFace.verify(decoded(jpegs[0]), decoded(jpegs[1]), **MODEL)
    assert without_time(single.json) == without_time(json_like(expected))
    pairs = client.post("/verify", json={"img1": [uris[0], uris[1]], "img2": [uris[1], uris[1]], **MODEL})
    assert pairs.status_code == 200, pairs.json
    same = client.post("/verify", json={"img1": uris[1], "img2": uris[1], **MODEL}).json
    assert [without_time(answer) for answer in pairs.json["results"]] == [
        without_time(single.json),
        without_time(same),
    ]


def test_verify_takes_embeddings(client: Any, uris: List[str]) -> None:
    embedding = client.post("/represent", json={"img": uris[0], **MODEL}).json["results"][0]["embedding"]
    response = client.post("/verify", json={"img1": embedding, "img2": uris[0], **MODEL})
    assert response.status_code == 200, response.json
    assert response.json["distance"] == pytest.approx(0.0, abs=1e-6)


def test_verify_refuses_pairs_of_unequal_lengths(client: Any, uris: List[str]) -> None:
    response = client.post("/verify", json={"img1": uris, "img2": uris[:1], **MODEL})
    assert response.status_code == 400
    assert response.json["field"] == "img2"


@pytest.fixture(scope="module")
def emotion_home(weights_home: Path) -> Path:
    write_random_weights(weights_home, ["Emotion"])
    return weights_home


@pytest.mark.timeout(600)
def test_analyze_batch_equals_library(client: Any, emotion_home: Path, jpegs: List[bytes], uris: List[str]) -> None:
    fields = {"actions": ["emotion"], "detector_backend": "opencv"}
    single = client.post("/analyze", json={"img": uris[0], **fields})
    assert single.status_code == 200, single.json
    expected = DeepFace.analyze(decoded(jpegs[0]), actions=["emotion"], detector_backend="opencv")
    assert single.json == {"results": json_like(expected)}
    batch = client.post("/analyze", json={"img": uris, **fields})
    second = client.post("/analyze", json={"img": uris[1], **fields}).json["results"]
    # a batched forward pass may differ from a single one in the last float bits
    assert_close(batch.json["results"], [single.json["results"], second])
    form = client.post(
        "/analyze",
        data={"img": (_file(jpegs[0]), "a.jpg"), "actions": '["emotion"]', "detector_backend": "opencv"},
        content_type="multipart/form-data",
    )
    assert form.json == single.json  # a form sends actions as text


def test_extract_faces_answers_areas_and_optional_crops(client: Any, jpegs: List[bytes], uris: List[str]) -> None:
    response = client.post("/extract_faces", json={"img": [uris[0]], "detector_backend": "opencv"})
    assert response.status_code == 200, response.json
    (faces,) = DeepFace.extract_faces([decoded(jpegs[0])], detector_backend="opencv")
    assert response.json["results"] == [[
        {"facial_area": json_like(face["facial_area"]), "confidence": face["confidence"]} for face in faces
    ]]
    with_crops = client.post("/extract_faces", json={"img": uris[0], "return_face": True})
    crop_uri = with_crops.json["results"][0]["face"]
    crop = cv2.imdecode(np.frombuffer(base64.b64decode(crop_uri.split(",", 1)[1]), np.uint8), cv2.IMREAD_COLOR)
    (expected,) = DeepFace.extract_faces(decoded(jpegs[0]), color_face="bgr", normalize_face=False)
    assert np.array_equal(crop, expected["face"].astype(np.uint8))  # PNG is lossless


# ---------------------------------------------------------------- database endpoints


class Recorder:
    """A stand-in for a ``DeepFace`` function: records its keyword arguments."""

    def __init__(self, answer: Any) -> None:
        self.answer = answer
        self.calls: List[Dict[str, Any]] = []

    def __call__(self, **kwargs: Any) -> Any:
        self.calls.append(kwargs)
        return self.answer


@pytest.fixture
def database_fakes(monkeypatch: pytest.MonkeyPatch) -> Dict[str, Recorder]:
    fakes = {
        "register": Recorder({"inserted": 2}),
        "search": Recorder([[{"id": 1, "img_name": "a.jpg", "distance": np.float32(0.25)}]]),
        "build_index": Recorder(None),
    }
    for name, fake in fakes.items():
        monkeypatch.setattr(DeepFace, name, fake, raising=False)
    return fakes


@pytest.fixture(scope="module")
def database_client() -> Any:
    return make_client(database_type="sqlite", connection_details="/tmp/faces.db")


def test_register_forwards_a_batch_and_the_database(
    database_client: Any, database_fakes: Dict[str, Recorder], uris: List[str]
) -> None:
    response = database_client.post("/register", json={"img": uris, "img_name": "alice", "l2_normalize": True, **MODEL})
    assert response.status_code == 200, response.json
    assert response.json == {"inserted": 2}
    (call,) = database_fakes["register"].calls
    assert call["img"] == uris and call["img_name"] == "alice" and call["l2_normalize"] is True
    assert (call["database_type"], call["connection_details"]) == ("sqlite", "/tmp/faces.db")


def test_search_answers_dicts(database_client: Any, database_fakes: Dict[str, Recorder], uris: List[str]) -> None:
    response = database_client.post("/search", json={"img": uris[0], "k": "3", "search_method": "ann"})
    assert response.status_code == 200, response.json
    assert response.json == {"results": [[{"id": 1, "img_name": "a.jpg", "distance": 0.25}]]}
    (call,) = database_fakes["search"].calls
    assert call["return_type"] == "dict" and call["k"] == 3 and call["search_method"] == "ann"


def test_build_index(database_client: Any, database_fakes: Dict[str, Recorder]) -> None:
    response = database_client.post("/build/index", json={"model_name": "Dlib"})
    assert response.status_code == 200, response.json
    assert response.json == {"message": "Index built successfully"}
    assert database_fakes["build_index"].calls[0]["model_name"] == "Dlib"


@pytest.mark.parametrize("endpoint", ["/register", "/search", "/build/index"])
def test_database_endpoints_need_a_configured_database(client: Any, endpoint: str) -> None:
    response = client.post(endpoint, json={})  # postgres (deepface's default) without details
    assert response.status_code == 500
    assert "DEEPFACE_CONNECTION_DETAILS" in response.json["error"]


# ---------------------------------------------------------------- auth


@pytest.fixture(scope="module")
def token_client() -> Any:
    return make_client(auth_token="s3cret", database_type="sqlite")


@pytest.mark.parametrize("endpoint", [*ENDPOINTS_WITH_IMG, "/verify", "/build/index"])
@pytest.mark.parametrize("header", [None, "Bearer wrong", "s3cret", "Basic s3cret"])
def test_missing_or_wrong_token_is_401(token_client: Any, endpoint: str, header: Any) -> None:
    headers = {"Authorization": header} if header else {}
    response = token_client.post(endpoint, json={}, headers=headers)
    assert response.status_code == 401
    assert response.json == {"message": "Invalid or missing authentication token"}


def test_right_token_is_served(token_client: Any, uris: List[str]) -> None:
    response = token_client.post(
        "/represent", json={"img": uris[0], **MODEL}, headers={"Authorization": "Bearer s3cret"}
    )
    assert response.status_code == 200, response.json


# ---------------------------------------------------------------- paths and URLs


@pytest.fixture(scope="module")
def image_folder(tmp_path_factory: pytest.TempPathFactory, jpegs: List[bytes]) -> Path:
    """``allowed/face.jpg``, a secret image beside the allowed folder, and a symbolic link
    inside the allowed folder pointing to it."""
    root = tmp_path_factory.mktemp("api-paths")
    allowed, outside = root / "allowed", root / "outside"
    allowed.mkdir()
    outside.mkdir()
    (allowed / "face.jpg").write_bytes(jpegs[0])
    (outside / "secret.jpg").write_bytes(jpegs[0])
    os.symlink(outside / "secret.jpg", allowed / "link.jpg")
    return root


@pytest.mark.parametrize("endpoint", ENDPOINTS_WITH_IMG)
def test_paths_and_urls_are_refused_by_default(
    database_fakes: Dict[str, Recorder], image_folder: Path, endpoint: str
) -> None:
    app = make_client(database_type="sqlite")
    sources = {str(image_folder / "allowed" / "face.jpg"): "DEEPFACE_API_ALLOW_PATHS",
               "https://example.com/face.jpg": "DEEPFACE_API_ALLOW_URLS"}
    for source, variable in sources.items():
        response = app.post(endpoint, json={"img": source})
        assert response.status_code == 400, (endpoint, source)
        assert response.json["field"] == "img"
        assert variable in response.json["error"]  # the refusal says how to allow it
    assert not any(fake.calls for fake in database_fakes.values())


def test_allowed_folder_is_read_and_escapes_are_refused(image_folder: Path, uris: List[str]) -> None:
    app = make_client(allow_paths=(str(image_folder / "allowed"),))
    from_path = app.post("/represent", json={"img": str(image_folder / "allowed" / "face.jpg"), **MODEL})
    assert from_path.status_code == 200, from_path.json
    assert from_path.json == app.post("/represent", json={"img": uris[0], **MODEL}).json
    escapes = [
        str(image_folder / "allowed" / "link.jpg"),  # a symbolic link to a file outside
        str(image_folder / "allowed" / ".." / "outside" / "secret.jpg"),
        str(image_folder / "outside" / "secret.jpg"),
    ]
    for index, path in enumerate(escapes):
        response = app.post("/represent", json={"img": [uris[0], path], **MODEL})
        assert response.status_code == 400, path
        assert response.json["field"] == "img[1]", index
    assert app.post("/represent", json={"img": "https://example.com/a.jpg"}).status_code == 400


def test_allowed_urls_reach_the_library(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: List[Any] = []
    monkeypatch.setattr(DeepFace, "represent", lambda img, **kw: seen.append(img) or [])
    app = make_client(allow_urls=True)
    response = app.post("/represent", json={"img": ["https://example.com/a.jpg"]})
    assert response.status_code == 200, response.json
    assert seen == [["https://example.com/a.jpg"]]  # fetched by the library, never here


# ---------------------------------------------------------------- limits and bad input


def test_request_over_the_size_limit_is_413(uris: List[str]) -> None:
    app = make_client(max_request_mb=0.01)  # about 10 kB; the photo is larger
    response = app.post("/represent", json={"img": uris[0]})
    assert response.status_code == 413
    assert "limit" in response.json["error"]


BAD_FIELDS = [
    ({"align": "maybe"}, "align"),
    ({"enforce_detection": 2}, "enforce_detection"),
    ({"max_faces": 0}, "max_faces"),
    ({"max_faces": "many"}, "max_faces"),
    ({"model_name": 5}, "model_name"),
    ({"img": None}, "img"),
    ({"img": 123}, "img"),
    ({"img": ["data:image/jpeg;base64,", 7]}, "img[1]"),
]


@pytest.mark.parametrize("fields, field", BAD_FIELDS)
def test_bad_field_is_400_naming_it(client: Any, uris: List[str], fields: Dict[str, Any], field: str) -> None:
    response = client.post("/represent", json={"img": uris[0], **fields})
    assert response.status_code == 400
    assert response.json["field"] == field
    assert field in response.json["error"]


def test_unknown_field_is_ignored_with_one_warning(
    client: Any, uris: List[str], caplog: pytest.LogCaptureFixture
) -> None:
    expected = client.post("/represent", json={"img": uris[0], **MODEL}).json
    with caplog.at_level("WARNING", logger="deepface"):
        for _ in range(2):
            response = client.post("/represent", json={"img": uris[0], "detectr_backend": "opencv", **MODEL})
            assert response.status_code == 200, response.json
            assert response.json == expected  # deepface ignores the field; so does this server
    warnings = [record.getMessage() for record in caplog.records if "detectr_backend" in record.getMessage()]
    assert len(warnings) == 1 and "/represent" in warnings[0]


def test_strict_server_refuses_unknown_fields(uris: List[str]) -> None:
    strict = create_app(Variables(), HttpSettings(strict_fields=True)).test_client()
    response = strict.post("/represent", json={"img": uris[0], "detectr_backend": "opencv"})
    assert response.status_code == 400
    assert response.json["field"] == "detectr_backend"
    assert "detector_backend" in response.json["error"]  # the known fields are listed
    form = strict.post("/represent", data={"img": (_file(b"x"), "a.jpg"), "nonsense": "1"},
                       content_type="multipart/form-data")
    assert form.status_code == 400 and form.json["field"] == "nonsense"


@pytest.mark.parametrize(
    "origins, origin, allowed",
    [(("*",), "https://app.example", "https://app.example"),  # echoed, as deepface's CORS(app) does (("https://a.example",), "https://a.example", "https://a.example"),
     (("https://a.example",), "https://b.example", None)],
)
def test_cors_headers(origins: tuple, origin: str, allowed: Any) -> None:
    app = create_app(Variables(), HttpSettings(cors_origins=origins)).test_client()
    preflight = app.options("/represent", headers={"Origin": origin, "Access-Control-Request-Method": "POST"})
    assert preflight.headers.get("Access-Control-Allow-Origin") == allowed
    answer = app.get("/", headers={"Origin": origin})
    assert answer.headers.get("Access-Control-Allow-Origin") == allowed


def test_http_settings_and_env_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert HttpSettings.from_env({}) == HttpSettings(cors_origins=("*",), strict_fields=False)
    env = {"DEEPFACE_API_CORS_ORIGINS": "https://a.example, https://b.example", "DEEPFACE_API_STRICT": "yes"}
    assert HttpSettings.from_env(env) == HttpSettings(("https://a.example", "https://b.example"), True)
    (tmp_path / ".env").write_text("DEEPFACE_AUTH_TOKEN=from-dotenv\nDEEPFACE_API_STRICT=1\n")
    nested = tmp_path / "work" / "dir"
    nested.mkdir(parents=True)
    monkeypatch.chdir(nested)  # the nearest .env above the working directory
    monkeypatch.delenv("DEEPFACE_AUTH_TOKEN", raising=False)
    monkeypatch.setenv("DEEPFACE_API_STRICT", "0")  # the environment wins over the file
    for name in ("DEEPFACE_DATABASE_TYPE", "DEEPFACE_API_ALLOW_PATHS", "DEEPFACE_API_CORS_ORIGINS"):
        monkeypatch.delenv(name, raising=False)
    app = create_app().test_client()
    try:
        assert app.post("/represent", json={}).status_code == 401  # the token came from .env
        assert app.post("/represent", json={"nonsense": 1}, headers={"Authorization": "Bearer from-dotenv"}).json[
            "field"
        ] == "img"  # not strict: the unknown field is ignored, the missing image named
    finally:
        os.environ.pop("DEEPFACE_AUTH_TOKEN", None)


def test_serve_options_for_cors_and_strict() -> None:
    import argparse

    from deepface.api.launcher import add_serve_arguments, server_settings

    parser = argparse.ArgumentParser()
    add_serve_arguments(parser)
    args = parser.parse_args(["--cors-origins", "https://a.example", "https://b.example", "--strict"])
    assert server_settings(args, HttpSettings()) == HttpSettings(("https://a.example", "https://b.example"), True)
    from_env = HttpSettings(("https://env.example",), True)
    assert server_settings(parser.parse_args([]), from_env) == from_env  # the environment's, unchanged


@pytest.mark.parametrize(
    "body, content_type",
    [("{not json", "application/json"), ("[1, 2]", "application/json"), ("", "text/plain")],
)
def test_unreadable_body_is_400(client: Any, body: str, content_type: str) -> None:
    response = client.post("/represent", data=body, content_type=content_type)
    assert response.status_code == 400
    assert response.json["field"] in ("body", "img")


def test_corrupt_image_and_no_face_are_400(client: Any, uris: List[str]) -> None:
    corrupt = data_uri(b"not a jpeg at all")
    response = client.post("/represent", json={"img": corrupt, **MODEL})
    assert response.status_code == 400 and response.json["field"] == "img"
    no_face = data_uri(encoded(synthetic_images()[3]))
    response = client.post("/represent", json={"img": no_face, **MODEL})
    assert response.status_code == 400 and "face" in response.json["error"].lower()
    batch = client.post("/represent", json={"img": [uris[0], corrupt, no_face], **MODEL})
    assert batch.status_code == 400
    assert sorted(batch.json["errors"]) == ["img[1]", "img[2]"]  # every failed item, by index
    upload = client.post(
        "/represent", data={"img": (_file(b"garbage"), "x.jpg")}, content_type="multipart/form-data"
    )
    assert upload.status_code == 400 and upload.json["field"] == "img"


def test_unknown_model_is_400(client: Any, uris: List[str]) -> None:
    response = client.post("/represent", json={"img": uris[0], "model_name": "NoSuchModel"})
    assert response.status_code == 400
    assert "NoSuchModel" in response.json["error"]


def test_unexpected_error_is_500_without_details(monkeypatch: pytest.MonkeyPatch, client: Any, uris: List[str]) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(DeepFace, "represent", broken)
    response = client.post("/represent", json={"img": uris[0]})
    assert response.status_code == 500
    assert "secret" not in response.get_data(as_text=True)
    assert "Traceback" not in response.get_data(as_text=True)


def test_unknown_route_and_method_answer_json(client: Any) -> None:
    assert client.post("/nowhere", json={}).json["error"].startswith("Not Found")
    assert client.get("/represent").status_code == 405


# ---------------------------------------------------------------- settings


def test_variables_read_deepface_environment() -> None:
    env = {
        "DEEPFACE_DATABASE_TYPE": "SQLite",
        "DEEPFACE_SQLITE_PATH": "/data/faces.db",
        "DEEPFACE_AUTH_TOKEN": "t",
        "DEEPFACE_FACE_RECOGNITION_MODELS": "Facenet, Dlib",
        "DEEPFACE_API_ALLOW_PATHS": os.pathsep.join(["/a", "/b"]),
        "DEEPFACE_API_ALLOW_URLS": "true",
        "DEEPFACE_API_MAX_REQUEST_MB": "4",
    }
    variables = Variables.from_env(env)
    assert variables == Variables(
        database_type="sqlite",
        connection_details="/data/faces.db",
        auth_token="t",
        face_recognition_models=("Facenet", "Dlib"),
        allow_paths=("/a", "/b"),
        allow_urls=True,
        max_request_mb=4.0,
    )
    assert Variables.from_env({"DEEPFACE_CONNECTION_DETAILS": "x", "DEEPFACE_POSTGRES_URI": "y"}).connection_details == "x"
    with pytest.raises(ValueError, match="DEEPFACE_DATABASE_TYPE"):
        Variables.from_env({"DEEPFACE_DATABASE_TYPE": "nosuchdb"})


def test_warm_up_failure_does_not_stop_start_up(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level("WARNING", logger="deepface"):
        app = create_app(Variables(face_recognition_models=("NoSuchModel",), face_detection_models=("opencv",)))
    assert app.test_client().get("/").status_code == 200
    assert any("NoSuchModel" in record.getMessage() for record in caplog.records)


def test_allowed_paths_must_be_folders(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not a folder"):
        create_app(Variables(allow_paths=(str(tmp_path / "missing"),)))



@pytest.mark.timeout(300)
def test_register_then_search_through_sqlite(tmp_path: Path, uris: List[str]) -> None:
    app = make_client(database_type="sqlite", connection_details=str(tmp_path / "faces.sqlite"))
    registered = app.post("/register", json={"img": uris, "img_name": ["one", "two"], **MODEL})
    assert registered.status_code == 200, registered.json
    assert registered.json == {"inserted": 2}
    for method in ("exact", "ann"):
        if method == "ann":
            built = app.post("/build/index", json={"model_name": "Dlib", "detector_backend": "opencv"})
            assert built.status_code == 200, built.json
        found = app.post("/search", json={"img": uris[1], "search_method": method, "similarity_search": True, **MODEL})
        assert found.status_code == 200, found.json
        (matches,) = found.json["results"]  # one list per query face
        assert matches[0]["img_name"] == "two", method
        assert matches[0]["distance"] == pytest.approx(0.0, abs=1e-4), method
