"""Test photos: scikit-image's astronaut and cameraman (always there), and ../shared/datasets."""

from __future__ import annotations

import io
import os
from functools import cache
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
DATASETS = Path(os.environ.get("ABSEN_DATASETS", ROOT.parent / "shared" / "datasets"))


def dataset(relative: str) -> Path:
    """A file of ../shared/datasets, or a skip saying why (a fresh clone has no such folder)."""
    path = DATASETS / relative
    if not DATASETS.is_dir():
        pytest.skip(f"shared datasets not found at {DATASETS} (set ABSEN_DATASETS)")
    assert path.exists(), f"{path} is missing from the shared datasets"
    return path


def encode(image: Image.Image, fmt: str = "JPEG", **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


@cache
def astronaut() -> Image.Image:
    from skimage import data

    return Image.fromarray(data.astronaut())


@cache
def cameraman() -> Image.Image:
    from skimage import data

    return Image.fromarray(data.camera()).convert("RGB")


def astronaut_selfie() -> Image.Image:
    """Another 'shot' of the same face: mirrored, brighter, framed closer."""
    image = astronaut().transpose(Image.Transpose.FLIP_LEFT_RIGHT).crop((60, 0, 420, 360)).resize((720, 720))
    pixels = np.clip(np.asarray(image, dtype=np.float32) * 1.15, 0, 255).astype(np.uint8)
    return Image.fromarray(pixels)


def two_astronauts() -> Image.Image:
    """Two real faces of the same size side by side."""
    canvas = Image.new("RGB", (1024, 512))
    canvas.paste(astronaut(), (0, 0))
    canvas.paste(astronaut().transpose(Image.Transpose.FLIP_LEFT_RIGHT), (512, 0))
    return canvas


def rotated_with_exif(image: Image.Image) -> bytes:
    """The pixels stored turned on their side, with the EXIF tag that tells viewers to turn them back.

    Orientation 6 means "rotate 90 degrees clockwise to display": what phones write for a
    portrait shot held upright.
    """
    stored = image.transpose(Image.Transpose.ROTATE_90)  # counter-clockwise
    exif = Image.Exif()
    exif[0x0112] = 6
    return encode(stored, "JPEG", exif=exif)


# Where MTCNN finds the astronaut's eyes and nose (x, y), for the simulated head turn below.
ASTRONAUT_EYES = ((205.0, 101.7), (246.8, 103.7))
ASTRONAUT_NOSE = (224.7, 129.0)


def astronaut_turned(direction: str) -> Image.Image:
    """The astronaut with her head turned a little to her own "left" or "right", simulated.

    The middle of the face (nose, mouth) is pushed sideways more than its edges, as a turn moves
    the nose, which stands out, more than the eyes. A real face with real landmarks, not a real turn:
    tests with ../shared use real head turns from LFW as well."""
    from scipy.ndimage import map_coordinates

    pixels = np.asarray(astronaut(), dtype=np.float32)
    span = ASTRONAUT_EYES[1][0] - ASTRONAUT_EYES[0][0]
    rows, cols = np.mgrid[0:pixels.shape[0], 0:pixels.shape[1]].astype(np.float32)
    centre_x, centre_y = ASTRONAUT_NOSE[0], (ASTRONAUT_NOSE[1] + ASTRONAUT_EYES[0][1]) / 2
    bump = np.exp(-((cols - centre_x) ** 2 + (rows - centre_y) ** 2) / (2 * (0.6 * span) ** 2))
    shift = {"left": 1, "right": -1}[direction] * 0.5 * span * bump  # her left: the image's right
    turned = [map_coordinates(pixels[..., c], [rows, cols - shift], order=1, mode="nearest") for c in range(3)]
    return Image.fromarray(np.stack(turned, axis=-1).astype(np.uint8))
