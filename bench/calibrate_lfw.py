"""Calibrate a model's cosine threshold on LFW's standard verification protocol.

    python bench/calibrate_lfw.py --model dlib [--lfw ../shared/datasets/lfw] [--far 0.001]

Embeds every image that pairs.txt references with the product's own engine (same decode,
MTCNN detection and embedder as /predict), then runs the 10 folds: on each, the threshold
is chosen on the other 9 folds as the lowest one whose false-accept rate is <= --far, and
TAR / FAR / accuracy are measured on the held-out fold. The threshold to ship is chosen
the same way on all 6,000 pairs. Embeddings are cached in bench/out/ for re-runs.

LFW photos are 250x250 crops centred on the labelled person, and some show other people
behind: the face nearest the centre is used. A photo with no detected face scores -1
(a rejection), and is counted in the report.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from multiprocessing import Pool
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from embeddings import EngineSettings, load_engine  # noqa: E402

OUT = Path(__file__).resolve().parent / "out"
_engine = None


def read_pairs(lfw: Path) -> list[tuple[int, str, str, bool]]:
    """(fold, image path a, image path b, same person) for the 6,000 pairs of pairs.txt."""
    lines = (lfw / "pairs.txt").read_text().splitlines()
    folds, per_fold = map(int, lines[0].split())
    pairs = []
    for index, line in enumerate(lines[1:]):
        fields = line.split()
        fold = index // (2 * per_fold)
        if len(fields) == 3:
            name, a, b = fields
            pairs.append((fold, image_path(name, a), image_path(name, b), True))
        else:
            name_a, a, name_b, b = fields
            pairs.append((fold, image_path(name_a, a), image_path(name_b, b), False))
    assert len(pairs) == folds * per_fold * 2, "pairs.txt does not have the expected size"
    return pairs


def image_path(name: str, number: str) -> str:
    return f"{name}/{name}_{int(number):04d}.jpg"


def _init_worker(settings: EngineSettings) -> None:
    global _engine
    import torch

    torch.set_num_threads(1)
    _engine = load_engine(settings)


def _embed(path: Path) -> np.ndarray | None:
    image = _engine.decode(path.read_bytes())
    faces = [f for f in _engine.detector.detect(image) if f.probability >= _engine.policy.min_probability]
    if not faces:
        return None
    cx, cy = image.width / 2, image.height / 2
    central = min(faces, key=lambda f: ((f.box[0] + f.box[2]) / 2 - cx) ** 2 + ((f.box[1] + f.box[3]) / 2 - cy) ** 2)
    return _engine.embedder.embed(image, [central])[0]


def embed_all(lfw: Path, names: list[str], settings: EngineSettings, workers: int) -> dict[str, np.ndarray | None]:
    weights = f"-{Path(settings.facenet_weights).stem}" if settings.model == "facenet" and settings.facenet_weights else ""
    cache = OUT / f"lfw-{settings.model}{weights}.npz"
    if cache.exists():
        stored = np.load(cache, allow_pickle=True)["vectors"].item()
        if set(names) <= set(stored):
            return stored
    started = time.perf_counter()
    with Pool(workers, initializer=_init_worker, initargs=(settings,)) as pool:
        vectors = {}
        for done, (name, vector) in enumerate(zip(names, pool.imap(_embed, [lfw / n for n in names], chunksize=16), strict=True), 1):
            vectors[name] = vector
            if done % 500 == 0:
                rate = done / (time.perf_counter() - started)
                print(f"  {done}/{len(names)} images, {rate:.1f}/s", flush=True)
    OUT.mkdir(exist_ok=True)
    np.savez(cache, vectors=np.array(vectors, dtype=object))
    return vectors


def threshold_for_far(impostor_scores: np.ndarray, far: float) -> float:
    """Lowest threshold (accept when score >= threshold) with FAR <= far on these scores."""
    ranked = np.sort(impostor_scores)[::-1]
    allowed = int(np.floor(far * len(ranked)))  # this many false accepts stay within `far`
    if allowed >= len(ranked):
        return float(ranked[-1])
    return float(np.nextafter(np.float32(ranked[allowed]), np.float32(np.inf)))


def rates(scores: np.ndarray, same: np.ndarray, threshold: float) -> dict[str, float]:
    accepted = scores >= threshold
    return {
        "tar": float(accepted[same].mean()),
        "far": float(accepted[~same].mean()),
        "accuracy": float((accepted == same).mean()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=["dlib", "facenet"], default="dlib")
    parser.add_argument("--lfw", type=Path, default=Path(os.environ.get("ABSEN_DATASETS", "../shared/datasets")) / "lfw")
    parser.add_argument("--facenet-weights", default=os.environ.get("FACENET_WEIGHTS"),
                        help="local FaceNet weights file (default: $FACENET_WEIGHTS, else facenet-pytorch's download)")
    parser.add_argument("--far", type=float, default=0.001)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()

    pairs = read_pairs(args.lfw)
    names = sorted({p for _, a, b, _ in pairs for p in (a, b)})
    print(f"{len(pairs)} pairs, {len(names)} images, model {args.model}, {args.workers} workers")
    started = time.perf_counter()
    settings = EngineSettings(model=args.model, facenet_weights=args.facenet_weights)
    vectors = embed_all(args.lfw, names, settings, args.workers)
    print(f"embedded in {time.perf_counter() - started:.0f} s")

    folds = np.array([p[0] for p in pairs])
    same = np.array([p[3] for p in pairs])
    scores = np.array([
        float(vectors[a] @ vectors[b]) if vectors[a] is not None and vectors[b] is not None else -1.0
        for _, a, b, _ in pairs
    ])
    per_fold = []
    for fold in range(folds.max() + 1):
        train, test = folds != fold, folds == fold
        threshold = threshold_for_far(scores[train & ~same], args.far)
        per_fold.append({"fold": fold, "threshold": threshold, **rates(scores[test], same[test], threshold)})
    summary = {
        key: {"mean": float(np.mean([f[key] for f in per_fold])), "std": float(np.std([f[key] for f in per_fold]))}
        for key in ("threshold", "tar", "far", "accuracy")
    }
    threshold = threshold_for_far(scores[~same], args.far)
    report = {
        "model": args.model,
        "target_far": args.far,
        "images": len(names),
        "images_without_face": sum(v is None for v in vectors.values()),
        "folds": per_fold,
        "ten_fold": summary,
        "threshold_all_pairs": threshold,
        "all_pairs": rates(scores, same, threshold),
    }
    OUT.mkdir(exist_ok=True)
    (OUT / f"calibration-{args.model}.json").write_text(json.dumps(report, indent=2))
    print(f"images without a detected face: {report['images_without_face']}")
    for key, value in summary.items():
        print(f"10-fold {key:9s} {value['mean']:.4f} +- {value['std']:.4f}")
    print(f"threshold on all 6000 pairs for FAR <= {args.far}: {threshold:.4f} -> {report['all_pairs']}")


if __name__ == "__main__":
    main()
