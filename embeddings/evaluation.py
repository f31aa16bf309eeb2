"""Verification accuracy: pairs, embeddings (cached), metrics and k-fold protocols.

Scores are cosine similarities (accept when score >= threshold). A pair whose photo had no
usable face scores -1: a rejection, as /predict would answer. No web framework, no database.
"""

from __future__ import annotations

import itertools
import multiprocessing
import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .engine import EngineSettings, FaceEngine, load_engine
from .errors import FaceEngineError

PHOTO_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp"}
NO_FACE_SCORE = -1.0


def _metrics():
    """sklearn.metrics, imported when first used: with scipy it adds ~70 MB to every process that
    imports this module, and every gunicorn worker does (the app registers the accuracy commands)."""
    from sklearn import metrics

    return metrics


@dataclass(frozen=True)
class Pair:
    a: str  # image path relative to the dataset root
    b: str
    same: bool
    fold: int


def read_lfw_pairs(pairs_file: Path) -> list[Pair]:
    """LFW's pairs.txt: a header `folds per_fold`, then per fold `per_fold` same and `per_fold` different pairs."""
    lines = pairs_file.read_text().split("\n")
    folds, per_fold = map(int, lines[0].split())
    pairs = []
    for index, line in enumerate(filter(None, (line.strip() for line in lines[1:]))):
        fields = line.split()
        fold = index // (2 * per_fold)
        if len(fields) == 3:
            name, a, b = fields
            pairs.append(Pair(_lfw_image(name, a), _lfw_image(name, b), True, fold))
        elif len(fields) == 4:
            name_a, a, name_b, b = fields
            pairs.append(Pair(_lfw_image(name_a, a), _lfw_image(name_b, b), False, fold))
        else:
            raise ValueError(f"{pairs_file}: line {index + 2} is not a pair: {line!r}")
    if len(pairs) != folds * per_fold * 2:
        raise ValueError(f"{pairs_file}: {len(pairs)} pairs, the header announces {folds * per_fold * 2}")
    return pairs


def _lfw_image(name: str, number: str) -> str:
    return f"{name}/{name}_{int(number):04d}.jpg"


def identity_folders(root: Path) -> dict[str, list[str]]:
    """identity -> its photos (paths relative to root), for a folder-per-identity dataset."""
    return {
        folder.name: [f"{folder.name}/{p.name}" for p in sorted(folder.iterdir()) if p.suffix.lower() in PHOTO_SUFFIXES]
        for folder in sorted(root.iterdir()) if folder.is_dir()
    }


def identity_pairs(identities: dict[str, list[str]], impostors_per_genuine: float = 3.0, folds: int = 10,
                   seed: int = 0) -> list[Pair]:
    """Every genuine pair, and a random sample of impostor pairs; folds assigned at random."""
    rng = random.Random(seed)
    genuine = [(a, b, True) for photos in identities.values() for a, b in itertools.combinations(photos, 2)]
    labelled = [(photo, name) for name, photos in identities.items() for photo in photos]
    wanted = min(round(len(genuine) * impostors_per_genuine),
                 sum(len(p) * len(q) for p, q in itertools.combinations(identities.values(), 2)))
    impostor: set[tuple[str, str]] = set()
    while len(impostor) < wanted:
        (a, name_a), (b, name_b) = rng.sample(labelled, 2)
        if name_a != name_b:
            impostor.add((min(a, b), max(a, b)))
    chosen = genuine + [(a, b, False) for a, b in sorted(impostor)]
    rng.shuffle(chosen)
    return [Pair(a, b, same, index % folds) for index, (a, b, same) in enumerate(chosen)]


def embed_central_face(engine: FaceEngine, data: bytes) -> np.ndarray:
    """The face nearest the centre, for datasets cropped around the labelled person (LFW)."""
    image = engine.decode(data)
    faces = [f for f in engine.detector.detect(image) if f.probability >= engine.policy.min_probability]
    if not faces:
        raise FaceEngineError("No face was found in the photo.")
    cx, cy = image.width / 2, image.height / 2
    central = min(faces, key=lambda f: ((f.box[0] + f.box[2]) / 2 - cx) ** 2 + ((f.box[1] + f.box[3]) / 2 - cy) ** 2)
    return engine.embedder.embed(image, [central])[0]


