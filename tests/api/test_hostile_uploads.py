"""Hostile uploads, built here by the tests: every one gets a 4xx with a stable code, never a 5xx,
and nothing is stored. Each goes through /register (enrolment) and /predict (kiosk, 1:N)."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib

import pytest
from PIL import Image

from tests.photos import astronaut, encode

FACE = astronaut().resize((256, 256))


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_declaring(width: int, height: int, idat: bytes = b"") -> bytes:
    """A PNG whose header claims width x height, with whatever (little) pixel data follows."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header) + png_chunk(b"IDAT", idat) + png_chunk(b"IEND", b"")


def decompression_bomb() -> bytes:
    """20,000 x 20,000 black pixels: 1.2 GB decoded, about 1 MB compressed."""
    width = height = 20_000
    raw = zlib.compressobj(9)
    row = b"\x00" + b"\x00" * (width * 3)
    idat = b"".join(raw.compress(row) for _ in range(height)) + raw.flush()
    return png_declaring(width, height, idat)


def animated(fmt: str) -> bytes:
    frames = [FACE, FACE.rotate(90), Image.new("RGB", FACE.size, "red")]
    return encode(frames[0], fmt, save_all=True, append_images=frames[1:], duration=100, loop=0)


def huge_exif() -> bytes:
    exif = Image.Exif()
    exif[0x010E] = "x" * 60_000  # ImageDescription: near the 64 KB APP1 limit
    exif[0x0112] = 6  # stored on its side, as phones do; upright once turned
    return encode(FACE.transpose(Image.Transpose.ROTATE_90), "JPEG", exif=exif)


def broken_exif() -> bytes:
    """An APP1 Exif segment whose IFD offsets point past its end."""
    jpeg = encode(FACE, "JPEG")
    payload = b"Exif\x00\x00" + b"II*\x00" + struct.pack("<I", 0xFFFFFF00) + b"\x00" * 16
    segment = b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload
    return jpeg[:2] + segment + jpeg[2:]


def polyglot_jpeg_zip() -> bytes:
    """A valid JPEG with a ZIP archive appended: opens as both."""
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as handle:
        handle.writestr("payload.sh", "#!/bin/sh\necho owned\n")
    return encode(FACE, "JPEG") + archive.getvalue()


HOSTILE = {
    "zero_bytes.jpg": (b"", {"invalid_image"}),
    "truncated.jpg": (encode(FACE, "JPEG")[:600], {"invalid_image"}),
    "truncated.png": (encode(FACE, "PNG")[:900], {"invalid_image"}),
    "header_only.png": (encode(FACE, "PNG")[:33], {"invalid_image"}),
    "wrong_magic.jpg": (b"\xff\xd8\xff" + b"\x00" * 5000, {"invalid_image", "unsupported_media_type"}),
    "gif_named.jpg": (encode(FACE, "GIF"), {"unsupported_media_type"}),
    "pdf_named.png": (b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n", {"unsupported_media_type"}),
    "elf_named.webp": (b"\x7fELF\x02\x01\x01" + b"\x00" * 200, {"unsupported_media_type"}),
    "html_named.jpg": (b"<html><script>alert(1)</script></html>", {"unsupported_media_type"}),
    "svg_named.png": (b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', {"unsupported_media_type"}),
    "decompression_bomb.png": (decompression_bomb(), {"file_too_large"}),
    "50000x50000_header.png": (png_declaring(50_000, 50_000), {"file_too_large"}),
    "zero_width.png": (png_declaring(0, 100), {"invalid_image"}),
    "animated.webp": (animated("WEBP"), set()),  # first frame is a face: accepted like a still photo
    "animated.png": (animated("PNG"), set()),
    "huge_exif.jpg": (huge_exif(), set()),  # a face, turned by its EXIF: accepted
    "broken_exif.jpg": (broken_exif(), set()),
    "polyglot_jpeg_zip.jpg": (polyglot_jpeg_zip(), set()),  # pixels are a face; the tail is never used
    "no_extension": (encode(FACE, "JPEG"), {"unsupported_media_type"}),
    "double.jpg.exe": (encode(FACE, "JPEG"), {"unsupported_media_type"}),
    "../../etc/passwd.jpg": (encode(FACE, "JPEG"), set()),  # a name is only a name: never a path here
}


@pytest.mark.parametrize("filename", list(HOSTILE))
def test_hostile_upload_is_refused_with_a_stable_code_or_handled(api, filename):
    data, refused_with = HOSTILE[filename]
    predicted = api.predict(api.hr(), (data, filename))  # first: enrolled bytes would be refused as a replay
    registered = api.register(api.hr(), "EMP-1", [(data, filename)])
    for response in (registered, predicted):
        assert response.status_code < 500, (filename, response.json)
        assert response.is_json
    if refused_with:
        assert registered.status_code in (400, 413, 415, 422)
        assert registered.json["error"] in refused_with, (filename, registered.json)
        assert predicted.json["error"] in refused_with, (filename, predicted.json)
        assert api.client.get("/employees", headers=api.hr()).json["total"] == 0  # nothing stored
    else:
        assert predicted.status_code == 200 and predicted.json["match"] is False, (filename, predicted.json)  # nobody yet
        assert registered.status_code == 201, (filename, registered.json)
        assert registered.json["employee"]["faces"] == 1
