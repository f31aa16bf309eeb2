"""Per-stage timings of the face engine (decode, detect, embed, match), medians of repeated runs.

    python bench/stages.py [--repeat 5] [--datasets ../shared/datasets]

Photos: every `people/*` photo of 1 MP or less ("small"), and a 12 MP set made by upscaling the
`people/*` photos over 0.5 MP to 4000 px on the long side and saving them as JPEG quality 92
("12 MP", upscaled: the collection holds few real phone-size photos). Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from embeddings import EngineSettings, Gallery, load_engine  # noqa: E402
from embeddings.errors import FaceEngineError  # noqa: E402


def photo_sets(datasets: Path, limit: int) -> dict[str, list[bytes]]:
    small, large = [], []
    for path in sorted((datasets / "people").glob("*/*")):
        if path.suffix.lower() not in (".jpg", ".jpeg", ".png"):
            continue
        with Image.open(path) as image:
            pixels = image.width * image.height
            if pixels <= 1_000_000 and len(small) < limit:
                small.append(path.read_bytes())
            if pixels > 500_000 and len(large) < limit:
                rgb = image.convert("RGB")
                scale = 4000 / max(rgb.size)
                big = rgb.resize((round(rgb.width * scale), round(rgb.height * scale)), Image.Resampling.BICUBIC)
                buffer = io.BytesIO()
                big.save(buffer, "JPEG", quality=92)
                large.append(buffer.getvalue())
    return {"small (<= 1 MP)": small, "12 MP (upscaled)": large}


def time_stages(engine, photos: list[bytes], repeat: int) -> dict[str, float]:
    """Median milliseconds per stage over every photo and repetition."""
    timings: dict[str, list[float]] = {"decode": [], "detect": [], "embed": [], "total": []}
    for _ in range(repeat):
        for data in photos:
            start = time.perf_counter()
            image = engine.decode(data)
            decoded = time.perf_counter()
            faces = engine.detector.detect(image)
            detected = time.perf_counter()
            try:
                face = engine.policy.select(faces)
            except FaceEngineError:
                continue
            engine.embedder.embed(image, [face])
            embedded = time.perf_counter()
            timings["decode"].append(decoded - start)
            timings["detect"].append(detected - decoded)
            timings["embed"].append(embedded - detected)
            timings["total"].append(embedded - start)
    return {stage: 1000 * statistics.median(values) for stage, values in timings.items()}


def time_match(dim: int, sizes: tuple[int, ...], repeat: int = 50) -> dict[int, float]:
    rng = np.random.default_rng(0)
    results = {}
    for size in sizes:
        vectors = rng.standard_normal((size, dim)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        gallery = Gallery((i // 3 for i in range(size)), vectors)
        probe = vectors[size // 2]
        runs = []
        for _ in range(repeat):
            start = time.perf_counter()
            gallery.identify(probe, 0.9)
            runs.append(time.perf_counter() - start)
        results[size] = 1000 * statistics.median(runs)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", type=Path, default=Path(os.environ.get("ABSEN_DATASETS", "../shared/datasets")))
    parser.add_argument("--model", choices=["dlib", "facenet"], default="dlib")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--limit", type=int, default=20, help="photos per set")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (the server uses 1 per worker)")
    args = parser.parse_args()

    import torch

    torch.set_num_threads(args.threads)
    engine = load_engine(EngineSettings(model=args.model))
    engine.warm_up()
    print(f"model {engine.model_name}, torch threads {args.threads}, {args.repeat} runs per photo, medians in ms\n")
    print("| photos | n | decode | detect | embed | total |")
    print("|---|---|---|---|---|---|")
    for name, photos in photo_sets(args.datasets, args.limit).items():
        t = time_stages(engine, photos, args.repeat)
        print(f"| {name} | {len(photos)} | {t['decode']:.1f} | {t['detect']:.1f} | {t['embed']:.1f} | {t['total']:.1f} |")
    print("\n| templates in gallery | 1:N match (ms, median of 50) |")
    print("|---|---|")
    for size, ms in time_match(engine.embedding_dim, (1_000, 10_000, 100_000)).items():
        print(f"| {size:,} | {ms:.2f} |")


if __name__ == "__main__":
    main()
