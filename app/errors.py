"""One JSON error shape for every failure: {"error": code, "message": text}."""

from __future__ import annotations

import logging

from flask import Flask, jsonify
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
        status = error.code or 500
        return error_response(HTTP_ERROR_CODES.get(status, "http_error"), error.description or error.name, status)

    @app.errorhandler(Exception)
    def handle_unexpected(error: Exception):
        log.exception("Unhandled error")
        return error_response("internal_error", "An unexpected error occurred; it has been logged.", 500)
