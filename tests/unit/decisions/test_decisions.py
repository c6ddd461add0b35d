"""Fast tier, no model: templates, decision rules, thresholds, enrollment checks and the
evaluation arithmetic on synthetic unit vectors (any dimension: models differ)."""
from __future__ import annotations

import numpy as np
import pytest

from desktop.engine.core.types import ModelInfo
from desktop.engine.decisions.checks import duplicate_vote, outlier_flags
from desktop.engine.decisions.openset import GalleryScorer, score_open_set, threshold_for_fpir, wilson
from desktop.engine.decisions.templates import mean_template
from desktop.engine.evaluation.lfwpairs import ten_fold
from desktop.engine.faces.quality import quality_problem
from desktop.engine.gallery.people import Gallery
from desktop.engine.settings.config import Settings
from desktop.engine.storage.sqlite import Database

DIM = 128  # not 512: the gallery takes the dimension from the vectors


def unit(rng, n, dim=DIM):
    v = rng.normal(size=(n, dim)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def around(rng, centre, n, spread):
    """``n`` unit vectors scattered around ``centre`` (``spread``: length of the noise)."""
    noise = rng.normal(size=(n, len(centre))).astype(np.float32) / np.sqrt(len(centre))
    v = centre + spread * noise
    return (v / np.linalg.norm(v, axis=1, keepdims=True)).astype(np.float32)


@pytest.fixture
def gallery(tmp_path):
    g = Gallery(Database(tmp_path / "g.sqlite3"), ModelInfo("synthetic", "test:0"))
    yield g
    g.db.close()


def crops(n):
    return [np.zeros((16, 16, 3), np.uint8)] * n


def test_templates_follow_enroll_delete_and_reload(gallery, tmp_path):
    rng = np.random.default_rng(1)
    a, b = unit(rng, 3), unit(rng, 2)
    gallery.add_samples("A", a[:2], crops(2), ["a1", "a2"])
    gallery.add_samples("B", b, crops(2), ["b1", "b2"])
    gallery.add_samples("A", a[2:], crops(1), ["a3"])  # more samples update the template
    [[(name, sim)]] = gallery.search_templates(mean_template(a)[None, :], 1)
    assert name == "A" and sim == pytest.approx(1.0, abs=1e-5)
    assert gallery.dim == DIM

    reopened = Gallery(Database(tmp_path / "g.sqlite3"), ModelInfo("synthetic", "test:0"))
    assert reopened.search_templates(mean_template(a)[None, :], 2)[0][0][1] == \
        pytest.approx(1.0, abs=1e-5)
    reopened.db.close()

    gallery.delete_person("A")
    ranked = gallery.search_templates(mean_template(a)[None, :], 2)[0]
    assert [n for n, _ in ranked] == ["B"]


def test_outlier_samples_stay_out_of_the_template_unless_all_there_is(gallery):
    rng = np.random.default_rng(2)
    good, wrong = unit(rng, 3), unit(rng, 1)
    gallery.add_samples("A", np.vstack([good, wrong]), crops(4), list("abcd"),
                        in_template=[True, True, True, False])
    sim = gallery.search_templates(mean_template(good)[None, :], 1)[0][0][1]
    assert sim == pytest.approx(1.0, abs=1e-5)
    vectors, flags = gallery.person_vectors("A")
    assert vectors.shape == (4, DIM) and flags.tolist() == [True, True, True, False]
    gallery.add_samples("C", wrong, crops(1), ["x"], in_template=[False])
    assert gallery.search_templates(wrong, 1)[0][0][0] == "C"  # its only sample counts


def test_mean_template_beats_best_sample_when_one_photo_is_odd():
    rng = np.random.default_rng(3)
    centre = unit(rng, 1)[0]
    stranger = unit(rng, 1)[0]
    # A's third photo happens to lie close to a stranger's face
    a = np.vstack([around(rng, centre, 2, 0.02), around(rng, stranger, 1, 0.15)])
    enrolled = {"A": a, "B": unit(rng, 3)}
    probe = around(rng, stranger, 1, 0.15)
    best = GalleryScorer(enrolled, "best_sample").ranked(probe, 1)[0][0]
    templ = GalleryScorer(enrolled, "template").ranked(probe, 1)[0][0]
    assert best[0] == "A" and best[1] > 0.8
    assert templ[1] < best[1] - 0.2


def test_threshold_for_fpir_lets_in_at_most_that_share():
    scores = np.random.default_rng(4).uniform(0, 1, 10_000)
    for fpir in (0.01, 0.001):
        t = threshold_for_fpir(scores, fpir)
        assert np.mean(scores >= t) <= fpir
        assert np.mean(scores >= t - 1e-3) > fpir * 0.5


def test_open_set_figures_on_a_clean_gallery():
    rng = np.random.default_rng(5)
    centres = unit(rng, 20)
    enrolled = {f"p{i}": around(rng, c, 3, 0.03) for i, c in enumerate(centres)}
    genuine = np.vstack([around(rng, c, 2, 0.03) for c in centres])
    truth = [f"p{i}" for i in range(20) for _ in range(2)]
    impostors = unit(rng, 500)
    r = score_open_set(GalleryScorer(enrolled), genuine, truth, impostors, threshold=0.6,
                       margin=0.03, bootstrap=50)
    assert r.rank1.value == 1.0 and r.tpir.value == 1.0
    assert r.fpir.value == 0.0 and r.misidentified == 0
    assert r.fnir_at_fpir[0.01][0].value == 0.0
    rejected = np.zeros(40, bool)
    rejected[:4] = True  # the quality gate: turned-away genuine probes are misses
    gated = score_open_set(GalleryScorer(enrolled), genuine, truth, impostors, threshold=0.6,
                           margin=0.03, rejected_genuine=rejected, bootstrap=0)
    assert gated.tpir.value == pytest.approx(0.9)


def test_wilson_interval_contains_the_rate_and_is_sane_at_zero():
    i = wilson(0, 1000)
    assert i.value == 0 and i.low == 0 and 0 < i.high < 0.005
    j = wilson(50, 100)
    assert j.low < 0.5 < j.high


def test_duplicate_vote_needs_a_majority_of_faces_at_the_threshold():
    near = [("Other", 0.80), ("Third", 0.20)]
    far = [("Other", 0.40), ("Third", 0.20)]
    assert duplicate_vote([near, near, far], "New", 0.7, 0.03).other == "Other"
    assert duplicate_vote([near, far, far], "New", 0.7, 0.03) is None
    assert duplicate_vote([[("new", 0.99)], [("NEW", 0.99)]], "New", 0.7, 0.03) is None


def test_outlier_flag_catches_a_wrong_photo_but_not_a_pair():
    rng = np.random.default_rng(6)
    centre = unit(rng, 1)[0]
    own = around(rng, centre, 3, 0.03)
    wrong = unit(rng, 1)
    flags = outlier_flags(np.vstack([own, wrong]), np.zeros((0, DIM)), 0.4)
    assert flags.tolist() == [False, False, False, True]
    assert not outlier_flags(np.vstack([own[:1], wrong]), np.zeros((0, DIM)), 0.4).any()
    # against samples already enrolled
    assert outlier_flags(wrong, own, 0.4).tolist() == [True]


def test_ten_fold_accuracy_on_separable_pairs():
    rng = np.random.default_rng(7)
    sims = np.concatenate([rng.uniform(0.6, 1, 300), rng.uniform(-0.2, 0.4, 300)])
    same = np.array([True] * 300 + [False] * 300)
    folds = np.tile(np.arange(1, 11), 60)
    result = ten_fold(sims, same, folds, np.ones(600, bool))
    assert result.accuracy == 1.0 and 0.4 <= result.threshold <= 0.6
    valid = np.ones(600, bool)
    valid[:6] = False
    assert ten_fold(sims, same, folds, valid).accuracy == pytest.approx(0.99)


def test_quality_gate_names_the_problem():
    s = Settings(quality_min_face=40, quality_min_sharpness=20, quality_min_det_prob=0.95)
    assert quality_problem(80, 100, 0.99, s) is None
    assert "small" in quality_problem(30, 100, 0.99, s)
    assert "blurred" in quality_problem(80, 10, 0.99, s)
    assert "uncertain" in quality_problem(80, 100, 0.92, s)
    assert quality_problem(10, 1, 0.5, Settings(quality_min_face=0, quality_min_sharpness=0,
                                                  quality_min_det_prob=0)) is None
