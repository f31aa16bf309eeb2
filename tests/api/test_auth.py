from datetime import timedelta

import pytest
from flask_jwt_extended import create_access_token

from models import User, db
from tests.conftest import ADMIN


def assert_error(response, status: int, code: str):
    assert response.status_code == status, response.json
    assert response.json["error"] == code
    assert isinstance(response.json["message"], str) and response.json["message"]


def test_login_returns_tokens_and_the_user(api):
    body = api.login(*ADMIN)
    assert body["access_token"] and body["refresh_token"]
    assert body["user"] == {"id": 1, "username": "admin", "role": "admin", "employee_id": None}


@pytest.mark.parametrize("username, password", [("admin", "wrong-password"), ("nobody", "admin-password")])
def test_wrong_credentials_are_401(client, username, password):
    assert_error(client.post("/login", json={"username": username, "password": password}), 401, "invalid_credentials")


@pytest.mark.parametrize("body, code", [
    ({"username": "admin"}, "missing_field"),
    ({"password": "x"}, "missing_field"),
    ({"username": 5, "password": "x"}, "invalid_field"),
    (["admin", "admin-password"], "invalid_json"),
])
def test_malformed_login_is_400(client, body, code):
    assert_error(client.post("/login", json=body), 400, code)


def test_login_without_json_is_400(client):
    assert_error(client.post("/login", data="username=admin"), 400, "invalid_json")


def test_refresh_gives_a_new_access_token(api, client):
    tokens = api.login(*ADMIN)
    response = client.post("/refresh", headers={"Authorization": f"Bearer {tokens['refresh_token']}"})
    assert response.status_code == 200
    me = client.get("/me", headers={"Authorization": f"Bearer {response.json['access_token']}"})
    assert me.json["user"]["username"] == "admin"


def test_refresh_refuses_an_access_token(api, client):
    assert_error(client.post("/refresh", headers=api.admin()), 401, "unauthorized")


def test_logout_revokes_the_access_token_and_the_given_refresh_token(api, client):
    tokens = api.login(*ADMIN)
    access = {"Authorization": f"Bearer {tokens['access_token']}"}
    response = client.post("/logout", headers=access, json={"refresh_token": tokens["refresh_token"]})
    assert response.status_code == 200 and response.json == {"revoked": True}
    assert_error(client.get("/me", headers=access), 401, "unauthorized")
    assert_error(client.post("/refresh", headers={"Authorization": f"Bearer {tokens['refresh_token']}"}),
                 401, "unauthorized")


def test_logout_with_a_refresh_token_revokes_it(api, client):
    refresh = {"Authorization": f"Bearer {api.login(*ADMIN)['refresh_token']}"}
    assert client.post("/logout", headers=refresh).status_code == 200
    assert_error(client.post("/refresh", headers=refresh), 401, "unauthorized")


def test_logout_refuses_a_refresh_token_that_is_not_one(api, client):
    headers = api.admin()
    other_access = api.login(*ADMIN)["access_token"]
    assert_error(client.post("/logout", headers=headers, json={"refresh_token": other_access}), 400, "invalid_token")
    assert_error(client.post("/logout", headers=api.admin(), json={"refresh_token": "garbage"}), 400, "invalid_token")


@pytest.mark.parametrize("header", [None, "Bearer", "Bearer not.a.jwt", "Basic YWRtaW46YWRtaW4="])
def test_missing_or_malformed_tokens_get_the_json_error_shape(client, header):
    headers = {"Authorization": header} if header else {}
    assert_error(client.get("/me", headers=headers), 401, "unauthorized")


def test_expired_and_foreign_tokens_are_401(app, client):
    with app.app_context():
        user = db.session.get(User, 1)
        expired = create_access_token(identity=user, expires_delta=timedelta(seconds=-10))
    assert_error(client.get("/me", headers={"Authorization": f"Bearer {expired}"}), 401, "unauthorized")
    app.config["JWT_SECRET_KEY"] = "another-server-secret-key-of-enough-length"
    with app.app_context():
        forged = create_access_token(identity=db.session.get(User, 1))
    app.config["JWT_SECRET_KEY"] = "testing-secret-key-that-is-long-enough-for-hs256"
    assert_error(client.get("/me", headers={"Authorization": f"Bearer {forged}"}), 401, "unauthorized")


def test_a_deactivated_user_cannot_log_in_or_use_old_tokens(app, api, client):
    headers = api.admin()
    with app.app_context():
        db.session.get(User, 1).active = False
        db.session.commit()
    assert_error(client.get("/me", headers=headers), 401, "unauthorized")
    assert_error(client.post("/login", json={"username": ADMIN[0], "password": ADMIN[1]}), 401, "invalid_credentials")


def test_passwords_are_stored_hashed(app):
    with app.app_context():
        stored = db.session.get(User, 1).password_hash
    assert ADMIN[1] not in stored and stored.startswith("scrypt:")
