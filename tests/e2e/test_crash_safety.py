"""Crash safety: 16 clients check in concurrently, the whole server is killed with SIGKILL mid-run,
restarted on the same database, and every attendance row the server acknowledged is there, once.

SQLite (WAL) by default; PostgreSQL when the suite runs with ABSEN_TEST_DATABASE_URL."""

from __future__ import annotations

import os
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import requests
from sqlalchemy import create_engine, text

from config import TestingConfig
from tests.live_server import ADMIN_PASSWORD, free_port, start_server
from tests.photos import astronaut, astronaut_selfie, encode

CLIENTS = 16
RUN_SECONDS_BEFORE_KILL = 12
# Every accepted selfie becomes a row: no duplicate window, no minimum gap before a check-out.
RULES = {"DUPLICATE_WINDOW_MINUTES": "0", "CHECKOUT_MIN_GAP_MINUTES": "0", "PREDICT_TOKEN_LIMIT": "100000 per minute"}


def unique_selfie(client: int, n: int) -> bytes:
    """The same face with a different JPEG comment: new bytes each time, so no replay refusal."""
    return encode(astronaut_selfie(), "JPEG", quality=92, comment=f"client {client} shot {n}".encode())


def test_no_acknowledged_check_in_is_lost_or_duplicated_after_sigkill(tmp_path):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    url = TestingConfig.SQLALCHEMY_DATABASE_URI
    if not url.startswith("postgresql"):
        url = f"sqlite:///{tmp_path / 'absen.db'}"
    settings = {**RULES, "DATABASE_URL": url}
    server = start_server(tmp_path, port, **settings)
    acknowledged: list[tuple[int, str]] = []  # (attendance id, employee id) of every 200 with a new row
    failures: list[str] = []
    lock = threading.Lock()
    stop, killed = threading.Event(), threading.Event()
    try:
        token = requests.post(f"{base}/login", json={"username": "admin", "password": ADMIN_PASSWORD}, timeout=10)
        staff = {"Authorization": f"Bearer {token.json()['access_token']}"}
        enrol = requests.post(f"{base}/register", headers=staff, timeout=60,
                              files={"photo": ("a.jpg", encode(astronaut()), "image/jpeg")},
                              data={"employee_id": "EMP-1", "name": "Eileen"})
        assert enrol.status_code == 201, enrol.text

        def client(number: int) -> None:
            n = 0
            while not stop.is_set():
                n += 1
                try:
                    answer = requests.post(f"{base}/predict", headers=staff, timeout=30,
                                           files={"photo": ("s.jpg", unique_selfie(number, n), "image/jpeg")})
                except requests.RequestException as error:
                    if not killed.is_set():
                        with lock:
                            failures.append(f"before the kill: {error}")
                    continue  # no answer, so nothing was acknowledged
                if answer.status_code != 200 or not answer.json()["match"]:
                    with lock:
                        failures.append(f"{answer.status_code} {answer.text[:200]}")
                    continue
                record = answer.json()["attendance"]
                assert not record["duplicate"]
                with lock:
                    acknowledged.append((record["id"], record["employee_id"]))

        with ThreadPoolExecutor(CLIENTS) as pool:
            running = [pool.submit(client, number) for number in range(CLIENTS)]
            time.sleep(RUN_SECONDS_BEFORE_KILL)
            killed.set()
            os.killpg(server.pid, signal.SIGKILL)  # master and workers, mid-request
            server.wait(timeout=30)
            killed_with = len(acknowledged)
            time.sleep(1)
            stop.set()
        for future in running:
            future.result()  # a client's own failure (an assertion) surfaces here
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)

    assert failures == [], failures[:5]
    assert killed_with >= CLIENTS, f"only {killed_with} check-ins before the kill"

    server = start_server(tmp_path, port, **settings)  # the same instance folder and database
    try:
        database = create_engine(url)
        with database.connect() as connection:
            rows = connection.execute(text(
                "SELECT a.id, e.employee_id, a.photo_sha256 FROM attendances a JOIN employees e ON e.id = a.employee_pk"
            )).all()
        database.dispose()
        health = requests.get(f"{base}/health", timeout=10).json()
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)

    found = {(row_id, employee) for row_id, employee, _ in rows}
    lost = set(acknowledged) - found
    print(f"\n{url.split(':')[0]}: {len(acknowledged)} check-ins acknowledged before SIGKILL; {len(rows)} rows after restart "
          f"({len(rows) - len(set(acknowledged))} committed but unanswered when killed); lost {len(lost)}")
    assert lost == set()
    assert len(acknowledged) == len(set(acknowledged))  # no id handed out twice
    photos = [sha for _, _, sha in rows]
    assert len(photos) == len(set(photos))  # no selfie recorded twice
    assert health["status"] == "ok" and health["employees"] == 1
