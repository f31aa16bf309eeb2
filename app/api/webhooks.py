from sqlalchemy import select

from models import Webhook, WebhookDelivery, db

from ..security import STAFF_ROLES
from ..services import webhooks as webhook_service
from . import Blueprint
from .schemas import DeliveryPage, PageQuery, WebhookBody, WebhookEnvelope, WebhookList

bp = Blueprint("webhooks", __name__, url_prefix="/webhooks",
               description="Signed HTTP callbacks for attendance events (HR and admins).")


@bp.post("")
@bp.requires(*STAFF_ROLES)
@bp.arguments(WebhookBody)
@bp.response(201, WebhookEnvelope)
@bp.errors("missing_field", "invalid_field", "invalid_json")
def create(body: dict):
    """Subscribe a URL to events; the signing secret is shown once, here."""
    hook = webhook_service.create_webhook(body["url"], body["events"], body.get("secret"))
    return {"webhook": {**_hook_json(hook), "secret": hook.secret}}


@bp.get("")
@bp.requires(*STAFF_ROLES)
@bp.response(200, WebhookList)
def index():
    """Every webhook (without secrets)."""
    return {"items": [_hook_json(h) for h in db.session.scalars(select(Webhook).order_by(Webhook.id))]}


@bp.delete("/<int:hook_id>")
@bp.requires(*STAFF_ROLES)
@bp.response(204)
@bp.errors("not_found")
def delete(hook_id: int):
    """Stop and remove a webhook."""
    webhook_service.delete_webhook(hook_id)


@bp.get("/<int:hook_id>/deliveries")
@bp.requires(*STAFF_ROLES)
@bp.arguments(PageQuery, location="query")
@bp.response(200, DeliveryPage)
@bp.errors("invalid_field")
def deliveries(query: dict, hook_id: int):
    """Deliveries of a webhook, newest first, with their retry state."""
    page, per_page = query["page"], query["per_page"]
    query = select(WebhookDelivery).where(WebhookDelivery.webhook_pk == hook_id).order_by(WebhookDelivery.id.desc())
    result = db.paginate(query, page=page, per_page=per_page, error_out=False)
    return {"items": [{"id": d.id, "event": d.event, "status": d.status, "attempts": d.attempts,
                       "last_error": d.last_error, "next_attempt_at": d.next_attempt_at.isoformat()}
                      for d in result.items], "page": page, "per_page": per_page, "total": result.total}


def _hook_json(hook: Webhook) -> dict:
    return {"id": hook.id, "url": hook.url, "events": hook.events.split(), "active": hook.active,
            "created_at": hook.created_at.isoformat()}
