"""Cosine matching of normalised embeddings: 1:1 verification and 1:N identification."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Match:
    label: str | None  # None when nobody reaches the threshold
    similarity: float  # best similarity found (also when below the threshold)
    accepted: bool


def best_similarity(probe: np.ndarray, templates: np.ndarray) -> float:
    """Highest cosine similarity between a normalised probe and normalised template rows."""
    if len(templates) == 0:
        return -1.0
    return float(np.max(templates @ probe))


class Gallery:
    """All templates of one model as one matrix, searched in a single matrix product."""

    def __init__(self, labels: Sequence[str], vectors: np.ndarray):
        vectors = np.asarray(vectors, dtype=np.float32)
        if len(labels) != len(vectors):
            raise ValueError("one label per template row is required")
        self.labels = np.asarray(labels, dtype=object)
        self.vectors = vectors

    def __len__(self) -> int:
        return len(self.labels)

    def identify(self, probe: np.ndarray, threshold: float) -> Match:
        """The best-matching label, or an unknown answer when it is below `threshold`.

        Never simply "the nearest person": a stranger must not inherit someone's identity.
        """
        if len(self) == 0:
            return Match(label=None, similarity=-1.0, accepted=False)
        scores = self.vectors @ np.asarray(probe, dtype=np.float32)
        best = int(np.argmax(scores))
        similarity = float(scores[best])
        accepted = similarity >= threshold
        return Match(label=str(self.labels[best]) if accepted else None, similarity=similarity, accepted=accepted)


def verify(probe: np.ndarray, templates: np.ndarray, threshold: float) -> tuple[bool, float]:
    similarity = best_similarity(probe, templates)
    return similarity >= threshold, similarity
