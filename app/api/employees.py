from flask import Blueprint, current_app, request

from ..errors import APIError
from ..face import face_service
from ..security import STAFF_ROLES, roles_required
from ..services import enrolment
from ..uploads import photos_from_request
from . import bool_arg, employee_id_field, json_body, page_args, string_field

bp = Blueprint("employees", __name__)


@bp.post("/register")
@roles_required(*STAFF_ROLES)
def register():
    form = request.form
    employee_id = employee_id_field(form)
    name = string_field(form, "name")
    password = string_field(form, "password", required=False, max_length=1024)
    photos = photos_from_request("photo")
    employee = enrolment.register_employee(
        employee_id, name, password, photos, face_service(), current_app.config["MIN_PASSWORD_LENGTH"]
    )
    return {"employee": enrolment.employee_json(employee)}, 201


@bp.get("/employees")
@roles_required(*STAFF_ROLES)
def index():
    page, per_page = page_args()
    search = string_field(request.args, "q", required=False)
    return enrolment.list_employees(search, bool_arg("active"), page, per_page)


@bp.get("/employees/<employee_id>")
@roles_required(*STAFF_ROLES)
def show(employee_id: str):
    return {"employee": enrolment.employee_json(enrolment.get_employee(employee_id), with_faces=True)}


@bp.patch("/employees/<employee_id>")
@roles_required(*STAFF_ROLES)
def update(employee_id: str):
    body = json_body()
    name = string_field(body, "name", required=False)
    active = body.get("active")
    if active is not None and not isinstance(active, bool):
        raise APIError("invalid_field", "active must be true or false.", 400)
    employee = enrolment.update_employee(employee_id, name, active)
    return {"employee": enrolment.employee_json(employee)}


@bp.delete("/employees/<employee_id>")
@roles_required(*STAFF_ROLES)
def delete(employee_id: str):
    enrolment.delete_employee(employee_id)
    return "", 204


@bp.post("/employees/<employee_id>/photos")
@roles_required(*STAFF_ROLES)
def add_photos(employee_id: str):
    employee = enrolment.add_photos(employee_id, photos_from_request("photo"), face_service())
    return {"employee": enrolment.employee_json(employee, with_faces=True)}, 201


@bp.delete("/employees/<employee_id>/photos/<int:face_id>")
@roles_required(*STAFF_ROLES)
def remove_photo(employee_id: str, face_id: int):
    employee = enrolment.remove_photo(employee_id, face_id)
    return {"employee": enrolment.employee_json(employee, with_faces=True)}
