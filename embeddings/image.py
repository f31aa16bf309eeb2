"""Safe, fast image decoding for face work.

Phone photos are 12-36 MP; decoding them at full size costs more than the whole
recognition. JPEGs are therefore decoded reduced with Pillow's `draft` (the DCT
scaling of libjpeg), which is exact enough for faces and several times faster.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

from .errors import ImageTooLargeError, InvalidImageError


@dataclass(frozen=True)
class DecodeLimits:
    # Faces are cropped from this resolution: JPEGs decode reduced in the DCT (1:2, 1:4, 1:8) to
    # between max_side and twice it, other formats are resized to it when over twice it.
    max_side: int = 1600
    # Refuse images whose header declares more pixels than this (decompression bombs).
    max_pixels: int = 60_000_000


def decode_image(data: bytes, limits: DecodeLimits = DecodeLimits()) -> Image.Image:
    """Decode bytes into an upright RGB image, reduced to between `limits.max_side` and twice it.

    Raises InvalidImageError for anything Pillow cannot fully decode and
    ImageTooLargeError for images over the pixel limit.
    """
    if not data:
        raise InvalidImageError("The file is empty.")
    with warnings.catch_warnings():
        # Pillow warns (and only errors at 2x its limit); treat the warning as fatal too.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data))
            _check_pixel_count(image, limits.max_pixels)
            if image.format in ("JPEG", "MPO"):  # MPO: the multi-picture JPEG many phones write
                image.draft("RGB", _draft_size(image.size, limits.max_side))
            image.load()
            image = _upright_rgb(image)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise ImageTooLargeError("The image has too many pixels.") from exc
        except ImageTooLargeError:
            raise
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as exc:
            raise InvalidImageError("The file could not be decoded as an image.") from exc
    if max(image.size) > 2 * limits.max_side:
        # Not for a drafted JPEG: resampling its 2000 px to 1600 would cost more than its decode.
        image.thumbnail((limits.max_side, limits.max_side), Image.Resampling.BILINEAR, reducing_gap=2.0)
    return image


def _draft_size(size: tuple[int, int], max_side: int) -> tuple[int, int]:
    """The size to ask `draft` for so that the longest side stays at least `max_side`.

    Pillow reduces by the smaller of the two ratios: asking a square (max_side, max_side) of a
    landscape 4000x3000 photo gives 1:1 (a full decode), while (1600, 1200) gives 1:2.
    """
    scale = max_side / max(size)
    # Rounded down: Pillow divides the true size by these, and a size a pixel too large halves the reduction.
    return max(1, int(size[0] * scale)), max(1, int(size[1] * scale))


def _check_pixel_count(image: Image.Image, max_pixels: int) -> None:
    width, height = image.size
    if width <= 0 or height <= 0:
        raise InvalidImageError("The image has no pixels.")
    if width * height > max_pixels:
        raise ImageTooLargeError(f"The image is {width}x{height}; at most {max_pixels:,} pixels are accepted.")


def _upright_rgb(image: Image.Image) -> Image.Image:
    # Phone cameras store the sensor orientation in EXIF; apply it so the face is upright.
    image = ImageOps.exif_transpose(image)
    if image.mode == "RGB":
        return image
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        # Put transparent pixels on white rather than the undefined colour beneath them.
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return image.convert("RGB")


def downscaled(image: Image.Image, max_side: int) -> tuple[Image.Image, float]:
    """A copy no larger than `max_side`, and the factor that maps its coordinates back."""
    longest = max(image.size)
    if longest <= max_side:
        return image, 1.0
    scale = max_side / longest
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    # reducing_gap=1: a box reduction by the whole factor first, then a short bilinear step.
    return image.resize(size, Image.Resampling.BILINEAR, reducing_gap=1.0), longest / max_side
