"""gunicorn settings for `gunicorn run:app` (each can be overridden with GUNICORN_CMD_ARGS)."""

import os
import sys

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
# PyPI's torch (a CUDA build) imports triton, a GPU kernel compiler, whenever torch._dynamo loads, and
# torchvision's ops load it. This service compiles no kernels: keeping triton out of the workers (they
# fork from this process) saves ~100 MB of each one's memory (docs/benchmarks.md, Memory).
sys.modules.setdefault("triton", None)
# oneDNN keeps a compiled kernel for every convolution shape it meets (1,024 by default): each photo
# size and each batch of candidate faces is a new shape. 64 of them hold a kiosk's repeated sizes, cap
# the growth (+49 MB -> +26 MB over 160 photos) and measured no slower (docs/benchmarks.md, Memory).
os.environ.setdefault("ONEDNN_PRIMITIVE_CACHE_CAPACITY", "64")


def _glibc():
    """glibc, for its allocator settings; None where the C library is another (musl, macOS)."""
    import ctypes

    try:
        libc = ctypes.CDLL("libc.so.6")
        return libc if hasattr(libc, "malloc_trim") and hasattr(libc, "mallopt") else None
    except OSError:
        return None


_libc = _glibc()
M_ARENA_MAX = -8  # mallopt's parameter number (malloc.h)
if _libc is not None:
    # One heap for all of a worker's threads: with one heap per request thread, each kept ~40 MB of
    # fragments that trimming could not return (workers grew +85 MB over a benchmark run, +20 MB with
    # one). Set here, in the master, so that forked workers start with it; as fast under load.
    _libc.mallopt(M_ARENA_MAX, 1)


def post_request(worker, req, environ, resp):
    # Decoded photos and tensors leave freed but fragmented heap behind (+88 MB after 80 photos in
    # one process, +23 MB with this); handing it back keeps workers under 1 GB. It runs after the
    # response is sent and costs ~2 ms (docs/benchmarks.md).
    if _libc is not None:
        _libc.malloc_trim(0)
