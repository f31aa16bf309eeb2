"""Webhooks: an outbox of signed JSON events, delivered off the request path with retries.

Events are queued in the transaction that causes them (so an event is sent only for what was
really committed) and delivered by `deliver_due`, which a background thread in each worker
calls. A delivery is claimed by moving its next attempt time with a conditional UPDATE, so two
workers never send the same attempt.

Each POST carries `X-Absen-Event`, `X-Absen-Delivery`, `X-Absen-Timestamp` and
`X-Absen-Signature: sha256=<hex>`, the HMAC-SHA256 with the webhook's secret of
`<timestamp>.<body>`: receivers check it and refuse old timestamps.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import threading
import time
from datetime import datetime, timedelta
from urllib.parse import urlparse

import requests
from flask import Flask, current_app
from sqlalchemy import select, update

from models import Webhook, WebhookDelivery, db, utcnow

from ..errors import APIError

log = logging.getLogger(__name__)

EVENTS = ("attendance.recorded", "attendance.request.created", "attendance.request.decided")
CLAIM_SECONDS = 60  # a claimed delivery is retried after this if its worker died mid-send


def enqueue(event: str, data: dict) -> None:
    """Queue `event` for every webhook that wants it, in the caller's transaction."""
    hooks = db.session.scalars(select(Webhook).where(Webhook.active)).all()
    for hook in (h for h in hooks if h.wants(event)):
        body = json.dumps({"event": event, "created_at": utcnow().isoformat(), "data": data}, separators=(",", ":"))
        db.session.add(WebhookDelivery(webhook_pk=hook.id, event=event, payload=body))


def create_webhook(url: str, events: list[str], secret: str | None) -> Webhook:
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise APIError("invalid_field", "url must be an http:// or https:// address.", 400)
    unknown = sorted(set(events) - set(EVENTS))
    if not events or unknown:
        raise APIError("invalid_field", f"events must be among {', '.join(EVENTS)}.", 400)
    hook = Webhook(url=url, events=" ".join(dict.fromkeys(events)), secret=secret or secrets.token_urlsafe(32))
    db.session.add(hook)
    db.session.commit()
    return hook


def delete_webhook(hook_id: int) -> None:
    hook = db.session.get(Webhook, hook_id)
    if hook is None:
        raise APIError("not_found", f"No webhook {hook_id}.", 404)
    db.session.delete(hook)
    db.session.commit()


def sign(secret: str, timestamp: str, body: str) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.{body}".encode(), hashlib.sha256).hexdigest()


def deliver_due(limit: int = 20) -> int:
    """Attempt every delivery that is due; returns how many were attempted."""
    config = current_app.config
    now = utcnow()
    due = db.session.execute(
        select(WebhookDelivery.id, WebhookDelivery.next_attempt_at)
        .where(WebhookDelivery.status == "pending", WebhookDelivery.next_attempt_at <= now)
        .order_by(WebhookDelivery.next_attempt_at).limit(limit)
    ).all()
    attempted = 0
    for delivery_id, due_at in due:
        if not _claim(delivery_id, due_at, now):
            continue  # another worker took it
        attempted += 1
        delivery = db.session.get(WebhookDelivery, delivery_id)
        error = _send(delivery, config["WEBHOOK_TIMEOUT_SECONDS"])
        delivery.attempts += 1
        if error is None:
            delivery.status, delivery.last_error = "delivered", None
        else:
            delivery.last_error = error
            if delivery.attempts >= config["WEBHOOK_MAX_ATTEMPTS"]:
                delivery.status = "failed"
                log.warning("Webhook delivery %s to %s failed for good: %s", delivery.id, delivery.webhook.url, error)
            else:
                backoff = config["WEBHOOK_BACKOFF_SECONDS"] * 2 ** (delivery.attempts - 1)
                delivery.next_attempt_at = utcnow() + timedelta(seconds=backoff)
        db.session.commit()
    return attempted


def _claim(delivery_id: int, due_at: datetime, now: datetime) -> bool:
    claimed = db.session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id == delivery_id, WebhookDelivery.next_attempt_at == due_at,
               WebhookDelivery.status == "pending")
        .values(next_attempt_at=now + timedelta(seconds=CLAIM_SECONDS))
    )
    db.session.commit()
    return claimed.rowcount == 1


def _send(delivery: WebhookDelivery, timeout: float) -> str | None:
    """POST one delivery; None when the receiver answered 2xx, else what went wrong."""
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Absen-Webhooks/1",
        "X-Absen-Event": delivery.event,
        "X-Absen-Delivery": str(delivery.id),
        "X-Absen-Timestamp": timestamp,
        "X-Absen-Signature": "sha256=" + sign(delivery.webhook.secret, timestamp, delivery.payload),
    }
    try:
        response = requests.post(delivery.webhook.url, data=delivery.payload.encode(), headers=headers,
                                 timeout=timeout, allow_redirects=False)
    except requests.RequestException as exc:
        return f"{type(exc).__name__}: {exc}"[:500]
    if 200 <= response.status_code < 300:
        return None
    return f"HTTP {response.status_code}"


class Dispatcher:
    """A daemon thread that delivers due webhooks every few seconds."""

    def __init__(self, app: Flask):
        self.app = app
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="absen-webhooks", daemon=True)

    def start(self) -> Dispatcher:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        interval = self.app.config["WEBHOOK_POLL_SECONDS"]
        while not self._stop.wait(interval):
            with self.app.app_context():
                try:
                    while deliver_due():
                        pass
                except Exception:  # keep the thread alive: the next round retries
                    log.exception("Webhook dispatch failed")
                    db.session.rollback()
                finally:
                    db.session.remove()
