"""Cosine matching of normalised embeddings: 1:1 verification and 1:N identification."""

from __future__ import annotations

import math
import threading
from collections.abc import Iterable
from dataclasses import dataclass

import faiss
import numpy as np

EXACT, IVF = "exact", "ivf"


@dataclass(frozen=True)
class Match:
    label: int | None  # None when nobody reaches the threshold
    similarity: float  # best similarity found (also when below the threshold)
    accepted: bool


@dataclass(frozen=True)
class IndexSettings:
    """When a gallery stops being searched exhaustively, and how wide the approximate search is."""

    ivf_min: int = 50_000  # from this many templates on: an inverted-file index (below: exact search)
    ivf_probes: int = 64  # lists scanned per search, of about sqrt(n): recall against speed

    def kind_for(self, size: int) -> str:
        return IVF if size >= max(self.ivf_min, 1) else EXACT  # an IVF index trains on its rows: it needs some


def best_similarity(probe: np.ndarray, templates: np.ndarray) -> float:
    """Highest cosine similarity between a normalised probe and normalised template rows."""
    if len(templates) == 0:
        return -1.0
    return float(np.max(templates @ probe))


class Gallery:
    """All templates of one model in one FAISS index, searched by inner product (cosine: rows are normalised).

    Below `IndexSettings.ivf_min` templates the index is flat and exact (float32). From there on it is an
    inverted file with float16 codes (IVF-SQfp16): half the memory of float32, similarities within 5e-4
    of the exact ones, and a search that scans `ivf_probes` of its ~sqrt(n) lists, so a template in a
    list not scanned can be missed (docs/benchmarks.md measures that recall).

    Labels are integers (the app uses employee keys); one person's templates share a label, and
    `replace` swaps a label's rows in place, so an enrolment costs a few rows, not a reload.
    FAISS indexes are not safe to change while searched: both happen under one lock.
    """

    def __init__(self, labels: Iterable[int], vectors: np.ndarray, settings: IndexSettings = IndexSettings()):
        labels = np.fromiter(labels, dtype=np.int64)
        vectors = np.asarray(vectors)
        if vectors.ndim != 2 or len(labels) != len(vectors):
            raise ValueError("one label per template row is required")
        self.dim = vectors.shape[1]
        self.settings = settings
        self.kind = settings.kind_for(len(labels))
        self._index = _new_index(self.kind, self.dim, vectors, settings)
        _add(self._index, labels, vectors)
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return self._index.ntotal

    def identify(self, probe: np.ndarray, threshold: float) -> Match:
        """The best-matching label, or an unknown answer when it is below `threshold`.

        Never simply "the nearest person": a stranger must not inherit someone's identity.
        """
        query = np.asarray(probe, dtype=np.float32).reshape(1, self.dim)
        with self._lock:
            if self._index.ntotal == 0:
                return Match(label=None, similarity=-1.0, accepted=False)
            scores, labels = self._index.search(query, 1)
        label, similarity = int(labels[0, 0]), float(scores[0, 0])
        if label < 0:  # the scanned lists were empty
            return Match(label=None, similarity=-1.0, accepted=False)
        accepted = similarity >= threshold
        return Match(label=label if accepted else None, similarity=similarity, accepted=accepted)

    def replace(self, labels: Iterable[int], new_labels: Iterable[int], new_vectors: np.ndarray) -> None:
        """Drop every row of `labels`, then add the given rows (a person's current templates, or none)."""
        gone = np.fromiter(labels, dtype=np.int64)
        added = np.fromiter(new_labels, dtype=np.int64)
        with self._lock:
            if len(gone):
                self._index.remove_ids(gone)
            _add(self._index, added, np.asarray(new_vectors).reshape(len(added), self.dim))

    def suits_its_size(self) -> bool:
        """False once changes have carried the size across `ivf_min`: then it is time for a rebuild."""
        return self.settings.kind_for(len(self)) == self.kind


ADD_CHUNK = 65_536  # rows converted to float32 at a time, so float16 input is never doubled in memory


def _new_index(kind: str, dim: int, vectors: np.ndarray, settings: IndexSettings) -> faiss.Index:
    if kind == EXACT:
        return faiss.IndexIDMap(faiss.IndexFlatIP(dim))
    lists = max(1, min(int(math.sqrt(len(vectors))), len(vectors) // 39))  # FAISS wants >= 39 points per list
    index = faiss.IndexIVFScalarQuantizer(faiss.IndexFlatIP(dim), dim, lists, faiss.ScalarQuantizer.QT_fp16,
                                          faiss.METRIC_INNER_PRODUCT)
    index.cp.niter = 10  # k-means rounds: FAISS's 25 cost 4x the time (9 s at a million) for no recall measured
    sample = np.random.default_rng(0).choice(len(vectors), size=min(len(vectors), 40 * lists), replace=False)
    index.train(np.ascontiguousarray(vectors[np.sort(sample)], dtype=np.float32))
    index.nprobe = min(settings.ivf_probes, lists)
    return index


def _add(index: faiss.Index, labels: np.ndarray, vectors: np.ndarray) -> None:
    for start in range(0, len(labels), ADD_CHUNK):
        chunk = np.ascontiguousarray(vectors[start:start + ADD_CHUNK], dtype=np.float32)
        index.add_with_ids(chunk, labels[start:start + ADD_CHUNK])


def verify(probe: np.ndarray, templates: np.ndarray, threshold: float) -> tuple[bool, float]:
    similarity = best_similarity(probe, templates)
    return similarity >= threshold, similarity
