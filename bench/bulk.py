"""Bulk enrolment throughput: photos per second, one by one vs batched, on LFW folders.

    python bench/bulk.py [--photos 256] [--repeat 3] [--threads 2]

Uses the first N images of ../shared/datasets/lfw (250x250 JPEGs). Reports the median of the
repeats for: embed_bytes one photo at a time, and embed_many in batches of 8, 16 and 32.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from embeddings import EngineSettings, load_engine  # noqa: E402
from embeddings.errors import FaceEngineError  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", type=Path, default=Path(os.environ.get("ABSEN_DATASETS", "../shared/datasets")))
    parser.add_argument("--photos", type=int, default=256)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--model", choices=["dlib", "facenet"], default="dlib")
    args = parser.parse_args()

    import torch

    torch.set_num_threads(args.threads)
    paths = sorted((args.datasets / "lfw").glob("*/*.jpg"))[: args.photos]
    photos = [p.read_bytes() for p in paths]
    engine = load_engine(EngineSettings(model=args.model))
    engine.warm_up()

    def one_by_one() -> None:
        for data in photos:
            try:
                engine.embed_bytes(data)
            except FaceEngineError:
                pass

    def batched(size: int):
        def run() -> None:
            for start in range(0, len(photos), size):
                engine.embed_many(photos[start:start + size])
        return run

    print(f"{len(photos)} LFW photos, model {engine.model_name}, torch threads {args.threads}, "
          f"median of {args.repeat} runs\n")
    print("| mode | photos/s | speed-up |")
    print("|---|---|---|")
    baseline = None
    for name, run in [("one by one", one_by_one), ("batches of 8", batched(8)), ("batches of 16", batched(16)),
                      ("batches of 32", batched(32))]:
        times = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            run()
            times.append(time.perf_counter() - start)
        rate = len(photos) / statistics.median(times)
        baseline = baseline or rate
        print(f"| {name} | {rate:.1f} | {rate / baseline:.2f}x |")


if __name__ == "__main__":
    main()
