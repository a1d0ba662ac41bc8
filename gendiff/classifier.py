"""A small digit classifier for sample measures that match what the eye sees, next to pixel RMSE.

Pixel RMSE between sample sets rewards blur: a grey blob is nearer, in pixels, to most digits than another sharp
digit is. A classifier trained once on labelled real images gives three measures that do not:
- ``confidence``: the mean largest class probability on samples (a quality proxy: blobs and mixtures of two digits
  get low confidence, real digits high);
- ``class_entropy``: the entropy (nats) of the histogram of predicted classes (diversity: log 10 = 2.30 when the ten
  classes are equally frequent, 0 when every sample is one class);
- ``feature_rmse``: the distance between paired sample sets in the classifier's penultimate features.

The classifier is trained on the *held-out tail* of the dataset's fixed permutation (its last ``n_train + n_val``
images), so it never sees a training image of a net with N <= dataset size - n_train - n_val, and it is cached
(``ClassifierConfig`` is the key) like the nets."""
from __future__ import annotations

import hashlib
import json
import math
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from torch import nn

from ._checks import GendiffError, check_choice, check_int
from .data import LABELLED, load_dataset, load_labels, permutation


class DigitCNN(nn.Module):
    """Three 3x3 convolutions (the last two stride 2), global average pooling, one linear layer."""

    def __init__(self, in_channels: int = 1, n_classes: int = 10, width: int = 32):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(in_channels, width, 3, padding=1), nn.ReLU(),
            nn.Conv2d(width, 2 * width, 3, stride=2, padding=1), nn.ReLU(),
            nn.Conv2d(2 * width, 2 * width, 3, stride=2, padding=1), nn.ReLU(),
            nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.head = nn.Linear(2 * width, n_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:  # (B, C, H, W) in [-1, 1] -> (B, 2 width)
        return self.body(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # -> (B, n_classes) logits
        return self.head(self.features(x))


@dataclass(frozen=True)
class ClassifierConfig:
    """Everything that defines a trained classifier; its hash is the cache key."""

    dataset: str = "mnist"
    size: int | None = 16
    n_train: int = 800
    n_val: int = 100
    epochs: int = 40
    batch_size: int = 64
    lr: float = 2e-3
    data_seed: int = 0
    seed: int = 0

    def __post_init__(self):
        check_choice("dataset", self.dataset, LABELLED)
        for k in ("n_train", "n_val", "epochs", "batch_size"):
            check_int(k, getattr(self, k), low=1)

    def key(self) -> str:
        return hashlib.sha256(json.dumps(asdict(self), sort_keys=True).encode()).hexdigest()[:16]

    def data(self):
        """(training images, labels, validation images, labels) from the held-out tail of the permutation."""
        x, lab = load_dataset(self.dataset, size=self.size), load_labels(self.dataset)
        check_int("n_train + n_val", self.n_train + self.n_val, high=x.shape[0] - 1)
        tail = permutation(x.shape[0], self.data_seed)[-(self.n_train + self.n_val):]
        tr, va = tail[:self.n_train], tail[self.n_train:]
        return x[tr], lab[tr], x[va], lab[va]


def train_classifier(cfg: ClassifierConfig) -> tuple[DigitCNN, dict]:
    """Adam on cross-entropy, with random one-pixel shifts; returns (model in eval mode, info with val_accuracy)."""
    xt, yt, xv, yv = cfg.data()
    torch.manual_seed(cfg.seed)
    g = torch.Generator().manual_seed(cfg.seed)
    model = DigitCNN(xt.shape[1])
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    for _ in range(cfg.epochs):
        perm = torch.randperm(xt.shape[0], generator=g)
        for lo in range(0, xt.shape[0], cfg.batch_size):
            i = perm[lo:lo + cfg.batch_size]
            sh = torch.randint(-1, 2, (2,), generator=g).tolist()
            loss = nn.functional.cross_entropy(model(xt[i].roll(sh, dims=(2, 3))), yt[i])  # augmentation: shifts
            opt.zero_grad()
            loss.backward()
            opt.step()
    model.eval()
    with torch.no_grad():
        acc = float((model(xv).argmax(1) == yv).double().mean())
    return model, {"val_accuracy": acc, "config": asdict(cfg)}


def get_classifier(cfg: ClassifierConfig | None = None, *, root=None) -> tuple[DigitCNN, dict]:
    """The trained classifier of ``cfg``: loaded from the cache (cache_dir()/classifiers/<key>/), or trained and
    stored (weights written then renamed, with their sha256 checked on load)."""
    from safetensors.torch import load_file, save_file

    from .cache import _sha256, cache_dir, entry_lock
    from .files import atomic_write, atomic_write_text

    cfg = cfg or ClassifierConfig()
    d = (Path(root) if root else cache_dir()) / "classifiers" / cfg.key()
    w, meta = d / "model.safetensors", d / "info.json"
    def load():
        info = json.loads(meta.read_text())
        if not w.exists() or _sha256(w) != info.get("sha256"):
            raise GendiffError(f"{w} is missing, truncated or corrupt (sha256 mismatch); delete {d} to retrain")
        model = DigitCNN(cfg.data()[0].shape[1])
        model.load_state_dict(load_file(str(w)))
        return model.eval(), {**info, "trained": False}

    if meta.exists():  # reading takes no lock, so a read-only shared cache serves what it holds
        return load()
    if d.parent.exists() and not os.access(d.parent, os.W_OK):
        raise GendiffError(f"the cache {d.parent} is read-only and lacks the classifier {cfg.key()}: train it in a "
                           "writable cache first (GENDIFF_CACHE names the cache folder)")
    with entry_lock(d.parent / f".{cfg.key()}.lock"):
        if meta.exists():
            return load()
        model, info = train_classifier(cfg)
        d.mkdir(parents=True, exist_ok=True)
        atomic_write(w, lambda tmp: save_file(model.state_dict(), str(tmp)))
        info["sha256"] = _sha256(w)
        atomic_write_text(meta, json.dumps(info, indent=1))  # last: its presence marks a complete entry
    return model, {**info, "trained": True}


@torch.no_grad()
def prediction_measures(clf: nn.Module, x: torch.Tensor, n_classes: int = 10) -> dict:
    """On samples x in [-1, 1]: mean largest class probability ('confidence'), the entropy in nats of the histogram
    of predicted classes ('class_entropy') and that histogram ('classes', shares summing to 1)."""
    p = torch.softmax(clf(x.float()), dim=1).double()
    hist = torch.bincount(p.argmax(1), minlength=n_classes).double() / x.shape[0]
    nz = hist[hist > 0]
    return {"confidence": float(p.max(1).values.mean()), "class_entropy": float(-(nz * nz.log()).sum()),
            "classes": hist.tolist()}


@torch.no_grad()
def feature_rmse(clf: DigitCNN, a: torch.Tensor, b: torch.Tensor) -> float:
    """Mean over pairs of ||f(a_i) - f(b_i)|| / sqrt(dim f), f the classifier's penultimate features."""
    if a.shape != b.shape:
        raise GendiffError(f"feature_rmse needs paired sets of one shape, got {tuple(a.shape)} and {tuple(b.shape)}")
    fa, fb = clf.features(a.float()).double(), clf.features(b.float()).double()
    return float(((fa - fb) ** 2).mean(1).sqrt().mean())


MAX_ENTROPY = math.log(10)  # ten equally frequent classes
