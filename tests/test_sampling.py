import pytest
import torch

from gendiff import GendiffError, edm
from gendiff.data import empirical_moments
from gendiff.denoisers import EmpiricalDenoiser, GaussianDenoiser
from gendiff.sampling import edm_sampler, pushforward_gaussian


@pytest.fixture
def G(gauss_data):
    _, X = gauss_data
    return GaussianDenoiser(*empirical_moments(X))


def test_closed_form_trajectory_matches_fine_ode(G):
    x_T = 80 * torch.randn(6, 12, dtype=torch.float64)
    ref = G.trajectory(x_T, 80.0, 0.0)
    errs = []
    for n in (18, 100, 800):
        x0 = edm_sampler(G, x_T, num_steps=n, solver="heun", dtype=torch.float64)
        errs.append((x0 - ref).abs().max().item())
    assert errs[0] > errs[1] > errs[2]
    assert errs[2] < 1e-4
    # and at an intermediate time, against the solver's own trajectory
    _, path = edm_sampler(G, x_T, num_steps=800, return_trajectory=True, dtype=torch.float64)
    t = edm.sampling_steps(800)
    assert torch.allclose(path[400], G.trajectory(x_T, 80.0, float(t[400])), atol=1e-4)


def test_trajectory_null_directions_scale_with_sigma(gauss_data):
    _, X = gauss_data
    mu0, S0 = empirical_moments(X)
    G = GaussianDenoiser(mu0, S0)
    lam, U = torch.linalg.eigh(S0)
    v = U[:, 0]  # a null direction
    x_T = (mu0 + 80 * v)[None]
    x_t = G.trajectory(x_T, 80.0, [10.0, 0.0])
    assert torch.allclose(x_t[0, 0], mu0 + 10 * v, atol=1e-8)
    assert torch.allclose(x_t[1, 0], mu0, atol=1e-8)


def test_sampler_shapes_seeds_and_euler(G):
    a = edm_sampler(G, n=4, shape=(12,), num_steps=10, generator=torch.Generator().manual_seed(3))
    b = edm_sampler(G, n=4, shape=(12,), num_steps=10, generator=torch.Generator().manual_seed(3))
    assert a.shape == (4, 12) and torch.equal(a, b)
    e = edm_sampler(G, n=4, shape=(12,), num_steps=10, solver="euler", generator=torch.Generator().manual_seed(3))
    assert not torch.allclose(a, e)
    with pytest.raises(GendiffError, match="solver"):
        edm_sampler(G, n=1, shape=(12,), solver="rk4")
    with pytest.raises(GendiffError, match="needs x_T"):
        edm_sampler(G)


def test_denoise_last_false_stops_at_sigma_min(G):
    x_T = 80 * torch.randn(3, 12, dtype=torch.float64)
    x = edm_sampler(G, x_T, num_steps=600, denoise_last=False, sigma_min=0.3, dtype=torch.float64)
    assert torch.allclose(x, G.trajectory(x_T, 80.0, 0.3), atol=1e-4)


def test_pushforward_matches_monte_carlo(G):
    f = lambda x: edm_sampler(G, x, num_steps=12, dtype=torch.float64)  # noqa: E731
    m, C = pushforward_gaussian(f, torch.zeros(12), 80.0**2 * torch.eye(12))
    xs = f(80.0 * torch.randn(20000, 12, dtype=torch.float64, generator=torch.Generator().manual_seed(0)))
    mc_m, mc_C = empirical_moments(xs)
    assert torch.allclose(mc_m, m, atol=0.05)
    assert torch.allclose(mc_C, C, atol=0.05 * C.abs().max())


def test_pushforward_rejects_nonlinear_map():
    D = EmpiricalDenoiser(torch.randn(5, 3, dtype=torch.float64))
    with pytest.raises(GendiffError, match="not affine"):
        pushforward_gaussian(lambda x: edm_sampler(D, x, num_steps=5, dtype=torch.float64), torch.zeros(3),
                             80.0**2 * torch.eye(3))
