from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from embeddings import FaceEmbedding
from models import Employee, FaceTemplate, Role, User, db

from ..errors import APIError
from ..face import FaceService, bump_gallery_version
from ..uploads import Upload, embed_upload
from .auth import check_password, hash_password


def register_employee(employee_id: str, name: str, password: str | None, photos: list[Upload],
                      face: FaceService, min_password_length: int) -> Employee:
    """Enrol an employee with every photo, or with none: one unusable photo refuses the request."""
    if password is not None:
        check_password(password, min_password_length)
    if _taken(employee_id):
        raise APIError("conflict", f"Employee {employee_id!r} is already registered.", 409)
    # The slow part (recognition) runs before the transaction, which then stays short.
    embeddings = [embed_upload(photo, face.engine) for photo in photos]

    employee = Employee(employee_id=employee_id, name=name)
    employee.templates = _templates(photos, embeddings, face)
    if password is not None:
        employee.user = User(username=employee_id, password_hash=hash_password(password), role=Role.EMPLOYEE)
    db.session.add(employee)
    try:
        db.session.flush()  # the employee's key, for the gallery change
        bump_gallery_version(employee.id)
        db.session.commit()
    except IntegrityError:  # a concurrent request took the id (or the username) first
        db.session.rollback()
        raise APIError("conflict", f"Employee {employee_id!r} is already registered.", 409) from None
    return employee


def _templates(photos: list[Upload], embeddings: list[FaceEmbedding], face: FaceService) -> list[FaceTemplate]:
    return [
        FaceTemplate(model=face.engine.model_name, dim=len(e.vector), vector=FaceTemplate.pack(e.vector),
                     image_sha256=photo.sha256)
        for photo, e in zip(photos, embeddings, strict=True)
    ]


def _taken(employee_id: str) -> bool:
    employee = db.session.scalar(select(Employee.id).where(Employee.employee_id == employee_id))
    username = db.session.scalar(select(User.id).where(User.username == employee_id))
    return employee is not None or username is not None


def get_employee(employee_id: str) -> Employee:
    employee = db.session.scalar(select(Employee).where(Employee.employee_id == employee_id))
    if employee is None:
        raise APIError("not_found", f"No employee {employee_id!r}.", 404)
    return employee


def list_employees(search: str | None, active: bool | None, page: int, per_page: int) -> dict:
    query = select(Employee).order_by(Employee.employee_id)
    if search:
        pattern = f"%{search.lower()}%"
        query = query.where(func.lower(Employee.name).like(pattern) | func.lower(Employee.employee_id).like(pattern))
    if active is not None:
        query = query.where(Employee.active == active)
    result = db.paginate(query, page=page, per_page=per_page, error_out=False)
    return {"items": [employee_json(e) for e in result.items], "page": page, "per_page": per_page,
            "total": result.total}


def update_employee(employee_id: str, name: str | None, active: bool | None) -> Employee:
    employee = get_employee(employee_id)
    if name is not None:
        employee.name = name
    if active is not None and active != employee.active:
        employee.active = active  # inactive: no login (User.can_log_in), no match (gallery)
        bump_gallery_version(employee.id)
    db.session.commit()
    return employee


def check_photos(photos: list[tuple[str, Callable[[], Upload]]], face: FaceService) -> list[dict]:
    """What /register would say of each photo, photo by photo, storing nothing (for enrolment forms)."""
    results = []
    for filename, read in photos:
        try:
            embed_upload(read(), face.engine)
            results.append({"filename": filename, "accepted": True, "error": None, "message": "A usable face."})
        except APIError as error:
            results.append({"filename": filename, "accepted": False, "error": error.code, "message": error.message})
    return results


def add_photos(employee_id: str, photos: list[Upload], face: FaceService) -> Employee:
    employee = get_employee(employee_id)
    embeddings = [embed_upload(photo, face.engine) for photo in photos]
    employee.templates.extend(_templates(photos, embeddings, face))
    bump_gallery_version(employee.id)
    db.session.commit()
    return employee


def remove_photo(employee_id: str, template_id: int) -> Employee:
    employee = get_employee(employee_id)
    template = next((t for t in employee.templates if t.id == template_id), None)
    if template is None:
        raise APIError("not_found", f"Employee {employee_id!r} has no face {template_id}.", 404)
    if len(employee.templates) == 1:
        raise APIError("conflict", "This is the employee's last face; add another first, or deactivate them.", 409)
    employee.templates.remove(template)
    bump_gallery_version(employee.id)
    db.session.commit()
    return employee


def delete_employee(employee_id: str) -> None:
    """Erase the person: templates, login and attendance history (biometric data is not kept)."""
    employee = get_employee(employee_id)
    bump_gallery_version(employee.id)
    db.session.delete(employee)
    db.session.commit()


def employee_json(employee: Employee, with_faces: bool = False) -> dict:
    body = {**employee.to_dict(), "login": employee.user is not None, "created_at": employee.created_at.isoformat()}
    if with_faces:
        body["face_list"] = [{"id": t.id, "model": t.model, "image_sha256": t.image_sha256,
                              "created_at": t.created_at.isoformat()} for t in employee.templates]
    return body
