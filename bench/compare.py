"""Side by side, same photos, same run: this engine vs `face_recognition` vs a naive facenet-pytorch pipeline.

    # face_recognition, outside the project's environment (it needs pkg_resources, i.e. setuptools<81):
    .venv/bin/pip install --no-deps --target .bench-libs face_recognition==1.3.0 "setuptools<81"
    PYTHONPATH=.bench-libs .venv/bin/python bench/compare.py [--photos 5] [--repeat 2] [--record]

Per photo, from JPEG bytes to one face embedding:
- absen: the product's engine (reduced JPEG decode, EXIF, MTCNN on a <= 480 px copy, crop from
  the larger image, dlib embedding), i.e. what /predict does;
- face_recognition: load_image_file (full decode), face_locations (HOG), face_encodings;
- naive facenet-pytorch: full decode, MTCNN on the full-resolution image, InceptionResnetV1 on the
  crop. Its weights are random (the published ones cannot be downloaded here); the forward pass
  costs the same whatever the weights.
Prints the median seconds per photo and the ratios; with --record writes them to docs/benchmarks.md.
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
import torch
from PIL import Image, ImageOps

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from latency import record  # noqa: E402
from stages import photo_sets  # noqa: E402

from embeddings import EngineSettings, load_engine  # noqa: E402


def absen_pipeline():
    engine = load_engine(EngineSettings(model="dlib"))
    engine.warm_up()
    return lambda data: engine.embed_bytes(data).vector


def face_recognition_pipeline():
    import face_recognition

    def run(data: bytes):
        image = face_recognition.load_image_file(io.BytesIO(data))
        boxes = face_recognition.face_locations(image)
        return face_recognition.face_encodings(image, boxes)[:1]

    return run


def naive_facenet_pipeline():
    from facenet_pytorch import MTCNN, InceptionResnetV1

    mtcnn = MTCNN(image_size=160)
    network = InceptionResnetV1(pretrained=None).eval()  # random weights: timing only

    def run(data: bytes):
        image = ImageOps.exif_transpose(Image.open(io.BytesIO(data))).convert("RGB")
        face = mtcnn(image)  # detection on the full-resolution image
        if face is None:
            return None
        with torch.inference_mode():
            return network(face.unsqueeze(0)).numpy()

    return run


def seconds_per_photo(pipeline, photos: list[bytes], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        for data in photos:
            start = time.perf_counter()
            pipeline(data)
            times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", type=Path, default=Path(os.environ.get("ABSEN_DATASETS", ROOT.parent / "shared" / "datasets")))
    parser.add_argument("--photos", type=int, default=5, help="photos per set")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--record", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    np.random.seed(0)
    pipelines = {"absen": absen_pipeline(), "face_recognition (HOG)": face_recognition_pipeline(),
                 "naive facenet-pytorch": naive_facenet_pipeline()}
    rows = []
    for set_name, photos in photo_sets(args.datasets, args.photos).items():
        medians = {name: seconds_per_photo(run, photos, args.repeat) for name, run in pipelines.items()}
        rows.append((set_name, len(photos), medians))
    lines = [
        f"Command: `PYTHONPATH=.bench-libs python bench/compare.py --photos {args.photos} --repeat {args.repeat}` "
        f"(torch on {args.threads} threads; median seconds per photo over photos × repeats; ratio = other / absen).",
        "",
        "| photos | n | absen | face_recognition | ratio | naive facenet-pytorch | ratio |",
        "|---|---|---|---|---|---|---|",
    ]
    for set_name, n, m in rows:
        ours, fr, naive = m["absen"], m["face_recognition (HOG)"], m["naive facenet-pytorch"]
        lines.append(f"| {set_name} | {n} | {ours:.3f} s | {fr:.2f} s | **{fr / ours:.1f}×** | {naive:.2f} s | "
                     f"**{naive / ours:.1f}×** |")
    markdown = "\n".join(lines)
    print(markdown)
    if args.record:
        record(markdown, section="bench/compare.py", title="Side by side: face_recognition and a naive pipeline")


if __name__ == "__main__":
    main()
