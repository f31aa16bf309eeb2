from flask import Blueprint
from sqlalchemy import func, select

from models import Employee, db

from ..face import face_service

bp = Blueprint("health", __name__)


@bp.get("/health")
def health():
    face = face_service()
    employees = db.session.scalar(select(func.count()).select_from(Employee).where(Employee.active))
    return {
        "status": "ok",
        "model": {
            "name": face.engine.model_name,
            "embedding_dim": face.engine.embedding_dim,
            "threshold": face.threshold,
        },
        "employees": employees,
    }
