from __future__ import annotations

import re
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from . import db, utcnow
from .types import UTCDateTime

if TYPE_CHECKING:
    from .attendance import Attendance
    from .face_template import FaceTemplate
    from .user import User


# The organisation's ids: also used as login names and in URLs, so a conservative alphabet.
EMPLOYEE_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
NAME_MAX_LENGTH = 200


class Employee(db.Model):
    __tablename__ = "employees"

    id: Mapped[int] = mapped_column(primary_key=True)
    employee_id: Mapped[str] = mapped_column(String(64), unique=True)  # the organisation's own id
    name: Mapped[str] = mapped_column(String(NAME_MAX_LENGTH))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    templates: Mapped[list[FaceTemplate]] = relationship(back_populates="employee", cascade="all, delete-orphan")
    attendances: Mapped[list[Attendance]] = relationship(back_populates="employee", cascade="all, delete-orphan")
    user: Mapped[User | None] = relationship(back_populates="employee", cascade="all, delete-orphan")

    def to_dict(self) -> dict:
        return {"employee_id": self.employee_id, "name": self.name, "active": self.active, "faces": len(self.templates)}
