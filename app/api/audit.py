from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import select

from models import VerificationAttempt, db

from ..security import STAFF_ROLES
from . import Blueprint
from .schemas import AttemptPage, AuditQuery

bp = Blueprint("audit", __name__, description="Every verification attempt, for investigations.")


@bp.get("/audit")
@bp.requires(*STAFF_ROLES)
@bp.arguments(AuditQuery, location="query")
@bp.response(200, AttemptPage)
@bp.errors("invalid_field")
def index(args: dict):
    """Verification attempts, newest first."""
    page, per_page = args["page"], args["per_page"]
    query = select(VerificationAttempt).order_by(VerificationAttempt.id.desc())
    for field, column in (("decision", VerificationAttempt.decision), ("reason", VerificationAttempt.reason)):
        if args.get(field):
            query = query.where(column == args[field])
    if wanted := args.get("employee_id"):
        query = query.where((VerificationAttempt.matched_employee_id == wanted)
                            | (VerificationAttempt.claimed_employee_id == wanted))
    if start := args.get("from_"):
        query = query.where(VerificationAttempt.attempted_at >= _utc_midnight(start))
    if end := args.get("to"):
        query = query.where(VerificationAttempt.attempted_at < _utc_midnight(end, days=1))
    result = db.paginate(query, page=page, per_page=per_page, error_out=False)
    return {"items": [_attempt_json(a) for a in result.items], "page": page, "per_page": per_page,
            "total": result.total}


def _utc_midnight(day: date, days: int = 0) -> datetime:
    return datetime.combine(day + timedelta(days=days), time(), tzinfo=timezone.utc)


def _attempt_json(attempt: VerificationAttempt) -> dict:
    return {
        "id": attempt.id,
        "attempted_at": attempt.attempted_at.isoformat(),
        "caller": attempt.caller_username,
        "claimed_employee_id": attempt.claimed_employee_id,
        "matched_employee_id": attempt.matched_employee_id,
        "similarity": round(attempt.similarity, 4) if attempt.similarity is not None else None,
        "decision": attempt.decision,
        "reason": attempt.reason,
        "client_address": attempt.client_address,
        "photo_sha256": attempt.photo_sha256,
        "photo_kept": attempt.photo is not None,
    }
