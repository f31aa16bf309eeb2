from __future__ import annotations

import csv
import io
from datetime import date, timedelta

from flask import Blueprint, Response, current_app, request, stream_with_context
from flask_jwt_extended import current_user, jwt_required

from models import AttendanceKind, AttendanceMethod, Role, utcnow

from ..errors import APIError
from ..face import face_service
from ..security import STAFF_ROLES, roles_required
from ..services import attendance, reports
from ..services.attendance import Caller
from ..services.schedule import current_schedule
from ..uploads import photos_from_request
from . import bool_arg, date_arg, employee_id_field, enum_arg, page_args

bp = Blueprint("attendance", __name__)


@bp.post("/predict")
@jwt_required()
def predict():
    """Match a selfie (field `photo`); `employee_id` optionally names who it claims to be."""
    caller = Caller(current_user, request.remote_addr)
    claimed, photo = None, None
    try:
        claimed = employee_id_field(request.form, required=False)
        photo = photos_from_request("photo", max_count=1)[0]
        return attendance.check_in(caller, photo, claimed, face_service())
    except APIError as error:
        attendance.record_failed_attempt(caller, claimed, photo, error)
        raise


@bp.get("/attendance")
@jwt_required()
def history():
    """Attendance records, newest first; an employee sees only their own."""
    filters = reports.AttendanceFilters(
        start=date_arg("from"), end=date_arg("to"), employee_id=_visible_employee_id(),
        kind=enum_arg("kind", AttendanceKind), method=enum_arg("method", AttendanceMethod), late=bool_arg("late"),
    )
    page, per_page = page_args()
    return reports.attendance_page(filters, page, per_page, current_schedule())


@bp.get("/attendance/summary")
@roles_required(*STAFF_ROLES)
def summary():
    """Per employee and day: present, late, absent, manual."""
    start, end = date_range(default_days=0)
    return {"from": start.isoformat(), "to": end.isoformat(),
            "days": reports.daily_summary(start, end, request.args.get("employee_id"), current_schedule())}


@bp.get("/attendance/export.csv")
@roles_required(*STAFF_ROLES)
def export_csv():
    """Every record of a date range as CSV, streamed row by row (fine for large ranges)."""
    start, end = date_range(default_days=30)
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


def _visible_employee_id() -> str | None:
    asked = employee_id_field(request.args, required=False)
    if current_user.role != Role.EMPLOYEE:
        return asked
    own = current_user.employee.employee_id if current_user.employee else None
    if asked not in (None, own):
        raise APIError("forbidden", "An employee can only see their own attendance.", 403)
    return own


def date_range(default_days: int) -> tuple[date, date]:
    today = current_schedule().work_date(utcnow())
    end = date_arg("to") or today
    start = date_arg("from") or end - timedelta(days=default_days)
    if start > end:
        raise APIError("invalid_field", "from must not be after to.", 400)
    if (end - start).days + 1 > current_app.config["MAX_REPORT_DAYS"]:
        raise APIError("invalid_field", f"At most {current_app.config['MAX_REPORT_DAYS']} days at a time.", 400)
    return start, end
