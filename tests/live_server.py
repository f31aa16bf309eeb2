"""The production server (gunicorn, as `make run` starts it) in a process of its own, for tests over real HTTP."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

ADMIN_PASSWORD = "e2e-admin-password"
ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(instance: Path, port: int, **settings: str) -> subprocess.Popen:
    """gunicorn as `make run` starts it, in its own process group (so a test can kill all of it at once)."""
    env = {
        **os.environ,
        "ABSEN_INSTANCE_DIR": str(instance),
        "ABSEN_BIND": f"127.0.0.1:{port}",
        "ABSEN_WORKERS": "2",
        "FACE_MODEL": "dlib",
        "ABSEN_ADMIN_USERNAME": "admin",
        "ABSEN_ADMIN_PASSWORD": ADMIN_PASSWORD,
        **settings,
    }
    log = (instance / "server.log").open("a")
    gunicorn = Path(sys.executable).with_name("gunicorn")
    process = subprocess.Popen([str(gunicorn), "-c", "gunicorn.conf.py", "run:app"], cwd=ROOT, env=env,
                               stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    log.close()  # the child keeps its own descriptor
    wait_until_healthy(f"http://127.0.0.1:{port}", process, instance / "server.log")
    return process


@contextlib.contextmanager
def running_server(instance: Path, **settings: str) -> Iterator[Server]:
    """A server on a free port for the `with` block, stopped as gunicorn is stopped (SIGTERM) after it."""
    port = free_port()
    process = start_server(instance, port, **settings)
    try:
        yield Server(f"http://127.0.0.1:{port}", instance / "server.log", process.pid)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with running_server(tmp_path_factory.mktemp("instance")) as started:
        yield started


class Server(str):
    """The base URL, which also knows where the server's log is (shown when a check fails) and the
    gunicorn master's process id."""

    def __new__(cls, base: str, log: Path, pid: int):
        server = super().__new__(cls, base)
        server.log, server.pid = log, pid
        return server

    def worker_pids(self) -> list[int]:
        children = Path(f"/proc/{self.pid}/task/{self.pid}/children").read_text().split()
        return [int(child) for child in children]

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
