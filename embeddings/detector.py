"""Face detection with MTCNN: facenet-pytorch's networks and bundled weights, driven by `mtcnn.py`."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image

from .image import downscaled
from .mtcnn import detect_faces


@dataclass(frozen=True)
class DetectedFace:
    """A face in the coordinates of the image given to `detect`."""

    box: tuple[float, float, float, float]  # x1, y1, x2, y2
    probability: float
    landmarks: np.ndarray  # 5x2: eyes, nose, mouth corners

    @property
    def width(self) -> float:
        return self.box[2] - self.box[0]

    @property
    def height(self) -> float:
        return self.box[3] - self.box[1]

    @property
    def area(self) -> float:
        return self.width * self.height


class MtcnnDetector:
    """Detects on a reduced copy (cost grows with pixels) and maps boxes back."""

    def __init__(self, detection_max_side: int = 480, min_face_size: int = 20, device: str = "cpu"):
        import torch
        from facenet_pytorch import MTCNN  # heavy import, kept local to the loader

        self.detection_max_side = detection_max_side
        self.min_face_size = min_face_size
        # facenet-pytorch's networks and bundled weights; `mtcnn.detect_faces` drives them.
        weights = MTCNN(device=device)
        self.networks = (weights.pnet.eval(), weights.rnet.eval(), weights.onet.eval())
        # R-Net and O-Net see batches of candidate crops; torch's CPU max pooling is several
        # times faster on channels-last tensors, with the same results.
        for network in self.networks[1:]:
            network.to(memory_format=torch.channels_last)

    def detect(self, image: Image.Image) -> list[DetectedFace]:
        return self.detect_many([image])[0]

    def detect_many(self, images: Sequence[Image.Image]) -> list[list[DetectedFace]]:
        """Faces of several images; MTCNN runs once per group of equally sized copies (a batch)."""
        copies = [downscaled(image, self.detection_max_side) for image in images]
        groups: dict[tuple[int, int], list[int]] = defaultdict(list)
        for index, (small, _) in enumerate(copies):
            groups[small.size].append(index)
        results: list[list[DetectedFace]] = [[] for _ in images]
        for size, indices in groups.items():
            if min(size) < self.min_face_size:
                continue  # no face of the minimum size fits (and MTCNN has no scale to run: it would crash)
            found = detect_faces([copies[i][0] for i in indices], self.networks, self.min_face_size)
            for i, (boxes, probs, points) in zip(indices, found, strict=True):
                results[i] = _faces(boxes, probs, points, copies[i][1])
        return results


def _faces(boxes, probs, points, scale: float) -> list[DetectedFace]:
    return [
        DetectedFace(box=tuple(float(v) * scale for v in box), probability=float(prob), landmarks=marks * scale)
        for box, prob, marks in zip(boxes, probs, points, strict=True)
    ]
