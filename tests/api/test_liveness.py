"""Presentation-attack checks of /predict: screenshots refused, and the head-turn challenge."""

import io
from datetime import timedelta

import pytest
import time_machine
from PIL import Image

from models import Attendance, VerificationAttempt, db, utcnow
from tests.api.test_auth import assert_error
from tests.photos import astronaut, astronaut_turned, cameraman, dataset, encode

EXIF_IFD, USER_COMMENT, MAKE = 0x8769, 0x9286, 0x010F


@pytest.fixture
def enrolled(api, astronaut_jpeg):
    assert api.register(api.hr(), "E1", [astronaut_jpeg], name="Eileen", password="employee-pass").status_code == 201


def screen_sized(image: Image.Image, size=(1170, 2532)) -> Image.Image:
    """The photo as it fills a phone's screen (an iPhone 13's 1170 x 2532)."""
    canvas = Image.new("RGB", size, (20, 20, 20))
    canvas.paste(image, ((size[0] - image.width) // 2, (size[1] - image.height) // 2))
    return canvas


def predict(api, headers, photo: bytes, turned: bytes | None = None, challenge: str | None = None, name="selfie.jpg"):
    form = {"photo": (io.BytesIO(photo), name)}
    if turned is not None:
        form["photo_turned"] = (io.BytesIO(turned), "turned.jpg")
    if challenge is not None:
        form["challenge"] = challenge
    return api.client.post("/predict", headers=headers, data=form, content_type="multipart/form-data")


def challenge_for(api, headers) -> dict:
    response = api.client.post("/predict/challenge", headers=headers)
    assert response.status_code == 200, response.json
    return response.json


def frames(turn: str) -> tuple[bytes, bytes]:
    """A selfie with the head turned away from `turn`, then one turned towards it (simulated turns)."""
    away = "right" if turn == "left" else "left"
    return encode(astronaut_turned(away)), encode(astronaut_turned(turn))


def recorded(app) -> int:
    with app.app_context():
        return db.session.query(Attendance).count()


# --- Screenshots ------------------------------------------------------------------------------------------


def test_a_png_of_a_phone_screens_exact_size_is_refused_as_a_screenshot(app, api, enrolled):
    response = predict(api, api.hr(), encode(screen_sized(astronaut()), "PNG"), name="IMG_0001.png")
    assert_error(response, 422, "screenshot")
    assert "1170x2532" in response.json["message"]
    assert recorded(app) == 0
    with app.app_context():
        attempt = db.session.query(VerificationAttempt).one()
        assert (attempt.decision, attempt.reason) == ("error", "screenshot")


def test_an_ios_screenshot_is_refused_by_its_exif_mark_whatever_its_format(api, enrolled):
    exif = Image.Exif()
    exif.get_ifd(EXIF_IFD)[USER_COMMENT] = b"ASCII\x00\x00\x00Screenshot"
    assert_error(predict(api, api.hr(), encode(astronaut(), "JPEG", exif=exif)), 422, "screenshot")


def test_camera_photos_and_other_sizes_are_not_screenshots(api, enrolled):
    camera_exif = Image.Exif()
    camera_exif[MAKE] = "Apple"
    for photo, name in [(encode(screen_sized(astronaut(), (1171, 2532)), "PNG"), "a.png"),  # not a screen's size
                        (encode(screen_sized(astronaut()), "JPEG"), "b.jpg"),  # a camera's format
                        (encode(screen_sized(astronaut()), "PNG", exif=camera_exif), "c.png")]:
        assert predict(api, api.hr(), photo, name=name).json["employee_id"] == "E1", name


def test_a_screenshot_as_the_head_turned_photo_is_refused_too(api, enrolled):
    challenge = challenge_for(api, api.hr())
    first, _ = frames(challenge["turn"])
    screenshot = encode(screen_sized(astronaut_turned(challenge["turn"])), "PNG")
    assert_error(predict(api, api.hr(), first, screenshot, challenge["challenge"]), 422, "screenshot")


def test_screenshots_can_be_allowed(app, api, enrolled):
    app.config["REFUSE_SCREENSHOTS"] = False
    assert predict(api, api.hr(), encode(screen_sized(astronaut()), "PNG"), name="s.png").json["match"] is True


# --- The head-turn challenge ----------------------------------------------------------------------------


def test_the_simulated_turns_turn_the_way_they_say(engine):
    from embeddings.liveness import head_turn

    turns = {side: head_turn(engine.embed_image(astronaut_turned(side)).face) for side in ("left", "right")}
    assert turns["left"] - turns["right"] >= 0.35  # enough for CHALLENGE_MIN_TURN


def test_a_turn_the_way_the_challenge_asked_checks_in(app, api, enrolled):
    headers = api.hr()
    challenge = challenge_for(api, headers)
    assert challenge["turn"] in ("left", "right") and challenge["expires_in"] == 60 and challenge["required"] is False
    first, turned = frames(challenge["turn"])
    body = predict(api, headers, first, turned, challenge["challenge"]).json
    assert (body["match"], body["employee_id"]) == (True, "E1") and body["attendance"] is not None


def test_a_turn_the_other_way_or_no_turn_fails_and_records_nothing(app, api, enrolled):
    headers = api.hr()
    challenge = challenge_for(api, headers)
    first, turned = frames(challenge["turn"])
    response = predict(api, headers, turned, first, challenge["challenge"])  # the other way round
    assert_error(response, 422, "challenge_failed")
    assert "did not turn" in response.json["message"]
    challenge = challenge_for(api, headers)
    assert_error(predict(api, headers, first, first, challenge["challenge"]), 422, "challenge_failed")
    assert recorded(app) == 0


def test_someone_else_in_the_second_photo_fails(app, api, enrolled):
    headers = api.hr()
    challenge = challenge_for(api, headers)
    response = predict(api, headers, frames(challenge["turn"])[0], encode(cameraman()), challenge["challenge"])
    assert_error(response, 422, "challenge_failed")
    assert "same person" in response.json["message"]
    assert recorded(app) == 0


def test_a_challenge_is_good_once_for_its_account_and_its_time(app, api, enrolled):
    headers = api.hr()
    challenge = challenge_for(api, headers)
    first, turned = frames(challenge["turn"])
    assert predict(api, headers, first, turned, challenge["challenge"]).json["match"] is True
    assert_error(predict(api, headers, first, turned, challenge["challenge"]), 400, "invalid_challenge")  # replayed

    other = challenge_for(api, api.admin())  # another account's
    assert_error(predict(api, headers, *frames(other["turn"]), other["challenge"]), 400, "invalid_challenge")
    assert_error(predict(api, headers, first, turned, challenge["challenge"][:-2] + "xx"), 400, "invalid_challenge")

    challenge = challenge_for(api, headers)
    with time_machine.travel(utcnow() + timedelta(seconds=61)):
        response = predict(api, headers, *frames(challenge["turn"]), challenge["challenge"])
    assert_error(response, 400, "invalid_challenge")
    assert "expired" in response.json["message"]


def test_a_server_can_require_the_challenge(app, api, enrolled, astronaut_jpeg):
    app.config["PREDICT_CHALLENGE"] = "required"
    headers = api.hr()
    assert_error(predict(api, headers, astronaut_jpeg[0]), 422, "challenge_required")
    challenge = challenge_for(api, headers)
    assert challenge["required"] is True
    assert_error(predict(api, headers, astronaut_jpeg[0], challenge=challenge["challenge"]), 400, "missing_file")
    assert_error(predict(api, headers, *frames(challenge["turn"])), 400, "missing_field")
    assert recorded(app) == 0
    assert predict(api, headers, *frames(challenge["turn"]), challenge["challenge"]).json["match"] is True


def test_an_unknown_challenge_mode_refuses_to_start(engine, tmp_path):
    from app import create_app
    from config import TestingConfig

    with pytest.raises(RuntimeError, match="PREDICT_CHALLENGE"):
        create_app(TestingConfig, {"INSTANCE_DIR": tmp_path, "PREDICT_CHALLENGE": "sometimes"}, face_engine=engine)


def test_real_head_turns_pass_the_challenge_the_way_they_turn(app, api):
    """LFW: Bill Frist facing his right (0002), then his left (0009): a real turn to his left."""
    right, left = (dataset(f"lfw/Bill_Frist/Bill_Frist_000{n}.jpg").read_bytes() for n in (2, 9))
    assert api.register(api.hr(), "BF", [(dataset("lfw/Bill_Frist/Bill_Frist_0004.jpg").read_bytes(), "bf.jpg")]).status_code == 201
    headers = api.hr()
    outcomes = {}
    while len(outcomes) < 2:  # the side is random: ask until both have been seen
        challenge = challenge_for(api, headers)
        if challenge["turn"] in outcomes:
            continue
        response = predict(api, headers, right, left, challenge["challenge"])
        outcomes[challenge["turn"]] = response.json.get("employee_id") or response.json.get("error")
    assert outcomes == {"left": "BF", "right": "challenge_failed"}
