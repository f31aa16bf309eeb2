from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

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
    employee.templates = [
        FaceTemplate(model=face.engine.model_name, dim=len(e.vector), vector=FaceTemplate.pack(e.vector),
                     image_sha256=photo.sha256)
        for photo, e in zip(photos, embeddings)
    ]
    if password is not None:
        employee.user = User(username=employee_id, password_hash=hash_password(password), role=Role.EMPLOYEE)
    db.session.add(employee)
    bump_gallery_version()
    try:
        db.session.commit()
    except IntegrityError:  # a concurrent request took the id (or the username) first
        db.session.rollback()
        raise APIError("conflict", f"Employee {employee_id!r} is already registered.", 409) from None
    return employee


def _taken(employee_id: str) -> bool:
    employee = db.session.scalar(select(Employee.id).where(Employee.employee_id == employee_id))
    username = db.session.scalar(select(User.id).where(User.username == employee_id))
    return employee is not None or username is not None
