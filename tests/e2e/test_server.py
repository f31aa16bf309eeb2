"""End to end: the production server (gunicorn, as `make run` starts it) driven over real HTTP."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.photos import astronaut, astronaut_selfie, cameraman, encode

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    instance = tmp_path_factory.mktemp("instance")
    port = free_port()
    env = {
        **os.environ,
        "ABSEN_INSTANCE_DIR": str(instance),
        "ABSEN_BIND": f"127.0.0.1:{port}",
        "ABSEN_WORKERS": "2",
        "FACE_MODEL": "dlib",
        "ABSEN_ADMIN_USERNAME": "admin",
        "ABSEN_ADMIN_PASSWORD": "e2e-admin-password",
    }
    log = (instance / "server.log").open("w")
    gunicorn = Path(sys.executable).with_name("gunicorn")
    process = subprocess.Popen([str(gunicorn), "-c", "gunicorn.conf.py", "run:app"], cwd=ROOT, env=env,
                               stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(base, process, instance / "server.log")
        yield Server(base, instance / "server.log")
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
        log.close()


class Server(str):
    """The base URL, which also knows where the server's log is (shown when a check fails)."""

    def __new__(cls, base: str, log: Path):
        server = super().__new__(cls, base)
        server.log = log
        return server

    def log_tail(self) -> str:
        return "server log:\n" + "\n".join(self.log.read_text().splitlines()[-60:])


def wait_until_healthy(base: str, process: subprocess.Popen, log: Path, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"server exited with {process.returncode}:\n{log.read_text()}")
        try:
            if requests.get(f"{base}/health", timeout=2).status_code == 200:
                return
        except requests.RequestException:  # not listening yet, or workers still loading models
            pass
        time.sleep(0.5)
    pytest.fail(f"server not healthy after {timeout} s:\n{log.read_text()}")


def test_enrol_log_in_and_check_in_over_http(server):
    admin = requests.post(f"{server}/login", json={"username": "admin", "password": "e2e-admin-password"}, timeout=10)
    assert admin.status_code == 200, server.log_tail()
    staff = {"Authorization": f"Bearer {admin.json()['access_token']}"}

    photos = [("photo", ("one.jpg", encode(astronaut()), "image/jpeg")),
              ("photo", ("two.png", encode(astronaut_selfie(), "PNG"), "image/png"))]
    registered = requests.post(f"{server}/register", headers=staff, timeout=60, files=photos,
                               data={"employee_id": "EMP-7", "name": "Eileen", "password": "employee-pass"})
    assert registered.status_code == 201, server.log_tail()
    assert registered.json()["employee"]["faces"] == 2

    login = requests.post(f"{server}/login", json={"username": "EMP-7", "password": "employee-pass"}, timeout=10)
    employee = {"Authorization": f"Bearer {login.json()['access_token']}"}
    selfie = {"photo": ("selfie.jpg", encode(astronaut_selfie()), "image/jpeg")}
    checked_in = requests.post(f"{server}/predict", headers=employee, files=selfie, timeout=60)
    assert checked_in.status_code == 200, server.log_tail()
    assert checked_in.json()["match"] is True and checked_in.json()["attendance"]["employee_id"] == "EMP-7"

    # Every worker must see the enrolment and accept the token: ask several times over fresh connections.
    for _ in range(6):
        kiosk = requests.post(f"{server}/predict", headers=staff, files=selfie, timeout=60)
        assert kiosk.status_code == 200 and kiosk.json()["employee_id"] == "EMP-7", server.log_tail()
    stranger = {"photo": ("who.jpg", encode(cameraman()), "image/jpeg")}
    assert requests.post(f"{server}/predict", headers=staff, files=stranger, timeout=60).json()["match"] is False

    bad = requests.post(f"{server}/predict", headers=employee, files={"photo": ("x.jpg", b"text", "image/jpeg")}, timeout=10)
    assert bad.status_code == 415 and bad.json()["error"] == "unsupported_media_type"
    assert requests.get(f"{server}/health", timeout=10).json()["employees"] == 1
