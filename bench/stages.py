"""Per-stage timings of the face engine (decode, detect, embed, match), medians of repeated runs.

    python bench/stages.py [--repeat 5] [--datasets ../shared/datasets]

Also times the two stages this engine does itself against the libraries it stands in for (dlib's
face descriptor; facenet-pytorch's MTCNN), on the same inputs, as medians and their ratio.

Photos: every `people/*` photo of 1 MP or less ("small"), and 12 MP and 36 MP sets made from the
`people/*` photos over 0.5 MP (the collection holds few real phone-size photos): upscaled to that
many pixels, given a sensor-like grain and saved as JPEG quality 92, so that the files weigh what a
phone's do (about 2.5 MB and 7 MB; upscaled photos alone compress to half that and decode faster).
Prints a Markdown table.
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

LARGE_SETS = {"12 MP (upscaled)": 12_000_000, "36 MP (upscaled)": 36_000_000}
GRAIN_SIGMA = 4  # grey levels of Gaussian noise: a 12 MP JPEG then weighs ~2.5 MB, as a phone's does


def photo_sets(datasets: Path, limit: int) -> dict[str, list[bytes]]:
    small, sources = [], []
    for path in sorted((datasets / "people").glob("*/*")):
        if path.suffix.lower() not in (".jpg", ".jpeg", ".png"):
            continue
        with Image.open(path) as image:
            pixels = image.width * image.height
            if pixels <= 1_000_000 and len(small) < limit:
                small.append(path.read_bytes())
            if pixels > 500_000 and len(sources) < limit:
                sources.append(image.convert("RGB"))
    grain = np.random.default_rng(0)
    large = {name: [phone_like(source, pixels, grain) for source in sources] for name, pixels in LARGE_SETS.items()}
    return {"small (<= 1 MP)": small, **large}


def phone_like(image: Image.Image, pixels: int, grain: np.random.Generator) -> bytes:
    """`image` upscaled to about `pixels`, with grain, as a quality-92 JPEG."""
    scale = (pixels / (image.width * image.height)) ** 0.5
    big = np.asarray(image.resize((round(image.width * scale), round(image.height * scale)), Image.Resampling.BICUBIC),
                     dtype=np.float32)
    noisy = np.clip(big + grain.normal(0, GRAIN_SIGMA, big.shape).astype(np.float32), 0, 255).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(noisy).save(buffer, "JPEG", quality=92)
    return buffer.getvalue()


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


def time_replacements(engine, photos: list[bytes], repeat: int) -> dict[str, tuple[float, float]]:
    """The two stages done faster than the libraries do them, against the libraries, same inputs.

    - dlib's compute_face_descriptor vs the same network in torch, on the same aligned chip;
    - facenet-pytorch's MTCNN.detect vs our MTCNN driver, on the same detection copies.
    Medians in ms (library, ours).
    """
    import dlib
    from facenet_pytorch import MTCNN

    from embeddings.embedders import dlib_model_dir
    from embeddings.image import downscaled

    recogniser = dlib.face_recognition_model_v1(str(dlib_model_dir() / "dlib_face_recognition_resnet_model_v1.dat"))
    reference = MTCNN(keep_all=True, min_face_size=engine.detector.min_face_size, post_process=False)
    timings: dict[str, list[float]] = {"dlib": [], "torch": [], "facenet-pytorch": [], "driver": []}

    def timed(key: str, call) -> None:
        start = time.perf_counter()
        call()
        timings[key].append(time.perf_counter() - start)

    for _ in range(repeat):
        for data in photos:
            image = engine.decode(data)
            copy, _ = downscaled(image, engine.detector.detection_max_side)
            timed("facenet-pytorch", lambda copy=copy: reference.detect(copy, landmarks=True))
            timed("driver", lambda image=image: engine.detector.detect(image))
            try:
                face = engine.policy.select(engine.detector.detect(image))
            except FaceEngineError:
                continue
            chip = engine.embedder.aligned_chip(image, face)
            timed("dlib", lambda chip=chip: recogniser.compute_face_descriptor(chip))
            timed("torch", lambda chip=chip: engine.embedder.descriptors(chip[None]))
    ms = {key: 1000 * statistics.median(values) for key, values in timings.items()}
    return {"face descriptor (dlib's network)": (ms["dlib"], ms["torch"]),
            "MTCNN detection": (ms["facenet-pytorch"], ms["driver"])}


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
    sets = photo_sets(args.datasets, args.limit)
    for name, photos in sets.items():
        t = time_stages(engine, photos, args.repeat)
        print(f"| {name} | {len(photos)} | {t['decode']:.1f} | {t['detect']:.1f} | {t['embed']:.1f} | {t['total']:.1f} |")
    print("\n| stage | library (ms) | this engine (ms) | speed-up |")
    print("|---|---|---|---|")
    every_photo = [data for photos in sets.values() for data in photos]
    for stage, (library, ours) in time_replacements(engine, every_photo, max(1, args.repeat // 2)).items():
        print(f"| {stage} | {library:.1f} | {ours:.1f} | {library / ours:.1f}× |")
    print("\n| templates in gallery | 1:N match (ms, median of 50) |")
    print("|---|---|")
    for size, ms in time_match(engine.embedding_dim, (1_000, 10_000, 100_000)).items():
        print(f"| {size:,} | {ms:.2f} |")


if __name__ == "__main__":
    main()
