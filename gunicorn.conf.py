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


def _heap_trimmer():
    """glibc's malloc_trim, or None where the C library has none (musl, macOS)."""
    import ctypes

    try:
        return ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return None


_malloc_trim = _heap_trimmer()


def post_request(worker, req, environ, resp):
    # Decoded photos and tensors leave freed but fragmented heap behind (+88 MB after 80 photos in
    # one process, +23 MB with this); handing it back keeps workers under 1 GB. It runs after the
    # response is sent and costs ~2 ms (docs/benchmarks.md).
    if _malloc_trim is not None:
        _malloc_trim(0)
