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
from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from werkzeug.routing import IntegerConverter

from config import Config, config_for
from embeddings import FaceEngine
from models.types import render_alembic_type

from .extensions import db, jwt, limiter, migrate


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
    refuse_unknown_choices(app)
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
    logging.getLogger("alembic").setLevel(logging.WARNING)  # it narrates every start; migrate_schema logs upgrades


def refuse_unknown_choices(app: Flask) -> None:
    from .services.liveness import CHALLENGE_MODES

    if app.config["PREDICT_CHALLENGE"] not in CHALLENGE_MODES:
        raise RuntimeError(f"PREDICT_CHALLENGE must be one of {', '.join(CHALLENGE_MODES)}, "
                           f"not {app.config['PREDICT_CHALLENGE']!r}.")


def configure_secret(app: Flask) -> None:
    """Use JWT_SECRET_KEY, or a random key kept in the instance folder (shared by workers)."""
    if app.config["ADMIN_USERNAME"] and app.config["ADMIN_PASSWORD"]:  # checked before the database is touched
        from .services.auth import refuse_guessable_admin_password

        refuse_guessable_admin_password(app.config["ADMIN_USERNAME"], app.config["ADMIN_PASSWORD"])
    if app.config.get("JWT_SECRET_KEY"):
        refuse_weak_secret(app)
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


# Secrets seen in examples and tests: a server signing tokens with one of them can be impersonated.
KNOWN_SECRETS = {"secret", "change-me", "changeme", "jwt-secret", "your-secret-key", "super-secret",
                 "testing-secret-key-that-is-long-enough-for-hs256"}


def refuse_weak_secret(app: Flask) -> None:
    if app.testing:
        return
    secret = app.config["JWT_SECRET_KEY"]
    if len(secret) < 32 or secret.lower() in KNOWN_SECRETS:
        raise RuntimeError("JWT_SECRET_KEY is too short (< 32 characters) or a published example; set a random "
                           "one (python -c 'import secrets; print(secrets.token_urlsafe(48))') or leave it unset "
                           "to have one generated in the instance folder.")


class DatabaseIdConverter(IntegerConverter):
    """<int:...> up to the largest id an Integer column holds on every backend (PostgreSQL's int4):
    a larger number is a 404, not a database error (found by schemathesis on SQLite and PostgreSQL)."""

    def __init__(self, url_map, *args, **kwargs):
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(url_map, *args, **kwargs)


def configure_request_handling(app: Flask) -> None:
    from werkzeug.middleware.proxy_fix import ProxyFix

    from .services.schedule import WorkSchedule

    app.extensions["absen_schedule"] = WorkSchedule.from_config(app.config)
    app.url_map.converters["int"] = DatabaseIdConverter  # before any route is added
    # No CORS headers are ever sent: browsers only let the service's own pages call it.
    app.after_request(add_security_headers)
    if app.config["TRUSTED_PROXY_COUNT"] > 0:
        # Only then is X-Forwarded-For the client's address rather than something anyone can send.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=app.config["TRUSTED_PROXY_COUNT"], x_proto=1)


def add_security_headers(response):
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    if response.mimetype == "application/json":  # answers carry tokens and personal data: never cache them
        response.headers.setdefault("Cache-Control", "no-store")
    return response


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
    limiter.init_app(app)
    migrate.init_app(app, db, directory=str(MIGRATIONS), render_as_batch=True, compare_type=True,
                     render_item=render_alembic_type)  # batch: SQLite cannot ALTER most things in place
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
    """One process at a time migrates: gunicorn workers start together and would race. On PostgreSQL
    the lock is the server's (an advisory lock), so replicas on other hosts wait for each other too."""
    with open(Path(app.instance_path) / ".schema.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            if db.engine.dialect.name == "postgresql":
                with db.engine.connect() as connection:
                    connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": SCHEMA_LOCK_KEY})
                    try:
                        yield
                    finally:
                        connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": SCHEMA_LOCK_KEY})
            else:
                yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


SCHEMA_LOCK_KEY = 0x41B5E9  # any constant: the advisory lock every Absen server takes to migrate


MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
# The first migration: the schema as create_all made it before migrations existed.
INITIAL_REVISION = "0001"


def migrate_schema() -> None:
    """Bring the database to the newest migration (Alembic, via Flask-Migrate) at every start.

    A database created by an earlier version with create_all has the tables but no version: it is
    marked as being at the initial migration, and later migrations apply to it as to any other."""
    from flask_migrate import stamp, upgrade
    from sqlalchemy import inspect

    tables = set(inspect(db.engine).get_table_names())
    if "users" in tables and "alembic_version" not in tables:
        logging.getLogger(__name__).info("Database made before migrations: marked as revision %s", INITIAL_REVISION)
        stamp(directory=str(MIGRATIONS), revision=INITIAL_REVISION)
    upgrade(directory=str(MIGRATIONS))


def prepare_database(app: Flask) -> None:
    from .face import ensure_gallery_version_row
    from .services.auth import ensure_admin

    with app.app_context(), schema_lock(app):
        migrate_schema()
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
