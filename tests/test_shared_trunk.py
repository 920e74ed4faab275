"""The shared trunk of the age, gender and race models: layers run once only where the
weight files hold them bit-identically, and the answers are those of each model run whole.

The weight files are deepface's architectures with random weights (rescaled, as the
other attribute tests use them); each test copies Age's trunk into the others' files and
then, for the unshared cases, changes one layer of one file a little.
"""

import gc
import logging
import shutil
from pathlib import Path
from typing import Iterator, List

import numpy as np
import pytest

from deepface.models import engines
from deepface.models.Demography import Demography
from deepface.models.demography import shared_trunk
from deepface.models.demography import Age, Gender, Race
from deepface.models.demography.shared_trunk import (
    forget_plans,
    network_layers,
    plan_sharing,
    predict_all,
)
from testkit.rescaled_weights import copy_trunk, nudge_layer
from tests.helpers.demography_weights import WEIGHT_FILES, rescaled_demography_home

#: Shared and unshared runs do the same float32 arithmetic in the same order.
TOLERANCE = 1e-6
CLIENTS = {"Age": Age.ApparentAgeClient, "Gender": Gender.GenderClient, "Race": Race.RaceClient}


@pytest.fixture(scope="module")
def rescaled_home(weights_home: Path) -> Path:
    return rescaled_demography_home(weights_home)


def variant_home(rescaled_home: Path, target: Path, names: List[str]) -> Path:
    """A copy of ``rescaled_home``'s files of ``names``."""
    folder = target / ".deepface" / "weights"
    folder.mkdir(parents=True)
    for name in names:
        shutil.copyfile(rescaled_home / ".deepface" / "weights" / WEIGHT_FILES[name], folder / WEIGHT_FILES[name])
    return target


def weight_path(home: Path, name: str) -> Path:
    return home / ".deepface" / "weights" / WEIGHT_FILES[name]


@pytest.fixture
def load_models(monkeypatch: pytest.MonkeyPatch) -> Iterator:
    """Build the named models from a home's files (each test its own, freed after)."""
    built: List[Demography] = []

    def load(home: Path, names: List[str]) -> List[Demography]:
        monkeypatch.setenv("DEEPFACE_HOME", str(home))
        models = [CLIENTS[name]() for name in names]
        built.extend(models)
        return models

    yield load
    forget_plans()
    built.clear()
    gc.collect()


@pytest.fixture(scope="module")
def faces() -> np.ndarray:
    """Prepared faces as analyze makes them: (N, 224, 224, 3) float32 in [0, 1]."""
    rng = np.random.default_rng(7)
    smooth = rng.random((5, 28, 28, 3), dtype=np.float32)
    return np.repeat(np.repeat(smooth, 8, axis=1), 8, axis=2)


def head_position(model: Demography) -> int:
    """Where the model's own class layer (deepface's ``predictions``) sits."""
    return [layer.name for layer in network_layers(model.model)].index("predictions")


def assert_same_predictions(shared: List[np.ndarray], whole: List[np.ndarray], names: List[str]) -> None:
    for name, got, want in zip(names, shared, whole):
        np.testing.assert_allclose(got, want, rtol=0, atol=TOLERANCE, err_msg=name)


def test_identical_trunks_run_once_with_each_model_s_answers(
    rescaled_home: Path, tmp_path: Path, load_models, faces: np.ndarray, caplog: pytest.LogCaptureFixture
) -> None:
    names = ["Age", "Gender", "Race"]
    home = variant_home(rescaled_home, tmp_path, names)
    for name in ("Gender", "Race"):
        copy_trunk(weight_path(home, "Age"), weight_path(home, name))
    models = load_models(home, names)

    with caplog.at_level(logging.INFO, logger="deepface.models.demography.shared_trunk"):
        plan = plan_sharing(models)
    assert plan.depth == head_position(models[0]), "everything up to the heads should be shared"
    assert "Age, Gender, Race share their first" in caplog.text

    shared = predict_all(models, faces)
    whole = [model.predict_batch(faces) for model in models]
    assert_same_predictions(shared, whole, names)
    assert shared[0].shape == (len(faces),)  # apparent ages
    one_face = faces[2:3]
    assert_same_predictions(predict_all(models, one_face), [model.predict_batch(one_face) for model in models], names)


def test_trunks_that_differ_from_the_first_layer_share_nothing(
    rescaled_home: Path, tmp_path: Path, load_models, faces: np.ndarray
) -> None:
    names = ["Age", "Gender"]
    home = variant_home(rescaled_home, tmp_path, names)
    copy_trunk(weight_path(home, "Age"), weight_path(home, "Gender"))
    nudge_layer(weight_path(home, "Gender"), 0)
    models = load_models(home, names)

    assert plan_sharing(models).depth == 0
    assert_same_predictions(predict_all(models, faces), [m.predict_batch(faces) for m in models], names)


def test_a_partly_shared_trunk_stops_at_the_first_differing_layer(
    rescaled_home: Path, tmp_path: Path, load_models, faces: np.ndarray
) -> None:
    names = ["Age", "Gender"]
    home = variant_home(rescaled_home, tmp_path, names)
    copy_trunk(weight_path(home, "Age"), weight_path(home, "Gender"))
    nudge_layer(weight_path(home, "Gender"), 5)  # the sixth convolution
    models = load_models(home, names)

    depth = plan_sharing(models).depth
    convolutions_before = [layer for layer in network_layers(models[0].model)[:depth] if layer.get_weights()]
    assert len(convolutions_before) == 5
    assert 0 < depth < head_position(models[0])
    shared = predict_all(models, faces)
    assert_same_predictions(shared, [m.predict_batch(faces) for m in models], names)
    assert_same_predictions(shared, predict_all(models, faces, share_trunk=False), names)


def test_models_that_never_share_take_their_own_path(
    rescaled_home: Path, load_models, faces: np.ndarray
) -> None:
    """One model, or a model with its own input (the emotion model's 48x48 gray), runs whole."""
    (age,) = load_models(rescaled_home, ["Age"])
    ages = predict_all([age], faces)
    np.testing.assert_allclose(ages[0], age.predict_batch(faces), rtol=0, atol=TOLERANCE)
    assert predict_all([age], faces[:0])[0].shape == (0,)


def test_the_shared_trunk_runs_on_openvino_with_each_model_s_answers(
    rescaled_home: Path, tmp_path: Path, load_models, faces: np.ndarray, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the fastest runtime asked for, the shared trunk and heads run on OpenVINO (the
    models stay Keras, so their weights can be compared): within 1e-5 of each answer's scale."""
    names = ["Age", "Gender", "Race"]
    home = variant_home(rescaled_home, tmp_path, names)
    for name in ("Gender", "Race"):
        copy_trunk(weight_path(home, "Age"), weight_path(home, name))
    monkeypatch.setenv(engines.RUNTIME_ENV_VAR, "fastest")
    models = load_models(home, names)
    assert all(model.runner.runtime == "tensorflow" for model in models), "analyze's trunk needs the Keras models"
    shared = predict_all(models, faces)
    assert shared_trunk._trunks.get(tuple(models)).runtime == engines.OPENVINO
    whole = [model.predict_batch(faces) for model in models]
    for name, got, want in zip(names, shared, whole):
        scale = max(1.0, float(np.abs(want).max()))
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-5 * scale, err_msg=name)
