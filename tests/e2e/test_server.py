"""End to end: the production server (gunicorn, as `make run` starts it) driven over real HTTP."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import requests

from tests.live_server import ADMIN_PASSWORD, server  # noqa: F401  (server: the fixture)
from tests.photos import astronaut, astronaut_selfie, cameraman, encode


def test_enrol_log_in_and_check_in_over_http(server):  # noqa: F811
    admin = requests.post(f"{server}/login", json={"username": "admin", "password": ADMIN_PASSWORD}, timeout=10)
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


@pytest.mark.skipif(not Path("/proc/self/maps").exists(), reason="reads the workers' memory maps in /proc (Linux)")
def test_workers_do_not_load_what_serving_never_uses(server):  # noqa: F811
    """triton (a GPU kernel compiler that PyPI's torch imports) is kept out by gunicorn.conf.py, and the
    accuracy toolkit's sklearn and scipy load only in the commands that use them: ~170 MB per worker."""
    workers = server.worker_pids()
    assert len(workers) == 2, server.log_tail()

    def libraries(worker: int) -> str:
        return Path(f"/proc/{worker}/maps").read_text()

    deadline = time.monotonic() + 120  # a worker that has not answered yet may still be loading its models
    while not all("libtorch_cpu" in libraries(w) for w in workers) and time.monotonic() < deadline:
        time.sleep(0.5)
    for worker in workers:
        loaded = libraries(worker)
        assert "libtorch_cpu" in loaded, server.log_tail()  # torch is there: the check below is not vacuous
        for unused in ("/triton/", "/sklearn/", "/scipy/"):
            assert unused not in loaded, f"worker {worker} has {unused} loaded"