def embed_with_policy(engine: FaceEngine, data: bytes) -> np.ndarray:
    """Exactly what /predict does: the one face the policy accepts."""
    return engine.embed_bytes(data).vector


FACE_CHOICES: dict[str, Callable[[FaceEngine, bytes], np.ndarray]] = {
    "central": embed_central_face,
    "policy": embed_with_policy,
}


class EmbeddingCache:
    """Embeddings by image, in one .npz per model and face choice; None for a failure (no face).

    Keyed by path, size and modification time, so a changed photo is embedded again.
    """

    def __init__(self, path: Path):
        self.path = path
        self._entries: dict[str, np.ndarray | None] = {}
        if path.exists():
            self._entries = np.load(path, allow_pickle=True)["entries"].item()

    @staticmethod
    def key(root: Path, name: str) -> str:
        stat = (root / name).stat()
        return f"{name}|{stat.st_size}|{stat.st_mtime_ns}"

    def get(self, key: str) -> tuple[bool, np.ndarray | None]:
        return (key in self._entries), self._entries.get(key)

    def put(self, key: str, vector: np.ndarray | None) -> None:
        self._entries[key] = vector

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        np.savez(self.path, entries=np.array(self._entries, dtype=object))


def embed_images(engine: FaceEngine, root: Path, names: Sequence[str], cache: EmbeddingCache | None = None,
                 face_choice: str = "central", on_image: Callable[[int], None] = lambda n: None,
                 workers: int = 1, settings: EngineSettings | None = None,
                 save_every: int = 200) -> dict[str, np.ndarray | None]:
    """Embedding of each image (None when no usable face); cached images cost nothing.

    With workers > 1, `settings` (the same model as `engine`) builds one engine per process.
    """
    vectors: dict[str, np.ndarray | None] = {}
    missing = []
    keys = {name: EmbeddingCache.key(root, name) for name in names} if cache else {}
    for name in names:
        found, vector = cache.get(keys[name]) if cache else (False, None)
        if found:
            vectors[name] = vector
            on_image(1)
        else:
            missing.append(name)
    if workers > 1 and settings is not None and len(missing) > workers:
        context = multiprocessing.get_context("spawn")  # torch and dlib state must not be forked
        pool = context.Pool(workers, initializer=_init_worker, initargs=(settings, face_choice))
        computed = pool.imap(_embed_in_worker, [root / name for name in missing], chunksize=8)
    else:
        pool, computed = None, (_embed_or_none(engine, face_choice, root / name) for name in missing)
    try:
        for done, (name, vector) in enumerate(zip(missing, computed, strict=True), 1):
            vectors[name] = vector
            on_image(1)
            if cache:
                cache.put(keys[name], vector)
                if done % save_every == 0:
                    cache.save()  # an interrupted run keeps what it computed
    finally:
        if pool:
            pool.terminate()
        if cache and missing:
            cache.save()
    return vectors


def _embed_or_none(engine: FaceEngine, face_choice: str, path: Path) -> np.ndarray | None:
    try:
        return FACE_CHOICES[face_choice](engine, path.read_bytes())
    except FaceEngineError:
        return None


_worker: tuple[FaceEngine, str] | None = None


def _init_worker(settings: EngineSettings, face_choice: str) -> None:
    global _worker
    import torch

    torch.set_num_threads(1)  # one process per core
    _worker = (load_engine(settings), face_choice)


def _embed_in_worker(path: Path) -> np.ndarray | None:
    return _embed_or_none(*_worker, path)


def pair_scores(pairs: Iterable[Pair], vectors: dict[str, np.ndarray | None]) -> np.ndarray:
    def score(pair: Pair) -> float:
        a, b = vectors[pair.a], vectors[pair.b]
        return NO_FACE_SCORE if a is None or b is None else float(np.dot(a, b))

    return np.array([score(p) for p in pairs], dtype=np.float64)


def threshold_for_far(impostor_scores: np.ndarray, far: float) -> float:
    """The lowest threshold whose false-accept rate on these impostor scores is <= far."""
    ranked = np.sort(np.asarray(impostor_scores))[::-1]
    allowed = int(np.floor(far * len(ranked) + 1e-9))  # this many false accepts stay within `far`
    if allowed >= len(ranked):
        return float(ranked[-1])
    return float(np.nextafter(ranked[allowed], np.inf))


