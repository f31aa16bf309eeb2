"""Check-in/out rules, replay defence and the audit log, on a frozen clock (Asia/Jakarta, UTC+7)."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
import time_machine

from app import create_app
from app.services.auth import create_user
from config import TestingConfig
from models import Role, VerificationAttempt, db
from tests.api.test_auth import assert_error
from tests.api.workday import at, post_at, selfie
from tests.conftest import Api
from tests.photos import cameraman, encode


def test_first_match_is_the_check_in_and_on_time_within_the_grace(api, people):
    body = post_at(api, at(8, 10), people["E1"], selfie(1))
    attendance = body["attendance"]
    assert (attendance["kind"], attendance["late"], attendance["duplicate"]) == ("check_in", False, False)
    assert attendance["work_date"] == "2026-11-23"
    assert attendance["recorded_at"] == "2026-11-23T01:10:00+00:00"  # stored in UTC
    assert attendance["local_time"] == "2026-11-23T08:10:00+07:00"  # shown in the configured zone


def test_check_in_after_the_grace_is_late(api, people):
    assert post_at(api, at(8, 16), people["E1"], selfie(1))["attendance"]["late"] is True


def test_repeats_within_the_window_return_the_same_record(api, people):
    first = post_at(api, at(7, 50), people["E1"], selfie(1))["attendance"]
    again = post_at(api, at(7, 53), people["E1"], selfie(2))["attendance"]
    assert again["id"] == first["id"] and again["duplicate"] is True


def test_check_out_comes_after_the_minimum_gap_and_flags_early_leave(api, people):
    check_in = post_at(api, at(7, 50), people["E1"], selfie(1))["attendance"]
    too_soon = post_at(api, at(8, 30), people["E1"], selfie(2))["attendance"]
    assert too_soon["id"] == check_in["id"] and too_soon["kind"] == "check_in"
    early = post_at(api, at(16, 0), people["E1"], selfie(3))["attendance"]
    assert (early["kind"], early["early_leave"], early["duplicate"]) == ("check_out", True, False)
    later = post_at(api, at(17, 30), people["E1"], selfie(4))["attendance"]
    assert (later["kind"], later["early_leave"]) == ("check_out", False)


def test_a_new_day_starts_with_a_check_in(api, people):
    post_at(api, at(8), people["E1"], selfie(1))
    tuesday = post_at(api, at(8) + timedelta(days=1), people["E1"], selfie(2))["attendance"]
    assert (tuesday["kind"], tuesday["work_date"]) == ("check_in", "2026-11-24")


def test_the_same_bytes_again_later_are_a_replay(api, people):
    photo = selfie(1)
    post_at(api, at(8), people["E1"], photo)
    retry = post_at(api, at(8, 1), people["E1"], photo)  # a client retry inside the window: same answer
    assert retry["attendance"]["duplicate"] is True
    with time_machine.travel(at(17), tick=False):
        assert_error(api.predict(people["E1"], photo), 409, "replayed_photo")


def test_the_enrolment_photo_itself_is_a_replay(api, people, astronaut_jpeg):
    with time_machine.travel(at(8), tick=False):
        assert_error(api.predict(people["hr"], astronaut_jpeg), 409, "replayed_photo")


def test_every_attempt_is_audited_without_the_photo(app, api, people):
    with time_machine.travel(at(8), tick=False):
        api.predict(people["E1"], selfie(1))
        api.predict(people["hr"], (encode(cameraman(), quality=80), "kiosk.jpg"), employee_id="E1")
        api.predict(people["E1"], (b"not an image", "x.jpg"))
    with app.app_context():
        attempts = db.session.query(VerificationAttempt).order_by(VerificationAttempt.id).all()
        summary = [(a.caller_username, a.claimed_employee_id, a.matched_employee_id, a.decision, a.reason)
                   for a in attempts]
        assert summary == [("E1", None, "E1", "match", None),
                           ("hr.officer", "E1", None, "no_match", "below_threshold"),
                           ("E1", None, None, "error", "unsupported_media_type")]
        assert all(a.photo is None for a in attempts)
        assert len(attempts[0].photo_sha256) == 64 and attempts[0].client_address == "127.0.0.1"
        assert attempts[1].similarity < 0.9 and attempts[0].similarity > 0.9


def test_photos_are_kept_in_the_audit_only_when_asked(app, api, people):
    app.config["AUDIT_KEEP_PHOTOS"] = True
    photo = selfie(1)
    with time_machine.travel(at(8), tick=False):
        api.predict(people["E1"], photo)
    with app.app_context():
        assert db.session.query(VerificationAttempt).one().photo == photo[0]


def test_hr_queries_the_audit_log_and_employees_cannot(api, people):
    with time_machine.travel(at(8), tick=False):
        api.predict(people["E1"], selfie(1))
        api.predict(people["E1"], (b"", "empty.jpg"))
        errors = api.client.get("/audit?decision=error", headers=people["hr"]).json
        assert [i["reason"] for i in errors["items"]] == ["invalid_image"]
        by_employee = api.client.get("/audit?employee_id=E1", headers=people["hr"]).json
        assert by_employee["total"] == 1 and by_employee["items"][0]["decision"] == "match"
        assert_error(api.client.get("/audit", headers=people["E1"]), 403, "forbidden")


@pytest.mark.parametrize("proxies, expected", [(0, "10.0.0.1"), (1, "203.0.113.9")])
def test_client_address_comes_from_the_proxy_only_when_trusted(engine, tmp_path, proxies, expected):
    app = create_app(TestingConfig, {"INSTANCE_DIR": tmp_path, "TRUSTED_PROXY_COUNT": proxies}, face_engine=engine)
    with app.app_context():
        create_user("kiosk", "kiosk-password", Role.HR, 8)
    api = Api(app.test_client())
    not_a_photo = {"photo": (io.BytesIO(b"plain text"), "selfie.jpg")}  # refused, and audited with the address
    api.client.post("/predict", headers={**api.token("kiosk", "kiosk-password"), "X-Forwarded-For": "203.0.113.9"},
                    data=not_a_photo, environ_base={"REMOTE_ADDR": "10.0.0.1"})
    with app.app_context():
        assert db.session.query(VerificationAttempt).one().client_address == expected
