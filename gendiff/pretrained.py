"""Pretrained nets as gendiff Denoisers D(x, sigma), so a GPU user can analyse a published model instead of training.

Two formats, each named explicitly (a checkpoint does not say how it was trained, and a wrong guess gives a wrong
denoiser without any error):

- ``"ddpm"``: a diffusers DDPM folder, ``unet/`` (UNet2DModel) and ``scheduler/scheduler_config.json`` (discrete
  timesteps t = 0..T-1 with cumulative alphas abar_t; prediction_type epsilon, sample or v_prediction). The VP process
  x_t = sqrt(abar_t) x0 + sqrt(1 - abar_t) eps is the EDM process x = x0 + sigma n scaled by sqrt(abar_t), with
  sigma_t = sqrt((1 - abar_t) / abar_t) (Karras et al. 2022, Sec. 2 and App. C.3.4). So D(x, sigma) runs the net at
  x_t = x / sqrt(1 + sigma^2) and the timestep whose sigma_t is nearest to sigma (in log sigma), and turns its output
  into the clean-image estimate. At sigma = sigma_t exactly this equals the pipeline's own x0 prediction.
- ``"edm"``: a TorchScript module whose ``forward(x, sigma)`` already is an EDM denoiser D(x; sigma) (EDM's
  preconditioned nets, exported with ``torch.jit.trace`` or ``torch.jit.script``), or a diffusers UNet2DModel folder
  trained inside EDM preconditioning, as gendiff's own nets are (``zoo.load_unet_denoiser``).
"""
from __future__ import annotations

import json
from pathlib import Path

import torch

from ._checks import GendiffError, check_choice
from .denoisers.base import Denoiser

FORMATS = ("ddpm", "edm")
PREDICTIONS = ("epsilon", "sample", "v_prediction")


def sigma_of_timesteps(alphas_cumprod) -> torch.Tensor:
    """sigma_t = sqrt((1 - abar_t) / abar_t) of each discrete DDPM timestep (float64; Karras et al. 2022,
    App. C.3.4)."""
    abar = torch.as_tensor(alphas_cumprod, dtype=torch.float64)
    return ((1 - abar) / abar).sqrt()


class DDPMDenoiser(Denoiser):
    """A discrete-time DDPM net (epsilon, x0 or v prediction) as D(x, sigma) in EDM's variance-exploding form."""

    name = "pretrained DDPM"

    def __init__(self, unet: torch.nn.Module, alphas_cumprod: torch.Tensor, prediction_type: str = "epsilon"):
        super().__init__()
        check_choice("prediction_type", prediction_type, PREDICTIONS)
        abar = torch.as_tensor(alphas_cumprod, dtype=torch.float64).reshape(-1)
        if abar.numel() < 2 or not bool(((abar > 0) & (abar < 1)).all()):
            raise GendiffError("alphas_cumprod must hold at least two values in (0, 1)")
        self.unet, self.prediction_type = unet, prediction_type
        self.register_buffer("abar", abar)
        self.register_buffer("sigmas", sigma_of_timesteps(abar))

    def timestep(self, sigma: torch.Tensor) -> torch.Tensor:
        """The timestep index whose sigma_t is nearest to each sigma (in log sigma)."""
        d = (self.sigmas.log().reshape(1, -1) - sigma.to(torch.float64).log().reshape(-1, 1)).abs()
        return d.argmin(dim=1)

    def denoise(self, x: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
        t = self.timestep(sigma)
        abar = self.abar[t].reshape(-1, *([1] * (x.ndim - 1)))
        a, b = abar.sqrt(), (1 - abar).sqrt()
        s = _as_col(sigma.to(torch.float64), x)
        x_t = (x.to(torch.float64) / (1 + s**2).sqrt())  # the VP input: x0 + sigma n scaled by 1 / sqrt(1 + sigma^2)
        w = next(self.unet.parameters())
        out = self.unet(x_t.to(w.dtype), t.to(x.device)).sample.to(torch.float64)
        if self.prediction_type == "epsilon":
            x0 = (x_t - b * out) / a
        elif self.prediction_type == "sample":
            x0 = out
        else:  # v = sqrt(abar) eps - sqrt(1 - abar) x0
            x0 = a * x_t - b * out
        return x0.to(x.dtype)


class ScriptedEDMDenoiser(Denoiser):
    """A TorchScript module computing D(x; sigma) (EDM-style preconditioned net) as a gendiff Denoiser."""

    name = "pretrained EDM"

    def __init__(self, module):
        super().__init__()
        self.module = module

    def denoise(self, x: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
        return self.module(x, sigma.to(x.dtype)).to(x.dtype)


def _as_col(v: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    return v.reshape(-1, *([1] * (x.ndim - 1)))


def load_pretrained(path, kind: str, *, device=None) -> Denoiser:
    """The pretrained net at ``path`` as a Denoiser (eval mode, no gradients). ``kind``: "ddpm" (a diffusers folder
    with unet/ and scheduler/) or "edm" (a TorchScript file of D(x, sigma), or a UNet2DModel folder trained inside EDM
    preconditioning). Every problem is one error naming the path, before any use."""
    check_choice("kind", kind, FORMATS)
    path = Path(path).expanduser()
    if not path.exists():
        raise GendiffError(f"pretrained net {str(path)!r} does not exist")
    if kind == "ddpm":
        D = _load_ddpm(path)
    elif path.is_file():
        try:
            D = ScriptedEDMDenoiser(torch.jit.load(str(path), map_location="cpu"))
        except Exception as e:  # not a TorchScript archive
            raise GendiffError(f"pretrained net {str(path)!r} is not a TorchScript file of D(x, sigma) "
                               f"({type(e).__name__}); export it with torch.jit.trace or torch.jit.script") from None
    else:
        if (path / "scheduler").is_dir():
            raise GendiffError(f"{str(path)!r} is a diffusers pipeline with a scheduler (a DDPM-style net): load "
                               "it with kind='ddpm'")
        from .zoo import load_unet_denoiser

        D = load_unet_denoiser(path)
    if device is not None:
        D = D.to(device)
    return D.eval().requires_grad_(False)


def _load_ddpm(path: Path) -> DDPMDenoiser:
    from diffusers import DDPMScheduler, UNet2DModel

    cfg_path = path / "scheduler" / "scheduler_config.json"
    if not (path / "unet").is_dir() or not cfg_path.is_file():
        raise GendiffError(f"pretrained DDPM {str(path)!r} must hold unet/ (UNet2DModel) and "
                           "scheduler/scheduler_config.json (diffusers' layout)")
    try:
        config = json.loads(cfg_path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise GendiffError(f"{cfg_path} is not valid JSON") from None
    pred = config.get("prediction_type", "epsilon")
    if pred not in PREDICTIONS:
        raise GendiffError(f"{cfg_path}: prediction_type {pred!r} is not one of {PREDICTIONS}")
    scheduler = DDPMScheduler.from_pretrained(str(path), subfolder="scheduler")
    try:
        unet = UNet2DModel.from_pretrained(str(path / "unet"))
    except Exception as e:  # missing or unreadable weights
        raise GendiffError(f"{path / 'unet'} is not a loadable UNet2DModel ({type(e).__name__}: "
                           f"{str(e).splitlines()[0][:200] if str(e) else ''})") from None
    return DDPMDenoiser(unet, scheduler.alphas_cumprod, pred)

