"""JWT wiring: token identity, user lookup, revocation, role checks and JSON errors."""

from __future__ import annotations

from functools import wraps

from flask import Flask
from flask_jwt_extended import current_user, verify_jwt_in_request

from models import RevokedToken, Role, User, db

from .errors import APIError, error_response
from .extensions import jwt


def register_jwt_callbacks(app: Flask) -> None:
    @jwt.user_identity_loader
    def identity(user: User) -> str:
        return str(user.id)  # flask-jwt-extended 4.x requires a string subject

    @jwt.user_lookup_loader
    def lookup(_header: dict, payload: dict) -> User | None:
        user = db.session.get(User, int(payload["sub"]))
        return user if user is not None and user.can_log_in else None

    @jwt.additional_claims_loader
    def claims(user: User) -> dict:
        return {"role": user.role.value}

    @jwt.token_in_blocklist_loader
    def is_revoked(_header: dict, payload: dict) -> bool:
        return db.session.get(RevokedToken, payload["jti"]) is not None

    def unauthorized(message: str):
        return error_response("unauthorized", message, 401)

    jwt.unauthorized_loader(lambda reason: unauthorized(f"Authentication required: {reason}."))
    jwt.invalid_token_loader(lambda reason: unauthorized(f"Invalid token: {reason}."))
    jwt.expired_token_loader(lambda _h, _p: unauthorized("The token has expired; refresh it or log in again."))
    jwt.revoked_token_loader(lambda _h, _p: unauthorized("The token has been revoked; log in again."))
    jwt.user_lookup_error_loader(lambda _h, _p: unauthorized("The account no longer exists or is inactive."))
    jwt.needs_fresh_token_loader(lambda _h, _p: unauthorized("A fresh login is required."))


def roles_required(*roles: Role):
    """Require a valid access token whose user has one of `roles`."""

    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            verify_jwt_in_request()
            if current_user.role not in roles:
                allowed = ", ".join(r.value for r in roles)
                raise APIError("forbidden", f"This action needs one of the roles: {allowed}.", 403)
            return view(*args, **kwargs)

        return wrapper

    return decorator


STAFF_ROLES = (Role.ADMIN, Role.HR)
