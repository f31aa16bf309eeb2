"""Configuration classes. Every setting can be given as an environment variable of the same name."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent

# Cosine thresholds per model (docs/thresholds.md has the figures and commands); FACE_THRESHOLD
# overrides. Other models (fine-tuned checkpoints) have none: the service asks for FACE_THRESHOLD.
MODEL_THRESHOLDS = {
    # Calibrated here: false-accept rate <= 0.1% on LFW's 6,000 pairs (flask calibrate; docs/thresholds.md).
    "dlib-resnet-v1": 0.9213,
    # NOT calibrated here (the weights cannot be downloaded on our machines): the published
    # FaceNet attendance study's 0.70. Calibrate at your site: flask calibrate --model facenet.
    "facenet-vggface2": 0.70,
    "facenet-casia-webface": 0.70,
}


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def _env_int(name: str, default: int) -> int:
    return int(_env(name, str(default)))


def _env_float(name: str, default: float) -> float:
    return float(_env(name, str(default)))


def _env_bool(name: str, default: bool) -> bool:
    value = _env(name)
    if value is None:
        return default
    if value.lower() in ("1", "true", "yes", "on"):
        return True
    if value.lower() in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"{name} must be true or false, not {value!r}")


class Config:
    INSTANCE_DIR = Path(_env("ABSEN_INSTANCE_DIR", str(BASE_DIR / "instance")))
    SQLALCHEMY_DATABASE_URI = _env("DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'absen.db'}")
    # None: read from instance/secret_key, created on first start (stable across restarts and workers).
    JWT_SECRET_KEY = _env("JWT_SECRET_KEY")
    JWT_ACCESS_TOKEN_EXPIRES = timedelta(minutes=_env_int("JWT_ACCESS_MINUTES", 15))
    JWT_REFRESH_TOKEN_EXPIRES = timedelta(days=_env_int("JWT_REFRESH_DAYS", 7))
    JWT_TOKEN_LOCATION = ["headers"]

    # The OpenAPI document, generated from the routes and schemas (flask-smorest), and Swagger UI,
    # whose files come from the swagger-ui-bundle package (no CDN: sites may be offline).
    API_TITLE = "Absen"
    API_VERSION = "1.0"
    OPENAPI_VERSION = "3.0.3"
    OPENAPI_URL_PREFIX = "/"
    OPENAPI_JSON_PATH = "openapi.json"
    OPENAPI_SWAGGER_UI_PATH = "docs"
    OPENAPI_SWAGGER_UI_URL = "/docs/assets/"
    API_SPEC_OPTIONS = {"info": {"description": "Face-recognition attendance. Errors are always "
                                                "`{\"error\": code, \"message\": text}`; each route lists its codes."}}

    # Uploads: one photo at most this big; a request at most MAX_PHOTOS of them.
    MAX_PHOTO_BYTES = _env_int("MAX_PHOTO_BYTES", 20 * 1024 * 1024)
    MAX_PHOTOS = _env_int("MAX_PHOTOS", 10)
    MAX_CONTENT_LENGTH = MAX_PHOTO_BYTES * MAX_PHOTOS + 64 * 1024  # /employees/import raises it for itself
    MAX_IMAGE_PIXELS = _env_int("MAX_IMAGE_PIXELS", 60_000_000)
    ALLOWED_EXTENSIONS = ("jpg", "jpeg", "png", "webp")
    ALLOWED_MIME_TYPES = ("image/jpeg", "image/png", "image/webp")

    # Face engine.
    FACE_MODEL = _env("FACE_MODEL", "auto")  # auto | facenet | dlib
    FACENET_PRETRAINED = _env("FACENET_PRETRAINED", "vggface2")  # or casia-webface
    FACENET_WEIGHTS = _env("FACENET_WEIGHTS")  # local weights file: offline sites, fine-tuned models
    FACE_THRESHOLD = float(_env("FACE_THRESHOLD")) if _env("FACE_THRESHOLD") else None
    FACE_THRESHOLDS = MODEL_THRESHOLDS
    FACE_MIN_SIZE = _env_int("FACE_MIN_SIZE", 40)
    FACE_MIN_PROBABILITY = _env_float("FACE_MIN_PROBABILITY", 0.95)
    FACE_DOMINANCE_RATIO = _env_float("FACE_DOMINANCE_RATIO", 4.0)
    DECODE_MAX_SIDE = _env_int("DECODE_MAX_SIDE", 1600)
    DETECTION_MAX_SIDE = _env_int("DETECTION_MAX_SIDE", 480)
    TORCH_THREADS = _env_int("TORCH_THREADS", 0)  # 0: torch's default
    FACE_ENGINE_WARM_UP = _env_bool("FACE_ENGINE_WARM_UP", True)  # models run once and the gallery loads at start
    # 1:N search: exact below GALLERY_IVF_MIN templates; from there an approximate FAISS IVF index scanning
    # GALLERY_IVF_PROBES of its ~sqrt(n) lists (docs/benchmarks.md: speed, memory and recall at 1,000,000).
    GALLERY_IVF_MIN = _env_int("GALLERY_IVF_MIN", 50_000)
    GALLERY_IVF_PROBES = _env_int("GALLERY_IVF_PROBES", 64)

    # Attendance rules. Times are stored in UTC and shown in WORK_TIMEZONE.
    WORK_TIMEZONE = _env("WORK_TIMEZONE", "Asia/Jakarta")
    WORK_START = _env("WORK_START", "08:00")
    WORK_END = _env("WORK_END", "17:00")
    WORK_DAYS = _env("WORK_DAYS", "mon tue wed thu fri")
    LATE_GRACE_MINUTES = _env_int("LATE_GRACE_MINUTES", 15)
    # A check-out needs this long after the check-in; closer posts return the check-in.
    CHECKOUT_MIN_GAP_MINUTES = _env_int("CHECKOUT_MIN_GAP_MINUTES", 60)
    # Posts this close to the previous record return it instead of creating another.
    DUPLICATE_WINDOW_MINUTES = _env_int("DUPLICATE_WINDOW_MINUTES", 5)
    MAX_REPORT_DAYS = _env_int("MAX_REPORT_DAYS", 366)

    # Bulk import of a ZIP (POST /employees/import): limits against zip bombs.
    IMPORT_MAX_BYTES = _env_int("IMPORT_MAX_BYTES", 512 * 1024 * 1024)  # the upload itself
    IMPORT_MAX_ENTRIES = _env_int("IMPORT_MAX_ENTRIES", 20_000)
    IMPORT_MAX_EXPANDED_BYTES = _env_int("IMPORT_MAX_EXPANDED_BYTES", 4 * 1024 ** 3)

    # Audit log of verification attempts: photos are kept only when asked for.
    AUDIT_KEEP_PHOTOS = _env_bool("AUDIT_KEEP_PHOTOS", False)
    # Number of reverse proxies in front of the service whose X-Forwarded-For is trusted.
    TRUSTED_PROXY_COUNT = _env_int("TRUSTED_PROXY_COUNT", 0)

    # Webhooks: delivered by a background thread in each worker, retried with exponential backoff.
    WEBHOOK_DISPATCHER = _env_bool("WEBHOOK_DISPATCHER", True)
    WEBHOOK_MAX_ATTEMPTS = _env_int("WEBHOOK_MAX_ATTEMPTS", 8)
    WEBHOOK_BACKOFF_SECONDS = _env_float("WEBHOOK_BACKOFF_SECONDS", 5.0)
    WEBHOOK_TIMEOUT_SECONDS = _env_float("WEBHOOK_TIMEOUT_SECONDS", 5.0)
    WEBHOOK_POLL_SECONDS = _env_float("WEBHOOK_POLL_SECONDS", 1.0)

    # First administrator for scripted set-ups, created at start when no user has that name.
    ADMIN_USERNAME = _env("ABSEN_ADMIN_USERNAME")
    ADMIN_PASSWORD = _env("ABSEN_ADMIN_PASSWORD")
    MIN_PASSWORD_LENGTH = _env_int("MIN_PASSWORD_LENGTH", 8)

    # Abuse limits (Flask-Limiter). Failed logins per username lock it out for the window, whatever
    # the password, and are answered 429 with Retry-After; per-address limits slow down guessing
    # across usernames; /predict is limited per token (a kiosk does one person every few seconds).
    RATELIMIT_ENABLED = _env("RATELIMIT_ENABLED", "true").lower() == "true"
    RATELIMIT_STORAGE_URI = _env("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_HEADERS_ENABLED = True
    LOGIN_FAILURES_LIMIT = _env("LOGIN_FAILURES_LIMIT", "5 per 15 minutes")
    LOGIN_ADDRESS_LIMIT = _env("LOGIN_ADDRESS_LIMIT", "30 per minute")
    PREDICT_TOKEN_LIMIT = _env("PREDICT_TOKEN_LIMIT", "60 per minute")

    # Presentation attacks (README, "Spoofing"). Screenshots are refused by /predict. The head-turn
    # challenge (POST /predict/challenge, then /predict with photo_turned) is checked whenever a client
    # sends one; "required" makes every /predict need it (kiosks that can ask people to turn).
    REFUSE_SCREENSHOTS = _env_bool("REFUSE_SCREENSHOTS", True)
    PREDICT_CHALLENGE = _env("PREDICT_CHALLENGE", "optional")  # optional | required
    CHALLENGE_TTL_SECONDS = _env_int("CHALLENGE_TTL_SECONDS", 60)
    # How far the head must turn between the frames (embeddings.liveness.head_turn units: ~0.6 is a clear turn).
    CHALLENGE_MIN_TURN = _env_float("CHALLENGE_MIN_TURN", 0.35)


class DevelopmentConfig(Config):
    DEBUG = True


class TestingConfig(Config):
    TESTING = True
    # In-memory SQLite, or a PostgreSQL server the tests may wipe (make test runs the suite on both).
    SQLALCHEMY_DATABASE_URI = _env("ABSEN_TEST_DATABASE_URL", "sqlite://")
    JWT_SECRET_KEY = "testing-secret-key-that-is-long-enough-for-hs256"
    FACE_MODEL = "dlib"  # real recognition that needs no download
    FACE_ENGINE_WARM_UP = False
    WEBHOOK_DISPATCHER = False  # tests deliver explicitly, or start the dispatcher themselves


class ProductionConfig(Config):
    pass


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def config_for(name: str | None = None) -> type[Config]:
    name = name or _env("ABSEN_ENV", "production")
    try:
        return CONFIGS[name]
    except KeyError:
        raise ValueError(f"ABSEN_ENV must be one of {', '.join(CONFIGS)}, not {name!r}") from None
