from flask import current_app, request
from flask_jwt_extended import current_user, get_jwt
from flask_limiter.util import get_remote_address

from ..extensions import limiter
from ..services import auth as auth_service
from . import Blueprint
from .schemas import LoginBody, LogoutBody, Me, Revoked, Tokens

bp = Blueprint("auth", __name__, description="Log in and out; tokens for everything else.")


def attempted_username() -> str:
    body = request.get_json(silent=True)
    username = body.get("username") if isinstance(body, dict) else None
    return f"user:{str(username).strip().lower()[:64]}" if username else get_remote_address()


def failed(response) -> bool:
    return response.status_code == 401


@bp.post("/login")
@limiter.limit(lambda: current_app.config["LOGIN_ADDRESS_LIMIT"])
@limiter.limit(lambda: current_app.config["LOGIN_FAILURES_LIMIT"], key_func=attempted_username, deduct_when=failed)
@bp.arguments(LoginBody)
@bp.response(200, Tokens)
@bp.errors("missing_field", "invalid_field", "invalid_json", "invalid_credentials", "too_many_requests")
def login(body: dict):
    """An access token (Authorization: Bearer ...) and a refresh token for a username and password.

    After LOGIN_FAILURES_LIMIT failed attempts for a username (default 5 in 15 minutes) that username is
    locked for the rest of the window, even with the right password: 429 with Retry-After. Each client
    address may also try only LOGIN_ADDRESS_LIMIT times (default 30 a minute)."""
    user = auth_service.authenticate(body["username"], body["password"])
    return auth_service.issue_tokens(user)


@bp.post("/refresh")
@bp.requires(refresh=True)
@bp.response(200, Tokens)
def refresh():
    """A new access token and a new refresh token; the presented refresh token is revoked (rotation),
    so a stolen one works at most until its owner next refreshes."""
    return auth_service.rotate_refresh(get_jwt(), current_user)


@bp.post("/logout")
@bp.requires(any_token=True)
@bp.arguments(LogoutBody, required=False)
@bp.response(200, Revoked)
@bp.errors("invalid_field", "invalid_json", "invalid_token")
def logout(body: dict):
    """Revoke the presented token (access or refresh), and the refresh token in the body if given."""
    auth_service.logout(get_jwt(), body.get("refresh_token"), current_user)
    return {"revoked": True}


@bp.get("/me")
@bp.requires()
@bp.response(200, Me)
def me():
    """The logged-in user."""
    return {"user": current_user.to_dict()}
