"""Random-weight files for the four attribute models, written by deepface's own code and
rescaled so that the random networks answer decisively (fresh ones answer uniformly)."""

import shutil
from pathlib import Path

from testkit.rescaled_weights import rescale_random_weights
from tests.helpers.oracle import make_once, write_random_weights

#: deepface's model name -> its weight file
WEIGHT_FILES = {
    "Age": "age_model_weights.h5",
    "Gender": "gender_model_weights.h5",
    "Race": "race_model_single_batch.h5",
    "Emotion": "facial_expression_model_weights.h5",
}


def write_demography_home(weights_home: Path, home: Path) -> Path:
    """Fill ``home``'s weights folder with the four models' rescaled random weights (the
    originals are written once into ``weights_home``, shared with other tests)."""
    write_random_weights(weights_home, list(WEIGHT_FILES))  # all at once: one oracle process
    folder = home / ".deepface" / "weights"
    folder.mkdir(parents=True, exist_ok=True)
    for file_name in WEIGHT_FILES.values():
        target = folder / file_name
        shutil.copyfile(weights_home / ".deepface" / "weights" / file_name, target)
        rescale_random_weights(target)
    return home


def rescaled_demography_home(weights_home: Path) -> Path:
    """A DEEPFACE_HOME holding the four rescaled files, written once per test run (inside
    ``weights_home``, so shared by every module and xdist worker). Read it, never change it:
    a test that reworks the files copies them first."""
    home = weights_home / "rescaled-demography"
    make_once(weights_home, ["rescaled-demography"], lambda _: write_demography_home(weights_home, home))
    return home
