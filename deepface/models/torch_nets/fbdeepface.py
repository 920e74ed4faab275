"""Facebook's DeepFace (Taigman et al., 2014) as deepface's
``VGGFace2_DeepFace_weights_val-0.9034.pth`` holds it.

Input: ``(n, 3, 152, 152)`` BGR faces scaled to ``[0, 1]``. Two convolutions around a
3x3 stride-2 max pool (TensorFlow's "same" pooling: the 142x142 map gets one extra row
and column at its end), three locally connected layers (convolutions whose filters
differ at every output position), then the 4096-unit representation layer F7. The
identity classifier F8 is not in the file. Every layer ends in a ReLU; F7's input is
flattened channels first, the order deepface's file was written in.
"""

import torch
from torch import nn
from torch.nn import functional as F

INPUT_SIZE = 152
EMBEDDING = 4096
POOL_KERNEL, POOL_STRIDE = 3, 2
#: (name, input channels, output channels, kernel, stride)
CONVOLUTIONS = (("C1", 3, 32, 11, 1), ("C3", 32, 16, 9, 1))
LOCALLY_CONNECTED = (("L4", 16, 16, 9, 1), ("L5", 16, 16, 7, 2), ("L6", 16, 16, 5, 1))


def valid_size(size: int, kernel: int, stride: int) -> int:
    """The output length of an unpadded window of ``kernel`` moved by ``stride``."""
    return (size - kernel) // stride + 1


def same_size(size: int, stride: int) -> int:
    """The output length of TensorFlow's "same" padding."""
    return -(-size // stride)


class LocallyConnected2d(nn.Module):
    """An unpadded 2-D convolution with one filter bank per output position.

    Parameters, as deepface stores them: ``weight`` ``(positions, out, in * k * k)`` with
    each position's filters over a window flattened channels first (the order of
    :func:`torch.nn.functional.unfold`), positions in row-major order; ``bias``
    ``(out, rows, cols)``.
    """

    def __init__(self, channels_in: int, channels_out: int, size: int, kernel: int, stride: int) -> None:
        super().__init__()
        self.kernel, self.stride = kernel, stride
        self.grid = valid_size(size, kernel, stride)
        window = channels_in * kernel * kernel
        self.weight = nn.Parameter(torch.zeros(self.grid * self.grid, channels_out, window))
        self.bias = nn.Parameter(torch.zeros(channels_out, self.grid, self.grid))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        windows = F.unfold(x, self.kernel, stride=self.stride)  # (n, window, positions)
        # one matrix product per position: (positions, n, window) @ (positions, window, out)
        out = torch.bmm(windows.permute(2, 0, 1), self.weight.transpose(1, 2))
        out = out.permute(1, 2, 0).reshape(x.shape[0], -1, self.grid, self.grid)
        return out + self.bias


class DeepFaceNet(nn.Module):
    """DeepFace up to F7 (deepface's layer names)."""

    def __init__(self) -> None:
        super().__init__()
        size = INPUT_SIZE
        for index, (name, channels_in, channels_out, kernel, stride) in enumerate(CONVOLUTIONS):
            self.add_module(name, nn.Conv2d(channels_in, channels_out, kernel, stride=stride))
            size = valid_size(size, kernel, stride)
            if index == 0:
                size = same_size(size, POOL_STRIDE)
        for name, channels_in, channels_out, kernel, stride in LOCALLY_CONNECTED:
            layer = LocallyConnected2d(channels_in, channels_out, size, kernel, stride)
            self.add_module(name, layer)
            size = layer.grid
        self.F7 = nn.Linear(LOCALLY_CONNECTED[-1][2] * size * size, EMBEDDING)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(self.C1(x))
        # ceil_mode adds the one window TensorFlow's "same" padding adds at the end
        x = F.max_pool2d(x, POOL_KERNEL, POOL_STRIDE, ceil_mode=True)
        x = F.relu(self.C3(x))
        for name, *_ in LOCALLY_CONNECTED:
            x = F.relu(getattr(self, name)(x))
        return F.relu(self.F7(x.flatten(1)))


def deepface() -> nn.Module:
    """Facebook DeepFace, raw output: the ``(n, 4096)`` F7 representation."""
    return DeepFaceNet()
