from flask_jwt_extended import create_access_token, current_user, get_jwt

from ..services import auth as auth_service
from . import Blueprint
from .schemas import AccessToken, LoginBody, LogoutBody, Me, Revoked, Tokens

bp = Blueprint("auth", __name__, description="Log in and out; tokens for everything else.")


@bp.post("/login")
@bp.arguments(LoginBody)
@bp.response(200, Tokens)
@bp.errors("missing_field", "invalid_field", "invalid_json", "invalid_credentials")
def login(body: dict):
    """An access token (Authorization: Bearer ...) and a refresh token for a username and password."""
    user = auth_service.authenticate(body["username"], body["password"])
    return auth_service.issue_tokens(user)


@bp.post("/refresh")
@bp.requires(refresh=True)
@bp.response(200, AccessToken)
def refresh():
    """A new access token for the refresh token."""
    return {"access_token": create_access_token(identity=current_user)}


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
