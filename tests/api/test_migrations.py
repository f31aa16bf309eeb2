"""The schema is managed by Alembic migrations (Flask-Migrate), on SQLite and PostgreSQL alike."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, text

from app import MIGRATIONS, create_app
from config import TestingConfig
from models import db
from tests.conftest import ADMIN


def head() -> str:
    from alembic.config import Config

    config = Config(str(MIGRATIONS / "alembic.ini"))
    config.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(config).get_current_head()


def test_the_migrated_schema_is_exactly_the_models(app):
    with app.app_context(), db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, db.metadata) == []
        version = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    assert version == head()


ADDED_AFTER_0001 = {"gallery_changes"}  # by revision 0002


def test_a_database_made_by_create_all_before_migrations_is_adopted(engine, tmp_path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    if TestingConfig.SQLALCHEMY_DATABASE_URI.startswith("postgresql"):
        url = TestingConfig.SQLALCHEMY_DATABASE_URI
    old = create_engine(url)
    # What versions before migrations did at start, with the tables of that time (revision 0001).
    db.metadata.create_all(old, tables=[t for t in db.metadata.sorted_tables if t.name not in ADDED_AFTER_0001])
    with old.begin() as connection:
        connection.execute(text("INSERT INTO employees (employee_id, name, active, created_at) "
                                "VALUES ('OLD-1', 'Kept', true, '2026-01-05 08:00:00')"))
    old.dispose()

    app = create_app(TestingConfig, {"INSTANCE_DIR": tmp_path, "SQLALCHEMY_DATABASE_URI": url}, face_engine=engine)
    with app.app_context():
        assert "alembic_version" in inspect(db.engine).get_table_names()
        assert db.session.execute(text("SELECT version_num FROM alembic_version")).scalar() == head()
        assert db.session.execute(text("SELECT name FROM employees WHERE employee_id = 'OLD-1'")).scalar() == "Kept"
        from app.services.auth import create_user
        from models import Role

        create_user(*ADMIN, Role.ADMIN, 8)
        db.session.remove()
        db.engine.dispose()
    assert app.test_client().post("/login", json=dict(zip(("username", "password"), ADMIN, strict=True))).status_code == 200
