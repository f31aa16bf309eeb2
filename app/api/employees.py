from flask import Blueprint, current_app, request

from ..face import face_service
from ..security import STAFF_ROLES, roles_required
from ..services import enrolment
from ..uploads import photos_from_request
from . import employee_id_field, string_field

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
    return {"employee": {**employee.to_dict(), "login": employee.user is not None}}, 201
