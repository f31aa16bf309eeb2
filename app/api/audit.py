from datetime import date, datetime, time, timedelta, timezone

from flask import Blueprint, request
from sqlalchemy import select

from models import VerificationAttempt, db

from ..security import STAFF_ROLES, roles_required
from . import date_arg, page_args

bp = Blueprint("audit", __name__)


@bp.get("/audit")
@roles_required(*STAFF_ROLES)
def index():
    """Verification attempts, newest first; filters: decision, reason, employee_id, from, to (UTC dates)."""
    page, per_page = page_args()
    query = select(VerificationAttempt).order_by(VerificationAttempt.id.desc())
    for field, column in (("decision", VerificationAttempt.decision), ("reason", VerificationAttempt.reason)):
        if request.args.get(field):
            query = query.where(column == request.args[field])
    if request.args.get("employee_id"):
        wanted = request.args["employee_id"]
        query = query.where((VerificationAttempt.matched_employee_id == wanted)
                            | (VerificationAttempt.claimed_employee_id == wanted))
    if start := date_arg("from"):
        query = query.where(VerificationAttempt.attempted_at >= _utc_midnight(start))
    if end := date_arg("to"):
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
