"""Validation of uploaded photos: presence, size, extension, content type, then a real decode."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import magic
from flask import current_app, request
from werkzeug.datastructures import FileStorage

from embeddings import FaceEmbedding, FaceEngine, FaceEngineError

from .errors import APIError

SNIFF_BYTES = 2048


@dataclass(frozen=True)
class Upload:
    filename: str
    data: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def photos_from_request(field: str = "photo", max_count: int | None = None) -> list[Upload]:
    return [read_upload(f) for f in photo_parts(field, max_count)]


def photo_parts(field: str = "photo", max_count: int | None = None) -> list[FileStorage]:
    """The request's file parts for `field`, present and not too many; their content is not read yet."""
    files = [f for f in request.files.getlist(field) if f.filename]  # browsers send empty parts for empty inputs
    if not files:
        raise APIError("missing_file", f"Attach a photo in the multipart field {field!r}.", 400)
    max_count = max_count or current_app.config["MAX_PHOTOS"]
    if len(files) > max_count:
        raise APIError("too_many_files", f"At most {max_count} photos per request.", 400)
    return files


def read_upload(storage: FileStorage) -> Upload:
    filename = storage.filename or ""
    if not has_photo_extension(filename):
        allowed = ", ".join(current_app.config["ALLOWED_EXTENSIONS"])
        raise APIError("unsupported_media_type", f"{filename}: the extension must be one of {allowed}.", 415)
    return check_photo(filename, storage.stream.read(current_app.config["MAX_PHOTO_BYTES"] + 1))


def has_photo_extension(filename: str) -> bool:
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    return extension in current_app.config["ALLOWED_EXTENSIONS"]


def check_photo(filename: str, data: bytes) -> Upload:
    """Size, emptiness and content (libmagic) of a photo's bytes, read up to one byte past the limit.

    The checks of every photo the service takes in: uploads, and bulk enrolment's files and entries.
    """
    config = current_app.config
    limit = config["MAX_PHOTO_BYTES"]
    if len(data) > limit:
        raise APIError("file_too_large", f"{filename}: a photo may be at most {limit:,} bytes.", 413)
    if not data:
        raise APIError("invalid_image", f"{filename}: the file is empty.", 400)
    # The content decides, whatever the name says. (python-magic's module-level instance
    # guards libmagic with a lock, so this is safe in threaded workers.)
    mime = magic.from_buffer(data[:SNIFF_BYTES], mime=True)
    if mime not in config["ALLOWED_MIME_TYPES"]:
        raise APIError("unsupported_media_type", f"{filename}: the content is {mime}, not a JPEG, PNG or WebP image.", 415)
    return Upload(filename=filename, data=data)


def embed_upload(upload: Upload, engine: FaceEngine) -> FaceEmbedding:
    """Decode and embed one photo; engine errors become API errors naming the file."""
    try:
        return engine.embed_bytes(upload.data)
    except FaceEngineError as error:
        raise APIError.from_face_error(error, prefix=f"{upload.filename}: ") from error
