"""The manual fallback: an employee asks, HR decides, approval records a manual attendance."""

from __future__ import annotations

import io

import pytest
import time_machine

from models import Attendance, db
from tests.api.test_auth import assert_error
from tests.api.workday import at
from tests.photos import astronaut_selfie, encode


@pytest.fixture(autouse=True)
def monday_morning(people):
    """Everything after the people's tokens were issued (Monday 06:00): at 10:00 unless a test moves."""
    with time_machine.travel(at(10), tick=False):
        yield


def file_request(api, headers, **fields):
    body = {"date": "2026-11-23", "kind": "check_in", "time": "07:58", "reason": "camera would not see me", **fields}
    with time_machine.travel(at(9), tick=False):
        return api.client.post("/attendance/requests", headers=headers, json=body)


def test_approval_creates_a_manual_attendance_with_the_approver(app, api, people):
    filed = file_request(api, people["E1"])
    assert filed.status_code == 201, filed.json
    request = filed.json["request"]
    assert (request["status"], request["time"], request["employee_id"]) == ("pending", "07:58", "E1")
    with time_machine.travel(at(9, 30), tick=False):
        pending = api.client.get("/attendance/requests?status=pending", headers=people["hr"]).json
        assert [r["id"] for r in pending["items"]] == [request["id"]]
        decided = api.client.post(f"/attendance/requests/{request['id']}/approve", headers=people["hr"],
                                  json={"comment": "seen at the door"})
    assert decided.status_code == 200, decided.json
    body = decided.json["request"]
    assert (body["status"], body["decided_by"], body["comment"]) == ("approved", "hr.officer", "seen at the door")
    attendance = body["attendance"]
    assert (attendance["method"], attendance["approved_by"], attendance["kind"]) == ("manual", "hr.officer", "check_in")
    assert attendance["local_time"] == "2026-11-23T07:58:00+07:00" and attendance["late"] is False
    with app.app_context():
        assert db.session.query(Attendance).count() == 1


def test_rejection_records_nothing_and_a_decision_is_final(app, api, people):
    request_id = file_request(api, people["E1"]).json["request"]["id"]
    rejected = api.client.post(f"/attendance/requests/{request_id}/reject", headers=people["hr"])
    assert rejected.status_code == 200, rejected.json
    assert rejected.json["request"]["status"] == "rejected" and rejected.json["request"]["attendance"] is None
    assert_error(api.client.post(f"/attendance/requests/{request_id}/approve", headers=people["hr"]), 409, "conflict")
    with app.app_context():
        assert db.session.query(Attendance).count() == 0


def test_a_request_may_carry_a_photo_that_hr_can_see(api, people):
    photo = encode(astronaut_selfie())
    form = {"date": "2026-11-23", "kind": "check_out", "time": "08:40", "reason": "lights were off",
            "photo": (io.BytesIO(photo), "me.jpg")}
    with time_machine.travel(at(9), tick=False):
        filed = api.client.post("/attendance/requests", headers=people["E1"], data=form,
                                content_type="multipart/form-data")
    assert filed.status_code == 201 and filed.json["request"]["has_photo"] is True
    shown = api.client.get(f"/attendance/requests/{filed.json['request']['id']}/photo", headers=people["hr"])
    assert shown.status_code == 200 and shown.data == photo and shown.mimetype == "image/jpeg"


def test_roles_and_visibility(api, people):
    request_id = file_request(api, people["E1"]).json["request"]["id"]
    assert_error(api.client.post(f"/attendance/requests/{request_id}/approve", headers=people["E1"]), 403, "forbidden")
    assert_error(api.client.get(f"/attendance/requests/{request_id}", headers=people["E2"]), 404, "not_found")
    assert api.client.get("/attendance/requests", headers=people["E2"]).json["total"] == 0
    assert api.client.get("/attendance/requests", headers=people["E1"]).json["total"] == 1
    assert_error(api.client.get("/attendance/requests?employee_id=E1", headers=people["E2"]), 403, "forbidden")
    assert_error(file_request(api, people["hr"]), 403, "forbidden")  # HR files nothing for itself


def test_invalid_requests_are_400_and_duplicates_409(api, people):
    assert_error(file_request(api, people["E1"], date="23/11/2026"), 400, "invalid_field")
    assert_error(file_request(api, people["E1"], kind="lunch"), 400, "invalid_field")
    assert_error(file_request(api, people["E1"], time="8 o'clock"), 400, "invalid_field")
    assert_error(file_request(api, people["E1"], reason=""), 400, "missing_field")
    assert_error(file_request(api, people["E1"], time="23:00"), 400, "invalid_field")  # in the future
    assert file_request(api, people["E1"]).status_code == 201
    assert_error(file_request(api, people["E1"]), 409, "conflict")
    assert_error(api.client.post("/attendance/requests/999/approve", headers=people["hr"]), 404, "not_found")


@pytest.mark.parametrize("request_id", [2**31, 6687063354, 2**70])
def test_an_id_beyond_the_integer_column_is_not_found(api, request_id):
    """Found by schemathesis: a huge id in the path overflowed SQLite's INTEGER and PostgreSQL's int4 (a 500)."""
    response = api.client.get(f"/attendance/requests/{request_id}", headers=api.hr())
    assert response.status_code == 404 and response.json["error"] == "not_found"
