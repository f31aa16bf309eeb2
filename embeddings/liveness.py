"""Presentation-attack signals that can be checked honestly on a CPU, without a trained PAD model.

- A screenshot sent as a selfie: the signals a phone or desktop leaves in the file (see
  `screenshot_signal`). A photo of a screen or of a print is not caught by this.
- A head-turn challenge: a second frame, taken after the kiosk asks the person to turn their head
  to a side chosen at random, must show the head turned that way (`head_turn`, from MTCNN's eye and
  nose landmarks). A printed photo or a still on a phone cannot turn; a video of the person turning
  the right way, a 3D mask or the person themselves under duress still pass.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from PIL import Image

from .detector import DetectedFace

# Screen sizes (either orientation) of common phones, tablets and monitors: a lossless image of
# exactly one of these sizes, without a camera's EXIF, is what a screenshot looks like.
SCREEN_SIZES = frozenset({
    (640, 1136), (750, 1334), (828, 1792), (1080, 1920), (1080, 2160), (1080, 2280), (1080, 2340), (1080, 2400),
    (1125, 2436), (1170, 2532), (1179, 2556), (1206, 2622), (1242, 2208), (1242, 2688), (1284, 2778), (1290, 2796),
    (1320, 2868), (1440, 2560), (1440, 3040), (1440, 3088), (1440, 3120), (1440, 3200), (720, 1280), (720, 1600),
    (1536, 2048), (1620, 2160), (1640, 2360), (1668, 2388), (2048, 2732), (1366, 768), (1920, 1080), (2560, 1440),
    (2880, 1800), (3024, 1964), (3456, 2234), (3840, 2160), (1440, 900), (1680, 1050), (1920, 1200), (2560, 1600),
})
EXIF_USER_COMMENT, EXIF_MAKE, EXIF_MODEL, EXIF_IFD = 0x9286, 0x010F, 0x0110, 0x8769
LOSSLESS_FORMATS = ("PNG", "WEBP")


def screenshot_signal(data: bytes) -> str | None:
    """Why the file looks like a screenshot, or None. Reads the header and metadata only."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            exif = image.getexif()
            comment = exif.get_ifd(EXIF_IFD).get(EXIF_USER_COMMENT, b"")
    except Exception:  # noqa: BLE001  any file whose header Pillow cannot read: the decoder, next, says why
        return None
    if isinstance(comment, bytes):
        comment = comment.decode("ascii", "ignore")
    if "screenshot" in str(comment).lower():
        return "its EXIF marks it as a screenshot"  # what iOS writes into every screenshot
    camera = exif.get(EXIF_MAKE) or exif.get(EXIF_MODEL)
    lossless = image.format in LOSSLESS_FORMATS and not (image.format == "WEBP" and image.info.get("lossless") is False)
    if lossless and not camera and (tuple(image.size) in SCREEN_SIZES or tuple(reversed(image.size)) in SCREEN_SIZES):
        return f"a {image.format} of exactly a screen's size ({image.size[0]}x{image.size[1]}) with no camera data"
    return None


def head_turn(face: DetectedFace) -> float:
    """How far the head is turned, from where the nose sits between the eyes.

    0 faces the camera; positive is turned to the person's own left (the nose towards the right
    of an unmirrored camera image), negative to their right. About +-0.15 covers people who think
    they look straight (the middle half of LFW), +-0.6 a clear turn, +-1 a profile."""
    left_eye, right_eye, nose = (face.landmarks[i] for i in range(3))  # the image's left eye first
    span = float(right_eye[0]) - float(left_eye[0])
    if span <= 0:
        return 0.0
    return (2 * float(nose[0]) - float(left_eye[0]) - float(right_eye[0])) / span


@dataclass(frozen=True)
class TurnCheck:
    turned: bool
    change: float  # head_turn(second) - head_turn(first), signed as asked (positive: the asked way)


def check_turn(first: DetectedFace, second: DetectedFace, direction: str, min_change: float) -> TurnCheck:
    """Did the head turn at least `min_change` towards `direction` ("left" or "right", the person's own)?"""
    sign = {"left": 1.0, "right": -1.0}[direction]
    change = sign * (head_turn(second) - head_turn(first))
    return TurnCheck(turned=change >= min_change, change=change)
