"""Face check-in/out: match a selfie, apply the day's rules, record the attempt."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select

from embeddings import verify
from models import (
    Attendance,
    AttendanceKind,
    AttendanceMethod,
    Employee,
    FaceTemplate,
    Role,
    User,
    VerificationAttempt,
    db,
    utcnow,
)

from ..errors import APIError
from ..face import FaceService
from ..uploads import Upload, embed_upload
from . import liveness, webhooks
from .schedule import WorkSchedule, current_schedule


@dataclass(frozen=True)
class Caller:
    """Who asks, and from where: what the audit log records of every attempt."""

    user: User
    address: str | None


@dataclass(frozen=True)
class Challenge:
    """A head-turn challenge's answer: the token /predict/challenge gave, and the head-turned photo."""

    token: str | None = None
    turned: Upload | None = None


def check_in(caller: Caller, photo: Upload, claimed_employee_id: str | None, face: FaceService,
             challenge: Challenge = Challenge()) -> dict:
    """Match a selfie and, when it matches, record the day's check-in or check-out.

    An employee is only ever compared with their own templates (1:1). Staff (a shared
    kiosk) compare with one claimed employee, or search everyone (1:N) with an explicit
    "unknown" answer below the threshold. Screenshots are refused, and a head-turn
    challenge, when sent (or required), must be passed before anything is matched.
    """
    employee = _claimed_employee(caller.user, claimed_employee_id)
    for upload in (photo, challenge.turned):
        if upload is not None:
            liveness.refuse_screenshot(upload)
    direction = liveness.challenge_direction(caller.user, challenge.token, challenge.turned)
    selfie = embed_upload(photo, face.engine)
    if direction is not None:
        liveness.check_turned_photo(selfie, challenge.turned, direction, face)
    probe = selfie.vector
    if employee is not None:
        matched, similarity = verify(probe, face.templates_of(employee), face.threshold)
        mode = "verify"
    else:
        result = face.gallery().identify(probe, face.threshold)
        employee = db.session.get(Employee, result.label) if result.accepted else None
        matched, similarity, mode = employee is not None, result.similarity, "identify"  # None: deleted meanwhile

    attendance, duplicate = None, False
    if matched:
        attendance, duplicate = _record(employee, similarity, face.engine.model_name, photo.sha256)
    _audit(caller, claimed_employee_id, photo, employee.employee_id if matched else None, similarity,
           "match" if matched else "no_match", None if matched else "below_threshold")
    db.session.commit()
    schedule = current_schedule()
    return {
        "match": matched,
        "mode": mode,
        "employee_id": employee.employee_id if matched else None,
        "name": employee.name if matched else None,
        "similarity": round(similarity, 4),
        "threshold": face.threshold,
        "attendance": {**attendance_json(attendance, schedule), "duplicate": duplicate} if attendance else None,
    }


def record_failed_attempt(caller: Caller, claimed_employee_id: str | None, photo: Upload | None, error: APIError) -> None:
    """Audit an attempt that ended in an error (bad photo, no face, replay, forbidden...)."""
    db.session.rollback()
    _audit(caller, claimed_employee_id, photo, None, None, "error", error.code)
    db.session.commit()


def _record(employee: Employee, similarity: float, model: str, photo_sha256: str) -> tuple[Attendance, bool]:
    """The day's rules. Returns the record and whether it already existed (an idempotent repeat)."""
    config = current_app.config
    schedule = current_schedule()
    now = utcnow()
    events = db.session.scalars(
        select(Attendance)
        .where(Attendance.employee_pk == employee.id, Attendance.work_date == schedule.work_date(now))
        .order_by(Attendance.recorded_at)
    ).all()
    last = events[-1] if events else None
    within_window = last is not None and now - last.recorded_at < timedelta(minutes=config["DUPLICATE_WINDOW_MINUTES"])
    if within_window and last.photo_sha256 == photo_sha256:
        return last, True  # the same request again (a client retry)
    _refuse_replay(employee, photo_sha256)
    if within_window:
        return last, True
    check_in = next((e for e in events if e.kind == AttendanceKind.CHECK_IN), None)
    if check_in is not None and now - check_in.recorded_at < timedelta(minutes=config["CHECKOUT_MIN_GAP_MINUTES"]):
        return check_in, True
    kind = AttendanceKind.CHECK_IN if check_in is None else AttendanceKind.CHECK_OUT
    attendance = new_attendance(employee, kind, now, schedule, method=AttendanceMethod.FACE,
                                similarity=similarity, model=model, photo_sha256=photo_sha256)
    return attendance, False


