"""Abuse resistance: login lockout and throttling, per-token /predict limits, refresh rotation,
security headers, and a production start refused with a weak secret."""

from __future__ import annotations

import pytest

from app import create_app
from config import ProductionConfig, TestingConfig
from tests.api.test_auth import assert_error
from tests.conftest import ADMIN
from tests.photos import cameraman, encode


def login(client, username: str, password: str, address: str = "10.0.0.1"):
    return client.post("/login", json={"username": username, "password": password},
                       environ_base={"REMOTE_ADDR": address})


def test_a_username_is_locked_after_five_failures_even_with_the_right_password(client):
    for _ in range(5):
        assert_error(login(client, "admin", "wrong-password"), 401, "invalid_credentials")
    locked = login(client, *ADMIN)
    assert_error(locked, 429, "too_many_requests")
    assert 0 < int(locked.headers["Retry-After"]) <= 15 * 60
    # Other usernames, and the same username typed differently, are judged on their own count / the same.
    assert_error(login(client, " ADMIN ", "wrong-password"), 429, "too_many_requests")
    assert login(client, "someone-else", "wrong-password").status_code == 401


def test_successful_logins_do_not_count_towards_the_lockout(client):
    for _ in range(8):
        assert login(client, *ADMIN).status_code == 200
    assert login(client, "admin", "wrong-password").status_code == 401


def test_one_address_is_throttled_across_usernames(app, client):
    app.config["LOGIN_ADDRESS_LIMIT"] = "3 per minute"
    for name in ("a1", "a2", "a3"):
        assert login(client, name, "guess-guess", address="203.0.113.7").status_code == 401
    assert_error(login(client, "a4", "guess-guess", address="203.0.113.7"), 429, "too_many_requests")
    assert login(client, "a4", "guess-guess", address="203.0.113.8").status_code == 401  # another address


def test_predict_is_limited_per_token(app, api):
    app.config["PREDICT_TOKEN_LIMIT"] = "2 per minute"
    kiosk, other = api.hr(), api.token(*ADMIN)
    photo = (encode(cameraman()), "door.jpg")
    assert api.predict(kiosk, photo).status_code == 200
    assert api.predict(kiosk, (encode(cameraman(), quality=90), "door.jpg")).status_code == 200
    limited = api.predict(kiosk, (encode(cameraman(), quality=80), "door.jpg"))
    assert_error(limited, 429, "too_many_requests")
    assert "Retry-After" in limited.headers
    assert api.predict(other, (encode(cameraman(), quality=70), "door.jpg")).status_code == 200  # its own budget


def test_refresh_rotates_the_refresh_token(api, client):
    first = api.login(*ADMIN)
    rotated = client.post("/refresh", headers={"Authorization": f"Bearer {first['refresh_token']}"})
    assert rotated.status_code == 200
    assert rotated.json["access_token"] and rotated.json["refresh_token"] != first["refresh_token"]
    again = client.post("/refresh", headers={"Authorization": f"Bearer {first['refresh_token']}"})
    assert_error(again, 401, "unauthorized")  # the old one is spent
    assert client.get("/me", headers={"Authorization": f"Bearer {rotated.json['access_token']}"}).status_code == 200


def test_security_headers_and_no_cors(client):
    response = client.get("/health", headers={"Origin": "https://evil.example"})
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["Cache-Control"] == "no-store"
    assert "Access-Control-Allow-Origin" not in response.headers
    preflight = client.options("/login", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"})
    assert "Access-Control-Allow-Origin" not in preflight.headers


def own_database(tmp_path) -> dict:
    """ProductionConfig's database is ./instance/absen.db: never the tests'."""
    return {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'absen.db'}"}


@pytest.mark.parametrize("secret", ["secret", "change-me", "x" * 31, TestingConfig.JWT_SECRET_KEY])
def test_production_refuses_a_weak_or_known_jwt_secret(engine, tmp_path, secret):
    with pytest.raises(RuntimeError, match="JWT_SECRET_KEY"):
        create_app(ProductionConfig, {"INSTANCE_DIR": tmp_path, "JWT_SECRET_KEY": secret, **own_database(tmp_path)},
                   face_engine=engine)


@pytest.mark.parametrize("password", ["admin", "password", "changeme", "12345678", "admin123"])
def test_production_refuses_a_default_admin_password(engine, tmp_path, password):
    with pytest.raises(RuntimeError, match="ABSEN_ADMIN_PASSWORD"):
        create_app(ProductionConfig, {"INSTANCE_DIR": tmp_path, "ADMIN_USERNAME": "admin", "ADMIN_PASSWORD": password,
                                      **own_database(tmp_path)}, face_engine=engine)
    assert not (tmp_path / "absen.db").exists()  # refused before anything was written
