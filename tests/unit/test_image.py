"""Safe decoding: every kind of broken or hostile input becomes a clear engine error."""

from __future__ import annotations

import pytest
from PIL import Image

from embeddings.errors import ImageTooLargeError, InvalidImageError
from embeddings.image import DecodeLimits, decode_image, downscaled
from tests.photos import astronaut, encode


@pytest.mark.parametrize("mode", ["RGBA", "LA", "L", "P", "CMYK", "I;16"])
def test_every_pixel_mode_becomes_rgb(mode):
    source = astronaut().convert("RGBA" if mode == "LA" else "RGB").convert(mode)
    fmt = "JPEG" if mode == "CMYK" else "PNG"
    image = decode_image(encode(source, fmt))
    assert image.mode == "RGB" and image.size == (512, 512)


def test_transparent_pixels_become_white():
    source = Image.new("RGBA", (64, 64), (0, 0, 0, 0))
    assert decode_image(encode(source, "PNG")).getpixel((10, 10)) == (255, 255, 255)


def test_large_jpeg_is_decoded_reduced():
    big = astronaut().resize((4096, 4096))
    image = decode_image(encode(big), DecodeLimits(max_side=1000))
    assert max(image.size) == 1024  # 1:4 in the DCT; no resampling after it


def test_landscape_jpeg_is_reduced_by_its_longest_side():
    # Pillow's draft reduces by the smaller ratio: a square request decoded this one at full size.
    image = decode_image(encode(astronaut().resize((4000, 3000))), DecodeLimits(max_side=1600))
    assert image.size == (2000, 1500)


def test_a_large_png_is_resized_to_the_limit():
    image = decode_image(encode(astronaut().resize((4000, 4000)), "PNG"), DecodeLimits(max_side=1600))
    assert max(image.size) == 1600


@pytest.mark.parametrize("data", [b"", b"not an image at all", encode(astronaut())[:4000], encode(astronaut(), "PNG")[:5000]],
                         ids=["empty", "text", "truncated-jpeg", "truncated-png"])
def test_broken_input_is_invalid_image(data):
    with pytest.raises(InvalidImageError):
        decode_image(data)


def test_pixel_count_over_the_limit_is_refused_before_decoding():
    bomb = encode(Image.new("1", (12_000, 12_000)), "PNG")  # 144 MP in a few kB
    assert len(bomb) < 100_000
    with pytest.raises(ImageTooLargeError):
        decode_image(bomb, DecodeLimits(max_pixels=60_000_000))


def test_downscaled_returns_the_factor_back_to_the_original():
    small, scale = downscaled(astronaut().resize((1280, 640)), 640)
    assert small.size == (640, 320) and scale == 2.0
    same, one = downscaled(astronaut(), 640)
    assert same.size == (512, 512) and one == 1.0
