"""MTCNN's three stages, driven for CPU speed, with facenet-pytorch's networks and weights.

facenet-pytorch's `detect_face` spends most of its time outside the networks on a CPU: each
pyramid level is resized with torch's area interpolation, and each candidate box of the second
and third stages is cut and resized on its own (a Python loop; a 1 MP photo has ~200 of them).
This driver follows the same algorithm step for step - thresholds, pyramid, box regression,
NMS, and facenet-pytorch's own box helpers - but resizes the pyramid with Pillow's box filter
and cuts and resizes the candidates from the uint8 image with Pillow too. The filters differ, so
the boxes are not identical: over 101 photos both find the same 119 faces, with a median IoU of
0.95 (tests/unit/test_fast_models.py checks the agreement on real photos).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PIL import Image

THRESHOLDS = (0.6, 0.7, 0.7)  # facenet-pytorch's defaults for the three stages
PYRAMID_FACTOR = 0.709
Faces = tuple[np.ndarray, np.ndarray, np.ndarray]  # boxes (n, 4), probabilities (n,), landmarks (n, 5, 2)


def detect_faces(images: Sequence[Image.Image], networks, min_face_size: int) -> list[Faces]:
    """The faces of equally sized RGB images, one (boxes, probabilities, landmarks) per image."""
    import torch

    pnet, rnet, onet = networks
    device = next(pnet.parameters()).device
    with torch.inference_mode():
        boxes, owners = _proposals(images, pnet, min_face_size, device)
        if len(boxes):
            boxes, owners = _refined(rnet, images, boxes, owners)
        points = torch.zeros(0, 5, 2, device=device)
        if len(boxes):
            boxes, owners, points = _final(onet, images, boxes, owners)
    boxes, owners, points = boxes.cpu(), owners.cpu(), points.cpu()
    return [(boxes[owners == i, :4].numpy(), boxes[owners == i, 4].numpy(), points[owners == i].numpy())
            for i in range(len(images))]


def _normalised(pixels):
    return (pixels - 127.5) * 0.0078125


def _proposals(images, pnet, min_face_size, device):
    """Stage 1: P-Net over the image pyramid; candidate squares (x1, y1, x2, y2, score) per image."""
    import torch
    from facenet_pytorch.models.utils.detect_face import generateBoundingBox, rerec
    from torchvision.ops import batched_nms

    width, height = images[0].size
    found, owners = [torch.zeros(0, 9)], [torch.zeros(0, dtype=torch.long)]  # a photo smaller than a face has no level
    for scale in _pyramid(width, height, min_face_size):
        size = (int(width * scale + 1), int(height * scale + 1))
        levels = [image.resize(size, Image.Resampling.BOX) for image in images]
        pixels = torch.from_numpy(np.stack([np.asarray(level) for level in levels])).permute(0, 3, 1, 2)
        regression, probabilities = pnet(_normalised(pixels.float().to(device)))
        boxes, image_inds = generateBoundingBox(regression, probabilities[:, 1], scale, THRESHOLDS[0])
        pick = batched_nms(boxes[:, :4], boxes[:, 4], image_inds, 0.5)
        found.append(boxes[pick])
        owners.append(image_inds[pick])
    boxes, owners = torch.cat(found), torch.cat(owners)
    pick = batched_nms(boxes[:, :4], boxes[:, 4], owners, 0.7)
    boxes, owners = boxes[pick], owners[pick]
    widths, heights = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
    regressed = torch.stack([boxes[:, 0] + boxes[:, 5] * widths, boxes[:, 1] + boxes[:, 6] * heights,
                             boxes[:, 2] + boxes[:, 7] * widths, boxes[:, 3] + boxes[:, 8] * heights, boxes[:, 4]], dim=1)
    return rerec(regressed), owners


def _pyramid(width: int, height: int, min_face_size: int) -> list[float]:
    scale = 12.0 / min_face_size
    shortest = min(width, height) * scale
    scales = []
    while shortest >= 12:
        scales.append(scale)
        scale *= PYRAMID_FACTOR
        shortest *= PYRAMID_FACTOR
    return scales


def _refined(rnet, images, boxes, owners):
    """Stage 2: R-Net rescores and regresses each candidate."""
    import torch
    from facenet_pytorch.models.utils.detect_face import bbreg, rerec
    from torchvision.ops import batched_nms

    boxes, owners = _inside(boxes, owners, images[0].size)
    regression, probabilities = rnet(_crops(images, boxes, owners, 24))
    scores = probabilities[:, 1]
    keep = scores > THRESHOLDS[1]
    boxes = torch.cat((boxes[keep, :4], scores[keep].unsqueeze(1)), dim=1)
    owners, regression = owners[keep], regression[keep]
    pick = batched_nms(boxes[:, :4], boxes[:, 4], owners, 0.7)
    return rerec(bbreg(boxes[pick], regression[pick])), owners[pick]


def _final(onet, images, boxes, owners):
    """Stage 3: O-Net's score, box and five landmarks; overlapping faces merged ("Min" NMS)."""
    import torch
    from facenet_pytorch.models.utils.detect_face import batched_nms_numpy, bbreg

    boxes, owners = _inside(boxes, owners, images[0].size)
    regression, landmarks, probabilities = onet(_crops(images, boxes, owners, 48))
    scores = probabilities[:, 1]
    keep = scores > THRESHOLDS[2]
    boxes = torch.cat((boxes[keep, :4], scores[keep].unsqueeze(1)), dim=1)
    owners, regression, landmarks = owners[keep], regression[keep], landmarks[keep]
    widths = (boxes[:, 2] - boxes[:, 0] + 1).unsqueeze(1)
    heights = (boxes[:, 3] - boxes[:, 1] + 1).unsqueeze(1)
    points = torch.stack((widths * landmarks[:, :5] + boxes[:, :1] - 1,
                          heights * landmarks[:, 5:] + boxes[:, 1:2] - 1), dim=2)
    boxes = bbreg(boxes, regression)
    pick = batched_nms_numpy(boxes[:, :4], boxes[:, 4], owners, 0.7, "Min")
    return boxes[pick], owners[pick], points[pick]


def _inside(boxes, owners, image_size):
    """Drop candidates that lie wholly outside the image (facenet-pytorch skips them too)."""
    x1, y1, x2, y2 = _regions(boxes, image_size)
    keep = (x2 > x1) & (y2 > y1)
    return boxes[keep], owners[keep]


def _regions(boxes, image_size):
    """facenet-pytorch's crop regions: boxes truncated to whole pixels and clipped to the image,
    as 0-based (x1, y1) and exclusive (x2, y2)."""
    width, height = image_size
    return (boxes[:, 0].trunc().clamp(min=1) - 1, boxes[:, 1].trunc().clamp(min=1) - 1,
            boxes[:, 2].trunc().clamp(max=width), boxes[:, 3].trunc().clamp(max=height))


def _crops(images, boxes, owners, size: int):
    """Every candidate's pixels, resized to size x size.

    The region is facenet-pytorch's (`_regions`), averaged by Pillow's box filter as its area
    resize does, without the float copies.
    """
    import torch

    x1, y1, x2, y2 = (edge.tolist() for edge in _regions(boxes, images[0].size))
    crops = np.stack([
        np.asarray(images[owner].resize((size, size), Image.Resampling.BOX, box=region))
        for owner, *region in zip(owners.tolist(), x1, y1, x2, y2, strict=True)
    ])
    crops = torch.from_numpy(crops).permute(0, 3, 1, 2).float().to(boxes.device)
    return _normalised(crops).contiguous(memory_format=torch.channels_last)
