from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Enum, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from . import db, utcnow
from .types import UTCDateTime

if TYPE_CHECKING:
    from .employee import Employee


class Role(str, enum.Enum):
    ADMIN = "admin"
    HR = "hr"
    EMPLOYEE = "employee"


class User(db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[Role] = mapped_column(Enum(Role, native_enum=False, length=16, values_callable=lambda e: [r.value for r in e]))
    active: Mapped[bool] = mapped_column(default=True)
    employee_pk: Mapped[int | None] = mapped_column(ForeignKey("employees.id", ondelete="CASCADE"), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    employee: Mapped[Employee | None] = relationship(back_populates="user")

    @property
    def can_log_in(self) -> bool:
        return self.active and (self.employee is None or self.employee.active)

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "username": self.username,
            "role": self.role.value,
            "employee_id": self.employee.employee_id if self.employee else None,
        }
