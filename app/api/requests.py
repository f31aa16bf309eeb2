from datetime import time

import magic
from flask import Blueprint, Response, request
from flask_jwt_extended import current_user, jwt_required

from models import AttendanceKind, RequestStatus, Role

from ..errors import APIError
from ..security import STAFF_ROLES, roles_required
from ..services import requests as request_service
from ..uploads import photos_from_request
from . import date_arg, employee_id_field, enum_arg, json_body, page_args, string_field

bp = Blueprint("requests", __name__, url_prefix="/attendance/requests")


@bp.post("")
@roles_required(Role.EMPLOYEE)
def create():
    """An employee asks for a manual check-in/out: form or JSON `date`, `kind`, `time`, `reason`, optional `photo`."""
    source = request.form if request.form or request.files else json_body()
    day = date_arg("date", source)
    if day is None:
        raise APIError("missing_field", "The field 'date' is required.", 400)
    kind = enum_arg("kind", AttendanceKind, source)
    if kind is None:
        raise APIError("missing_field", "The field 'kind' is required (check_in or check_out).", 400)
    at = _time_field(string_field(source, "time", max_length=8))
    reason = string_field(source, "reason", max_length=1000)
    photo = photos_from_request("photo", max_count=1)[0] if request.files.get("photo") else None
    filed = request_service.create_request(current_user.employee, day, kind, at, reason, photo)
    return {"request": request_service.request_json(filed)}, 201


@bp.get("")
@jwt_required()
def index():
    page, per_page = page_args()
    employee_id = employee_id_field(request.args, required=False)
    if current_user.role == Role.EMPLOYEE:
        own = current_user.employee.employee_id
        if employee_id not in (None, own):
            raise APIError("forbidden", "An employee can only see their own requests.", 403)
        employee_id = own
    return request_service.list_requests(enum_arg("status", RequestStatus), employee_id, page, per_page)


@bp.get("/<int:request_id>")
@jwt_required()
def show(request_id: int):
    return {"request": request_service.request_json(_visible(request_id))}


@bp.get("/<int:request_id>/photo")
@jwt_required()
def photo(request_id: int):
    filed = _visible(request_id)
    if filed.photo is None:
        raise APIError("not_found", "This request has no photo.", 404)
    return Response(filed.photo, mimetype=magic.from_buffer(filed.photo[:2048], mime=True))


@bp.post("/<int:request_id>/approve")
@roles_required(*STAFF_ROLES)
def approve(request_id: int):
    return _decide(request_id, approve=True)


@bp.post("/<int:request_id>/reject")
@roles_required(*STAFF_ROLES)
def reject(request_id: int):
    return _decide(request_id, approve=False)


def _decide(request_id: int, approve: bool):
    body = json_body() if request.content_length else {}
    comment = string_field(body, "comment", required=False, max_length=1000)
    filed = request_service.decide(request_id, approve, comment, current_user)
    return {"request": request_service.request_json(filed)}


def _visible(request_id: int):
    filed = request_service.get_request(request_id)
    if current_user.role == Role.EMPLOYEE and filed.employee_pk != current_user.employee_pk:
        raise APIError("not_found", f"No request {request_id}.", 404)
    return filed


def _time_field(value: str) -> time:
    try:
        return time.fromisoformat(value)
    except ValueError:
        raise APIError("invalid_field", "time must be like 08:05.", 400) from None
