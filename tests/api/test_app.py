import io

import pytest
import torch
from facenet_pytorch import InceptionResnetV1

from app import create_app
from config import TestingConfig
from embeddings import FaceEngine
from embeddings.embedders import load_facenet
from embeddings.errors import ModelMismatchError
from tests.api.test_auth import assert_error
from tests.photos import astronaut, encode


@pytest.fixture
def facenet_engine(engine, tmp_path) -> FaceEngine:
    """The test engine with FaceNet (a checkpoint the test writes) in place of dlib."""
    weights = tmp_path / "finetuned.pt"
    torch.save(InceptionResnetV1(pretrained=None, classify=False).state_dict(), weights)
    return FaceEngine(engine.detector, load_facenet(weights_path=str(weights)), engine.policy, engine.decode_limits)


def file_database(tmp_path) -> dict:
    return {"INSTANCE_DIR": tmp_path, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'absen.db'}",
            "ADMIN_USERNAME": "root", "ADMIN_PASSWORD": "root-password"}


def test_health_reports_the_model_and_the_employee_count(api, client, astronaut_jpeg):
    assert client.get("/health").json == {
        "status": "ok",
        "model": {"name": "dlib-resnet-v1", "embedding_dim": 128, "threshold": TestingConfig.FACE_THRESHOLDS["dlib-resnet-v1"]},
        "employees": 0,
    }
    api.register(api.hr(), "E1", [astronaut_jpeg])
    assert client.get("/health").json["employees"] == 1


def test_unknown_routes_and_methods_use_the_error_shape(client):
    assert_error(client.get("/nowhere"), 404, "not_found")
    assert_error(client.get("/login"), 405, "method_not_allowed")


def test_configured_threshold_overrides_the_calibrated_one(engine, tmp_path):
    app = create_app(TestingConfig, {"INSTANCE_DIR": tmp_path, "FACE_THRESHOLD": 0.5}, face_engine=engine)
    assert app.test_client().get("/health").json["model"]["threshold"] == 0.5


def test_admin_from_environment_settings_is_created_once(engine, tmp_path):
    for _ in range(2):
        client = create_app(TestingConfig, file_database(tmp_path), face_engine=engine).test_client()
        assert client.post("/login", json={"username": "root", "password": "root-password"}).status_code == 200


def test_a_database_enrolled_with_one_model_refuses_to_start_with_another(engine, facenet_engine, tmp_path):
    client = create_app(TestingConfig, file_database(tmp_path), face_engine=engine).test_client()
    token = client.post("/login", json={"username": "root", "password": "root-password"}).json["access_token"]
    response = client.post("/register", headers={"Authorization": f"Bearer {token}"}, content_type="multipart/form-data",
                           data={"employee_id": "E1", "name": "E", "photo": (io.BytesIO(encode(astronaut())), "a.jpg")})
    assert response.status_code == 201
    with pytest.raises(ModelMismatchError, match="dlib-resnet-v1"):
        create_app(TestingConfig, file_database(tmp_path), face_engine=facenet_engine)


def test_a_model_without_a_calibrated_threshold_needs_one_configured(facenet_engine, tmp_path):
    with pytest.raises(RuntimeError, match="FACE_THRESHOLD"):
        create_app(TestingConfig, {"INSTANCE_DIR": tmp_path}, face_engine=facenet_engine)
    app = create_app(TestingConfig, {"INSTANCE_DIR": tmp_path, "FACE_THRESHOLD": 0.8}, face_engine=facenet_engine)
    assert app.test_client().get("/health").json["model"]["embedding_dim"] == 512


def test_without_a_configured_secret_one_is_generated_once_and_kept_private(engine, tmp_path):
    overrides = {"INSTANCE_DIR": tmp_path, "JWT_SECRET_KEY": None}
    first = create_app(TestingConfig, overrides, face_engine=engine)
    key_file = tmp_path / "secret_key"
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert len(first.config["JWT_SECRET_KEY"]) >= 48
    second = create_app(TestingConfig, overrides, face_engine=engine)
    assert second.config["JWT_SECRET_KEY"] == first.config["JWT_SECRET_KEY"]
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".secret_key")]  # no temporary files left
