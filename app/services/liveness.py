"""Presentation-attack checks of /predict: screenshots, and the head-turn challenge of kiosks.

What they stop and what they do not is in the README ("Spoofing"); embeddings.liveness has the signals.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError

from embeddings import FaceEmbedding
from embeddings.liveness import check_turn, screenshot_signal
from models import RevokedToken, User, db, utcnow

from ..errors import APIError
from ..face import FaceService
from ..uploads import Upload, embed_upload

DIRECTIONS = ("left", "right")
CHALLENGE_MODES = ("optional", "required")


def refuse_screenshot(photo: Upload) -> None:
    if current_app.config["REFUSE_SCREENSHOTS"] and (reason := screenshot_signal(photo.data)):
        raise APIError("screenshot", f"{photo.filename}: {reason}. Take the photo with the camera.", 422)


def issue_challenge(user: User) -> dict:
    """A signed, single-use request to turn the head to a side picked at random, for this account only."""
    turn = secrets.choice(DIRECTIONS)
    token = _serializer().dumps({"turn": turn, "nonce": secrets.token_hex(16), "sub": user.id})
    return {"challenge": token, "turn": turn, "expires_in": current_app.config["CHALLENGE_TTL_SECONDS"],
            "required": current_app.config["PREDICT_CHALLENGE"] == "required"}


def challenge_direction(user: User, challenge: str | None, turned: Upload | None) -> str | None:
    """The side the presented challenge asked for, spending it; None when /predict came without one."""
    if challenge is None and turned is None:
        if current_app.config["PREDICT_CHALLENGE"] == "required":
            raise APIError("challenge_required", "Ask POST /predict/challenge for a challenge, then send the "
                                                 "selfie as photo and the head-turned one as photo_turned.", 422)
        return None
    if challenge is None:
        raise APIError("missing_field", "challenge: photo_turned comes with the challenge it answers.", 400)
    if turned is None:
        raise APIError("missing_file", "Attach the head-turned photo in the multipart field 'photo_turned'.", 400)
    return _redeem(challenge, user)["turn"]


def check_turned_photo(first: FaceEmbedding, turned: Upload, direction: str, face: FaceService) -> None:
    """The second frame shows the same person, with the head turned as asked."""
    second = embed_upload(turned, face.engine)
    similarity = float(first.vector @ second.vector)
    if similarity < face.threshold:
        raise APIError("challenge_failed", f"photo_turned does not show the same person as photo "
                                           f"(similarity {similarity:.3f}).", 422)
    result = check_turn(first.face, second.face, direction, current_app.config["CHALLENGE_MIN_TURN"])
    if not result.turned:
        raise APIError("challenge_failed", f"The head did not turn to the {direction} enough (turn {result.change:+.2f}, "
                                           f"{current_app.config['CHALLENGE_MIN_TURN']:.2f} needed). Try again.", 422)


def _redeem(challenge: str, user: User) -> dict:
    """The challenge's content, once: it is spent (committed) before the photos are even looked at."""
    ttl = current_app.config["CHALLENGE_TTL_SECONDS"]
    try:
        payload = _serializer().loads(challenge, max_age=ttl)
    except SignatureExpired:
        raise APIError("invalid_challenge", "The challenge has expired; ask for a new one.", 400) from None
    except BadSignature:
        raise APIError("invalid_challenge", "The challenge was not issued by this service.", 400) from None
    if payload.get("sub") != user.id or payload.get("turn") not in DIRECTIONS:
        raise APIError("invalid_challenge", "The challenge was issued to another account.", 400)
    now = utcnow()
    db.session.execute(delete(RevokedToken).where(RevokedToken.expires_at < now))  # spent and expired: useless now
    db.session.add(RevokedToken(jti=f"challenge:{payload['nonce']}", token_type="challenge",
                                expires_at=now + timedelta(seconds=ttl)))
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise APIError("invalid_challenge", "The challenge was already used; ask for a new one.", 400) from None
    return payload


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["JWT_SECRET_KEY"], salt="absen-head-turn-challenge")
