from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import numpy as np
from sqlalchemy import ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from . import db, utcnow
from .types import UTCDateTime

if TYPE_CHECKING:
    from .employee import Employee


class FaceTemplate(db.Model):
    """One enrolled face: a normalised embedding, tagged with the model that produced it."""

    __tablename__ = "face_templates"

    id: Mapped[int] = mapped_column(primary_key=True)
    employee_pk: Mapped[int] = mapped_column(ForeignKey("employees.id", ondelete="CASCADE"), index=True)
    model: Mapped[str] = mapped_column(String(64), index=True)
    dim: Mapped[int] = mapped_column(Integer)
    vector: Mapped[bytes] = mapped_column(LargeBinary)  # float32, little-endian
    image_sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    employee: Mapped[Employee] = relationship(back_populates="templates")

    @staticmethod
    def pack(vector: np.ndarray) -> bytes:
        return np.asarray(vector, dtype="<f4").tobytes()

    def unpack(self) -> np.ndarray:
        return np.frombuffer(self.vector, dtype="<f4")


class GalleryVersion(db.Model):
    """A counter bumped in every transaction that changes who can be matched.

    Each server process keeps the gallery in memory and reloads it only when this moves,
    so enrolments made through one worker are seen by the others.
    """

    __tablename__ = "gallery_version"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(default=0)


class GalleryChange(db.Model):
    """Whose templates or status changed at a gallery version.

    A server whose gallery is a few versions behind reloads just those employees, not every
    template; one too far behind (older entries are pruned) reloads everything.
    """

    __tablename__ = "gallery_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(Integer, index=True)
    employee_pk: Mapped[int] = mapped_column(Integer)  # no foreign key: a deletion is a change too
