from __future__ import annotations

import io

import pytest

from app import create_app
from app.face import engine_settings
from config import TestingConfig
from embeddings import load_engine
from models import Role, db
from tests.photos import astronaut, encode

ADMIN = ("admin", "admin-password")
HR = ("hr.officer", "hr-password")


@pytest.fixture(autouse=True)
def fresh_database():
    """On PostgreSQL every test starts from an empty schema (in-memory SQLite starts empty by itself)."""
    url = TestingConfig.SQLALCHEMY_DATABASE_URI
    if url.startswith("postgresql"):
        from sqlalchemy import create_engine, text

        server = create_engine(url)
        with server.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        server.dispose()
    yield


@pytest.fixture(scope="session")
def engine():
    """The real face engine (MTCNN + dlib), loaded once: loading is the slow part, not state."""
    return load_engine(engine_settings(vars_of(TestingConfig)))


def vars_of(config_class) -> dict:
    return {name: getattr(config_class, name) for name in dir(config_class) if name.isupper()}


@pytest.fixture
def app(engine, tmp_path):
    """A fresh app on a fresh database for every test (in-memory SQLite, or ABSEN_TEST_DATABASE_URL)."""
    yield from app_with_users(engine, tmp_path)


def app_with_users(engine, tmp_path, **overrides):
    app = create_app(TestingConfig, overrides={"INSTANCE_DIR": tmp_path, **overrides}, face_engine=engine)
    with app.app_context():
        from app.services.auth import create_user

        create_user(*ADMIN, Role.ADMIN, 8)
        create_user(*HR, Role.HR, 8)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


class Api:
    """Small helpers over the test client so tests read like the HTTP calls they make."""

    def __init__(self, client):
        self.client = client

    def login(self, username: str, password: str) -> dict:
        response = self.client.post("/login", json={"username": username, "password": password})
        assert response.status_code == 200, response.json
        return response.json

    def token(self, username: str, password: str) -> dict:
        return {"Authorization": f"Bearer {self.login(username, password)['access_token']}"}

    def admin(self) -> dict:
        return self.token(*ADMIN)

    def hr(self) -> dict:
        return self.token(*HR)

    def register(self, headers: dict, employee_id: str, photos: list[tuple[bytes, str]], name: str = "Test Person",
                 password: str | None = None):
        form = {"employee_id": employee_id, "name": name, "photo": [(io.BytesIO(d), n) for d, n in photos]}
        if password is not None:
            form["password"] = password
        return self.client.post("/register", headers=headers, data=form, content_type="multipart/form-data")

    def predict(self, headers: dict, photo: tuple[bytes, str] | None, employee_id: str | None = None):
        form = {}
        if photo is not None:
            form["photo"] = (io.BytesIO(photo[0]), photo[1])
        if employee_id is not None:
            form["employee_id"] = employee_id
        return self.client.post("/predict", headers=headers, data=form, content_type="multipart/form-data")


@pytest.fixture
def api(client):
    return Api(client)


@pytest.fixture
def astronaut_jpeg() -> tuple[bytes, str]:
    return encode(astronaut()), "astronaut.jpg"
