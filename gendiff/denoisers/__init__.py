"""Every object the study compares is a Denoiser D(x, sigma): see base.py."""
from .base import Denoiser, as_sigma
from .empirical import EmpiricalDenoiser, TemperedEmpiricalDenoiser
from .gaussian import GaussianDenoiser
from .linear import LinearDenoiser, fit_linear_closed_form, fit_linear_dsm, fit_linear_sgd, linear_dsm_loss_eps
from .local import ELSDenoiser, SmoothedEmpiricalDenoiser
from .net import EDMPrecond, LearnedPart
from .patch import PatchPosteriorDenoiser, PSPCFlex, PSPCSquare, Schedule

__all__ = ["Denoiser", "as_sigma", "EmpiricalDenoiser", "GaussianDenoiser", "LinearDenoiser", "fit_linear_dsm",
           "fit_linear_sgd", "fit_linear_closed_form", "linear_dsm_loss_eps", "PatchPosteriorDenoiser", "PSPCSquare",
           "PSPCFlex", "Schedule", "ELSDenoiser", "SmoothedEmpiricalDenoiser", "EDMPrecond", "LearnedPart",
           "TemperedEmpiricalDenoiser"]
