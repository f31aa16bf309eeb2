"""1:N search at scale: the service's own gallery (FaceService) over 100,000 and 1,000,000 templates.

    python bench/gallery_scale.py [--sizes 100000 1000000] [--queries 200] [--record]

For each size, random unit vectors (128-d, as dlib's) are written as employees (one template each)
into a fresh SQLite database through the schema the app migrates to. Then, for each index kind (exact
flat float32, and the IVF-SQfp16 index the service uses from GALLERY_IVF_MIN on), a fresh process
measures what a server would see:
- load: the full gallery load a worker does at start (one chunked query, one index), single run;
- RSS added: resident size after the load minus before (the process holds no face models here:
  the gallery does not use them);
- search: Gallery.identify, median and p95 of --queries probes;
- recall: the share of probes whose own template is found. Probes are a template plus noise, at
  cosine 0.92 to it (dlib's calibrated threshold: the hardest genuine match that is still accepted);
  random vectors do not cluster as faces do, which makes them the hard case for an IVF index;
- refresh: what another server's enrolment costs this one (one employee's templates patched in:
  version check, changed employees, their rows), median of 5.
With --record the table replaces the `gallery` section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

DIM = 128
CHUNK = 20_000
MODEL = "dlib-resnet-v1"
PROBE_SIMILARITY = 0.92


class GalleryOnlyEngine:
    """What FaceService needs of an engine to hold a gallery: the model's name and dimension."""

    model_name, embedding_dim = MODEL, DIM

    def warm_up(self) -> None:
        pass


def rss_mb(field: str = "VmRSS") -> float:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith(field)) / 1024


def peak_rss_mb() -> float:
    return rss_mb("VmHWM")  # this process's high-water mark (not inherited: the parent stays small)


def new_app(folder: Path):
    from app import create_app
    from config import TestingConfig

    return create_app(TestingConfig, {"INSTANCE_DIR": folder, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'g.db'}"},
                      face_engine=GalleryOnlyEngine())


def unit_rows(rng: np.random.Generator, count: int) -> np.ndarray:
    vectors = rng.standard_normal((count, DIM)).astype("<f4")
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def fill(folder: str, size: int) -> float:
    from sqlalchemy import insert

    from models import Employee, FaceTemplate, db, utcnow

    started = time.perf_counter()
    app, rng, now = new_app(Path(folder)), np.random.default_rng(size), utcnow()
    with app.app_context():
        for start in range(0, size, CHUNK):
            count = min(CHUNK, size - start)
            db.session.execute(insert(Employee), [
                {"employee_id": f"E{start + i:07d}", "name": f"Person {start + i}", "active": True, "created_at": now}
                for i in range(count)])
            db.session.execute(insert(FaceTemplate), [
                {"employee_pk": start + i + 1, "model": MODEL, "dim": DIM, "vector": vector.tobytes(),
                 "image_sha256": "0" * 64, "created_at": now} for i, vector in enumerate(unit_rows(rng, count))])
            db.session.commit()
    return time.perf_counter() - started


def probes(size: int, count: int) -> tuple[np.ndarray, np.ndarray]:
    """Employee keys, and for each a probe at PROBE_SIMILARITY to its template (read from the database)."""
    from sqlalchemy import select

    from app.face import unpack_vectors
    from models import FaceTemplate, db

    rng = np.random.default_rng(1)
    keys = np.sort(rng.choice(size, count, replace=False) + 1)
    rows = db.session.execute(select(FaceTemplate.employee_pk, FaceTemplate.vector)
                              .where(FaceTemplate.employee_pk.in_(keys.tolist())).order_by(FaceTemplate.employee_pk)).all()
    templates = unpack_vectors([r.vector for r in rows], DIM)
    noise = unit_rows(rng, count)
    noise -= np.sum(noise * templates, axis=1, keepdims=True) * templates  # orthogonal to the template
    noise /= np.linalg.norm(noise, axis=1, keepdims=True)
    found = PROBE_SIMILARITY * templates + np.sqrt(1 - PROBE_SIMILARITY**2) * noise
    return np.array([r.employee_pk for r in rows]), found.astype(np.float32)


