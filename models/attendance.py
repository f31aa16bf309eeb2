from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from . import db, utcnow
from .types import UTCDateTime

if TYPE_CHECKING:
    from .employee import Employee


class Attendance(db.Model):
    __tablename__ = "attendances"

    id: Mapped[int] = mapped_column(primary_key=True)
    employee_pk: Mapped[int] = mapped_column(ForeignKey("employees.id", ondelete="CASCADE"), index=True)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    similarity: Mapped[float]
    model: Mapped[str] = mapped_column(String(64))
    method: Mapped[str] = mapped_column(String(16), default="face")

    employee: Mapped[Employee] = relationship(back_populates="attendances")

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "employee_id": self.employee.employee_id,
            "recorded_at": self.recorded_at.isoformat(),
            "similarity": round(self.similarity, 4),
            "model": self.model,
            "method": self.method,
        }
