from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from . import db, utcnow
from .types import UTCDateTime


class ImportJob(db.Model):
    """A bulk enrolment from an uploaded ZIP, processed in the background."""

    __tablename__ = "import_jobs"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    status: Mapped[str] = mapped_column(String(16), default="queued")  # queued | running | done | failed
    created_by_pk: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    photos_total: Mapped[int] = mapped_column(default=0)
    photos_done: Mapped[int] = mapped_column(default=0)
    report: Mapped[dict | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    # "host:pid" of the process whose thread runs it: a job whose process is gone was interrupted.
    runner: Mapped[str | None] = mapped_column(String(300))
