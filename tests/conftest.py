import os

os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import pytest  # noqa: E402
import torch  # noqa: E402


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


@pytest.fixture
def gauss_data():
    """A small rank-deficient training set (N < d) of a power-law Gaussian."""
    from gendiff.data import GaussianData

    rho = GaussianData.power_law(12, k=1.0, mean_scale=1.0, seed=3)
    return rho, rho.sample(7, seed=4)
