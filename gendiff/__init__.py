"""gendiff: why diffusion models generalize -- a literate, tested study (see README.md)."""
from ._checks import GendiffError
from .denoisers import Denoiser, EmpiricalDenoiser, GaussianDenoiser, LinearDenoiser
from .device import get_device, seed_everything

__version__ = "0.1.0"
__all__ = ["GendiffError", "Denoiser", "EmpiricalDenoiser", "GaussianDenoiser", "LinearDenoiser", "get_device",
           "seed_everything", "__version__"]
