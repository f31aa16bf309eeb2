"""One JSON error shape for every failure: {"error": code, "message": text}."""

from __future__ import annotations

import logging

from flask import Flask, jsonify
from flask_smorest.fields import Upload
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from embeddings.errors import FaceEngineError

log = logging.getLogger(__name__)

# Statuses for the face engine's error codes.
FACE_ERROR_STATUS = {
    "invalid_image": 400,
    "file_too_large": 413,
    "no_face": 422,
    "multiple_faces": 422,
    "face_too_small": 422,
}

# Stable codes for HTTP errors raised by Flask/Werkzeug themselves.
HTTP_ERROR_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "file_too_large",
    415: "unsupported_media_type",
    422: "unprocessable_entity",
    429: "too_many_requests",
}


# Every code the API answers with: its status and what it means. The OpenAPI document lists, for each
# route, the codes it can return from here (app.api.Blueprint.errors), so this is the one catalogue.
ERROR_CODES: dict[str, tuple[int, str]] = {
    "missing_field": (400, "A required field is missing or blank."),
    "invalid_field": (400, "A field has the wrong type, format or length."),
    "invalid_json": (400, "The body is not a JSON object."),
    "missing_file": (400, "A required file part is missing."),
    "too_many_files": (400, "More photos than MAX_PHOTOS in one request."),
    "invalid_image": (400, "The photo is empty or cannot be decoded."),
    "invalid_password": (400, "The password is shorter than MIN_PASSWORD_LENGTH."),
    "invalid_token": (400, "The refresh_token in the body is not one of this user's refresh tokens."),
    "invalid_archive": (400, "The ZIP archive is damaged or has no usable folders."),
    "unauthorized": (401, "No token, an invalid, expired or revoked one, or an inactive account."),
    "invalid_credentials": (401, "Wrong username or password."),
    "forbidden": (403, "The token's role may not do this."),
    "not_found": (404, "No such resource."),
    "conflict": (409, "The resource exists already, or its state does not allow this."),
    "replayed_photo": (409, "The same photo bytes were already used to check in (replay)."),
    "file_too_large": (413, "A photo, or the whole request, is over its size limit."),
    "archive_too_large": (413, "The ZIP archive, an entry or its expanded size is over its limit."),
    "suspicious_compression": (413, "A ZIP entry's compression ratio is that of a zip bomb."),
    "too_many_requests": (429, "Over a rate limit, or a username locked after failed logins; see Retry-After."),
    "unsupported_media_type": (415, "The extension or the content (libmagic) is not JPEG, PNG or WebP (ZIP for imports)."),
    "no_face": (422, "No face was found in the photo."),
    "multiple_faces": (422, "More than one face was found; the photo must show one person."),
    "face_too_small": (422, "The face is too small to be recognised reliably."),
    "screenshot": (422, "The photo is a screenshot, not a camera photo (REFUSE_SCREENSHOTS)."),
    "challenge_required": (422, "This server needs the head-turn challenge: challenge and photo_turned."),
    "invalid_challenge": (400, "The challenge is unknown, expired, already used or another account's."),
    "challenge_failed": (422, "The second photo is not the same person, or the head did not turn as asked."),
    "model_unavailable": (503, "The recognition model cannot be loaded."),
    "internal_error": (500, "An unexpected error, logged on the server."),
}

# The marshmallow message for an absent required field (its default "required" error message).
_REQUIRED_MESSAGE = "Missing data for required field."


class APIError(Exception):
    def __init__(self, code: str, message: str, status: int = 400):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status

    @classmethod
    def from_face_error(cls, error: FaceEngineError, prefix: str = "") -> APIError:
        return cls(error.code, prefix + error.message, FACE_ERROR_STATUS.get(error.code, 422))


def error_response(code: str, message: str, status: int):
    return jsonify(error=code, message=message), status


def validation_error(data: dict) -> APIError:
    """webargs' validation failure ({location: {field: [messages]}}) as one of our 400 errors."""
    if "json" in data["messages"] and data["messages"]["json"] == ["Invalid JSON body."]:
        return APIError("invalid_json", "The request body must be a JSON object.", 400)
    location, problems = next(iter(data["messages"].items()))
    field, messages = next(iter(problems.items())) if isinstance(problems, dict) else ("_schema", problems)
    if field == "_schema":  # the input as a whole is wrong: a JSON list instead of an object, say
        if location == "json":
            return APIError("invalid_json", "The request body must be a JSON object.", 400)
        return APIError("invalid_field", _first_message(messages), 400)
    message = _first_message(messages)
    if message == _REQUIRED_MESSAGE:
        declared = data["schema"].fields.get(field)
        is_file = isinstance(declared, Upload) or isinstance(getattr(declared, "inner", None), Upload)
        return APIError("missing_file" if is_file else "missing_field",
                        f"The {'file part' if is_file else 'field'} {field!r} is required.", 400)
    return APIError("invalid_field", f"{field}: {message}", 400)


def _first_message(messages) -> str:
    while isinstance(messages, (list, dict)):
        messages = next(iter(messages.values() if isinstance(messages, dict) else messages), "")
    return str(messages)


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(APIError)
    def handle_api_error(error: APIError):
        return error_response(error.code, error.message, error.status)

    @app.errorhandler(FaceEngineError)
    def handle_face_error(error: FaceEngineError):
        return handle_api_error(APIError.from_face_error(error))

    @app.errorhandler(RequestEntityTooLarge)
    def handle_too_large(error: RequestEntityTooLarge):
        limit = app.config["MAX_CONTENT_LENGTH"]
        return error_response("file_too_large", f"The request is larger than {limit:,} bytes.", 413)

    @app.errorhandler(HTTPException)
    def handle_http_error(error: HTTPException):
        validation = getattr(error, "data", None)
        if isinstance(validation, dict) and "messages" in validation:
            return handle_api_error(validation_error(validation))
        status = error.code or 500
        return error_response(HTTP_ERROR_CODES.get(status, "http_error"), error.description or error.name, status)

    @app.errorhandler(Exception)
    def handle_unexpected(error: Exception):
        log.exception("Unhandled error")
        return error_response("internal_error", "An unexpected error occurred; it has been logged.", 500)
