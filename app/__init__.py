"""Absen: the application factory. Wiring only; behaviour lives in the modules it registers."""

from __future__ import annotations

import fcntl
import logging
import os
import secrets
import tempfile
from contextlib import contextmanager
from pathlib import Path

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine

from config import Config, config_for
from embeddings import FaceEngine

from .extensions import db, jwt


def create_app(config: str | type[Config] | None = None, overrides: dict | None = None,
               face_engine: FaceEngine | None = None) -> Flask:
    config_class = config if isinstance(config, type) else config_for(config)
    instance_dir = (overrides or {}).get("INSTANCE_DIR", config_class.INSTANCE_DIR)
    app = Flask(__name__, instance_path=str(Path(instance_dir).resolve()))
    app.config.from_object(config_class)
    app.config.update(overrides or {})
    configure_logging(app)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    configure_secret(app)
    configure_torch(app)
    configure_request_handling(app)
    register_extensions(app)
    register_blueprints_and_errors(app)
    register_commands(app)
    prepare_database(app)
    from .face import init_face_service

    init_face_service(app, face_engine)
    start_background_work(app)
    return app


def configure_logging(app: Flask) -> None:
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def configure_secret(app: Flask) -> None:
    """Use JWT_SECRET_KEY, or a random key kept in the instance folder (shared by workers)."""
    if app.config.get("JWT_SECRET_KEY"):
        return
    path = Path(app.instance_path) / "secret_key"
    if not path.exists():
        # Written whole under a private name, then linked into place: os.link never replaces an
        # existing file, so workers starting together all end up reading the same complete key.
        fd, temporary = tempfile.mkstemp(dir=app.instance_path, prefix=".secret_key.")
        try:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_urlsafe(48))
            os.link(temporary, path)
        except FileExistsError:
            pass
        finally:
            os.unlink(temporary)
    app.config["JWT_SECRET_KEY"] = path.read_text().strip()


def configure_request_handling(app: Flask) -> None:
    from werkzeug.middleware.proxy_fix import ProxyFix

    from .services.schedule import WorkSchedule

    app.extensions["absen_schedule"] = WorkSchedule.from_config(app.config)
    if app.config["TRUSTED_PROXY_COUNT"] > 0:
        # Only then is X-Forwarded-For the client's address rather than something anyone can send.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=app.config["TRUSTED_PROXY_COUNT"], x_proto=1)


def start_background_work(app: Flask) -> None:
    if app.config["WEBHOOK_DISPATCHER"]:
        from .services.webhooks import Dispatcher

        app.extensions["absen_webhooks"] = Dispatcher(app).start()


def configure_torch(app: Flask) -> None:
    if app.config["TORCH_THREADS"] > 0:
        import torch

        torch.set_num_threads(app.config["TORCH_THREADS"])


def register_extensions(app: Flask) -> None:
    db.init_app(app)
    jwt.init_app(app)
    from .security import register_jwt_callbacks

    register_jwt_callbacks(app)


def register_blueprints_and_errors(app: Flask) -> None:
    from .api import register_blueprints
    from .errors import register_error_handlers

    register_blueprints(app)
    register_error_handlers(app)


def register_commands(app: Flask) -> None:
    from .cli import register_cli

    register_cli(app)


@contextmanager
def schema_lock(app: Flask):
    """One process at a time creates the tables: gunicorn workers start together and would race."""
    with open(Path(app.instance_path) / ".schema.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def prepare_database(app: Flask) -> None:
    from .face import ensure_gallery_version_row
    from .services.auth import ensure_admin

    with app.app_context(), schema_lock(app):
        db.create_all()
        ensure_gallery_version_row()
        if app.config["ADMIN_USERNAME"] and app.config["ADMIN_PASSWORD"]:
            ensure_admin(app.config["ADMIN_USERNAME"], app.config["ADMIN_PASSWORD"], app.config["MIN_PASSWORD_LENGTH"])


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # Foreign keys are off by default in SQLite; WAL lets readers work while one request writes.
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()
