import tempfile
from functools import partial, wraps
from pathlib import Path

import magic
from flask import current_app, request, url_for
from flask_jwt_extended import current_user

from models import ImportJob, db

from ..errors import APIError
from ..face import face_service
from ..security import STAFF_ROLES
from ..services import bulk, enrolment
from ..uploads import photo_parts, photos_from_request, read_upload
from . import Blueprint, schemas

bp = Blueprint("employees", __name__, description="Enrol employees' faces and manage them (HR and admins).")


def body_limit(config_key: str):
    """Raise the request size limit for one route, before its body is parsed."""

    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            request.max_content_length = current_app.config[config_key]
            return view(*args, **kwargs)

        return wrapper

    return decorator


PHOTO_ERRORS = ("missing_file", "too_many_files", "invalid_image", "file_too_large", "unsupported_media_type",
                "no_face", "multiple_faces", "face_too_small")


@bp.post("/register")
@bp.requires(*STAFF_ROLES)
@bp.arguments(schemas.RegisterForm, location="form_and_files")
@bp.response(201, schemas.EmployeeEnvelope)
@bp.errors("missing_field", "invalid_field", "invalid_password", "conflict", *PHOTO_ERRORS)
def register(form: dict):
    """Enrol an employee with one or more photos: all are used, or none (one unusable photo refuses the request)."""
    photos = photos_from_request("photo")
    employee = enrolment.register_employee(
        form["employee_id"], form["name"], form.get("password"), photos, face_service(),
        current_app.config["MIN_PASSWORD_LENGTH"],
    )
    return {"employee": enrolment.employee_json(employee)}


@bp.post("/register/check")
@bp.requires(*STAFF_ROLES)
@bp.arguments(schemas.PhotosForm, location="files")
@bp.response(200, schemas.PhotoChecks)
@bp.errors("missing_file", "too_many_files", "file_too_large")
def check_photos(_files: dict):
    """Check photos as /register would (format, content, one usable face), one answer per photo; nothing is stored."""
    reads = [(part.filename, partial(read_upload, part)) for part in photo_parts("photo")]
    return {"results": enrolment.check_photos(reads, face_service())}


@bp.get("/employees")
@bp.requires(*STAFF_ROLES)
@bp.arguments(schemas.EmployeeQuery, location="query")
@bp.response(200, schemas.EmployeePage)
@bp.errors("invalid_field")
def index(query: dict):
    """Employees by employee id, optionally searched and filtered."""
    return enrolment.list_employees(query.get("q"), query.get("active"), query["page"], query["per_page"])


@bp.post("/employees/import")
@bp.requires(*STAFF_ROLES)
@body_limit("IMPORT_MAX_BYTES")
@bp.arguments(schemas.ImportForm, location="files")
@bp.response(202, schemas.ImportJobEnvelope, headers={"Location": {"description": "The job to poll.", "schema": {"type": "string"}}})
@bp.errors("missing_file", "unsupported_media_type", "archive_too_large")
def import_archive(files: dict):
    """A ZIP of employee folders, enrolled in the background: 202 and a job to poll.

    Limits (entries, expanded size, per-entry size, compression ratio) are checked before anything is
    enrolled; problems found later are reported per photo in the job's report."""
    upload = files["archive"]
    if magic.from_buffer(upload.stream.read(2048), mime=True) != "application/zip":
        raise APIError("unsupported_media_type", f"{upload.filename} is not a ZIP archive.", 415)
    upload.stream.seek(0)
    job = bulk.start_zip_import(save_upload(upload), current_user, face_service())
    return {"job": bulk.job_json(job)}, {"Location": url_for("employees.import_status", job_id=job.id)}


@bp.get("/employees/import/<job_id>")
@bp.requires(*STAFF_ROLES)
@bp.response(200, schemas.ImportJobEnvelope)
@bp.errors("not_found")
def import_status(job_id: str):
    """Progress of an import job, then its report (generated passwords appear in the first report read only)."""
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
@bp.requires(*STAFF_ROLES)
@bp.response(200, schemas.EmployeeEnvelope)
@bp.errors("not_found")
def show(employee_id: str):
    """One employee, with their face templates."""
    return {"employee": enrolment.employee_json(enrolment.get_employee(employee_id), with_faces=True)}


@bp.patch("/employees/<employee_id>")
@bp.requires(*STAFF_ROLES)
@bp.arguments(schemas.EmployeeUpdate)
@bp.response(200, schemas.EmployeeEnvelope)
@bp.errors("invalid_field", "invalid_json", "not_found")
def update(body: dict, employee_id: str):
    """Rename, deactivate (no login, no match) or reactivate an employee."""
    employee = enrolment.update_employee(employee_id, body.get("name"), body.get("active"))
    return {"employee": enrolment.employee_json(employee)}


@bp.delete("/employees/<employee_id>")
@bp.requires(*STAFF_ROLES)
@bp.response(204)
@bp.errors("not_found")
def delete(employee_id: str):
    """Erase the person: templates, login and attendance history (biometric data is not kept)."""
    enrolment.delete_employee(employee_id)


@bp.post("/employees/<employee_id>/photos")
@bp.requires(*STAFF_ROLES)
@bp.arguments(schemas.PhotosForm, location="files")
@bp.response(201, schemas.EmployeeEnvelope)
@bp.errors("not_found", *PHOTO_ERRORS)
def add_photos(_files: dict, employee_id: str):
    """Add face templates from more photos (all or none)."""
    employee = enrolment.add_photos(employee_id, photos_from_request("photo"), face_service())
    return {"employee": enrolment.employee_json(employee, with_faces=True)}


@bp.delete("/employees/<employee_id>/photos/<int:face_id>")
@bp.requires(*STAFF_ROLES)
@bp.response(200, schemas.EmployeeEnvelope)
@bp.errors("not_found", "conflict")
def remove_photo(employee_id: str, face_id: int):
    """Remove one face template (not the last one)."""
    employee = enrolment.remove_photo(employee_id, face_id)
    return {"employee": enrolment.employee_json(employee, with_faces=True)}
