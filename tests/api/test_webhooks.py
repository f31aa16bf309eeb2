"""Webhooks against a real local HTTP receiver: signatures, retries with backoff, never blocking."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import time_machine

from app.services.webhooks import Dispatcher, deliver_due
from models import WebhookDelivery, db
from tests.api.test_auth import assert_error
from tests.api.workday import at, selfie


class Receiver:
    """A loopback HTTP server that records what it receives and fails the first `failures` posts."""

    def __init__(self, failures: int = 0):
        self.received: list[dict] = []
        self.failures = failures
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append({"headers": dict(self.headers), "body": body})
                status = 500 if receiver.failures > 0 else 204
                receiver.failures -= 1
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    receiver = Receiver()
    yield receiver
    receiver.close()


@pytest.fixture(autouse=True)
def monday(people):
    with time_machine.travel(at(8), tick=True):
        yield


def subscribe(api, headers, url, events=("attendance.recorded",)):
    response = api.client.post("/webhooks", headers=headers, json={"url": url, "events": list(events)})
    assert response.status_code == 201, response.json
    return response.json["webhook"]


def deliver(app) -> int:
    with app.app_context():
        return deliver_due()


def test_an_attendance_event_is_signed_and_delivered(app, api, people, receiver):
    hook = subscribe(api, people["hr"], receiver.url)
    assert api.predict(people["E1"], selfie(1)).json["match"] is True
    assert receiver.received == []  # nothing is sent on the request's own time
    assert deliver(app) == 1
    [post] = receiver.received
    headers, body = post["headers"], post["body"]
    expected = hmac.new(hook["secret"].encode(), headers["X-Absen-Timestamp"].encode() + b"." + body,
                        hashlib.sha256).hexdigest()
    assert headers["X-Absen-Signature"] == f"sha256={expected}"
    assert headers["X-Absen-Event"] == "attendance.recorded"
    event = json.loads(body)
    assert event["event"] == "attendance.recorded" and event["data"]["attendance"]["employee_id"] == "E1"
    assert deliver(app) == 0  # delivered once, not again


def test_a_failing_receiver_is_retried_with_backoff_until_it_accepts(app, api, people):
    app.config["WEBHOOK_BACKOFF_SECONDS"] = 30
    flaky = Receiver(failures=2)
    try:
        subscribe(api, people["hr"], flaky.url)
        api.predict(people["E1"], selfie(1))
        assert deliver(app) == 1 and deliver(app) == 0  # failed once; the retry is not due yet
        with app.app_context():
            delivery = db.session.query(WebhookDelivery).one()
            assert (delivery.status, delivery.attempts, delivery.last_error) == ("pending", 1, "HTTP 500")
        with time_machine.travel(at(8, 1), tick=False):  # due 30 s after the first: fails again
            assert deliver(app) == 1
        with time_machine.travel(at(8, 1) + timedelta(seconds=45), tick=False):  # backoff doubled to 60 s
            assert deliver(app) == 0
        with time_machine.travel(at(8, 2), tick=False):  # third attempt: accepted
            assert deliver(app) == 1
        with app.app_context():
            delivery = db.session.query(WebhookDelivery).one()
            assert (delivery.status, delivery.attempts) == ("delivered", 3)
        assert len(flaky.received) == 3
    finally:
        flaky.close()


def test_an_unreachable_receiver_is_given_up_after_the_last_attempt(app, api, people):
    app.config.update(WEBHOOK_BACKOFF_SECONDS=0, WEBHOOK_MAX_ATTEMPTS=3, WEBHOOK_TIMEOUT_SECONDS=1)
    dead = Receiver()
    url = dead.url
    dead.close()  # nothing listens there any more
    hook = subscribe(api, people["hr"], url)
    api.predict(people["E1"], selfie(1))
    for _ in range(5):
        deliver(app)
    with app.app_context():
        delivery = db.session.query(WebhookDelivery).one()
        assert (delivery.status, delivery.attempts) == ("failed", 3)
        assert "ConnectionError" in delivery.last_error
    listed = api.client.get(f"/webhooks/{hook['id']}/deliveries", headers=people["hr"]).json["items"]
    assert [(d["status"], d["attempts"]) for d in listed] == [("failed", 3)]


def test_request_events_and_the_background_dispatcher(app, api, people, receiver):
    app.config["WEBHOOK_POLL_SECONDS"] = 0.05
    subscribe(api, people["hr"], receiver.url, ["attendance.request.created", "attendance.request.decided"])
    dispatcher = Dispatcher(app).start()
    try:
        filed = api.client.post("/attendance/requests", headers=people["E2"],
                                json={"date": "2026-11-23", "kind": "check_in", "time": "07:50", "reason": "rain"})
        api.client.post(f"/attendance/requests/{filed.json['request']['id']}/approve", headers=people["hr"])
        deadline = time.monotonic() + 10
        while len(receiver.received) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        dispatcher.stop()
    events = [json.loads(r["body"]) for r in receiver.received]
    assert [e["event"] for e in events] == ["attendance.request.created", "attendance.request.decided"]
    assert events[1]["data"]["request"]["status"] == "approved"


def test_webhook_management_rules(api, people):
    assert_error(api.client.post("/webhooks", headers=people["hr"], json={"url": "ftp://x", "events": ["attendance.recorded"]}),
                 400, "invalid_field")
    assert_error(api.client.post("/webhooks", headers=people["hr"], json={"url": "http://127.0.0.1:9/", "events": ["nope"]}),
                 400, "invalid_field")
    assert_error(api.client.post("/webhooks", headers=people["E1"], json={"url": "http://127.0.0.1:9/", "events": []}),
                 403, "forbidden")
    hook = subscribe(api, people["hr"], "http://127.0.0.1:9/hook")
    listed = api.client.get("/webhooks", headers=people["hr"]).json["items"]
    assert [h["id"] for h in listed] == [hook["id"]] and "secret" not in listed[0]
    assert api.client.delete(f"/webhooks/{hook['id']}", headers=people["hr"]).status_code == 204
    assert_error(api.client.delete(f"/webhooks/{hook['id']}", headers=people["hr"]), 404, "not_found")
