"""The process-wide face engine and in-memory gallery, held in `app.extensions`."""

from __future__ import annotations

import json
import logging
import threading
from pathlib import Path

import numpy as np
from flask import Flask, current_app
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from embeddings import DecodeLimits, EngineSettings, FaceEngine, FacePolicy, Gallery, ensure_compatible, load_engine
from models import Employee, FaceTemplate, GalleryVersion, db

log = logging.getLogger(__name__)


def engine_settings(config) -> EngineSettings:
    return EngineSettings(
        model=config["FACE_MODEL"],
        facenet_pretrained=config["FACENET_PRETRAINED"],
        facenet_weights=config["FACENET_WEIGHTS"],
        detection_max_side=config["DETECTION_MAX_SIDE"],
        decode=DecodeLimits(max_side=config["DECODE_MAX_SIDE"], max_pixels=config["MAX_IMAGE_PIXELS"]),
        policy=FacePolicy(
            min_probability=config["FACE_MIN_PROBABILITY"],
            min_face_size=config["FACE_MIN_SIZE"],
            dominance_ratio=config["FACE_DOMINANCE_RATIO"],
        ),
    )


def enrolled_models() -> list[str]:
    return list(db.session.scalars(select(FaceTemplate.model).distinct()))


def calibrated_thresholds_path(config) -> Path:
    """Where `flask calibrate` stores thresholds measured at this site (per model name)."""
    return Path(config["INSTANCE_DIR"]) / "thresholds.json"


def calibrated_thresholds(config) -> dict[str, dict]:
    path = calibrated_thresholds_path(config)
    if not path.exists():
        return {}
    try:
        stored = json.loads(path.read_text())
        return {model: {**entry, "threshold": float(entry["threshold"])} for model, entry in stored.items()}
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise RuntimeError(f"{path} is not a thresholds file written by `flask calibrate` ({exc}); "
                           "fix or delete it, then calibrate again.") from exc


def threshold_for(config, model_name: str) -> float:
    """FACE_THRESHOLD if set, else this site's calibration, else the shipped value for the model."""
    if config["FACE_THRESHOLD"] is not None:
        return config["FACE_THRESHOLD"]
    calibrated = calibrated_thresholds(config).get(model_name)
    if calibrated is not None:
        return float(calibrated["threshold"])
    try:
        return config["FACE_THRESHOLDS"][model_name]
    except KeyError:
        raise RuntimeError(
            f"No calibrated threshold is known for model {model_name!r}. Calibrate one "
            f"(flask --app run calibrate) or set FACE_THRESHOLD."
        ) from None


class FaceService:
    """Engine, threshold and a gallery cache that reloads when the gallery version moves."""

    def __init__(self, engine: FaceEngine, threshold: float):
        self.engine = engine
        self.threshold = threshold
        self._gallery = Gallery([], np.zeros((0, engine.embedding_dim), np.float32))
        self._gallery_version = -1
        self._lock = threading.Lock()

    def gallery(self) -> Gallery:
        version = current_gallery_version()
        if version != self._gallery_version:
            with self._lock:
                if version != self._gallery_version:
                    self._gallery = self._load_gallery()
                    self._gallery_version = version
        return self._gallery

    def templates_of(self, employee: Employee) -> np.ndarray:
        blobs = db.session.scalars(
            select(FaceTemplate.vector)
            .where(FaceTemplate.employee_pk == employee.id, FaceTemplate.model == self.engine.model_name)
        ).all()
        return unpack_vectors(blobs, self.engine.embedding_dim)

    def _load_gallery(self) -> Gallery:
        rows = db.session.execute(
            select(Employee.employee_id, FaceTemplate.vector)
            .join(FaceTemplate.employee)
            .where(Employee.active, FaceTemplate.model == self.engine.model_name)
        ).all()
        vectors = unpack_vectors([r.vector for r in rows], self.engine.embedding_dim)
        log.info("Gallery loaded: %d templates", len(rows))
        return Gallery([r.employee_id for r in rows], vectors)


def unpack_vectors(blobs: list[bytes], dim: int) -> np.ndarray:
    """Stored float32 templates as one (n, dim) matrix."""
    return np.frombuffer(b"".join(blobs), dtype="<f4").reshape(len(blobs), dim)


def current_gallery_version() -> int:
    return db.session.scalar(select(GalleryVersion.version).where(GalleryVersion.id == 1)) or 0


def bump_gallery_version() -> None:
    """Call inside the transaction that changes templates or who is active."""
    db.session.execute(update(GalleryVersion).where(GalleryVersion.id == 1).values(version=GalleryVersion.version + 1))


def ensure_gallery_version_row() -> None:
    if db.session.get(GalleryVersion, 1) is None:
        db.session.add(GalleryVersion(id=1, version=0))
        try:
            db.session.commit()
        except IntegrityError:  # a sibling worker inserted it first
            db.session.rollback()


def init_face_service(app: Flask, engine: FaceEngine | None = None) -> FaceService:
    with app.app_context():
        models_in_db = enrolled_models()
        if engine is None:
            engine = load_engine(engine_settings(app.config), models_in_db)
        else:  # handed in by tests or tools: it must still agree with the database
            ensure_compatible(engine.model_name, models_in_db)
    if app.config["FACE_ENGINE_WARM_UP"]:
        engine.warm_up()
    service = FaceService(engine, threshold_for(app.config, engine.model_name))
    log.info("Face model %s (%d-d), threshold %.4f", engine.model_name, engine.embedding_dim, service.threshold)
    app.extensions["absen_face"] = service
    return service


def face_service() -> FaceService:
    return current_app.extensions["absen_face"]
