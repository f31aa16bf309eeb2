"""The process-wide face engine and in-memory gallery, held in `app.extensions`."""

from __future__ import annotations

import json
import logging
import threading
import time
from pathlib import Path

import numpy as np
from flask import Flask, current_app
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError

from embeddings import (
    DecodeLimits,
    EngineSettings,
    FaceEngine,
    FacePolicy,
    Gallery,
    IndexSettings,
    ensure_compatible,
    load_engine,
)
from embeddings.matcher import IVF
from models import Employee, FaceTemplate, GalleryChange, GalleryVersion, db

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
    """Engine, threshold and the in-memory gallery, kept in step with the database's gallery version.

    Every request compares the version (one indexed row). When it moved, the employees changed since
    are reloaded into the gallery in place; only a server too far behind, or a gallery whose size has
    crossed into the other index kind, reloads every template.
    """

    def __init__(self, engine: FaceEngine, threshold: float, index_settings: IndexSettings = IndexSettings()):
        self.engine = engine
        self.threshold = threshold
        self.index_settings = index_settings
        self._gallery = Gallery([], np.zeros((0, engine.embedding_dim), np.float32), index_settings)
        self._gallery_version = -1
        self._lock = threading.Lock()
        self.full_loads = 0  # how often every template was loaded (start, far behind, index kind change)

    def gallery(self) -> Gallery:
        version = current_gallery_version()
        if version != self._gallery_version:
            with self._lock:
                if version != self._gallery_version:
                    self._refresh(version)
        return self._gallery

    def templates_of(self, employee: Employee) -> np.ndarray:
        blobs = db.session.scalars(
            select(FaceTemplate.vector)
            .where(FaceTemplate.employee_pk == employee.id, FaceTemplate.model == self.engine.model_name)
        ).all()
        return unpack_vectors(blobs, self.engine.embedding_dim)

    def _refresh(self, version: int) -> None:
        changed = changed_employees(self._gallery_version, version)
        if changed is None or len(changed) > max(INCREMENTAL_MAX, len(self._gallery) // 10):
            self._load_everything()
        else:
            for chunk in _chunks(sorted(changed), 500):
                labels, vectors = self._read(Employee.id.in_(chunk))
                self._gallery.replace(chunk, labels, vectors)
            if not self._gallery.suits_its_size():
                self._load_everything()
            log.info("Gallery refreshed: %d employee(s) changed, %d templates", len(changed), len(self._gallery))
        self._gallery_version = version

    def _load_everything(self) -> None:
        started = time.perf_counter()
        self._gallery = Gallery(*self._read(), settings=self.index_settings)
        self.full_loads += 1
        log.info("Gallery loaded: %d templates, %s index, %.2f s", len(self._gallery), self._gallery.kind,
                 time.perf_counter() - started)

    def _read(self, *conditions) -> tuple[np.ndarray, np.ndarray]:
        """Labels (employee keys) and vectors of active employees' templates, read in chunks.

        Large galleries are staged as float16, the precision their index keeps anyway, so a million
        templates never sit in memory twice as float32. Core rows, not ORM ones: a third faster."""
        query = (select(FaceTemplate.employee_pk, FaceTemplate.vector).join(FaceTemplate.employee)
                 .where(Employee.active, FaceTemplate.model == self.engine.model_name, *conditions))
        count = db.session.scalar(select(func.count()).select_from(query.subquery()))
        dtype = np.float16 if self.index_settings.kind_for(count) == IVF else np.float32
        labels, vectors = [np.zeros(0, np.int64)], [np.zeros((0, self.engine.embedding_dim), dtype)]
        with db.session.connection().execute(query.execution_options(yield_per=READ_CHUNK)) as result:
            for rows in result.partitions():
                keys, blobs = zip(*rows, strict=True)
                labels.append(np.array(keys, dtype=np.int64))
                vectors.append(unpack_vectors(blobs, self.engine.embedding_dim).astype(dtype))
        return np.concatenate(labels), np.concatenate(vectors)


READ_CHUNK = 50_000
INCREMENTAL_MAX = 1_000  # more changed employees than this (or a tenth of the gallery): load everything
CHANGES_KEPT = 1_000  # gallery versions whose changes are kept for servers that are behind


def _chunks(items: list[int], size: int) -> list[list[int]]:
    return [items[start:start + size] for start in range(0, len(items), size)]


def unpack_vectors(blobs: list[bytes], dim: int) -> np.ndarray:
    """Stored float32 templates as one (n, dim) matrix."""
    return np.frombuffer(b"".join(blobs), dtype="<f4").reshape(len(blobs), dim)


def current_gallery_version() -> int:
    return db.session.scalar(select(GalleryVersion.version).where(GalleryVersion.id == 1)) or 0


def bump_gallery_version(*employee_pks: int) -> None:
    """Call inside the transaction that changes these employees' templates or whether they are active.

    The counter's row lock orders concurrent transactions, so versions follow commit order and a
    server that has read version v has seen every change up to v."""
    if not employee_pks:
        raise ValueError("a gallery change names the employees it changes")
    db.session.execute(update(GalleryVersion).where(GalleryVersion.id == 1).values(version=GalleryVersion.version + 1))
    version = current_gallery_version()
    db.session.add_all(GalleryChange(version=version, employee_pk=pk) for pk in employee_pks)
    db.session.execute(delete(GalleryChange).where(GalleryChange.version <= version - CHANGES_KEPT))


def changed_employees(since: int, until: int) -> set[int] | None:
    """Employees changed after version `since` up to `until`; None when the kept changes cannot tell."""
    if since < 0 or until < since:
        return None
    oldest = db.session.scalar(select(func.min(GalleryChange.version)))
    if oldest is None or oldest > since + 1:
        return None
    return set(db.session.scalars(
        select(GalleryChange.employee_pk).where(GalleryChange.version > since, GalleryChange.version <= until).distinct()
    ))


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
    index_settings = IndexSettings(ivf_min=app.config["GALLERY_IVF_MIN"], ivf_probes=app.config["GALLERY_IVF_PROBES"])
    service = FaceService(engine, threshold_for(app.config, engine.model_name), index_settings)
    log.info("Face model %s (%d-d), threshold %.4f", engine.model_name, engine.embedding_dim, service.threshold)
    if app.config["FACE_ENGINE_WARM_UP"]:  # models run once and the gallery loads before the first request
        engine.warm_up()
        with app.app_context():
            service.gallery()
    app.extensions["absen_face"] = service
    return service


def face_service() -> FaceService:
    return current_app.extensions["absen_face"]
