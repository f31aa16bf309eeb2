from flask import Blueprint, request
from flask_jwt_extended import create_access_token, current_user, get_jwt, jwt_required

from ..services import auth as auth_service
from . import json_body, string_field

bp = Blueprint("auth", __name__)


@bp.post("/login")
def login():
    body = json_body()
    username = string_field(body, "username", max_length=64)
    password = string_field(body, "password", max_length=1024)
    user = auth_service.authenticate(username, password)
    return auth_service.issue_tokens(user)


@bp.post("/refresh")
@jwt_required(refresh=True)
def refresh():
    return {"access_token": create_access_token(identity=current_user)}


@bp.post("/logout")
@jwt_required(verify_type=False)
def logout():
    """Revoke the presented token (access or refresh), and the refresh token in the body if given."""
    body = json_body() if request.content_length else {}
    refresh_token = string_field(body, "refresh_token", required=False, max_length=4096)
    auth_service.logout(get_jwt(), refresh_token, current_user)
    return {"revoked": True}


@bp.get("/me")
@jwt_required()
def me():
    return {"user": current_user.to_dict()}
