import pytest

from models import Attendance, db
from tests.api.test_auth import assert_error
from tests.photos import astronaut_selfie, cameraman, dataset, encode, rotated_with_exif


@pytest.fixture
def enrolled(api, astronaut_jpeg):
    """Employee E1 (the astronaut) with a login."""
    assert api.register(api.hr(), "E1", [astronaut_jpeg], name="Eileen", password="employee-pass").status_code == 201
    return api.token("E1", "employee-pass")


SELFIE = (encode(astronaut_selfie()), "selfie.jpg")
STRANGER = (encode(cameraman()), "stranger.jpg")


def test_kiosk_identifies_an_enrolled_employee_and_records_attendance(app, api, enrolled):
    response = api.predict(api.hr(), SELFIE)
    assert response.status_code == 200, response.json
    body = response.json
    assert (body["match"], body["mode"], body["employee_id"], body["name"]) == (True, "identify", "E1", "Eileen")
    assert body["similarity"] >= body["threshold"]
    attendance = body["attendance"]
    assert attendance["employee_id"] == "E1" and attendance["method"] == "face"
    assert attendance["model"] == "dlib-resnet-v1" and attendance["recorded_at"].endswith("+00:00")
    with app.app_context():
        row = db.session.get(Attendance, attendance["id"])
        assert row.employee.employee_id == "E1" and row.similarity == pytest.approx(body["similarity"], abs=1e-4)


def test_kiosk_answers_unknown_for_a_stranger_and_records_nothing(app, api, enrolled):
    body = api.predict(api.hr(), STRANGER).json
    assert body["match"] is False and body["employee_id"] is None and body["attendance"] is None
    assert body["similarity"] < body["threshold"]
    with app.app_context():
        assert db.session.query(Attendance).count() == 0


def test_kiosk_with_nobody_enrolled_matches_nobody(api):
    body = api.predict(api.admin(), SELFIE).json
    assert body["match"] is False and body["similarity"] == -1.0


def test_employee_is_verified_against_their_own_templates(api, enrolled):
    body = api.predict(enrolled, SELFIE).json
    assert (body["match"], body["mode"], body["employee_id"]) == (True, "verify", "E1")
    assert api.predict(enrolled, SELFIE, employee_id="E1").json["match"] is True


def test_employee_is_refused_when_the_face_is_someone_else(api, enrolled):
    body = api.predict(enrolled, STRANGER).json
    assert body["match"] is False and body["attendance"] is None


def test_employee_cannot_check_in_for_someone_else(api, enrolled):
    api.register(api.hr(), "E2", [STRANGER], password="second-pass")
    assert_error(api.predict(enrolled, SELFIE, employee_id="E2"), 403, "forbidden")


def test_employee_sees_only_their_own_templates_even_if_the_face_is_another_employee(api, enrolled):
    second = api.register(api.hr(), "E2", [STRANGER], password="second-pass")
    assert second.status_code == 201
    body = api.predict(enrolled, STRANGER).json  # E1's token, E2's face
    assert body["match"] is False and body["employee_id"] is None


def test_kiosk_can_verify_a_claimed_employee(api, enrolled):
    assert api.predict(api.hr(), SELFIE, employee_id="E1").json["mode"] == "verify"
    assert api.predict(api.hr(), STRANGER, employee_id="E1").json["match"] is False
    assert_error(api.predict(api.hr(), SELFIE, employee_id="E404"), 404, "not_found")


def test_exif_rotated_selfie_is_recognised(api, enrolled):
    assert api.predict(enrolled, (rotated_with_exif(astronaut_selfie()), "phone.jpg")).json["match"] is True


def test_predict_input_errors(api, enrolled):
    assert_error(api.predict(enrolled, None), 400, "missing_file")
    assert_error(api.predict(enrolled, (b"plain text", "selfie.jpg")), 415, "unsupported_media_type")
    assert_error(api.predict(enrolled, (encode(cameraman())[:2000], "cut.jpg")), 400, "invalid_image")
    assert_error(api.predict(enrolled, SELFIE, employee_id="../etc"), 400, "invalid_field")


def test_predict_needs_a_token(client):
    assert_error(client.post("/predict"), 401, "unauthorized")


def test_real_photos_match_across_shots_and_strangers_stay_unknown(api):
    seinfeld = dataset("people/jerry_seinfeld")
    photos = sorted(seinfeld.iterdir())
    assert api.register(api.hr(), "JS", [(p.read_bytes(), p.name) for p in photos[:2]]).status_code == 201
    assert api.predict(api.hr(), (photos[5].read_bytes(), photos[5].name)).json["employee_id"] == "JS"
    stranger = dataset("people/mindy_kaling/mk.jpg")
    assert api.predict(api.hr(), (stranger.read_bytes(), stranger.name)).json["match"] is False
