"""Pretrained nets in the two formats a GPU user brings, each made here, saved in its format and loaded: the loaded
Denoiser must equal the original's own prediction converted to D(x, sigma)."""
import json

import pytest
import torch

from gendiff import GendiffError
from gendiff.pretrained import load_pretrained, sigma_of_timesteps
from gendiff.zoo import build_unet


def _ddpm_folder(tmp_path, prediction_type):
    from diffusers import DDPMScheduler

    torch.manual_seed(0)
    unet = build_unet(4, 1, 8)
    sched = DDPMScheduler(num_train_timesteps=50, prediction_type=prediction_type)
    unet.save_pretrained(str(tmp_path / "unet"))
    sched.save_pretrained(str(tmp_path / "scheduler"))
    return unet.eval(), sched


@pytest.mark.parametrize("prediction_type", ["epsilon", "sample", "v_prediction"])
def test_a_ddpm_checkpoint_loads_as_its_own_x0_prediction(tmp_path, prediction_type):
    unet, sched = _ddpm_folder(tmp_path, prediction_type)
    D = load_pretrained(tmp_path, "ddpm")
    x0 = torch.rand(3, 1, 8, 8) * 2 - 1
    eps = torch.randn(3, 1, 8, 8)
    for t in (2, 17, 45):
        abar = sched.alphas_cumprod[t].double()
        x_t = (abar.sqrt() * x0 + (1 - abar).sqrt() * eps).float()  # the pipeline's own forward process
        with torch.no_grad():
            out = unet(x_t, torch.full((3,), t)).sample.double()
        # the pipeline's x0 estimate, in diffusers' formulas (DDPMScheduler.step)
        ref = {"epsilon": (x_t - (1 - abar).sqrt() * out) / abar.sqrt(), "sample": out,
               "v_prediction": abar.sqrt() * x_t - (1 - abar).sqrt() * out}[prediction_type]
        sigma = float(sigma_of_timesteps(sched.alphas_cumprod)[t])
        x = x_t.double() / abar.sqrt()  # the same noisy image in EDM's form x0 + sigma n
        assert torch.allclose(D(x.float(), sigma).double(), ref, atol=2e-5), t
        assert int(D.timestep(torch.tensor([sigma * 1.01]))) == t  # an off-grid sigma takes the nearest timestep


def _scripted_edm(path, seed=0):
    from gendiff.denoisers.net import EDMPrecond
    from gendiff.nets import MLP

    torch.manual_seed(seed)
    net = EDMPrecond(MLP(64, hidden=8, depth=1), shape=(1, 8, 8)).eval()

    class Plain(torch.nn.Module):  # what an EDM export looks like: forward(x, sigma) -> D(x; sigma)
        def __init__(self, D):
            super().__init__()
            self.D = D

        def forward(self, x, sigma):
            return self.D.denoise(x, sigma)

    x, s = torch.randn(2, 1, 8, 8), torch.tensor([0.3, 2.0])
    torch.jit.trace(Plain(net), (x, s)).save(str(path))
    return net


def test_an_edm_scripted_net_loads_as_itself(tmp_path):
    net = _scripted_edm(tmp_path / "edm.pt")
    x, s = torch.randn(2, 1, 8, 8), torch.tensor([0.3, 2.0])
    D = load_pretrained(tmp_path / "edm.pt", "edm")
    assert torch.allclose(D(x, s), net(x, s), atol=1e-6)


