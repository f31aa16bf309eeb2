import numpy as np
import pytest

from embeddings import Gallery, IndexSettings, verify
from embeddings.embedders import normalise_rows

ANN, BOB = 1, 2


def unit(*values):
    return normalise_rows([values])[0]


def clustered(people: int, per_person: int, dim: int = 128, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Templates that cluster by person, as real face embeddings do: labels 1..people."""
    rng = np.random.default_rng(seed)
    centres = normalise_rows(rng.standard_normal((people, dim)))
    rows = np.repeat(centres, per_person, axis=0) + 0.3 / np.sqrt(dim) * rng.standard_normal((people * per_person, dim))
    return np.repeat(np.arange(1, people + 1), per_person), normalise_rows(rows)


def test_identify_returns_the_best_label_above_the_threshold():
    gallery = Gallery([ANN, ANN, BOB], normalise_rows([[1, 0, 0], [0.9, 0.1, 0], [0, 1, 0]]))
    match = gallery.identify(unit(1, 0.05, 0), threshold=0.9)
    assert match.accepted and match.label == ANN
    assert match.similarity == pytest.approx(float(unit(1, 0.05, 0) @ unit(1, 0, 0)), abs=1e-6)


def test_identify_answers_unknown_below_the_threshold_never_the_nearest():
    gallery = Gallery([ANN, BOB], normalise_rows([[1, 0, 0], [0, 1, 0]]))
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
        Gallery([ANN], np.zeros((2, 3), np.float32))


@pytest.mark.parametrize("kind_settings", [IndexSettings(), IndexSettings(ivf_min=100, ivf_probes=64)], ids=["exact", "ivf"])
def test_replace_swaps_one_persons_templates_in_place(kind_settings):
    labels, rows = clustered(people=60, per_person=5)
    gallery = Gallery(labels, rows, kind_settings)
    assert len(gallery) == 300
    probe = rows[7]  # person 2
    assert gallery.identify(probe, 0.99).label == 2

    gallery.replace([2], [], np.zeros((0, 128)))  # deactivated, or deleted
    assert len(gallery) == 295
    assert gallery.identify(probe, 0.99).label is None

    gallery.replace([2, 999], [2, 2], rows[5:7])  # enrolled again (999: nobody, a no-op)
    assert len(gallery) == 297
    assert gallery.identify(probe, 0.85).label == 2


def test_large_galleries_use_the_ivf_index_with_float16_codes_and_exact_ones_stay_exact():
    labels, rows = clustered(people=500, per_person=4)
    exact = Gallery(labels, rows)
    ivf = Gallery(labels, rows, IndexSettings(ivf_min=1000, ivf_probes=8))
    assert (exact.kind, ivf.kind) == ("exact", "ivf")
    for row in range(0, 2000, 97):
        probe = normalise_rows([rows[row] + 0.02 * np.random.default_rng(row).standard_normal(128)])[0]
        found, approximate = exact.identify(probe, 0.5), ivf.identify(probe, 0.5)
        assert found.label == labels[row] == approximate.label
        assert approximate.similarity == pytest.approx(found.similarity, abs=5e-4)  # float16 codes


def test_a_gallery_knows_when_changes_carried_it_across_the_ivf_size():
    labels, rows = clustered(people=10, per_person=10)
    gallery = Gallery(labels[:90], rows[:90], IndexSettings(ivf_min=95))
    assert gallery.kind == "exact" and gallery.suits_its_size()
    gallery.replace([10], labels[90:], rows[90:])
    assert len(gallery) == 100 and not gallery.suits_its_size()
