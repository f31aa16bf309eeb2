"""Two replicas: two gunicorn servers on different ports, one PostgreSQL, one shared JWT secret, and
Redis for the rate limits. An employee enrolled through one is recognised by the other within a
second. A token revoked on one is refused by the other, and failed logins count across both.

Needs a database server both can reach, so it runs in the PostgreSQL pass of `make test`
(ABSEN_TEST_DATABASE_URL); on SQLite it is skipped with that reason.
"""

from __future__ import annotations

import secrets
import shutil
import signal
import subprocess
import time

import pytest
import redis
import requests

from config import TestingConfig
from tests.live_server import ADMIN_PASSWORD, free_port, start_server
from tests.photos import astronaut, astronaut_selfie, encode

DATABASE = TestingConfig.SQLALCHEMY_DATABASE_URI
pytestmark = pytest.mark.skipif(not DATABASE.startswith("postgresql"),
                                reason="two replicas need a shared database server: runs with ABSEN_TEST_DATABASE_URL")


@pytest.fixture
def redis_url(tmp_path):
    server = shutil.which("redis-server")
    if server is None:
        pytest.fail("redis-server is missing (Debian: apt-get install redis-server; scripts/redis-for-tests.sh)")
    port = free_port()
    process = subprocess.Popen([server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                                "--dir", str(tmp_path)], stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            redis.Redis(port=port).ping()
            break
        except redis.ConnectionError:
            time.sleep(0.1)
    yield f"redis://127.0.0.1:{port}"
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture
def replicas(tmp_path, redis_url):
    shared = {"DATABASE_URL": DATABASE, "JWT_SECRET_KEY": secrets.token_urlsafe(48), "RATELIMIT_STORAGE_URI": redis_url,
              "LOGIN_FAILURES_LIMIT": "3 per 15 minutes", "ABSEN_WORKERS": "1"}
    servers = []
    try:
        for name in ("a", "b"):
            port = free_port()
            (tmp_path / name).mkdir()
            servers.append((start_server(tmp_path / name, port, **shared), f"http://127.0.0.1:{port}"))
        yield [base for _, base in servers]
    finally:
        for process, _ in servers:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)


def login(base: str, username: str, password: str):
    return requests.post(f"{base}/login", json={"username": username, "password": password}, timeout=10)


def test_an_enrolment_on_one_replica_is_recognised_by_the_other_within_a_second(replicas):
    a, b = replicas
    staff = {"Authorization": f"Bearer {login(a, 'admin', ADMIN_PASSWORD).json()['access_token']}"}
    selfie = encode(astronaut_selfie())
    assert requests.post(f"{b}/predict", headers=staff, timeout=60,  # B has seen the (empty) gallery already
                         files={"photo": ("s0.jpg", encode(astronaut_selfie(), quality=80), "image/jpeg")}).json()["match"] is False

    enrolled = requests.post(f"{a}/register", headers=staff, timeout=60, data={"employee_id": "EMP-1", "name": "Eileen"},
                             files={"photo": ("a.jpg", encode(astronaut()), "image/jpeg")})
    assert enrolled.status_code == 201, enrolled.text
    started = time.monotonic()
    answer = requests.post(f"{b}/predict", headers=staff, timeout=60, files={"photo": ("s.jpg", selfie, "image/jpeg")})
    elapsed = time.monotonic() - started
    assert answer.status_code == 200 and answer.json()["employee_id"] == "EMP-1", answer.text
    assert elapsed < 1.0, f"replica B took {elapsed:.2f} s to recognise an enrolment made on A"
    print(f"\nenrolled on A, recognised on B {elapsed * 1000:.0f} ms later (the first request after the enrolment)")


def test_revocation_and_login_lockout_are_shared(replicas):
    a, b = replicas
    tokens = login(a, "admin", ADMIN_PASSWORD).json()
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert requests.get(f"{b}/me", headers=bearer, timeout=10).status_code == 200  # one secret: B trusts A's token
    assert requests.post(f"{a}/logout", headers=bearer, timeout=10).status_code == 200
    refused = requests.get(f"{b}/me", headers=bearer, timeout=10)
    assert refused.status_code == 401 and refused.json()["error"] == "unauthorized"

    # 3 failures allowed per username, counted in Redis: two on A and one on B use them up.
    for base in (a, a, b):
        assert login(base, "admin", "wrong-password").status_code == 401
    for base in (a, b):
        locked = login(base, "admin", ADMIN_PASSWORD)
        assert locked.status_code == 429 and int(locked.headers["Retry-After"]) > 0, locked.text
