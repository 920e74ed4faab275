"""Models of the real architectures with random weights, for tests with no downloads.

A freshly initialised network barely responds to its input (activations shrink layer
by layer), so every anchor gets the same score. The weights here are re-drawn so that
scores vary with the image, and the class bias is set so only a few boxes pass a
modest threshold, as with a trained model.
"""

from pathlib import Path

import yaml

FACE_KEYPOINTS = [5, 3]  # the face models' five landmarks, as (x, y, visibility)
CLASS_WEIGHT_SCALE = 40.0
CLASS_BIAS = -5.0


def write_random_yolo_face_model(target: Path, seed: int = 0) -> Path:
    """Write a YOLOv8n pose model with one class and five keypoints to ``target`` (.pt)."""
    import torch
    import ultralytics
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
