"""Preparing the papers' data from their standard downloads, on tiny files in those formats made here."""
import pickle

import numpy as np
import pytest
from PIL import Image

from gendiff import GendiffError
from gendiff.data import load_dataset, load_npz
from gendiff.study.cli import main


def _cifar_folder(root, n=4):
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    planes = {}
    for k, b in enumerate([f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]):
        img = rng.integers(0, 256, (n, 32, 32, 3), dtype=np.uint8)  # (n, H, W, C), the truth
        planes[b] = img
        data = img.transpose(0, 3, 1, 2).reshape(n, 3072)  # CIFAR stores R, G, B planes, row-major
        with open(folder / b, "wb") as f:
            pickle.dump({b"data": data, b"labels": list(range(k, k + n))}, f)
    return folder, planes


def test_cifar10_python_batches_become_the_npz_the_profiles_read(tmp_path, capsys):
    folder, planes = _cifar_folder(tmp_path)
    assert main(["data", "cifar10", str(tmp_path), "--out", str(tmp_path / "c.npz")]) == 0
    with np.load(tmp_path / "c.npz") as z:
        x, labels = z["x"], z["labels"]
    assert x.shape == (24, 32, 32, 3) and x.dtype == np.uint8
    assert np.array_equal(x[:4], planes["data_batch_1"]) and np.array_equal(x[-4:], planes["test_batch"])
    assert list(labels[-4:]) == [5, 6, 7, 8]
    assert load_npz(tmp_path / "c.npz").shape == (24, 3, 32, 32)  # the loader of the paper profiles reads it
    assert main(["data", "cifar10", str(folder), "--out", str(tmp_path / "c.npz")]) == 2  # exists: refused
    assert "exists already; pass --overwrite" in capsys.readouterr().err
    (folder / "data_batch_3").unlink()
    with pytest.raises(GendiffError, match="missing data_batch_3"):
        from gendiff.data_prep import prepare_cifar10

        prepare_cifar10(folder, tmp_path / "d.npz")
    (folder / "data_batch_3").write_bytes(b"garbage")
    with pytest.raises(GendiffError, match="data_batch_3 is not a CIFAR-10 batch"):
        prepare_cifar10(folder, tmp_path / "d.npz")
    assert not (tmp_path / "d.npz").exists()


def test_an_ffhq_folder_becomes_64px_pngs_the_folder_loader_reads(tmp_path):
    src = tmp_path / "images1024x1024" / "00000"
    src.mkdir(parents=True)
    rng = np.random.default_rng(1)
    for i in range(3):
        Image.fromarray(rng.integers(0, 256, (96, 96, 3), dtype=np.uint8)).save(src / f"{i:05d}.png")
    assert main(["data", "ffhq", str(tmp_path / "images1024x1024"), "--out", str(tmp_path / "ffhq64")]) == 0
    x = load_dataset("folder", data_path=tmp_path / "ffhq64")
    assert x.shape == (3, 3, 64, 64)
    assert not list(tmp_path.glob(".ffhq64.*"))  # no temporary folder left
    (src / "00001.png").write_bytes(b"not a png")
    with pytest.raises(GendiffError, match="00001.png' is not a readable image"):
        from gendiff.data_prep import prepare_ffhq

        prepare_ffhq(tmp_path / "images1024x1024", tmp_path / "bad", size=64)
    assert not (tmp_path / "bad").exists() and not list(tmp_path.glob(".bad.*"))