def best_accuracy_threshold(scores: np.ndarray, same: np.ndarray) -> float:
    """The threshold with the highest accuracy, half-way between neighbouring scores."""
    ordered = np.unique(scores)
    candidates = np.concatenate([[ordered[0] - 1e-6], (ordered[:-1] + ordered[1:]) / 2, [ordered[-1] + 1e-6]])
    accuracies = [((scores >= t) == same).mean() for t in candidates]
    return float(candidates[int(np.argmax(accuracies))])


def rates_at(scores: np.ndarray, same: np.ndarray, threshold: float) -> dict:
    """Everything that depends on one threshold: accuracy, TAR/FAR, precision/recall/F1, confusion matrix."""
    accepted = scores >= threshold
    metrics = _metrics()
    (tn, fp), (fn, tp) = metrics.confusion_matrix(same, accepted, labels=[False, True])
    precision, recall, f1, _ = metrics.precision_recall_fscore_support(
        same, accepted, average="binary", zero_division=0.0)
    return {
        "threshold": float(threshold),
        "accuracy": float((accepted == same).mean()),
        "tar": float(tp / max(tp + fn, 1)),
        "far": float(fp / max(fp + tn, 1)),
        "precision": float(precision),
        "recall": float(recall),
        "f1": float(f1),
        "confusion_matrix": {"tn": int(tn), "fp": int(fp), "fn": int(fn), "tp": int(tp)},
    }


def threshold_free(scores: np.ndarray, same: np.ndarray) -> dict:
    """ROC-AUC, equal error rate and TAR at fixed FARs (each FAR's threshold from these scores)."""
    metrics = _metrics()
    fpr, tpr, _ = metrics.roc_curve(same, scores)
    fnr = 1 - tpr
    crossing = int(np.nanargmin(np.abs(fnr - fpr)))
    impostors = scores[~same]
    return {
        "roc_auc": float(metrics.roc_auc_score(same, scores)),
        "eer": float((fpr[crossing] + fnr[crossing]) / 2),
        "tar_at_far": {f"{far:g}": float((scores[same] >= threshold_for_far(impostors, far)).mean())
                       for far in (0.01, 0.001)},
    }


def k_fold(scores: np.ndarray, same: np.ndarray, folds: np.ndarray, far: float | None = None) -> dict:
    """Threshold chosen on all folds but one (best accuracy, or lowest with FAR <= far), measured on that one."""
    per_fold = []
    for fold in np.unique(folds):
        train, test = folds != fold, folds == fold
        if far is None:
            threshold = best_accuracy_threshold(scores[train], same[train])
        else:
            threshold = threshold_for_far(scores[train & ~same], far)
        per_fold.append({"fold": int(fold), **rates_at(scores[test], same[test], threshold)})
    keys = ("threshold", "accuracy", "tar", "far", "precision", "recall", "f1")
    summary = {key: {"mean": float(np.mean([f[key] for f in per_fold])), "std": float(np.std([f[key] for f in per_fold]))}
               for key in keys}
    return {"rule": "best accuracy" if far is None else f"FAR <= {far:g}", "folds": per_fold, "summary": summary}


def evaluate_scores(scores: np.ndarray, same: np.ndarray, folds: np.ndarray, threshold: float | None = None,
                    far: float = 0.001) -> dict:
    """The full report: threshold-free figures, both k-fold protocols, and figures at one threshold.

    The threshold is the one given, or else the one for `far` chosen on all pairs.
    """
    chosen = threshold if threshold is not None else threshold_for_far(scores[~same], far)
    found = scores > NO_FACE_SCORE
    return {
        "pairs": {"total": len(scores), "genuine": int(same.sum()), "impostor": int((~same).sum()),
                  "genuine_without_face": int((same & ~found).sum()), "impostor_without_face": int((~same & ~found).sum())},
        **threshold_free(scores, same),
        # The model alone, leaving out pairs where detection (or the face policy) failed.
        "roc_auc_faces_found": float(_metrics().roc_auc_score(same[found], scores[found]))
        if 0 < same[found].sum() < found.sum() else None,
        "k_fold_best_accuracy": k_fold(scores, same, folds),
        "k_fold_target_far": k_fold(scores, same, folds, far),
        "at_threshold": {**rates_at(scores, same, chosen),
                         "chosen": "given" if threshold is not None else f"FAR <= {far:g} on all pairs"},
    }
