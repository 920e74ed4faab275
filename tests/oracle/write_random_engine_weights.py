"""Write random-weight ``.pth`` and ``.onnx`` files of deepface 0.0.103's own PyTorch
architectures under the file names its pytorch and onnx engines load, into
``$DEEPFACE_HOME/.deepface/weights``.

The oracle's own client builds each network; instead of loading a state dict, the fresh
random one is saved (``.pth``), and the same module is exported with a channels-last
input, as deepface feeds its graphs (``.onnx``). Both engines then hold the same weights.
Run it with upstream deepface on PYTHONPATH, from outside the checkout:

    PYTHONPATH=.oracle DEEPFACE_HOME=DIR python tests/oracle/write_random_engine_weights.py VGG-Face Fasnet
"""

import importlib
import os
import sys
from typing import Any, Tuple

import torch
from deepface.commons import folder_utils, weight_utils
from deepface.modules import modeling

ONNX_OPSET = 17
SPOOFING_FILES = {  # Fasnet's two networks: file stem -> the oracle's backbone class
    "2.7_80x80_MiniFASNetV2": "MiniFASNetV2",
    "4_0_0_80x80_MiniFASNetV1SE": "MiniFASNetV1SE",
}


class ChannelsLast(torch.nn.Module):
    """``model`` taking (n, h, w, c): deepface's graphs take what its Keras models take."""

    def __init__(self, model: torch.nn.Module, softmax: bool) -> None:
        super().__init__()
        self.model, self.softmax = model, softmax

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.model(x.permute(0, 3, 1, 2))
        return torch.softmax(out, dim=1) if self.softmax else out


def export(model: torch.nn.Module, path: str, shape: Tuple[int, ...], softmax: bool = False) -> None:
    torch.onnx.export(
        ChannelsLast(model.eval(), softmax), torch.rand(1, *shape), path,
        input_names=["input"], output_names=["output"],
        dynamic_axes={"input": {0: "n"}, "output": {0: "n"}}, opset_version=ONNX_OPSET, dynamo=False,
    )


def write_network(task: str, name: str, weights: str) -> None:
    """Build ``name`` through the oracle's pytorch client, saving its random state dict."""
    written = {}

    def save_state(model: Any, weight_file: str) -> Any:
        torch.save(model.state_dict(), weight_file)
        written["file"], written["model"] = weight_file, model
        return model.eval()

    module_name, class_name = modeling.AVAILABLE_MODELS[task][name][modeling.PYTORCH].rsplit(".", 1)
    module = importlib.import_module(module_name)
    module.load_model_weights = save_state
    client = getattr(module, class_name)()
    if name == "Emotion":
        shape: Tuple[int, ...] = (48, 48, 1)
    elif task == "facial_attribute":
        shape = (224, 224, 3)
    else:  # deepface's input_shape is (width, height)
        shape = (client.input_shape[1], client.input_shape[0], 3)
    # the graph of what the client runs: VGG-Face's descriptor stops at fc7, whereas its
    # file holds the whole classifier (deepface's vgg_face_weights.onnx returns 4096-d)
    export(client.model, written["file"][: -len(".pth")] + ".onnx", shape)


def write_fasnet(weights: str) -> None:
    backbones = importlib.import_module("deepface.models.spoofing.pytorch.FasNetBackbone")
    for stem, class_name in SPOOFING_FILES.items():
        model = getattr(backbones, class_name)(conv6_kernel=(5, 5)).eval()
        torch.save(model.state_dict(), os.path.join(weights, stem + ".pth"))
        export(model, os.path.join(weights, stem + ".onnx"), (80, 80, 3), softmax=True)  # deepface's end in softmax


def main(names: list) -> None:
    torch.manual_seed(int(os.environ.get("RANDOM_WEIGHTS_SEED", "0")))
    weights = os.path.join(folder_utils.get_deepface_home(), ".deepface", "weights")
    os.makedirs(weights, exist_ok=True)
    weight_utils.download_weights_if_necessary = (
        lambda file_name, source_url, compress_type=None: os.path.join(weights, file_name)
    )
    for name in names:
        if name == "Fasnet":
            write_fasnet(weights)
        else:
            task = "facial_attribute" if name in modeling.AVAILABLE_MODELS["facial_attribute"] else "facial_recognition"
            write_network(task, name, weights)
        print(f"wrote {name}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
