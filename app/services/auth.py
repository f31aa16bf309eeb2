from __future__ import annotations

import logging
from datetime import datetime, timezone

from flask_jwt_extended import create_access_token, create_refresh_token, decode_token
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash, generate_password_hash

from models import RevokedToken, Role, User, db

from ..errors import APIError

log = logging.getLogger(__name__)

# Compared against when the user does not exist, so both paths cost one hash check.
_DUMMY_HASH = generate_password_hash("absen-timing-equaliser")


def hash_password(password: str) -> str:
    return generate_password_hash(password)  # werkzeug's default: scrypt with a random salt


def authenticate(username: str, password: str) -> User:
    user = db.session.scalar(select(User).where(User.username == username))
    if user is None:
        check_password_hash(_DUMMY_HASH, password)
        raise APIError("invalid_credentials", "Wrong username or password.", 401)
    if not check_password_hash(user.password_hash, password) or not user.can_log_in:
        raise APIError("invalid_credentials", "Wrong username or password.", 401)
    return user


def issue_tokens(user: User) -> dict:
    return {
        "access_token": create_access_token(identity=user),
        "refresh_token": create_refresh_token(identity=user),
        "user": user.to_dict(),
    }


def rotate_refresh(presented: dict, user: User) -> dict:
    revoke(presented)
    return issue_tokens(user)


def revoke(payload: dict) -> None:
    """Revoke one decoded token (idempotent)."""
    if db.session.get(RevokedToken, payload["jti"]) is not None:
        return
    db.session.add(RevokedToken(
        jti=payload["jti"],
        token_type=payload["type"],
        expires_at=datetime.fromtimestamp(payload["exp"], timezone.utc),
    ))
    try:
        db.session.commit()
    except IntegrityError:  # revoked concurrently: the outcome is the same
        db.session.rollback()


def logout(presented: dict, refresh_token: str | None, user: User) -> None:
    """Revoke the presented token and, when given, the caller's refresh token too."""
    revoke(presented)
    if refresh_token:
        try:
            payload = decode_token(refresh_token)
        except Exception as exc:  # expired, forged or malformed: report it, keep the revocation above
            raise APIError("invalid_token", "refresh_token is not a valid token of this server.", 400) from exc
        if payload.get("type") != "refresh" or payload.get("sub") != str(user.id):
            raise APIError("invalid_token", "refresh_token is not a refresh token of the same user.", 400)
        revoke(payload)


def create_user(username: str, password: str, role: Role, min_password_length: int) -> User:
    check_password(password, min_password_length)
    user = User(username=username, password_hash=hash_password(password), role=role)
    db.session.add(user)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise APIError("conflict", f"A user named {username!r} already exists.", 409) from None
    return user


def check_password(password: str, min_length: int) -> None:
    if len(password) < min_length:
        raise APIError("invalid_password", f"The password must have at least {min_length} characters.", 400)


# Passwords that guessing tries first; refused for the administrator created from the environment.
DEFAULT_PASSWORDS = {"admin", "password", "changeme", "change-me", "12345678", "123456789", "admin123", "admin1234",
                     "administrator", "absen", "secret", "qwerty", "letmein", "password1"}


def refuse_guessable_admin_password(username: str, password: str) -> None:
    if password.lower() in DEFAULT_PASSWORDS or password.lower() == username.lower():
        raise RuntimeError("ABSEN_ADMIN_PASSWORD is a default or guessable password; choose another.")


def ensure_admin(username: str, password: str, min_password_length: int) -> None:
    """Create the configured first administrator unless a user of that name exists."""
    if db.session.scalar(select(User.id).where(User.username == username)) is not None:
        return
    try:
        create_user(username, password, Role.ADMIN, min_password_length)
        log.info("Administrator %r created from the environment", username)
    except APIError as error:
        if error.status != 409:  # 409: another worker created it first, which is fine
            raise RuntimeError(f"ABSEN_ADMIN_PASSWORD: {error.message}") from error
