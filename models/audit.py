from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from . import db, utcnow
from .types import UTCDateTime


class VerificationAttempt(db.Model):
    """Every /predict attempt, matched or not. The photo itself only when a setting asks for it."""

    __tablename__ = "verification_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    attempted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    caller_pk: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    caller_username: Mapped[str | None] = mapped_column(String(64))
    claimed_employee_id: Mapped[str | None] = mapped_column(String(64))
    matched_employee_id: Mapped[str | None] = mapped_column(String(64), index=True)
    similarity: Mapped[float | None]
    decision: Mapped[str] = mapped_column(String(16), index=True)  # match | no_match | error
    reason: Mapped[str | None] = mapped_column(String(32))  # the error code, or below_threshold
    client_address: Mapped[str | None] = mapped_column(String(64))
    photo_sha256: Mapped[str | None] = mapped_column(String(64))
    photo: Mapped[bytes | None] = mapped_column(LargeBinary)
