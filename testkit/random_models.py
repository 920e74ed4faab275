"""Detector models of the real architectures with random weights, for tests and
benchmarks with no downloads (YOLOv8n-face, RetinaFace).

A freshly initialised network barely responds to its input (activations shrink layer
by layer), so every anchor gets the same score. The weights here are re-drawn so that
scores vary with the image, and the class bias is set so only a few boxes pass a
modest threshold, as with a trained model.
"""

from pathlib import Path

FACE_KEYPOINTS = [5, 3]  # the face models' five landmarks, as (x, y, visibility)
CLASS_WEIGHT_SCALE = 40.0
CLASS_BIAS = -5.0


def write_random_yolo_face_model(target: Path, seed: int = 0) -> Path:
    """Write a YOLOv8n pose model with one class and five keypoints to ``target`` (.pt).

    Needs ultralytics (and torch); raises ImportError without them.
    """
    import torch
    import ultralytics
    import yaml
    from ultralytics import YOLO

    config = yaml.safe_load(
        (Path(ultralytics.__file__).parent / "cfg/models/v8/yolov8-pose.yaml").read_text()
    )
    config["nc"] = 1
    config["kpt_shape"] = FACE_KEYPOINTS
    config_file = target.with_name("yolov8n-face.yaml")  # the 'n' picks the nano scale
    config_file.write_text(yaml.safe_dump(config))

    torch.manual_seed(seed)
    model = YOLO(str(config_file))
    with torch.no_grad():
        for module in model.model.modules():
            if isinstance(module, torch.nn.Conv2d):
                torch.nn.init.kaiming_normal_(module.weight, nonlinearity="relu")
        for branch in model.model.model[-1].cv3:  # the class-score branch of each level
            branch[-1].weight.copy_(torch.randn_like(branch[-1].weight) * CLASS_WEIGHT_SCALE)
            branch[-1].bias.fill_(CLASS_BIAS)
    model.save(str(target))
    return target


RETINAFACE_LOGIT_STD = 4.0
RETINAFACE_FACE_BIAS = 5.0
RETINAFACE_SCORE_LAYERS = ("face_rpn_cls_score_stride32", "face_rpn_cls_score_stride16", "face_rpn_cls_score_stride8")


def write_random_retinaface_weights(target: Path, seed: int = 0) -> Path:
    """Write weights for retina-face's Keras RetinaFace, drawn at random, to ``target`` (.h5).

    The architecture is retina-face's own, built with its weight download bypassed. The
    score layers are re-drawn so that few anchors pass a threshold of about 0.9, as
    with trained weights: a plain random model fires almost everywhere. Needs
    retina-face and tf-keras; raises ImportError without them.
    """
    from deepface.commons.engines import import_tensorflow_safely

    import_tensorflow_safely()
    import numpy as np
    import tensorflow as tf
    from retinaface.model import retinaface_model

    tf.keras.utils.set_random_seed(seed)
    real_loader = retinaface_model.load_weights
    retinaface_model.load_weights = lambda model: model  # bypass the download
    try:
        model = retinaface_model.build_model()
    finally:
        retinaface_model.load_weights = real_loader
    rng = np.random.default_rng(seed)
    probe = rng.uniform(0, 255, (1, 256, 256, 3)).astype(np.float32)
    for name in RETINAFACE_SCORE_LAYERS:
        layer = model.get_layer(name)
        features = tf.keras.Model(model.input, layer.input)(probe).numpy()
        kernel, bias = layer.get_weights()
        # logits with a spread of RETINAFACE_LOGIT_STD whatever the (untrained) feature scale
        fan_in = kernel.shape[0] * kernel.shape[1] * kernel.shape[2]
        std = RETINAFACE_LOGIT_STD / (float(features.std()) * np.sqrt(fan_in) + 1e-12)
        kernel = rng.normal(0.0, std, kernel.shape).astype(kernel.dtype)
        # channels: background logits of both anchors, then face logits; favour background
        bias = np.array([0.0, 0.0, -RETINAFACE_FACE_BIAS, -RETINAFACE_FACE_BIAS], dtype=bias.dtype)
        layer.set_weights([kernel, bias])
    model.save_weights(str(target))
    return target
