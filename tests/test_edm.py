import math

import pytest
import torch

from gendiff import GendiffError, edm
from gendiff.denoisers.net import EDMPrecond
from gendiff.nets import MLP

PAPER_LEVELS = [80, 42.41519, 21.10868, 9.72320, 4.06612, 1.50174, 0.469979, 0.116639, 0.0204353, 0.002]


def test_ten_levels_pinned():
    s = edm.sigma_grid(10)
    assert len(s) == 10
    for got, want in zip(s.tolist(), PAPER_LEVELS):
        assert got == pytest.approx(want, rel=5e-6)  # the list is given to 6 significant digits


def test_sampling_steps_end_at_zero():
    t = edm.sampling_steps(18)
    assert len(t) == 19 and t[-1] == 0 and t[0] == 80 and t[-2] == pytest.approx(0.002)
    assert torch.all(t[:-1] > t[1:])
    assert len(edm.sampling_steps(18, denoise_last=False)) == 18


def test_bad_grid_parameters():
    with pytest.raises(GendiffError, match="sigma_min"):
        edm.sigma_grid(10, sigma_min=0)
    with pytest.raises(GendiffError, match="n must be"):
        edm.sigma_grid(1)


def test_training_sigma_distribution():
    g = torch.Generator().manual_seed(0)
    s = edm.sample_training_sigma(200000, generator=g)
    assert s.log().mean().item() == pytest.approx(-1.2, abs=0.01)
    assert s.log().std().item() == pytest.approx(1.2, abs=0.01)


def test_preconditioning_identities():
    s = torch.tensor([0.002, 0.5, 80.0])
    c_skip, c_out, c_in, c_noise = edm.preconditioning(s)
    sd = edm.SIGMA_DATA
    # EDM: c_skip^2 sd^2 ... the effective target has unit variance: c_skip^2 (s^2+sd^2) + c_out^2 ... identities
    assert torch.allclose(c_skip + c_out**2 / sd**2, torch.ones(3), atol=1e-6)
    assert torch.allclose(c_in, 1 / (s**2 + sd**2).sqrt())
    assert torch.allclose(c_noise, s.log() / 4)
    assert edm.loss_weight(torch.tensor(0.5)).item() == pytest.approx((0.25 + 0.25) / (0.25 * 0.25))


def test_precond_of_zero_network_is_c_skip():
    class Zero(torch.nn.Module):
        def forward(self, x, c):
            return torch.zeros_like(x)

    D = EDMPrecond(Zero())
    x = torch.randn(4, 3)
    out = D(x, 2.0)
    assert torch.allclose(out, x * 0.25 / (4 + 0.25))
    with pytest.raises(GendiffError, match="sigma must be > 0"):
        D(x, 0.0)


def test_edm_loss_of_perfect_denoiser_on_single_point_is_zero():
    y0 = torch.randn(1, 5)

    class Oracle(torch.nn.Module):
        def forward(self, x, sigma):
            return y0.expand_as(x)

    y = y0.expand(16, 5).clone()
    assert edm.edm_loss(Oracle(), y, generator=torch.Generator().manual_seed(0)).item() == 0.0
    assert math.isfinite(edm.edm_loss(EDMPrecond(MLP(5, hidden=8)), y).item())


def test_band_mean_by_name():
    sig = [80.0, 10.0, 3.0, 1.0, 0.3, 0.01]
    vals = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
    assert edm.band_mean(vals, sig, "mid") == pytest.approx((3 + 4 + 5) / 3)  # closed interval [0.3, 3]
    assert edm.band_mean(vals, sig, "high") == pytest.approx((1 + 2 + 3) / 3)
    assert edm.band_mean(vals, sig, "low") == pytest.approx((5 + 6) / 2)
    assert math.isnan(edm.band_mean([1.0], [50.0], "mid"))
    with pytest.raises(GendiffError, match="band"):
        edm.band_mean(vals, sig, "middle")
    with pytest.raises(GendiffError, match="6 noise levels"):
        edm.band_mean(vals[:-1], sig, "mid")


def test_named_streams_are_reproducible_and_unrelated():
    from gendiff.device import stream, stream_seed
    from gendiff.sampling import initial_noise

    assert stream_seed(0, "samples") == stream_seed(0, "samples")
    seeds = {stream_seed(s, n, i) for s in (0, 1) for n in ("samples", "eval") for i in (0, 1)}
    assert len(seeds) == 8  # no two streams share a seed (an offset scheme would: seed 1 + 0 == seed 0 + 1)
    a = torch.randn(1000, generator=stream(0, "samples"))
    b = torch.randn(1000, generator=stream(0, "eval"))
    assert abs(float(torch.corrcoef(torch.stack([a, b]))[0, 1])) < 0.15
    x1, x2 = initial_noise(64, (1, 8, 8), 3), initial_noise(64, (1, 8, 8), 3)
    assert torch.equal(x1, x2) and x1.shape == (64, 1, 8, 8)
    assert float(x1.std()) == pytest.approx(edm.SIGMA_MAX, rel=0.05)
    assert not torch.equal(x1, initial_noise(64, (1, 8, 8), 4))
    with pytest.raises(GendiffError, match="stream='sample'"):
        stream(0, "sample")


def test_learned_part_removes_exactly_the_skip_path():
    from gendiff.locality import jacobian

    torch.manual_seed(0)
    net = EDMPrecond(MLP(8, hidden=16))
    z = torch.randn(3, 8)
    for s in (0.002, 0.5, 20.0):
        J, J_learned = jacobian(net, z, s), jacobian(net.learned_part(), z, s)
        c_skip = float(edm.preconditioning(torch.tensor(s))[0])
        torch.testing.assert_close(J, J_learned + c_skip * torch.eye(8).expand(3, 8, 8), atol=1e-5, rtol=1e-4)

    class Zero(torch.nn.Module):
        def forward(self, x, c_noise):
            return torch.zeros_like(x)

    zero = EDMPrecond(Zero())  # D = c_skip x: all its sensitivity is the skip path
    assert float(jacobian(zero.learned_part(), z, 0.002).abs().max()) == 0.0
    assert float(jacobian(zero, z, 0.002).diagonal(dim1=1, dim2=2).min()) > 0.99


def test_the_net_wrapper_lives_with_the_denoisers_and_edm_never_imports_them():
    import ast
    from pathlib import Path

    assert edm.EDMPrecond is EDMPrecond  # the committed notebooks' import still works, on demand
    tree = ast.parse(Path(edm.__file__).read_text())
    top = [n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))]  # module level only
    names = [a.name for n in top for a in n.names] + [n.module or "" for n in top if isinstance(n, ast.ImportFrom)]
    assert not [m for m in names if "denoisers" in m], names
