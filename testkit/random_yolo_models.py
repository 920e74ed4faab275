"""Random-weight YOLO face models of the v8, v11 and v12 architectures, for tests and
benchmarks with no downloads.

Each is ultralytics' packaged pose network with one class and five keypoints (the face
models' layout). v8 and v11 are drawn as :mod:`testkit.random_models` draws
YOLOv8n: He-initialised convolutions and a strong class layer, so that scores vary with
the image. He initialisation makes v12's attention blocks blow up (activations of 1e4
and saturated scores), so v12's convolutions are rescaled instead, in one pass over a
synthetic probe image, to give outputs of unit spread; its class layer then gives
logits of a set spread and bias. Either way only some boxes pass a modest threshold.
"""

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict

from testkit.random_models import CLASS_BIAS, CLASS_WEIGHT_SCALE, FACE_KEYPOINTS


@dataclass(frozen=True)
class RandomYolo:
    """How to draw one architecture: its packaged pose config, and whether to rescale it."""

    config: str
    unit_activations: bool = False


RANDOM_YOLO: Dict[str, RandomYolo] = {
    "yolov8n": RandomYolo("v8/yolov8-pose.yaml"),
    "yolov11n": RandomYolo("11/yolo11-pose.yaml"),
    "yolov12n": RandomYolo("12/yolo12-pose.yaml", unit_activations=True),
}
#: The spread and bias of the class logits of a rescaled model (v12).
UNIT_LOGIT_STD = 3.0
UNIT_CLASS_BIAS = -6.0
PROBE_SIZE = 320


def write_random_yolo_pose_model(target: Path, model_name: str, seed: int = 0) -> Path:
    """Write ``model_name``'s architecture (a key of :data:`RANDOM_YOLO`) with random
    weights, one class and five keypoints, to ``target`` (.pt).

    Needs ultralytics (and torch); raises ImportError without them.
    """
    import torch
    import ultralytics
    import yaml
    from ultralytics import YOLO

    if model_name not in RANDOM_YOLO:
        raise ValueError(f"no random YOLO model for {model_name!r}; known: {sorted(RANDOM_YOLO)}")
    recipe = RANDOM_YOLO[model_name]
    packaged = Path(ultralytics.__file__).parent / "cfg" / "models" / recipe.config
    config = yaml.safe_load(packaged.read_text())
    config["nc"] = 1
    config["kpt_shape"] = FACE_KEYPOINTS
    config_file = Path(target).with_name(f"{model_name}-face.yaml")  # the 'n' picks the nano scale
    config_file.write_text(yaml.safe_dump(config))

    torch.manual_seed(seed)
    model = YOLO(str(config_file))
    with torch.no_grad():
        if recipe.unit_activations:
            _rescale_to_unit_activations(model.model, seed)
        else:
            _draw_like_yolov8n(model.model)
    model.save(str(target))
    return Path(target)


def _draw_like_yolov8n(net: Any) -> None:
    import torch

    for module in net.modules():
        if isinstance(module, torch.nn.Conv2d):
            torch.nn.init.kaiming_normal_(module.weight, nonlinearity="relu")
    for branch in net.model[-1].cv3:  # the class-score branch of each level
        branch[-1].weight.copy_(torch.randn_like(branch[-1].weight) * CLASS_WEIGHT_SCALE)
        branch[-1].bias.fill_(CLASS_BIAS)


def _rescale_to_unit_activations(net: Any, seed: int) -> None:
    """Draw every convolution from N(0, 1), then, in one forward pass over a probe image,
    scale each one (in the order the network runs them) so that its output has unit
    spread; class layers get logits of spread UNIT_LOGIT_STD around UNIT_CLASS_BIAS."""
    import torch

    class_layers = {branch[-1] for branch in net.model[-1].cv3}

    def rescale(module: Any, _inputs: Any, output: Any) -> Any:
        spread = output.std().clamp_min(1e-12)
        if module in class_layers:
            mean = output.mean()
            module.weight.mul_(UNIT_LOGIT_STD / spread)
            module.bias.copy_((module.bias - mean) * UNIT_LOGIT_STD / spread + UNIT_CLASS_BIAS)
            return (output - mean) * UNIT_LOGIT_STD / spread + UNIT_CLASS_BIAS
        module.weight.div_(spread)
        if module.bias is not None:
            module.bias.div_(spread)
        return output / spread

    net.eval()
    convolutions = [m for m in net.modules() if isinstance(m, torch.nn.Conv2d)]
    for module in convolutions:
        torch.nn.init.normal_(module.weight)
    hooks = [module.register_forward_hook(rescale) for module in convolutions]
    try:
        net(_probe_image(seed))
    finally:
        for hook in hooks:
            hook.remove()


def _probe_image(seed: int) -> Any:
    """A smooth synthetic picture (a gradient and coloured ellipses) as a 1x3xHxW tensor."""
    import cv2
    import numpy as np
    import torch

    rng = np.random.default_rng(seed)
    img = np.zeros((PROBE_SIZE, PROBE_SIZE, 3), np.uint8)
    img[:] = np.linspace(40, 200, PROBE_SIZE, dtype=np.uint8)[:, None, None]
    for _ in range(12):
        centre = tuple(int(v) for v in rng.integers(0, PROBE_SIZE, 2))
        axes = tuple(int(v) for v in rng.integers(10, 80, 2))
        colour = tuple(int(v) for v in rng.integers(0, 255, 3))
        cv2.ellipse(img, centre, axes, float(rng.integers(0, 180)), 0, 360, colour, -1)
    img = cv2.GaussianBlur(img, (5, 5), 0)
    return torch.from_numpy(np.ascontiguousarray(img[..., ::-1].transpose(2, 0, 1))).float()[None] / 255
