"""Write random-weight models of deepface 0.0.103's own Keras architectures under the file
names deepface loads, into ``$DEEPFACE_HOME/.deepface/weights``.

The oracle is the reference here: its model code builds each architecture, and instead
of loading weights the network's fresh random weights are saved. Run it with upstream
deepface first on PYTHONPATH, from outside the checkout:

    PYTHONPATH=.oracle DEEPFACE_HOME=DIR python tests/oracle/write_random_weights.py VGG-Face Facenet
"""

import importlib
import os
import sys

os.environ["TF_USE_LEGACY_KERAS"] = "1"
import torch  # noqa: F401,E402  (torch and torchvision before TensorFlow, or the process crashes)
import torchvision  # noqa: F401,E402
import tensorflow as tf  # noqa: E402
from deepface.commons import folder_utils, weight_utils  # noqa: E402

# deepface's model name -> (module under deepface.models, loader function)
BUILDERS = {
    "VGG-Face": ("facial_recognition.tf.VGGFace", "load_model"),
    "Facenet": ("facial_recognition.tf.Facenet", "load_facenet128d_model"),
    "Facenet512": ("facial_recognition.tf.Facenet", "load_facenet512d_model"),
    "OpenFace": ("facial_recognition.tf.OpenFace", "load_model"),
    "DeepID": ("facial_recognition.tf.DeepID", "load_model"),
    "ArcFace": ("facial_recognition.tf.ArcFace", "load_model"),
    "GhostFaceNet": ("facial_recognition.tf.GhostFaceNet", "load_model"),
    "DeepFace": ("facial_recognition.tf.FbDeepFace", "load_model"),
    "Age": ("demography.tf.Age", "load_model"),
    "Gender": ("demography.tf.Gender", "load_model"),
    "Race": ("demography.tf.Race", "load_model"),
    "Emotion": ("demography.tf.Emotion", "load_model"),
}


def main(names: list) -> None:
    seed = int(os.environ.get("RANDOM_WEIGHTS_SEED", "0"))
    weights = os.path.join(folder_utils.get_deepface_home(), ".deepface", "weights")
    os.makedirs(weights, exist_ok=True)

    def cached_path(file_name, source_url, compress_type=None):
        return os.path.join(weights, file_name)

    def save_instead_of_load(model, weight_file):
        model.save_weights(weight_file)
        return model

    weight_utils.download_weights_if_necessary = cached_path
    weight_utils.load_model_weights = save_instead_of_load
    for name in names:
        tf.keras.utils.set_random_seed(seed)
        module_name, loader = BUILDERS[name]
        module = importlib.import_module(f"deepface.models.{module_name}")
        getattr(module, loader)()
        print(f"wrote {name}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
