"""Manual attendance requests: the fallback when recognition fails, decided by HR."""

from __future__ import annotations

from datetime import date, time

from flask import current_app
from sqlalchemy import select

from models import AttendanceKind, AttendanceMethod, AttendanceRequest, Employee, RequestStatus, User, db, utcnow

from ..errors import APIError
from ..uploads import Upload
from . import webhooks
from .attendance import attendance_json, new_attendance
from .schedule import current_schedule


def create_request(employee: Employee, day: date, kind: AttendanceKind, at: time, reason: str,
                   photo: Upload | None) -> AttendanceRequest:
    schedule = current_schedule()
    moment = schedule.at(day, at)
    if moment > utcnow():
        raise APIError("invalid_field", "A manual check-in or check-out cannot be in the future.", 400)
    if photo is not None and len(photo.data) > current_app.config["MAX_PHOTO_BYTES"]:
        raise APIError("file_too_large", "The photo is too large.", 413)
    pending = db.session.scalar(select(AttendanceRequest.id).where(
        AttendanceRequest.employee_pk == employee.id, AttendanceRequest.work_date == day,
        AttendanceRequest.kind == kind, AttendanceRequest.status == RequestStatus.PENDING))
    if pending is not None:
        raise APIError("conflict", f"Request {pending} for the same day and kind is still pending.", 409)
    filed = AttendanceRequest(employee=employee, work_date=day, kind=kind, requested_at=moment, reason=reason,
                              photo=photo.data if photo else None)
    db.session.add(filed)
    db.session.flush()
    webhooks.enqueue("attendance.request.created", {"request": request_json(filed)})
    db.session.commit()
    return filed


def decide(request_id: int, approve: bool, comment: str | None, decided_by: User) -> AttendanceRequest:
    filed = get_request(request_id)
    if filed.status != RequestStatus.PENDING:
        raise APIError("conflict", f"Request {request_id} was already {filed.status.value}.", 409)
    filed.status = RequestStatus.APPROVED if approve else RequestStatus.REJECTED
    filed.decided_by, filed.decided_at, filed.comment = decided_by, utcnow(), comment
    if approve:
        filed.attendance = new_attendance(filed.employee, filed.kind, filed.requested_at, current_schedule(),
                                          method=AttendanceMethod.MANUAL, approved_by=decided_by)
    webhooks.enqueue("attendance.request.decided", {"request": request_json(filed)})
    db.session.commit()
    return filed


def get_request(request_id: int) -> AttendanceRequest:
    filed = db.session.get(AttendanceRequest, request_id)
    if filed is None:
        raise APIError("not_found", f"No request {request_id}.", 404)
    return filed


def list_requests(status: RequestStatus | None, employee_id: str | None, page: int, per_page: int) -> dict:
    query = select(AttendanceRequest).join(AttendanceRequest.employee).order_by(AttendanceRequest.created_at.desc())
    if status:
        query = query.where(AttendanceRequest.status == status)
    if employee_id:
        query = query.where(Employee.employee_id == employee_id)
    result = db.paginate(query, page=page, per_page=per_page, error_out=False)
    return {"items": [request_json(r) for r in result.items], "page": page, "per_page": per_page, "total": result.total}


def request_json(filed: AttendanceRequest) -> dict:
    schedule = current_schedule()
    return {
        "id": filed.id,
        "employee_id": filed.employee.employee_id,
        "date": filed.work_date.isoformat(),
        "kind": filed.kind.value,
        "time": schedule.local(filed.requested_at).strftime("%H:%M"),
        "reason": filed.reason,
        "has_photo": filed.photo is not None,
        "status": filed.status.value,
        "decided_by": filed.decided_by.username if filed.decided_by else None,
        "decided_at": filed.decided_at.isoformat() if filed.decided_at else None,
        "comment": filed.comment,
        "attendance": attendance_json(filed.attendance, schedule) if filed.attendance else None,
    }
