"""The in-memory 1:N gallery follows enrolments, deactivations and deletions without reloading everything."""

import io

import pytest

from app import face as face_module
from app.face import FaceService, face_service
from tests.photos import astronaut_selfie, cameraman, encode

SELFIE = (encode(astronaut_selfie()), "selfie.jpg")
CARL = (encode(cameraman()), "carl.jpg")
CARL_AGAIN = (encode(cameraman().resize((480, 480))), "carl-again.jpg")


def identified(api, photo) -> str | None:
    response = api.predict(api.hr(), photo)
    assert response.status_code == 200, response.json
    return response.json["employee_id"]


def test_changes_reach_the_gallery_by_patching_it_not_by_reloading_it(app, api, astronaut_jpeg):
    assert api.register(api.hr(), "E1", [astronaut_jpeg]).status_code == 201
    assert identified(api, SELFIE) == "E1"
    service = app.extensions["absen_face"]
    assert service.full_loads == 1  # the first search loads the gallery

    assert api.register(api.hr(), "E2", [CARL]).status_code == 201
    assert identified(api, CARL_AGAIN) == "E2"
    assert api.client.patch("/employees/E1", headers=api.hr(), json={"active": False}).status_code == 200
    assert identified(api, SELFIE) is None
    assert api.client.patch("/employees/E1", headers=api.hr(), json={"active": True}).status_code == 200
    assert identified(api, SELFIE) == "E1"
    assert api.client.delete("/employees/E2", headers=api.hr()).status_code == 204
    assert identified(api, CARL_AGAIN) is None
    form = {"photo": [(io.BytesIO(astronaut_jpeg[0]), "again.jpg")]}
    assert api.client.post("/employees/E1/photos", headers=api.hr(), data=form).status_code == 201

    with app.app_context():
        assert len(service.gallery()) == 2  # E1's two faces; E2 is gone
    assert service.full_loads == 1


def test_a_server_further_behind_than_the_kept_changes_reloads_everything(app, api, astronaut_jpeg, monkeypatch):
    monkeypatch.setattr(face_module, "CHANGES_KEPT", 2)
    with app.app_context():
        replica = FaceService(face_service().engine, face_service().threshold)
        replica.gallery()
    for number in range(1, 5):
        assert api.register(api.hr(), f"E{number}", [astronaut_jpeg if number == 1 else CARL]).status_code == 201
    with app.app_context():
        assert len(replica.gallery()) == 4
    assert replica.full_loads == 2


def test_a_large_gallery_is_searched_through_the_ivf_index(engine, tmp_path, astronaut_jpeg):
    from app import create_app
    from config import TestingConfig
    from tests.conftest import Api

    app = create_app(TestingConfig, {"INSTANCE_DIR": tmp_path, "GALLERY_IVF_MIN": 2, "ADMIN_USERNAME": "root",
                                     "ADMIN_PASSWORD": "root-password-1"}, face_engine=engine)
    api = Api(app.test_client())
    headers = api.token("root", "root-password-1")
    assert api.register(headers, "E1", [astronaut_jpeg]).status_code == 201
    assert api.predict(headers, SELFIE).json["employee_id"] == "E1"
    with app.app_context():
        assert face_service().gallery().kind == "exact"  # one template
    assert api.register(headers, "E2", [CARL]).status_code == 201
    body = api.predict(headers, CARL_AGAIN).json
    assert body["employee_id"] == "E2"
    with app.app_context():
        gallery = face_service().gallery()
        assert (gallery.kind, len(gallery)) == ("ivf", 2)  # the size crossed GALLERY_IVF_MIN: rebuilt
        similarity = body["similarity"]
    assert similarity == pytest.approx(api.predict(headers, CARL_AGAIN, employee_id="E2").json["similarity"], abs=5e-4)


def test_every_gallery_change_names_the_employees_it_changes(app):
    with app.app_context(), pytest.raises(ValueError):
        face_module.bump_gallery_version()
