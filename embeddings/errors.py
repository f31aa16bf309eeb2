"""Errors raised by the face engine, each carrying a stable machine-readable code.

The web layer maps the codes to HTTP statuses; the engine itself knows nothing of HTTP.
"""


class FaceEngineError(Exception):
    """Base class: `code` is a stable identifier safe to show to API clients."""

    code = "face_engine_error"

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class InvalidImageError(FaceEngineError):
    code = "invalid_image"


class ImageTooLargeError(FaceEngineError):
    code = "file_too_large"


class NoFaceError(FaceEngineError):
    code = "no_face"


class MultipleFacesError(FaceEngineError):
    code = "multiple_faces"


class FaceTooSmallError(FaceEngineError):
    code = "face_too_small"


class ModelUnavailableError(FaceEngineError):
    """The requested recognition model cannot be loaded (weights missing or broken)."""

    code = "model_unavailable"


class ModelMismatchError(FaceEngineError):
    """The database was enrolled with another model than the one configured."""

    code = "model_mismatch"
