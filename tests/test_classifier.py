"""The sample-measure classifier: trained on the held-out tail with the right labels, cached, and its measures by hand."""
import math

import pytest
import torch

from gendiff import GendiffError
from gendiff.classifier import (MAX_ENTROPY, ClassifierConfig, feature_rmse, get_classifier, prediction_measures)
from gendiff.data import load_dataset, load_labels, permutation


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("clf")
    return get_classifier(ClassifierConfig(dataset="digits", size=8, n_train=600, n_val=200, epochs=15), root=root), root


def test_labels_follow_the_images():
    x, lab = load_dataset("digits"), load_labels("digits")
    assert lab.shape == (x.shape[0],) and set(lab.tolist()) == set(range(10))
    zeros, ones = x[lab == 0].mean(0), x[lab == 1].mean(0)  # a zero is a ring: its centre is dark, a one's is lit
    assert zeros[0, 3:5, 3:5].mean() < ones[0, 3:5, 3:5].mean()
    with pytest.raises(GendiffError, match="labelled dataset"):
        load_labels("folder")


def test_classifier_learns_and_is_cached(trained):
    (clf, info), root = trained
    assert info["trained"] and info["val_accuracy"] > 0.85  # shuffled labels would give ~0.1
    again, info2 = get_classifier(ClassifierConfig(dataset="digits", size=8, n_train=600, n_val=200, epochs=15), root=root)
    x = load_dataset("digits")[:16]
    assert not info2["trained"] and torch.equal(again(x), clf(x))
    cfg = ClassifierConfig(dataset="digits", size=8, n_train=600, n_val=200, epochs=15)
    (root / "classifiers" / cfg.key() / "model.safetensors").write_bytes(b"garbage")
    with pytest.raises(GendiffError, match="corrupt"):
        get_classifier(cfg, root=root)


def test_trained_on_the_held_out_tail_only():
    cfg = ClassifierConfig(dataset="digits", size=8, n_train=600, n_val=200)
    x = load_dataset("digits")
    xt = cfg.data()[0]
    head = x[permutation(x.shape[0], 0)[:x.shape[0] - 800]]  # every net training set up to N = 997
    assert not (xt.flatten(1)[:, None] == head.flatten(1)[None]).all(-1).any()


def test_measures_tell_digits_from_blobs(trained):
    (clf, _), _ = trained
    x = load_dataset("digits")[:200]
    real = prediction_measures(clf, x)
    blob = prediction_measures(clf, torch.full_like(x, float(x.mean())))
    assert real["confidence"] > blob["confidence"] + 0.2
    assert real["class_entropy"] > 2.0 and blob["class_entropy"] == pytest.approx(0.0)  # one class for all blobs
    assert feature_rmse(clf, x, x) == 0.0 and feature_rmse(clf, x, x.flip(0)) > 0


def test_prediction_measures_by_hand():
    class Fixed(torch.nn.Module):
        def forward(self, x):  # items 0, 1 -> class 0 with p = e/(e+9); items 2, 3 -> class 3
            logits = torch.zeros(x.shape[0], 10)
            logits[:2, 0] = 1.0
            logits[2:, 3] = 1.0
            return logits

    m = prediction_measures(Fixed(), torch.zeros(4, 1, 8, 8))
    assert m["confidence"] == pytest.approx(math.e / (math.e + 9))
    assert m["class_entropy"] == pytest.approx(math.log(2)) and m["classes"][0] == m["classes"][3] == 0.5
    assert MAX_ENTROPY == pytest.approx(math.log(10))
