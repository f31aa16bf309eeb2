"""/predict over real HTTP to the production server, started as `make run` starts it (gunicorn).

    python bench/latency.py [--requests 40] [--clients 16] [--duration 60] [--runs 3] [--record]

Enrols 5 people of ../shared/datasets/people (2 photos each), then measures, against a kiosk
(HR token, 1:N over everyone):
- latency percentiles, one request at a time, on other photos of those people: <= 1 MP as they
  are, and 12 MP and 36 MP made by upscaling (as bench/stages.py: phone-like files, since the
  collection has few phone-size photos);
- the first request after start against the steady median;
- throughput with N concurrent clients for D seconds (small photos), p50/p99 and errors;
- resident memory of each gunicorn worker.
Every request's photo gets a few random bytes after the JPEG's end, so that no two uploads are
the same bytes (as with real selfies; the replay defence would refuse exact repeats).
With --record the Markdown it prints replaces the `http` section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from stages import photo_sets  # noqa: E402

PEOPLE = ["jerry_seinfeld", "mindy_kaling", "madonna", "elton_john", "ben_afflek"]
ADMIN = ("admin", "bench-admin-password")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(instance: Path, port: int) -> subprocess.Popen:
    env = {**os.environ, "ABSEN_INSTANCE_DIR": str(instance), "ABSEN_BIND": f"127.0.0.1:{port}",
           "ABSEN_ADMIN_USERNAME": ADMIN[0], "ABSEN_ADMIN_PASSWORD": ADMIN[1], "FACE_MODEL": "dlib",
           # The load run plays many kiosks through one account: lift its per-account /predict limit.
           "PREDICT_TOKEN_LIMIT": "100000 per minute"}
    gunicorn = Path(sys.executable).with_name("gunicorn")
    log = (instance / "server.log").open("w")
    return subprocess.Popen([str(gunicorn), "-c", "gunicorn.conf.py", "run:app"], cwd=ROOT, env=env,
                            stdout=log, stderr=subprocess.STDOUT)


def wait_healthy(base: str, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{base}/health", timeout=2).ok:
                return
        except requests.RequestException:  # not listening yet, or a worker still loading
            pass
        time.sleep(0.5)
    raise SystemExit("the server did not become healthy")


def unique(photo: bytes) -> bytes:
    return photo + secrets.token_bytes(8)  # after the JPEG's end: ignored by decoders, new SHA-256


def predict(base: str, token: str, photo: bytes) -> tuple[float, int]:
    start = time.perf_counter()
    response = requests.post(f"{base}/predict", headers={"Authorization": f"Bearer {token}"},
                             files={"photo": ("selfie.jpg", unique(photo), "image/jpeg")}, timeout=60)
    return (time.perf_counter() - start) * 1000, response.status_code


def percentiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)

    def nearest_rank(q: float) -> float:
        return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]

    return {"p50": statistics.median(ordered), "p90": nearest_rank(0.9), "p99": nearest_rank(0.99)}


def enrol(base: str, token: str, datasets: Path) -> list[bytes]:
    """Enrol PEOPLE with their first 2 photos; return their other photos (the probes)."""
    probes = []
    for person in PEOPLE:
        photos = sorted((datasets / "people" / person).iterdir())
        files = [("photo", (p.name, p.read_bytes())) for p in photos[:2]]
        response = requests.post(f"{base}/register", headers={"Authorization": f"Bearer {token}"},
                                 data={"employee_id": person, "name": person}, files=files, timeout=120)
        response.raise_for_status()
        probes.extend(p.read_bytes() for p in photos[2:6])
    return probes


def load(base: str, token: str, photos: list[bytes], clients: int, duration: float) -> dict:
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    stop = time.monotonic() + duration

    def client(offset: int) -> None:
        index = offset
        while time.monotonic() < stop:
            elapsed, status = predict(base, token, photos[index % len(photos)])
            index += 1
            with lock:
                latencies.append(elapsed)
                statuses[status] = statuses.get(status, 0) + 1

    started = time.monotonic()
    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.monotonic() - started
    return {"requests": len(latencies), "per_second": len(latencies) / wall, "statuses": statuses,
            **percentiles(latencies)}


def worker_memory_mb(master: int) -> list[dict[str, float]]:
    """Each worker's resident memory, and the part of it that is its own (anonymous): the rest is
    mapped files (mostly torch's libraries), shared with the other workers and the page cache, whose
    resident share varies from run to run with what the kernel keeps mapped."""
    children = subprocess.run(["pgrep", "-P", str(master)], capture_output=True, text=True).stdout.split()
    sizes = []
    for pid in children:
        rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
        sizes.append({field: int(re.search(rf"^{field}:\s+(\d+) kB", rollup, re.M).group(1)) / 1024
                      for field in ("Rss", "Anonymous")})
    return sizes


def cpu_probe_ms(repeat: int = 30) -> float:
    """Median time of a fixed convolution (torch, 1 thread): how fast this shared VM is right now.

    Its speed drifts (the same probe has ranged from 2.7 to 7 ms within a minute), so every figure
    below is a median over runs, printed next to this probe.
    """
    import torch

    torch.set_num_threads(1)
    x, w = torch.randn(1, 32, 72, 72), torch.randn(32, 32, 3, 3)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        torch.nn.functional.conv2d(x, w, padding=1)
        times.append((time.perf_counter() - start) * 1000)
        time.sleep(0.02)
    return statistics.median(times)


SET_NAMES = ("probes of enrolled people (as they are)", "<= 1 MP, people/*", "12 MP (upscaled), people/*",
             "36 MP (upscaled), people/*")


def one_run(base: str, token: str, sets: dict[str, list[bytes]], probes: list[bytes], args) -> dict:
    photo_sets_in_order = (probes, sets["small (<= 1 MP)"], sets["12 MP (upscaled)"], sets["36 MP (upscaled)"])
    rows = {name: percentiles([predict(base, token, photos[i % len(photos)])[0] for i in range(args.requests)])
            for name, photos in zip(SET_NAMES, photo_sets_in_order, strict=True)}
    small = [p for p in probes if len(p) < 400_000] or probes
    return {"rows": rows, "load": load(base, token, small, args.clients, args.duration), "probe": cpu_probe_ms()}


def run(args) -> str:
    sets = photo_sets(args.datasets, limit=10)
    with tempfile.TemporaryDirectory() as folder:
        instance, port = Path(folder), free_port()
        server = start_server(instance, port)
        base = f"http://127.0.0.1:{port}"
        try:
            wait_healthy(base)
            token = requests.post(f"{base}/login", json=dict(zip(("username", "password"), ADMIN, strict=True)),
                                  timeout=10).json()["access_token"]
            probes = enrol(base, token, args.datasets)
            first, _ = predict(base, token, probes[0])
            runs = [one_run(base, token, sets, probes, args) for _ in range(args.runs)]
            memory = worker_memory_mb(server.pid)
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=60)
    return report(args, runs, first, memory)


def report(args, runs: list[dict], first: float, memory: list[dict[str, float]]) -> str:
    def median_of(values) -> float:
        return statistics.median(values)

    def listed(values, digits: int = 0) -> str:
        return ", ".join(f"{v:.{digits}f}" for v in values)

    workers, threads = os.environ.get("ABSEN_WORKERS", "2"), os.environ.get("ABSEN_THREADS", "2")
    rows = {name: {q: median_of([r["rows"][name][q] for r in runs]) for q in ("p50", "p90", "p99")} for name in SET_NAMES}
    loads = [r["load"] for r in runs]
    steady = rows[SET_NAMES[1]]["p50"]
    worker_memory = ", ".join(f"{m['Rss']:.0f} MB ({m['Anonymous']:.0f} MB)" for m in memory)
    statuses: dict[int, int] = {}
    for one in loads:
        for status, count in one["statuses"].items():
            statuses[status] = statuses.get(status, 0) + count
    return "\n".join([
        f"Command: `python bench/latency.py --requests {args.requests} --clients {args.clients} --duration "
        f"{args.duration:g} --runs {args.runs}`; gunicorn {workers} workers × {threads} threads, torch 1 thread per "
        f"worker, dlib model, 5 people enrolled, kiosk token (1:N). Latencies in ms over real HTTP on 127.0.0.1, one "
        f"request at a time ({args.requests} per set and run); each figure is the **median over {args.runs} runs** "
        f"(per-run p50s in brackets). The load generator runs on the same 2 cores as the server.",
        "",
        "| photos | p50 | p90 | p99 | p50 of each run |",
        "|---|---|---|---|---|",
        *(f"| {name} | {rows[name]['p50']:.0f} | {rows[name]['p90']:.0f} | {rows[name]['p99']:.0f} | "
          f"{listed(r['rows'][name]['p50'] for r in runs)} |" for name in SET_NAMES),
        "",
        f"First request after start: {first:.0f} ms ({first / steady:.1f}× the steady p50 on ≤ 1 MP photos).",
        "",
        f"Load: {args.clients} concurrent clients for {args.duration:g} s on the enrolled people's photos, {args.runs} "
        f"runs: **{median_of([x['per_second'] for x in loads]):.1f} verifications/s** (median; runs: "
        f"{listed((x['per_second'] for x in loads), 1)}), p50 {median_of([x['p50'] for x in loads]):.0f} ms, "
        f"p99 {median_of([x['p99'] for x in loads]):.0f} ms (runs: {listed(x['p99'] for x in loads)}), "
        f"status codes over all runs {statuses}.",
        "",
        f"Machine speed at the end of each run (a fixed 1-thread convolution, median of 30): "
        f"{listed((r['probe'] for r in runs), 2)} ms.",
        "",
        f"Worker memory after all runs, RSS (of which anonymous, the worker's own): "
        f"{worker_memory}.",
    ])


def record(markdown: str, section: str = "bench/latency.py", title: str = "/predict over HTTP (production server)",
           path: Path = ROOT / "docs" / "benchmarks.md") -> None:
    """Replace the marked section of docs/benchmarks.md with `markdown` (appended, titled, the first time)."""
    begin, end = f"<!-- {section}: begin -->", f"<!-- {section}: end -->"
    text = path.read_text()
    block = f"{begin}\n{markdown}\n{end}"
    if begin in text:
        text = re.sub(re.escape(begin) + ".*?" + re.escape(end), lambda _: block, text, flags=re.S)
    else:
        text = text.rstrip() + f"\n\n## {title}\n\n{block}\n"
    path.write_text(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", type=Path, default=Path(os.environ.get("ABSEN_DATASETS", ROOT.parent / "shared" / "datasets")))
    parser.add_argument("--requests", type=int, default=40, help="sequential requests per photo set")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--runs", type=int, default=3, help="repeat the latency and load runs; report medians")
    parser.add_argument("--record", action="store_true", help="write the figures into docs/benchmarks.md")
    args = parser.parse_args()
    markdown = run(args)
    print(markdown)
    if args.record:
        record(markdown)


if __name__ == "__main__":
    main()
