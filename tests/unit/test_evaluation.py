"""Verification metrics against cases computed by hand, pairs files, the embedding cache and the plots."""

from __future__ import annotations

import numpy as np
import pytest

from embeddings import evaluation as ev
from embeddings import plots

# Genuine scores 0.9, 0.8, 0.6, 0.3; impostor scores 0.7, 0.5, 0.4, 0.2.
SCORES = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2])
SAME = np.array([True, True, False, True, False, False, True, False])


def test_figures_at_one_threshold_by_hand():
    # At 0.55: accepted 0.9, 0.8, 0.7, 0.6 -> TP 3 (0.9, 0.8, 0.6), FP 1 (0.7), FN 1 (0.3), TN 3.
    at = ev.rates_at(SCORES, SAME, 0.55)
    assert at["confusion_matrix"] == {"tn": 3, "fp": 1, "fn": 1, "tp": 3}
    assert (at["accuracy"], at["tar"], at["far"]) == (0.75, 0.75, 0.25)
    assert (at["precision"], at["recall"], at["f1"]) == (0.75, 0.75, 0.75)


def test_threshold_free_figures_by_hand():
    figures = ev.threshold_free(SCORES, SAME)
    # AUC: genuine-over-impostor orderings, 4 + 4 + 3 + 1 of 16.
    assert figures["roc_auc"] == pytest.approx(12 / 16)
    # At 0.55 both error rates are 1/4, and nowhere are they closer.
    assert figures["eer"] == pytest.approx(0.25)
    # FAR <= 1% of 4 impostors allows none: only genuine scores above 0.7 pass (0.9, 0.8).
    assert figures["tar_at_far"] == {"0.01": 0.5, "0.001": 0.5}


def test_threshold_for_far_allows_exactly_that_many_false_accepts():
    impostors = np.array([0.7, 0.5, 0.4, 0.2])
    assert ev.threshold_for_far(impostors, 0.25) == np.nextafter(0.5, np.inf)  # 0.7 passes: 1 of 4
    assert ev.threshold_for_far(impostors, 0.0) == np.nextafter(0.7, np.inf)  # none passes
    assert ev.threshold_for_far(impostors, 1.0) == 0.2  # everything passes
    for far in (0.0, 0.25, 0.5, 0.75):
        assert (impostors >= ev.threshold_for_far(impostors, far)).mean() <= far


def test_best_accuracy_threshold_by_hand():
    # Accuracy 6/8 is reached between 0.5 and 0.6 and between 0.7 and 0.8; the lower one is kept.
    assert ev.best_accuracy_threshold(SCORES, SAME) == pytest.approx(0.55)


def test_k_fold_chooses_each_threshold_on_the_other_folds():
    scores = np.array([0.9, 0.1, 0.45, 0.3])
    same = np.array([True, False, True, False])
    folds = np.array([0, 0, 1, 1])
    result = ev.k_fold(scores, same, folds)
    fold0, fold1 = result["folds"]
    assert fold0["threshold"] == pytest.approx(0.375)  # from fold 1: half-way between 0.3 and 0.45
    assert fold0["accuracy"] == 1.0
    assert fold1["threshold"] == pytest.approx(0.5)  # from fold 0: half-way between 0.1 and 0.9
    assert fold1["accuracy"] == 0.5  # 0.45 is refused there
    assert result["summary"]["accuracy"] == {"mean": 0.75, "std": 0.25}
    at_far = ev.k_fold(scores, same, folds, far=0.0)
    assert [f["threshold"] for f in at_far["folds"]] == [np.nextafter(0.3, np.inf), np.nextafter(0.1, np.inf)]


def test_evaluate_scores_uses_the_given_threshold_or_the_far_target():
    given = ev.evaluate_scores(SCORES, SAME, np.arange(8) % 2, threshold=0.55)
    assert given["at_threshold"]["chosen"] == "given" and given["at_threshold"]["threshold"] == 0.55
    assert given["pairs"] == {"total": 8, "genuine": 4, "impostor": 4, "genuine_without_face": 0,
                              "impostor_without_face": 0}
    assert given["roc_auc_faces_found"] == given["roc_auc"] == 0.75
    missing = ev.evaluate_scores(np.where(SCORES == 0.3, ev.NO_FACE_SCORE, SCORES), SAME, np.arange(8) % 2)
    assert missing["pairs"]["genuine_without_face"] == 1
    assert missing["roc_auc_faces_found"] == pytest.approx(11 / 12)  # 0.3's single win over 0.2 is gone
    chosen = ev.evaluate_scores(SCORES, SAME, np.arange(8) % 2, far=0.25)
    assert chosen["at_threshold"]["threshold"] == np.nextafter(0.5, np.inf)
    assert chosen["at_threshold"]["far"] == 0.25


