"""PNG pictures of an evaluation: ROC curve, score histograms, confusion matrix, t-SNE."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only: no display on a server

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from sklearn import metrics  # noqa: E402
from sklearn.manifold import TSNE  # noqa: E402


def _save(figure, path: Path) -> Path:
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def roc_curve(scores: np.ndarray, same: np.ndarray, path: Path, title: str) -> Path:
    fpr, tpr, _ = metrics.roc_curve(same, scores)
    figure, axis = plt.subplots(figsize=(5.5, 4.5))
    axis.plot(fpr, tpr, label=f"AUC {metrics.roc_auc_score(same, scores):.4f}")
    axis.set_xscale("log")
    axis.set_xlim(1e-4, 1)
    axis.set_ylim(0.5, 1.001)
    axis.axvline(1e-3, color="grey", linestyle=":", label="FAR 0.1%")
    axis.set_xlabel("false accept rate (log)")
    axis.set_ylabel("true accept rate")
    axis.set_title(title)
    axis.legend(loc="lower right")
    axis.grid(alpha=0.3)
    return _save(figure, path)


def score_histograms(scores: np.ndarray, same: np.ndarray, threshold: float, path: Path, title: str) -> Path:
    found = scores > -1  # pairs with a failed detection are not similarities
    bins = np.linspace(min(scores[found].min(), threshold) - 0.02, 1.0, 80)
    figure, axis = plt.subplots(figsize=(6, 4))
    axis.hist(scores[found & same], bins=bins, alpha=0.6, label="same person", color="tab:green")
    axis.hist(scores[found & ~same], bins=bins, alpha=0.6, label="different people", color="tab:red")
    axis.axvline(threshold, color="black", linestyle="--", label=f"threshold {threshold:.4f}")
    axis.set_xlabel("cosine similarity")
    axis.set_ylabel("pairs")
    axis.set_title(title)
    axis.legend()
    return _save(figure, path)


def confusion_matrix(counts: dict, path: Path, title: str) -> Path:
    grid = np.array([[counts["tn"], counts["fp"]], [counts["fn"], counts["tp"]]])
    figure, axis = plt.subplots(figsize=(4.5, 4))
    axis.imshow(grid, cmap="Blues")
    for (row, col), value in np.ndenumerate(grid):
        axis.text(col, row, f"{value:,}", ha="center", va="center",
                  color="white" if value > grid.max() / 2 else "black", fontsize=14)
    axis.set_xticks([0, 1], ["rejected", "accepted"])
    axis.set_yticks([0, 1], ["different", "same"])
    axis.set_xlabel("decision")
    axis.set_ylabel("truth")
    axis.set_title(title)
    return _save(figure, path)


def tsne(vectors: np.ndarray, labels: list[str], path: Path, title: str, seed: int = 0) -> Path:
    """2-D t-SNE of embeddings, one colour per identity (a legend when there are few)."""
    perplexity = float(min(30, max(2, len(vectors) // 4), len(vectors) - 1))
    points = TSNE(n_components=2, perplexity=perplexity, init="pca", random_state=seed).fit_transform(vectors)
    names = sorted(set(labels))
    colours = plt.get_cmap("tab20" if len(names) <= 20 else "gist_ncar", len(names))
    figure, axis = plt.subplots(figsize=(9, 6))
    for index, name in enumerate(names):
        mine = np.array([label == name for label in labels])
        axis.scatter(points[mine, 0], points[mine, 1], s=18, color=colours(index), label=name)
    if len(names) <= 20:
        axis.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), markerscale=1.2)  # beside, not over
    axis.set_xticks([])
    axis.set_yticks([])
    axis.set_title(title)
    return _save(figure, path)
