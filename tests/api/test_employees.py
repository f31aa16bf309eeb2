"""HR's employee management: list, show, update, faces, deactivate, delete."""

from __future__ import annotations

import io

import pytest
import time_machine

from models import Attendance, FaceTemplate, User, db
from tests.api.test_auth import assert_error
from tests.api.workday import at, selfie
from tests.photos import astronaut_selfie, encode


@pytest.fixture(autouse=True)
def monday(people):
    with time_machine.travel(at(10), tick=False):
        yield


def test_list_search_and_show(api, people):
    listing = api.client.get("/employees", headers=people["hr"]).json
    assert [e["employee_id"] for e in listing["items"]] == ["E1", "E2"] and listing["total"] == 2
    assert [e["name"] for e in api.client.get("/employees?q=carl", headers=people["hr"]).json["items"]] == ["Carl"]
    shown = api.client.get("/employees/E1", headers=people["hr"]).json["employee"]
    assert shown["faces"] == 1 and len(shown["face_list"]) == 1 and len(shown["face_list"][0]["image_sha256"]) == 64
    assert_error(api.client.get("/employees/E404", headers=people["hr"]), 404, "not_found")
    assert_error(api.client.get("/employees", headers=people["E1"]), 403, "forbidden")


def test_rename_and_validation(api, people):
    renamed = api.client.patch("/employees/E1", headers=people["hr"], json={"name": "Eileen Collins"})
    assert renamed.json["employee"]["name"] == "Eileen Collins"
    assert_error(api.client.patch("/employees/E1", headers=people["hr"], json={"active": "no"}), 400, "invalid_field")


def test_a_deactivated_employee_can_neither_log_in_nor_match(api, people):
    assert api.client.patch("/employees/E1", headers=people["hr"], json={"active": False}).status_code == 200
    assert_error(api.client.post("/login", json={"username": "E1", "password": "employee-pass"}), 401, "invalid_credentials")
    assert_error(api.client.get("/me", headers=people["E1"]), 401, "unauthorized")
    assert api.predict(people["hr"], selfie(1)).json["match"] is False  # the kiosk no longer knows them
    assert api.client.get("/employees?active=false", headers=people["hr"]).json["items"][0]["employee_id"] == "E1"
    api.client.patch("/employees/E1", headers=people["hr"], json={"active": True})
    assert api.predict(people["hr"], selfie(2)).json["employee_id"] == "E1"


def test_add_and_remove_faces(app, api, people):
    added = api.client.post("/employees/E1/photos", headers=people["hr"], content_type="multipart/form-data",
                            data={"photo": (io.BytesIO(encode(astronaut_selfie(), "PNG")), "new.png")})
    assert added.status_code == 201 and added.json["employee"]["faces"] == 2
    first, second = (f["id"] for f in added.json["employee"]["face_list"])
    removed = api.client.delete(f"/employees/E1/photos/{first}", headers=people["hr"])
    assert removed.json["employee"]["faces"] == 1
    assert_error(api.client.delete(f"/employees/E1/photos/{second}", headers=people["hr"]), 409, "conflict")
    assert_error(api.client.delete("/employees/E1/photos/999", headers=people["hr"]), 404, "not_found")
    assert api.predict(people["hr"], selfie(3)).json["employee_id"] == "E1"  # matched with the added face


def test_delete_erases_every_template_and_the_login(app, api, people):
    api.predict(people["E1"], selfie(1))
    assert api.client.delete("/employees/E1", headers=people["hr"]).status_code == 204
    with app.app_context():
        assert db.session.query(FaceTemplate).join(FaceTemplate.employee).filter_by(employee_id="E1").count() == 0
        assert db.session.query(FaceTemplate).count() == 1  # E2's remains
        assert db.session.query(User).filter_by(username="E1").count() == 0
        assert db.session.query(Attendance).count() == 0
    assert api.predict(people["hr"], selfie(2)).json["match"] is False
    assert_error(api.client.delete("/employees/E1", headers=people["hr"]), 404, "not_found")
