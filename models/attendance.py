from __future__ import annotations

import enum
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import Enum, ForeignKey, Index, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from . import db, utcnow
from .types import UTCDateTime

if TYPE_CHECKING:
    from .employee import Employee
    from .user import User


def _enum(cls):
    return Enum(cls, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e])


class AttendanceKind(str, enum.Enum):
    CHECK_IN = "check_in"
    CHECK_OUT = "check_out"


class AttendanceMethod(str, enum.Enum):
    FACE = "face"
    MANUAL = "manual"


class Attendance(db.Model):
    """One check-in or check-out of one employee on one local work date."""

    __tablename__ = "attendances"
    __table_args__ = (Index("ix_attendances_employee_date", "employee_pk", "work_date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    employee_pk: Mapped[int] = mapped_column(ForeignKey("employees.id", ondelete="CASCADE"))
    kind: Mapped[AttendanceKind] = mapped_column(_enum(AttendanceKind))
    work_date: Mapped[date] = mapped_column(index=True)  # in the configured time zone
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    late: Mapped[bool] = mapped_column(default=False)
    early_leave: Mapped[bool] = mapped_column(default=False)
    method: Mapped[AttendanceMethod] = mapped_column(_enum(AttendanceMethod), default=AttendanceMethod.FACE)
    similarity: Mapped[float | None]
    model: Mapped[str | None] = mapped_column(String(64))
    photo_sha256: Mapped[str | None] = mapped_column(String(64), index=True)  # replay defence
    approved_by_pk: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    employee: Mapped[Employee] = relationship(back_populates="attendances")
    approved_by: Mapped[User | None] = relationship()


class RequestStatus(str, enum.Enum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class AttendanceRequest(db.Model):
    """An employee's request for a manual check-in or check-out, decided by HR."""

    __tablename__ = "attendance_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    employee_pk: Mapped[int] = mapped_column(ForeignKey("employees.id", ondelete="CASCADE"), index=True)
    work_date: Mapped[date]
    kind: Mapped[AttendanceKind] = mapped_column(_enum(AttendanceKind))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime)  # the moment claimed, in UTC
    reason: Mapped[str] = mapped_column(Text)
    photo: Mapped[bytes | None] = mapped_column(LargeBinary)
    status: Mapped[RequestStatus] = mapped_column(_enum(RequestStatus), default=RequestStatus.PENDING, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_by_pk: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    comment: Mapped[str | None] = mapped_column(Text)
    attendance_pk: Mapped[int | None] = mapped_column(ForeignKey("attendances.id", ondelete="SET NULL"))

    employee: Mapped[Employee] = relationship()
    decided_by: Mapped[User | None] = relationship()
    attendance: Mapped[Attendance | None] = relationship()
