"""Turn the standard downloads into what the ``paper`` profiles read (``python -m gendiff data ...``).

- CIFAR-10, "CIFAR-10 python version" (cifar-10-batches-py/: data_batch_1..5 and test_batch, each a pickled dict
  with b"data", uint8 (10000, 3072) in R, G, B planes of 32 x 32, and b"labels") -> one .npz with ``x`` uint8
  (60000, 32, 32, 3), the five training batches first, then the test batch, and ``labels`` (int64).
- FFHQ (a folder of image files at any resolution, e.g. the 1024 px images or the 128 px thumbnails) -> a folder of
  ``size`` x ``size`` RGB PNGs (antialiased resize), named as the sources, in sorted order.

Each writes to a temporary name and renames when complete, so an interrupted preparation leaves nothing that looks
done; what exists already is refused unless ``overwrite``.
"""
from __future__ import annotations

import pickle
import shutil
import tempfile
from pathlib import Path

import numpy as np

from ._checks import GendiffError, check_int
from .progress import tqdm
from .files import atomic_write

CIFAR_BATCHES = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]


def _refuse_existing(out: Path, overwrite: bool) -> None:
    if out.exists() and not overwrite:
        raise GendiffError(f"{str(out)!r} exists already; pass --overwrite to replace it")


def prepare_cifar10(src, out, *, overwrite: bool = False) -> Path:
    """cifar-10-batches-py/ -> ``out`` (.npz with x (60000, 32, 32, 3) uint8 and labels). Returns ``out``."""
    src, out = Path(src).expanduser(), Path(out).expanduser()
    if src.is_dir() and (src / "cifar-10-batches-py").is_dir():
        src = src / "cifar-10-batches-py"
    missing = [b for b in CIFAR_BATCHES if not (src / b).is_file()]
    if missing:
        raise GendiffError(f"{str(src)!r} is not CIFAR-10's python folder: missing {', '.join(missing)} (the "
                           "'CIFAR-10 python version' download, unpacked)")
    _refuse_existing(out, overwrite)
    xs, labels = [], []
    for b in tqdm(CIFAR_BATCHES, desc="CIFAR-10 batches", leave=False):
        try:
            with open(src / b, "rb") as f:
                d = pickle.load(f, encoding="bytes")  # noqa: S301  (the dataset's own format, from the user's disk)
            data, lab = np.asarray(d[b"data"], dtype=np.uint8), np.asarray(d[b"labels"], dtype=np.int64)
        except (pickle.UnpicklingError, EOFError, KeyError, TypeError, ValueError, AttributeError) as e:
            raise GendiffError(f"{src / b} is not a CIFAR-10 batch ({type(e).__name__})") from None
        if data.ndim != 2 or data.shape[1] != 3 * 32 * 32 or len(lab) != data.shape[0]:
            raise GendiffError(f"{src / b}: expected data (n, 3072) and n labels, got {data.shape} and {len(lab)}")
        xs.append(data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1))  # R, G, B planes -> (n, 32, 32, 3)
        labels.append(lab)
    x, y = np.concatenate(xs), np.concatenate(labels)

    def write(tmp):
        with open(tmp, "wb") as f:
            np.savez(f, x=x, labels=y)

    atomic_write(out, write)
    return out


def prepare_ffhq(src, out, *, size: int = 64, overwrite: bool = False) -> Path:
    """A folder of FFHQ images (any resolution) -> ``out``, a folder of size x size RGB PNGs. Returns ``out``."""
    from PIL import Image

    from .data import _image_files

    check_int("size", size, low=8)
    src, out = Path(src).expanduser(), Path(out).expanduser()
    files = _image_files(src)
    _refuse_existing(out, overwrite)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.", suffix=".partial"))
    try:
        for i, f in enumerate(tqdm(files, desc=f"FFHQ to {size} px", leave=False)):
            try:
                with Image.open(f) as im:
                    im = im.convert("RGB").resize((size, size), Image.LANCZOS, reducing_gap=3.0)
            except (OSError, ValueError, SyntaxError) as e:
                raise GendiffError(f"{str(f)!r} is not a readable image ({type(e).__name__}: {e})") from None
            im.save(tmp / f"{i:05d}_{f.stem}.png")
        if out.exists():
            shutil.rmtree(out)
        tmp.rename(out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out
