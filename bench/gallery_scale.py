"""1:N search at scale: the service's own gallery (FaceService) over 100,000 and 1,000,000 templates.

    python bench/gallery_scale.py [--sizes 100000 1000000] [--queries 50] [--record]

For each size, random unit vectors (128-d, as dlib's) are written as employees and templates into a
fresh SQLite database through the schema the app migrates to. Then the script measures, in this
process, how the app would see it:
- load: the gallery load a worker does at start and after every enrolment (one query, one matrix),
  single run;
- memory: the resident size the loaded gallery adds (RSS after minus before) and the peak during
  the load;
- search: Gallery.identify for a probe, median and p95 of --queries runs.
With --record the table replaces the `gallery` section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import gc
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import insert  # noqa: E402

from app import create_app  # noqa: E402
from app.face import FaceService, face_service  # noqa: E402
from config import TestingConfig  # noqa: E402
from models import Employee, FaceTemplate, db, utcnow  # noqa: E402

DIM = 128
CHUNK = 20_000


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS")) / 1024


def fill(size: int, model: str) -> None:
    rng = np.random.default_rng(size)
    now = utcnow()
    for start in range(0, size, CHUNK):
        count = min(CHUNK, size - start)
        db.session.execute(insert(Employee), [
            {"employee_id": f"E{start + i:07d}", "name": f"Person {start + i}", "active": True, "created_at": now}
            for i in range(count)])
        vectors = rng.standard_normal((count, DIM)).astype("<f4")
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        db.session.execute(insert(FaceTemplate), [
            {"employee_pk": start + i + 1, "model": model, "dim": DIM, "vector": vectors[i].tobytes(),
             "image_sha256": "0" * 64, "created_at": now} for i in range(count)])
        db.session.commit()


def measure(size: int, queries: int, engine) -> dict:
    folder = Path(tempfile.mkdtemp(prefix="absen-gallery-"))
    app = create_app(TestingConfig, {"INSTANCE_DIR": folder, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'g.db'}"},
                     face_engine=engine)
    with app.app_context():
        started = time.perf_counter()
        fill(size, engine.model_name)
        fill_seconds = time.perf_counter() - started
        service = FaceService(face_service().engine, face_service().threshold)
        gc.collect()
        before = rss_mb()
        started = time.perf_counter()
        gallery = service.gallery()
        load_seconds = time.perf_counter() - started
        after = rss_mb()
        probe = gallery.vectors[size // 2] * 0.9 + gallery.vectors[size // 3] * 0.1
        probe /= np.linalg.norm(probe)
        times = []
        for _ in range(queries):
            started = time.perf_counter()
            match = gallery.identify(probe, service.threshold)
            times.append((time.perf_counter() - started) * 1000)
        assert match.label == f"E{size // 2:07d}", match
    db_mb = (folder / "g.db").stat().st_size / 2**20
    return {"size": size, "fill_s": fill_seconds, "db_mb": db_mb, "load_s": load_seconds, "rss_added_mb": after - before,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "search_p50_ms": statistics.median(times), "search_p95_ms": sorted(times)[int(0.95 * (len(times) - 1))]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--queries", type=int, default=50)
    parser.add_argument("--record", action="store_true")
    args = parser.parse_args()
    from embeddings import load_engine
    from tests.conftest import engine_settings, vars_of

    engine = load_engine(engine_settings(vars_of(TestingConfig)))
    rows = [measure(size, args.queries, engine) for size in sorted(args.sizes)]
    lines = [f"Machine: {os.cpu_count()} cores, no GPU; `python bench/gallery_scale.py --sizes "
             f"{' '.join(map(str, args.sizes))} --queries {args.queries}`. Search: medians and p95 of "
             f"{args.queries} runs; load: single run; peak RSS is the process's maximum so far (engine included).",
             "", "| templates | SQLite file | gallery load (start, after an enrolment) | RSS added | peak RSS "
             "| 1:N search p50 | p95 |", "|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['size']:,} | {r['db_mb']:.0f} MB | {r['load_s']:.2f} s | {r['rss_added_mb']:.0f} MB "
                     f"| {r['peak_rss_mb']:.0f} MB | {r['search_p50_ms']:.1f} ms | {r['search_p95_ms']:.1f} ms |")
    markdown = "\n".join(lines)
    print(markdown)
    if args.record:
        from bench.latency import record

        record(markdown, section="bench/gallery_scale.py", title="1:N gallery at scale (load, memory, search)")


if __name__ == "__main__":
    main()
