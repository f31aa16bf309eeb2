import numpy as np
import pytest

from embeddings import Gallery, verify
from embeddings.embedders import normalise_rows


def unit(*values):
    return normalise_rows([values])[0]


def test_identify_returns_the_best_label_above_the_threshold():
    gallery = Gallery(["ann", "ann", "bob"], normalise_rows([[1, 0, 0], [0.9, 0.1, 0], [0, 1, 0]]))
    match = gallery.identify(unit(1, 0.05, 0), threshold=0.9)
    assert match.accepted and match.label == "ann"
    assert match.similarity == pytest.approx(float(unit(1, 0.05, 0) @ unit(1, 0, 0)), abs=1e-6)


def test_identify_answers_unknown_below_the_threshold_never_the_nearest():
    gallery = Gallery(["ann", "bob"], normalise_rows([[1, 0, 0], [0, 1, 0]]))
    match = gallery.identify(unit(0, 0, 1), threshold=0.5)
    assert not match.accepted and match.label is None
    assert match.similarity == pytest.approx(0.0, abs=1e-6)


def test_empty_gallery_matches_nobody():
    match = Gallery([], np.zeros((0, 3), np.float32)).identify(unit(1, 0, 0), threshold=0.1)
    assert (match.accepted, match.label, match.similarity) == (False, None, -1.0)


def test_verify_uses_the_best_of_several_templates():
    templates = normalise_rows([[0, 1, 0], [1, 0, 0]])
    assert verify(unit(1, 0, 0), templates, threshold=0.99) == (True, pytest.approx(1.0))
    assert verify(unit(1, 0, 0), np.zeros((0, 3), np.float32), threshold=0.5) == (False, -1.0)


def test_labels_and_rows_must_pair_up():
    with pytest.raises(ValueError):
        Gallery(["ann"], np.zeros((2, 3), np.float32))