def test_read_lfw_pairs(tmp_path):
    pairs_file = tmp_path / "pairs.txt"
    pairs_file.write_text("2\t1\nAnn\t1\t2\nAnn\t1\tBob\t3\nCid\t2\t14\nDee\t1\tEve\t1\n")
    pairs = ev.read_lfw_pairs(pairs_file)
    assert pairs == [
        ev.Pair("Ann/Ann_0001.jpg", "Ann/Ann_0002.jpg", True, 0),
        ev.Pair("Ann/Ann_0001.jpg", "Bob/Bob_0003.jpg", False, 0),
        ev.Pair("Cid/Cid_0002.jpg", "Cid/Cid_0014.jpg", True, 1),
        ev.Pair("Dee/Dee_0001.jpg", "Eve/Eve_0001.jpg", False, 1),
    ]
    pairs_file.write_text("3\t1\nAnn\t1\t2\n")
    with pytest.raises(ValueError, match="announces 6"):
        ev.read_lfw_pairs(pairs_file)


def test_identity_pairs_are_every_genuine_pair_and_sampled_impostors():
    identities = {"a": ["a/1", "a/2", "a/3"], "b": ["b/1", "b/2"], "c": ["c/1"]}
    pairs = ev.identity_pairs(identities, impostors_per_genuine=1.0, folds=2)
    genuine = {(p.a, p.b) for p in pairs if p.same}
    impostor = [(p.a, p.b) for p in pairs if not p.same]
    assert genuine == {("a/1", "a/2"), ("a/1", "a/3"), ("a/2", "a/3"), ("b/1", "b/2")}
    assert len(impostor) == len(set(impostor)) == 4
    assert all(a.split("/")[0] != b.split("/")[0] for a, b in impostor)
    assert {p.fold for p in pairs} == {0, 1}
    everything = ev.identity_pairs(identities, impostors_per_genuine=100)  # capped at the 11 that exist
    assert sum(not p.same for p in everything) == 11


def test_a_missing_face_scores_as_a_rejection():
    vectors = {"x": np.array([1.0, 0.0]), "y": np.array([0.6, 0.8]), "z": None}
    scores = ev.pair_scores([ev.Pair("x", "y", True, 0), ev.Pair("x", "z", True, 0)], vectors)
    assert scores.tolist() == [pytest.approx(0.6), ev.NO_FACE_SCORE]


def test_embedding_cache_round_trips_and_notices_a_changed_photo(tmp_path):
    photo = tmp_path / "p.jpg"
    photo.write_bytes(b"one")
    cache = ev.EmbeddingCache(tmp_path / "cache.npz")
    key = ev.EmbeddingCache.key(tmp_path, "p.jpg")
    cache.put(key, np.array([0.6, 0.8], np.float32))
    cache.put("other", None)
    cache.save()
    reloaded = ev.EmbeddingCache(tmp_path / "cache.npz")
    found, vector = reloaded.get(key)
    assert found and vector.tolist() == pytest.approx([0.6, 0.8])
    assert reloaded.get("other") == (True, None)
    photo.write_bytes(b"changed")
    assert ev.EmbeddingCache.key(tmp_path, "p.jpg") != key


def test_plots_are_written(tmp_path):
    rng = np.random.default_rng(0)
    vectors = np.concatenate([rng.normal(loc, 0.1, (10, 8)) for loc in (0.0, 1.0, 2.0)])
    labels = ["a"] * 10 + ["b"] * 10 + ["c"] * 10
    written = [
        plots.roc_curve(SCORES, SAME, tmp_path / "roc.png", "roc"),
        plots.score_histograms(SCORES, SAME, 0.55, tmp_path / "hist.png", "hist"),
        plots.confusion_matrix({"tn": 3, "fp": 1, "fn": 1, "tp": 3}, tmp_path / "cm.png", "cm"),
        plots.tsne(vectors, labels, tmp_path / "tsne.png", "tsne"),
    ]
    for path in written:
        data = path.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5_000
