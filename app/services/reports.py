"""Attendance history, daily summaries and CSV export."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import Select, select
from sqlalchemy.orm import joinedload

from models import Attendance, AttendanceKind, AttendanceMethod, Employee, db

from .attendance import attendance_json
from .schedule import WorkSchedule


@dataclass(frozen=True)
class AttendanceFilters:
    start: date | None = None
    end: date | None = None
    employee_id: str | None = None
    kind: AttendanceKind | None = None
    method: AttendanceMethod | None = None
    late: bool | None = None

    def apply(self, query: Select) -> Select:
        if self.start:
            query = query.where(Attendance.work_date >= self.start)
        if self.end:
            query = query.where(Attendance.work_date <= self.end)
        if self.employee_id:
            query = query.where(Employee.employee_id == self.employee_id)
        if self.kind:
            query = query.where(Attendance.kind == self.kind)
        if self.method:
            query = query.where(Attendance.method == self.method)
        if self.late is not None:
            query = query.where(Attendance.late == self.late)
        return query


def attendance_page(filters: AttendanceFilters, page: int, per_page: int, schedule: WorkSchedule) -> dict:
    query = filters.apply(select(Attendance).join(Attendance.employee)).order_by(
        Attendance.recorded_at.desc(), Attendance.id.desc())
    result = db.paginate(query, page=page, per_page=per_page, error_out=False)
    return {
        "items": [attendance_json(a, schedule) for a in result.items],
        "page": page, "per_page": per_page, "total": result.total,
    }


def daily_summary(start: date, end: date, employee_id: str | None, schedule: WorkSchedule) -> list[dict]:
    """One entry per employee and day: present / late / absent / off, with times and flags."""
    employees_query = select(Employee).where(Employee.active).order_by(Employee.employee_id)
    if employee_id:
        employees_query = select(Employee).where(Employee.employee_id == employee_id)
    employees = db.session.scalars(employees_query).all()
    events = defaultdict(list)
    rows = db.session.scalars(
        select(Attendance).where(Attendance.work_date.between(start, end),
                                 Attendance.employee_pk.in_([e.id for e in employees]))
        .order_by(Attendance.recorded_at)
    )
    for event in rows:
        events[(event.employee_pk, event.work_date)].append(event)
    days = [start + timedelta(days=n) for n in range((end - start).days + 1)]
    return [
        _day_entry(employee, day, events.get((employee.id, day), []), schedule)
        for day in days for employee in employees
    ]


def _day_entry(employee: Employee, day: date, events: list[Attendance], schedule: WorkSchedule) -> dict:
    check_in = next((e for e in events if e.kind == AttendanceKind.CHECK_IN), None)
    check_out = next((e for e in reversed(events) if e.kind == AttendanceKind.CHECK_OUT), None)
    if check_in is None:
        status = "absent" if schedule.is_work_day(day) else "off"
    else:
        status = "late" if check_in.late else "present"
    return {
        "date": day.isoformat(),
        "employee_id": employee.employee_id,
        "name": employee.name,
        "status": status,
        "check_in": schedule.local(check_in.recorded_at).strftime("%H:%M") if check_in else None,
        "check_out": schedule.local(check_out.recorded_at).strftime("%H:%M") if check_out else None,
        "late": bool(check_in and check_in.late),
        "early_leave": bool(check_out and check_out.early_leave),
        "manual": any(e.method == AttendanceMethod.MANUAL for e in events),
    }


EXPORT_HEADER = ["date", "employee_id", "name", "kind", "local_time", "late", "early_leave", "method",
                 "similarity", "approved_by", "recorded_at_utc"]


def export_rows(start: date, end: date, schedule: WorkSchedule) -> Iterator[list]:
    """The header, then every record of the range, read from the database in batches."""
    yield EXPORT_HEADER
    query = (
        select(Attendance)
        .where(Attendance.work_date.between(start, end))
        .options(joinedload(Attendance.employee), joinedload(Attendance.approved_by))
        .order_by(Attendance.work_date, Attendance.recorded_at, Attendance.id)
        .execution_options(yield_per=500)
    )
    for attendance in db.session.scalars(query):
        yield [
            attendance.work_date.isoformat(),
            attendance.employee.employee_id,
            attendance.employee.name,
            attendance.kind.value,
            schedule.local(attendance.recorded_at).strftime("%Y-%m-%d %H:%M:%S"),
            "yes" if attendance.late else "no",
            "yes" if attendance.early_leave else "no",
            attendance.method.value,
            f"{attendance.similarity:.4f}" if attendance.similarity is not None else "",
            attendance.approved_by.username if attendance.approved_by else "",
            attendance.recorded_at.isoformat(),
        ]