def measure(folder: str, size: int, kind: str, queries: int) -> dict:
    from sqlalchemy import delete, insert

    from app.face import FaceService, bump_gallery_version
    from embeddings import IndexSettings
    from models import Employee, FaceTemplate, db, utcnow

    app = new_app(Path(folder))
    settings = IndexSettings(ivf_min=1 if kind == "ivf" else 10**12)
    with app.app_context():
        service = FaceService(GalleryOnlyEngine(), 0.92, settings)
        before = rss_mb()
        started = time.perf_counter()
        gallery = service.gallery()
        load_seconds = time.perf_counter() - started
        added = rss_mb() - before
        assert (gallery.kind, len(gallery)) == (kind, size), (gallery.kind, len(gallery))
        labels, vectors = probes(size, queries)
        times, found = [], 0
        for label, probe in zip(labels, vectors, strict=True):
            started = time.perf_counter()
            match = gallery.identify(probe, PROBE_SIMILARITY - 0.01)
            times.append((time.perf_counter() - started) * 1000)
            found += match.label == label
        refreshes = []
        for number in range(5):  # another server enrols someone with three photos
            employee = Employee(employee_id=f"NEW-{number}", name="New", created_at=utcnow())
            db.session.add(employee)
            db.session.flush()
            db.session.execute(insert(FaceTemplate), [
                {"employee_pk": employee.id, "model": MODEL, "dim": DIM, "vector": v.tobytes(), "image_sha256": "0" * 64,
                 "created_at": utcnow()} for v in unit_rows(np.random.default_rng(number), 3)])
            bump_gallery_version(employee.id)
            db.session.commit()
            started = time.perf_counter()
            assert len(service.gallery()) == size + 3 * (number + 1)
            refreshes.append((time.perf_counter() - started) * 1000)
        assert service.full_loads == 1
        db.session.execute(delete(Employee).where(Employee.employee_id.like("NEW-%")))  # the next kind's start
        db.session.commit()
    return {"load_s": load_seconds, "rss_added_mb": added, "peak_rss_mb": peak_rss_mb(),
            "search_p50_ms": statistics.median(times), "search_p95_ms": float(np.percentile(times, 95)),
            "recall": found / len(labels), "refresh_ms": statistics.median(refreshes)}


def in_fresh_process(function, *args):
    """Each measurement in its own process, so that memory figures do not inherit the previous one's."""
    with concurrent.futures.ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(function, *args).result()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--kinds", nargs="+", default=["exact", "ivf"], choices=["exact", "ivf"])
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--record", action="store_true")
    args = parser.parse_args()
    from app.face import CHANGES_KEPT  # noqa: F401  (the app imports cleanly before any child starts)
    from config import Config

    rows = []
    for size in sorted(args.sizes):
        with tempfile.TemporaryDirectory(prefix="absen-gallery-") as folder:
            fill_seconds = in_fresh_process(fill, folder, size)
            db_mb = (Path(folder) / "g.db").stat().st_size / 2**20
            print(f"{size:,} templates written in {fill_seconds:.0f} s ({db_mb:.0f} MB)", flush=True)
            for kind in args.kinds:
                row = {"size": size, "kind": kind, "db_mb": db_mb,
                       **in_fresh_process(measure, folder, size, kind, args.queries)}
                print(row, flush=True)
                rows.append(row)
    lines = [f"Machine: {os.cpu_count()} cores, no GPU; `python bench/gallery_scale.py --sizes "
             f"{' '.join(map(str, args.sizes))} --queries {args.queries}`. Each row in a fresh process holding only the "
             f"gallery (no face models). Search: median and p95 of {args.queries} probes at cosine {PROBE_SIMILARITY} to "
             f"their template; recall: share of those probes whose template was found; load: single run; refresh: "
             f"median of 5 (an enrolment made elsewhere, patched in). The service picks `ivf` from "
             f"GALLERY_IVF_MIN = {Config.GALLERY_IVF_MIN:,} templates on, scanning GALLERY_IVF_PROBES = "
             f"{Config.GALLERY_IVF_PROBES} of its ~sqrt(n) lists.",
             "", "| templates | index | SQLite file | gallery load (start) | RSS added | process peak RSS "
             "| search p50 | p95 | recall | refresh after an enrolment |", "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['size']:,} | {r['kind']} | {r['db_mb']:.0f} MB | {r['load_s']:.2f} s | {r['rss_added_mb']:.0f} MB "
                     f"| {r['peak_rss_mb']:.0f} MB | {r['search_p50_ms']:.2f} ms | {r['search_p95_ms']:.2f} ms "
                     f"| {r['recall']:.1%} | {r['refresh_ms']:.1f} ms |")
    markdown = "\n".join(lines)
    print(markdown)
    if args.record:
        from bench.latency import record

        record(markdown, section="bench/gallery_scale.py", title="1:N gallery at scale (load, memory, search)")


if __name__ == "__main__":
    main()
