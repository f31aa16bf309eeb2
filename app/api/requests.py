import magic
from flask import Response, request
from flask_jwt_extended import current_user

from models import Role

from ..errors import APIError
from ..security import STAFF_ROLES
from ..services import requests as request_service
from ..uploads import photos_from_request
from . import Blueprint
from .schemas import DecisionBody, RequestEnvelope, RequestForm, RequestPage, RequestQuery

bp = Blueprint("requests", __name__, url_prefix="/attendance/requests",
               description="Manual check-in: when the face is not recognised, an employee asks and HR decides.")

PHOTO_ERRORS = ("too_many_files", "invalid_image", "file_too_large", "unsupported_media_type")


@bp.post("")
@bp.requires(Role.EMPLOYEE)
@bp.arguments(RequestForm, location="form_and_files")
@bp.doc(requestBody={"content": {"application/json": {"schema": RequestForm}}})
@bp.response(201, RequestEnvelope)
@bp.errors("missing_field", "invalid_field", "conflict", *PHOTO_ERRORS)
def create(form: dict):
    """An employee asks for a manual check-in or check-out: a multipart form (with an optional evidence
    photo) or the same fields as JSON."""
    photo = photos_from_request("photo", max_count=1)[0] if request.files.get("photo") else None
    filed = request_service.create_request(current_user.employee, form["date"], form["kind"], form["time"],
                                           form["reason"], photo)
    return {"request": request_service.request_json(filed)}


@bp.get("")
@bp.requires()
@bp.arguments(RequestQuery, location="query")
@bp.response(200, RequestPage)
@bp.errors("invalid_field", "forbidden")
def index(query: dict):
    """Requests, newest first; an employee sees only their own."""
    employee_id = query.get("employee_id")
    if current_user.role == Role.EMPLOYEE:
        own = current_user.employee.employee_id
        if employee_id not in (None, own):
            raise APIError("forbidden", "An employee can only see their own requests.", 403)
        employee_id = own
    return request_service.list_requests(query.get("status"), employee_id, query["page"], query["per_page"])


@bp.get("/<int:request_id>")
@bp.requires()
@bp.response(200, RequestEnvelope)
@bp.errors("not_found")
def show(request_id: int):
    """One request (an employee's own only)."""
    return {"request": request_service.request_json(_visible(request_id))}


@bp.get("/<int:request_id>/photo")
@bp.requires()
@bp.doc(responses={200: {"description": "The evidence photo as uploaded.",
                         "content": {t: {"schema": {"type": "string", "format": "binary"}}
                                     for t in ("image/jpeg", "image/png", "image/webp")}}})
@bp.errors("not_found")
def photo(request_id: int):
    """The request's evidence photo."""
    filed = _visible(request_id)
    if filed.photo is None:
        raise APIError("not_found", "This request has no photo.", 404)
    return Response(filed.photo, mimetype=magic.from_buffer(filed.photo[:2048], mime=True))


@bp.post("/<int:request_id>/approve")
@bp.requires(*STAFF_ROLES)
@bp.arguments(DecisionBody, required=False)
@bp.response(200, RequestEnvelope)
@bp.errors("invalid_field", "invalid_json", "not_found", "conflict")
def approve(body: dict, request_id: int):
    """Approve a pending request: the attendance is recorded with method `manual`."""
    return _decide(request_id, body, approve=True)


@bp.post("/<int:request_id>/reject")
@bp.requires(*STAFF_ROLES)
@bp.arguments(DecisionBody, required=False)
@bp.response(200, RequestEnvelope)
@bp.errors("invalid_field", "invalid_json", "not_found", "conflict")
def reject(body: dict, request_id: int):
    """Reject a pending request, with an optional comment."""
    return _decide(request_id, body, approve=False)


def _decide(request_id: int, body: dict, approve: bool) -> dict:
    filed = request_service.decide(request_id, approve, body.get("comment"), current_user)
    return {"request": request_service.request_json(filed)}


def _visible(request_id: int):
    filed = request_service.get_request(request_id)
    if current_user.role == Role.EMPLOYEE and filed.employee_pk != current_user.employee_pk:
        raise APIError("not_found", f"No request {request_id}.", 404)
    return filed