def new_attendance(employee: Employee, kind: AttendanceKind, moment: datetime, schedule: WorkSchedule,
                   **fields) -> Attendance:
    """Add an attendance row with its flags, and queue its webhook event (same transaction)."""
    attendance = Attendance(
        employee=employee, kind=kind, recorded_at=moment, work_date=schedule.work_date(moment),
        late=kind == AttendanceKind.CHECK_IN and schedule.is_late(moment),
        early_leave=kind == AttendanceKind.CHECK_OUT and schedule.is_early_leave(moment),
        **fields,
    )
    db.session.add(attendance)
    db.session.flush()
    webhooks.enqueue("attendance.recorded", {"attendance": attendance_json(attendance, schedule)})
    return attendance


def _refuse_replay(employee: Employee, photo_sha256: str) -> None:
    """The exact bytes of a photo already accepted for this person are a replay, not a new selfie."""
    seen = db.session.scalar(
        select(Attendance.id).where(Attendance.employee_pk == employee.id, Attendance.photo_sha256 == photo_sha256).limit(1)
    ) or db.session.scalar(
        select(FaceTemplate.id).where(FaceTemplate.employee_pk == employee.id, FaceTemplate.image_sha256 == photo_sha256).limit(1)
    )
    if seen is not None:
        raise APIError("replayed_photo", "This exact photo was already used; take a new selfie.", 409)


def _audit(caller: Caller, claimed: str | None, photo: Upload | None, matched: str | None,
           similarity: float | None, decision: str, reason: str | None) -> None:
    keep_photo = current_app.config["AUDIT_KEEP_PHOTOS"]
    db.session.add(VerificationAttempt(
        caller_pk=caller.user.id, caller_username=caller.user.username, claimed_employee_id=claimed,
        matched_employee_id=matched, similarity=similarity, decision=decision, reason=reason,
        client_address=caller.address, photo_sha256=photo.sha256 if photo else None,
        photo=photo.data if photo and keep_photo else None,
    ))


def _claimed_employee(user: User, claimed_employee_id: str | None) -> Employee | None:
    if user.role == Role.EMPLOYEE:
        own = user.employee
        if own is None:
            raise APIError("forbidden", "This account is not linked to an employee.", 403)
        if claimed_employee_id not in (None, own.employee_id):
            raise APIError("forbidden", "An employee can only check in as themselves.", 403)
        return own
    if claimed_employee_id is None:
        return None
    employee = db.session.scalar(select(Employee).where(Employee.employee_id == claimed_employee_id))
    if employee is None or not employee.active:
        raise APIError("not_found", f"No active employee {claimed_employee_id!r}.", 404)
    return employee


def attendance_json(attendance: Attendance, schedule: WorkSchedule) -> dict:
    return {
        "id": attendance.id,
        "employee_id": attendance.employee.employee_id,
        "kind": attendance.kind.value,
        "work_date": attendance.work_date.isoformat(),
        "recorded_at": attendance.recorded_at.isoformat(),
        "local_time": schedule.local(attendance.recorded_at).isoformat(),
        "late": attendance.late,
        "early_leave": attendance.early_leave,
        "method": attendance.method.value,
        "similarity": round(attendance.similarity, 4) if attendance.similarity is not None else None,
        "model": attendance.model,
        "approved_by": attendance.approved_by.username if attendance.approved_by else None,
    }