def test_a_ddpm_folder_is_never_taken_for_an_edm_net_and_bad_paths_are_named(tmp_path):
    _ddpm_folder(tmp_path / "p", "epsilon")
    with pytest.raises(GendiffError, match="a DDPM-style net\\): load it with kind='ddpm'"):
        load_pretrained(tmp_path / "p", "edm")
    from gendiff.zoo import load_unet_denoiser

    for folder in (tmp_path / "p", tmp_path / "p" / "unet"):
        with pytest.raises(GendiffError, match="belongs to a diffusers DDPM pipeline"):
            load_unet_denoiser(folder)
    with pytest.raises(GendiffError, match="does not exist"):
        load_pretrained(tmp_path / "none", "ddpm")
    with pytest.raises(GendiffError, match="must hold unet/"):
        load_pretrained(tmp_path / "p" / "unet", "ddpm")
    (tmp_path / "junk.pt").write_bytes(b"not torchscript")
    with pytest.raises(GendiffError, match="is not a TorchScript file"):
        load_pretrained(tmp_path / "junk.pt", "edm")
    cfg = tmp_path / "p" / "scheduler" / "scheduler_config.json"
    cfg.write_text(json.dumps({**json.loads(cfg.read_text()), "prediction_type": "flow"}))
    with pytest.raises(GendiffError, match="prediction_type 'flow'"):
        load_pretrained(tmp_path / "p", "ddpm")
    with pytest.raises(GendiffError, match="kind must be one of"):
        load_pretrained(tmp_path / "p", "ldm")


def test_a_config_naming_a_pretrained_net_loads_it_untrained_and_keys_its_derived_results_by_its_bytes(tmp_path):
    from gendiff.cache import config_key, derived, get_model
    from gendiff.zoo import NetConfig

    net = _scripted_edm(tmp_path / "a.pt")
    base = NetConfig(N=64, dataset="digits", size=8)
    cfg = NetConfig(N=64, dataset="digits", size=8, pretrained=str(tmp_path / "a.pt"))
    assert config_key(cfg) != config_key(base)
    assert "pretrained" not in base.to_dict()  # the keys of every cached trained net stay as they were
    D, info = get_model(cfg, root=tmp_path / "cache")
    assert not info["trained"] and info["key"] == config_key(cfg)
    x, s = torch.randn(3, 1, 8, 8), torch.tensor([0.5, 1.0, 4.0])
    assert torch.allclose(D(x, s), net(x, s), atol=1e-6)
    calls = []
    for _ in range(2):  # derived results are stored once, next to the pretrained net's key
        derived(cfg, "thing", {"a": 1}, lambda: calls.append(1) or torch.ones(2), root=tmp_path / "cache")
    assert len(calls) == 1
    _scripted_edm(tmp_path / "a.pt", seed=1)  # other weights at the same path: another key, nothing stale served
    assert config_key(cfg) != info["key"]
    moved = tmp_path / "b.pt"
    (tmp_path / "a.pt").rename(moved)
    with pytest.raises(GendiffError, match="does not exist"):
        config_key(cfg)
    with pytest.raises(GendiffError, match="pretrained_kind must be one of"):
        NetConfig(N=64, pretrained=str(moved), pretrained_kind="ldm")
    with pytest.raises(GendiffError, match="no training snapshots"):
        NetConfig(N=64, pretrained=str(moved), snapshots=(10,))


def test_a_path_parameter_is_resolved_from_the_project_root_and_a_missing_one_named_before_work(tmp_path):
    from gendiff.study.notebooks import resolve_data_path
    from gendiff.study.params import validate

    (tmp_path / "net.pt").write_bytes(b"x")
    assert resolve_data_path(str(tmp_path / "net.pt"), "pretrained") == str((tmp_path / "net.pt").resolve())
    with pytest.raises(GendiffError, match=r"parameter 'pretrained': 'nets/none.pt' does not exist \(tried .*nets"):
        resolve_data_path("nets/none.pt", "pretrained")
    schema = {"pretrained": {"type": "list[str]", "optional": True, "path": True, "help": "", "default": None}}
    assert validate("10_pspc", {"pretrained": None}, {"pretrained": [str(tmp_path / "net.pt")]}, schema=schema)
    with pytest.raises(GendiffError, match="parameter 'pretrained' of notebook 10_pspc: '/no/such' does not exist"):
        validate("10_pspc", {"pretrained": None}, {"pretrained": ["/no/such"]}, schema=schema)
