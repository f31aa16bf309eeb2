import tempfile
from pathlib import Path

import magic
from flask import Blueprint, current_app, request, url_for
from flask_jwt_extended import current_user

from models import ImportJob, db
from models.employee import NAME_MAX_LENGTH

from ..errors import APIError
from ..face import face_service
from ..security import STAFF_ROLES, roles_required
from ..services import bulk, enrolment
from ..uploads import photos_from_request
from . import bool_arg, employee_id_field, json_body, page_args, string_field

bp = Blueprint("employees", __name__)


@bp.post("/register")
@roles_required(*STAFF_ROLES)
def register():
    form = request.form
    employee_id = employee_id_field(form)
    name = string_field(form, "name", max_length=NAME_MAX_LENGTH)
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


@bp.post("/employees/import")
@roles_required(*STAFF_ROLES)
def import_archive():
    """A ZIP of employee folders (field `archive`), enrolled in the background: 202 and a job to poll."""
    request.max_content_length = current_app.config["IMPORT_MAX_BYTES"]
    upload = request.files.get("archive")
    if upload is None or not upload.filename:
        raise APIError("missing_file", "Attach a ZIP archive in the multipart field 'archive'.", 400)
    if magic.from_buffer(upload.stream.read(2048), mime=True) != "application/zip":
        raise APIError("unsupported_media_type", f"{upload.filename} is not a ZIP archive.", 415)
    upload.stream.seek(0)
    job = bulk.start_zip_import(save_upload(upload), current_user, face_service())
    return {"job": bulk.job_json(job)}, 202, {"Location": url_for("employees.import_status", job_id=job.id)}


@bp.get("/employees/import/<job_id>")
@roles_required(*STAFF_ROLES)
def import_status(job_id: str):
    job = db.session.get(ImportJob, job_id)
    if job is None:
        raise APIError("not_found", f"No import job {job_id!r}.", 404)
    return {"job": bulk.show_job(job)}


def save_upload(upload) -> Path:
    """The archive on disk (instance/imports/), not in memory: it may be hundreds of MB."""
    folder = Path(current_app.config["INSTANCE_DIR"]) / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=folder, suffix=".zip", delete=False) as handle:
        upload.save(handle)
    return Path(handle.name)


@bp.get("/employees/<employee_id>")
@roles_required(*STAFF_ROLES)
def show(employee_id: str):
    return {"employee": enrolment.employee_json(enrolment.get_employee(employee_id), with_faces=True)}


@bp.patch("/employees/<employee_id>")
@roles_required(*STAFF_ROLES)
def update(employee_id: str):
    body = json_body()
    name = string_field(body, "name", required=False, max_length=NAME_MAX_LENGTH)
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
