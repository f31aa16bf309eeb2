from sqlalchemy import func, select

from models import Employee, db

from ..face import face_service
from . import Blueprint
from .schemas import HealthOut

bp = Blueprint("health", __name__, description="Liveness and the active model, for monitoring (no auth).")


@bp.get("/health")
@bp.response(200, HealthOut)
def health():
    """The service is up; the active recognition model, its threshold and the number of active employees."""
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
