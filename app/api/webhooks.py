from flask import Blueprint
from sqlalchemy import select

from models import Webhook, WebhookDelivery, db

from ..errors import APIError
from ..security import STAFF_ROLES, roles_required
from ..services import webhooks as webhook_service
from . import json_body, page_args, string_field

bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")


@bp.post("")
@roles_required(*STAFF_ROLES)
def create():
    """JSON `url`, `events` (list), optional `secret`; the secret is shown once, here."""
    body = json_body()
    url = string_field(body, "url", max_length=2048)
    events = body.get("events")
    if not isinstance(events, list) or not all(isinstance(e, str) for e in events):
        raise APIError("invalid_field", "events must be a list of event names.", 400)
    secret = string_field(body, "secret", required=False, max_length=128)
    hook = webhook_service.create_webhook(url, events, secret)
    return {"webhook": {**_hook_json(hook), "secret": hook.secret}}, 201


@bp.get("")
@roles_required(*STAFF_ROLES)
def index():
    return {"items": [_hook_json(h) for h in db.session.scalars(select(Webhook).order_by(Webhook.id))]}


@bp.delete("/<int:hook_id>")
@roles_required(*STAFF_ROLES)
def delete(hook_id: int):
    webhook_service.delete_webhook(hook_id)
    return "", 204


@bp.get("/<int:hook_id>/deliveries")
@roles_required(*STAFF_ROLES)
def deliveries(hook_id: int):
    page, per_page = page_args()
    query = select(WebhookDelivery).where(WebhookDelivery.webhook_pk == hook_id).order_by(WebhookDelivery.id.desc())
    result = db.paginate(query, page=page, per_page=per_page, error_out=False)
    return {"items": [{"id": d.id, "event": d.event, "status": d.status, "attempts": d.attempts,
                       "last_error": d.last_error, "next_attempt_at": d.next_attempt_at.isoformat()}
                      for d in result.items], "page": page, "per_page": per_page, "total": result.total}


def _hook_json(hook: Webhook) -> dict:
    return {"id": hook.id, "url": hook.url, "events": hook.events.split(), "active": hook.active,
            "created_at": hook.created_at.isoformat()}
