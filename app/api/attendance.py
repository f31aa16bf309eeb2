from __future__ import annotations

import csv
import io
from datetime import date, timedelta

from flask import Response, current_app, request, stream_with_context
from flask_jwt_extended import current_user, get_jwt_identity, verify_jwt_in_request
from flask_limiter.util import get_remote_address

from models import Role, utcnow

from ..errors import APIError
from ..extensions import limiter
from ..face import face_service
from ..security import STAFF_ROLES
from ..services import attendance, liveness, reports
from ..services.attendance import Caller
from ..services.schedule import current_schedule
from ..uploads import photos_from_request
from . import Blueprint
from .employees import PHOTO_ERRORS
from .schemas import AttendancePage, AttendanceQuery, ChallengeOut, PredictForm, PredictOut, RangeQuery, SummaryOut, SummaryQuery

bp = Blueprint("attendance", __name__, description="Check in by face; attendance records and reports.")


def token_subject() -> str:
    """The limit key of /predict: the caller's account (a kiosk is one account), else the address."""
    verify_jwt_in_request(optional=True)
    subject = get_jwt_identity()
    return f"user:{subject}" if subject else get_remote_address()


@bp.post("/predict")
@limiter.limit(lambda: current_app.config["PREDICT_TOKEN_LIMIT"], key_func=token_subject)
@bp.requires()
@bp.arguments(PredictForm, location="form_and_files")
@bp.response(200, PredictOut)
@bp.errors("missing_field", "invalid_field", "forbidden", "replayed_photo", "too_many_requests", "model_unavailable",
           "screenshot", "challenge_required", "invalid_challenge", "challenge_failed", *PHOTO_ERRORS)
def predict(form: dict):
    """Match a selfie against the enrolled templates and, on a match, record the check-in or check-out.

    An employee's token checks in as that employee (1:1 against their templates). An HR/admin token
    (a kiosk) may name `employee_id` (1:1) or leave it out to search everyone (1:N). The first
    event of the day is a check-in, later ones check-outs. A non-match is 200 with `match: false`.
    Screenshots are refused. With a head-turn challenge (`challenge` + `photo_turned`; required when
    PREDICT_CHALLENGE=required), the second photo must show the same person with the head turned as asked.
    Every attempt that reaches the photo checks, failed or not, is written to the audit log."""
    caller = Caller(current_user, request.remote_addr)
    claimed, photo = form.get("employee_id"), None
    try:
        photo = photos_from_request("photo", max_count=1)[0]
        turned = photos_from_request("photo_turned", max_count=1)[0] if request.files.get("photo_turned") else None
        challenge = attendance.Challenge(token=form.get("challenge"), turned=turned)
        return attendance.check_in(caller, photo, claimed, face_service(), challenge)
    except APIError as error:
        attendance.record_failed_attempt(caller, claimed, photo, error)
        raise


@bp.post("/predict/challenge")
@bp.requires()
@bp.response(200, ChallengeOut)
def predict_challenge():
    """A head-turn challenge for the next /predict: which way to turn (picked at random), valid once
    and for CHALLENGE_TTL_SECONDS. The kiosk takes the selfie, asks the person to turn their head that
    way, takes a second photo, and sends both with the challenge."""
    return liveness.issue_challenge(current_user)


@bp.get("/attendance")
@bp.requires()
@bp.arguments(AttendanceQuery, location="query")
@bp.response(200, AttendancePage)
@bp.errors("invalid_field", "forbidden")
def history(query: dict):
    """Attendance records, newest first; an employee sees only their own."""
    filters = reports.AttendanceFilters(
        start=query.get("from_"), end=query.get("to"), employee_id=_visible_employee_id(query.get("employee_id")),
        kind=query.get("kind"), method=query.get("method"), late=query.get("late"),
    )
    return reports.attendance_page(filters, query["page"], query["per_page"], current_schedule())


@bp.get("/attendance/summary")
@bp.requires(*STAFF_ROLES)
@bp.arguments(SummaryQuery, location="query")
@bp.response(200, SummaryOut)
@bp.errors("invalid_field")
def summary(query: dict):
    """Per employee and day: present, late, absent or off, with check-in/out times."""
    start, end = date_range(query, default_days=0)
    return {"from_": start.isoformat(), "to": end.isoformat(),
            "days": reports.daily_summary(start, end, query.get("employee_id"), current_schedule())}


@bp.get("/attendance/export.csv")
@bp.requires(*STAFF_ROLES)
@bp.arguments(RangeQuery, location="query")
@bp.doc(responses={200: {"description": "CSV, one row per record (default: the last 31 days).",
                         "content": {"text/csv": {"schema": {"type": "string"}}}}})
@bp.errors("invalid_field")
def export_csv(query: dict):
    """Every record of a date range as CSV, streamed row by row (fine for large ranges)."""
    start, end = date_range(query, default_days=30)
    schedule = current_schedule()

    def lines():
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        for row in reports.export_rows(start, end, schedule):
            writer.writerow(row)
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()

    filename = f"attendance_{start.isoformat()}_{end.isoformat()}.csv"
    return Response(stream_with_context(lines()), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def _visible_employee_id(asked: str | None) -> str | None:
    if current_user.role != Role.EMPLOYEE:
        return asked
    own = current_user.employee.employee_id if current_user.employee else None
    if asked not in (None, own):
        raise APIError("forbidden", "An employee can only see their own attendance.", 403)
    return own


def date_range(query: dict, default_days: int) -> tuple[date, date]:
    today = current_schedule().work_date(utcnow())
    end = query.get("to") or today
    start = query.get("from_") or end - timedelta(days=default_days)
    if start > end:
        raise APIError("invalid_field", "from must not be after to.", 400)
    if (end - start).days + 1 > current_app.config["MAX_REPORT_DAYS"]:
        raise APIError("invalid_field", f"At most {current_app.config['MAX_REPORT_DAYS']} days at a time.", 400)
    return start, end
