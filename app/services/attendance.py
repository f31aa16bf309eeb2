from __future__ import annotations

from sqlalchemy import select

from embeddings import verify
from models import Attendance, Employee, Role, User, db

from ..errors import APIError
from ..face import FaceService
from ..uploads import Upload, embed_upload


def check_in(user: User, photo: Upload, claimed_employee_id: str | None, face: FaceService) -> dict:
    """Match a selfie and record attendance when it matches.

    An employee is only ever compared with their own templates (1:1). Staff (a shared
    kiosk) compare with one claimed employee, or search everyone (1:N) with an explicit
    "unknown" answer below the threshold.
    """
    employee = _claimed_employee(user, claimed_employee_id)
    probe = embed_upload(photo, face.engine).vector
    if employee is not None:
        templates = face.templates_of(employee)
        matched, similarity = verify(probe, templates, face.threshold)
        mode = "verify"
    else:
        result = face.gallery().identify(probe, face.threshold)
        matched, similarity, mode = result.accepted, result.similarity, "identify"
        if matched:
            employee = db.session.scalar(select(Employee).where(Employee.employee_id == result.label))
    attendance = None
    if matched:
        attendance = Attendance(employee=employee, similarity=similarity, model=face.engine.model_name)
        db.session.add(attendance)
        db.session.commit()
    return {
        "match": matched,
        "mode": mode,
        "employee_id": employee.employee_id if matched else None,
        "name": employee.name if matched else None,
        "similarity": round(similarity, 4),
        "threshold": face.threshold,
        "attendance": attendance.to_dict() if attendance else None,
    }


def _claimed_employee(user: User, claimed_employee_id: str | None) -> Employee | None:
    if user.role == Role.EMPLOYEE:
        own = user.employee
        if own is None:
            raise APIError("forbidden", "This account is not linked to an employee.", 403)
        if claimed_employee_id not in (None, own.employee_id):
            raise APIError("forbidden", "An employee can only check in as themselves.", 403)
        return own
    if claimed_employee_id is None:
        return None
    employee = db.session.scalar(select(Employee).where(Employee.employee_id == claimed_employee_id))
    if employee is None or not employee.active:
        raise APIError("not_found", f"No active employee {claimed_employee_id!r}.", 404)
    return employee

