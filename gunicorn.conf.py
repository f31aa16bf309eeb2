"""gunicorn settings for `gunicorn run:app` (each can be overridden with GUNICORN_CMD_ARGS)."""

import os

bind = os.environ.get("ABSEN_BIND", "127.0.0.1:5000")
# One process per core; each loads the models once (about 0.5 GB) and serves a few threads.
workers = int(os.environ.get("ABSEN_WORKERS", "2"))
threads = int(os.environ.get("ABSEN_THREADS", "2"))
# Recognition of a large photo takes well under a second; this only bounds a stuck request.
timeout = int(os.environ.get("ABSEN_TIMEOUT", "60"))
accesslog = "-"
# No control socket: several servers (replicas, the end-to-end test) may run as one user.
control_socket_disable = True
# Each worker's torch uses one thread unless told otherwise: the workers already fill the cores.
os.environ.setdefault("TORCH_THREADS", "1")
