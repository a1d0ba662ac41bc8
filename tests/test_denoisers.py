import math

import pytest
import torch

from gendiff import GendiffError, edm
from gendiff.data import empirical_moments
from gendiff.denoisers import (EmpiricalDenoiser, GaussianDenoiser, LinearDenoiser, fit_linear_dsm,
                               fit_linear_sgd, linear_dsm_loss_eps)
from gendiff.metrics import dsm_loss_linear


def wiener_direct(Sigma0, mu0, s, c=0.0, gamma=0.0):
    d = Sigma0.shape[0]
    I = torch.eye(d, dtype=torch.float64)
    W = torch.linalg.solve((Sigma0 + (c + s**2 + gamma) * I).T, (Sigma0 + c * I).T).T
    return W, mu0 - W @ mu0


@pytest.mark.parametrize("c,gamma", [(0.0, 0.0), (0.05, 0.0), (0.0, 0.3)])
def test_gaussian_denoiser_equals_direct_solve_rank_deficient(gauss_data, c, gamma):
    _, X = gauss_data  # N = 7 < d = 12
    mu0, S0 = empirical_moments(X)
    assert torch.linalg.matrix_rank(S0) == 6
    G = GaussianDenoiser(mu0, S0, c=c, gamma=gamma)
    x = torch.randn(5, 12, dtype=torch.float64)
    for s in (0.002, 0.3, 80.0):
        W, b = wiener_direct(S0, mu0, s, c, gamma)
        assert torch.allclose(G(x, s), x @ W.T + b, atol=1e-9, rtol=1e-7)
    # null directions of Sigma0 are mapped to mu (c = gamma = 0): D(mu + v) = mu for v in the null space
    if c == 0 and gamma == 0:
        lam, U = torch.linalg.eigh(S0)
        v = U[:, 0]
        assert lam[0].abs() < 1e-12
        assert torch.allclose(G((mu0 + 3 * v)[None], 0.1)[0], mu0, atol=1e-9)


def test_gaussian_denoiser_per_sample_sigma_float32_and_shapes():
    y = torch.rand(50, 1, 4, 4) * 2 - 1
    G = GaussianDenoiser.from_data(y)
    x = torch.randn(3, 1, 4, 4)
    s = torch.tensor([0.1, 1.0, 10.0])
    out = G(x, s)
    assert out.shape == x.shape and out.dtype == torch.float32
    for i in range(3):
        assert torch.allclose(out[i], G(x[i:i + 1], float(s[i]))[0], atol=1e-5)
    assert torch.allclose(G(x.double(), s).float(), out, atol=1e-5)
    with pytest.raises(GendiffError, match="expects inputs with 16"):
        G(torch.randn(2, 15), 1.0)
    with pytest.raises(GendiffError, match="sigma must be > 0"):
        G(x, -1.0)
    with pytest.raises(GendiffError, match="one entry per batch"):
        G(x, torch.ones(2))


def test_gaussian_wiener_is_dsm_optimum(gauss_data):
    """Theorem 1: perturbing W* in any direction increases the exact DSM loss."""
    _, X = gauss_data
    mu0, S0 = empirical_moments(X)
    W, b = GaussianDenoiser(mu0, S0).wiener(0.5)
    base = dsm_loss_linear(W, b, mu0, S0, 0.5)
    g = torch.Generator().manual_seed(1)
    for _ in range(5):
        dW = 1e-3 * torch.randn(W.shape, generator=g, dtype=torch.float64)
        db = 1e-3 * torch.randn(b.shape, generator=g, dtype=torch.float64)
        assert dsm_loss_linear(W + dW, b + db, mu0, S0, 0.5) > base


def brute_empirical(x, y, s):
    x, y = x.double().reshape(len(x), -1), y.double().reshape(len(y), -1)
    out = []
    for xi in x:
        logits = torch.tensor([-((xi - yj) ** 2).sum() / (2 * s * s) for yj in y], dtype=torch.float64)
        w = torch.exp(logits - logits.max())
        w = w / w.sum()
        out.append((w[:, None] * y).sum(0))
    return torch.stack(out)


@pytest.mark.parametrize("s", [0.002, 0.05, 0.5, 3.0, 80.0])
def test_empirical_denoiser_matches_naive_loop(s):
    g = torch.Generator().manual_seed(0)
    y = torch.rand(37, 6, generator=g, dtype=torch.float64) * 2 - 1
    x = y[:4] + s * torch.randn(4, 6, generator=g, dtype=torch.float64)
    x = torch.cat([x, torch.randn(2, 6, generator=g, dtype=torch.float64)])
    D = EmpiricalDenoiser(y, chunk_size=5)  # several chunks: exercises the streaming log-sum-exp
    out = D(x, s)
    assert torch.isfinite(out).all()
    assert torch.allclose(out, brute_empirical(x, y, s), atol=1e-10)
    assert torch.allclose(D.weights(x, s).sum(1), torch.ones(len(x), dtype=torch.float64))


def test_empirical_denoiser_stable_at_small_sigma_float32():
    y = torch.rand(300, 64) * 2 - 1
    D = EmpiricalDenoiser(y, chunk_size=64)
    x = y[:10] + 0.002 * torch.randn(10, 64)
    out = D(x, 0.002)
    assert torch.isfinite(out).all()
    assert torch.allclose(out, y[:10], atol=1e-5)
    # very large sigma: the mean of the set
    assert torch.allclose(D(torch.zeros(1, 64), 1e4)[0], y.mean(0), atol=1e-3)


def test_linear_denoiser_levels_and_closed_form(gauss_data):
    _, X = gauss_data
    mu0, S0 = empirical_moments(X)
    sig = edm.sigma_grid(10)
    L = LinearDenoiser.closed_form(mu0, S0, sig)
    G = GaussianDenoiser(mu0, S0)
    x = torch.randn(3, 12, dtype=torch.float64)
    for s in sig.tolist():
        assert torch.allclose(L(x, s), G(x, s), atol=1e-10)
    mixed = torch.tensor([sig[0], sig[3], sig[9]], dtype=torch.float64)
    assert torch.allclose(L(x, mixed), G(x, mixed), atol=1e-10)
    with pytest.raises(GendiffError, match="no level sigma=0.3"):
        L(x, 0.3)


@pytest.mark.parametrize("ridge,init", [(0.0, "zero"), (0.1, "identity")])
def test_gradient_descent_reaches_closed_form(gauss_data, ridge, init):
    _, X = gauss_data
    mu0, S0 = empirical_moments(X)
    sig = torch.tensor([0.3, 1.0, 5.0], dtype=torch.float64)
    L, h = fit_linear_dsm(mu0, S0, sig, steps=6000, lr=1.0, init=init, ridge=ridge, momentum="auto",
                          record_every=1000)
    ref = LinearDenoiser.closed_form(mu0, S0, sig, c=ridge)
    assert torch.allclose(L.W, ref.W, atol=1e-8)
    assert torch.allclose(L.b, ref.b, atol=1e-8)
    assert torch.all(h["loss"][-1] <= h["loss"][0] + 1e-12)


def test_eps_loss_matches_monte_carlo(gauss_data):
    _, X = gauss_data
    mu0, S0 = empirical_moments(X)
    A = 0.1 * torch.randn(1, 12, 12, dtype=torch.float64)
    s = torch.tensor([0.7], dtype=torch.float64)
    g = torch.Generator().manual_seed(0)
    n = 200000
    idx = torch.randint(0, len(X), (n,), generator=g)
    eps = torch.randn(n, 12, generator=g, dtype=torch.float64)
    xt = X[idx] + 0.7 * eps
    mc = (((xt - mu0) @ A[0].T - eps) ** 2).sum(1)
    exact = float(linear_dsm_loss_eps(A, S0, s)[0])
    assert abs(mc.mean().item() - exact) < 4 * mc.std().item() / math.sqrt(n)


def test_sgd_approaches_optimum():
    g = torch.Generator().manual_seed(0)
    y = torch.randn(400, 5, generator=g) @ torch.diag(torch.tensor([1.0, 0.7, 0.5, 0.3, 0.2])) + 0.3
    L, losses = fit_linear_sgd(y, [1.0], steps=1500, batch_size=128, lr=0.02, seed=0)
    mu0, S0 = empirical_moments(y)
    ref = LinearDenoiser.closed_form(mu0, S0, [1.0])
    excess = dsm_loss_linear(L.W[0].detach(), L.b[0].detach(), mu0, S0, 1.0) / \
        dsm_loss_linear(ref.W[0], ref.b[0], mu0, S0, 1.0) - 1
    assert 0 <= excess < 0.02


def test_api_edge_cases_get_one_clear_error():
    from gendiff.denoisers import PSPCSquare
    from gendiff.zoo import NetConfig

    y = torch.rand(6, 1, 8, 8) * 2 - 1
    G, E = GaussianDenoiser.from_data(y), EmpiricalDenoiser(y)
    for D in (G, E, PSPCSquare(y, 3)):
        with pytest.raises(GendiffError, match="non-empty batch"):
            D(y[:0], 1.0)
        with pytest.raises(GendiffError, match="floating-point"):
            D(torch.zeros(2, 1, 8, 8, dtype=torch.int64), 1.0)
        for bad in (float("inf"), float("nan")):
            with pytest.raises(GendiffError, match="sigma must be finite"):
                D(y[:2], bad)
    with pytest.raises(GendiffError, match="too small for torch.float32"):
        E(y[:2], 1e-30)
    assert torch.isfinite(E(y[:2].double(), 1e-30)).all()  # float64 reaches it
    with pytest.raises(GendiffError, match="patch size must be an integer"):
        PSPCSquare(y, 2.9)
    with pytest.raises(GendiffError, match="empty"):
        EmpiricalDenoiser(y[:0])
    with pytest.raises(GendiffError, match="empty"):
        GaussianDenoiser.from_data(y[:0])
    with pytest.raises(GendiffError, match="empty"):
        PSPCSquare(y[:0], 3)
    for kw, name in (({"batch_size": 0}, "batch_size"), ({"ema_decay": 2}, "ema_decay"), ({"size": 0}, "size"),
                     ({"warmup": -1}, "warmup"), ({"grad_clip": 0.0}, "grad_clip"), ({"seed": -1}, "seed")):
        with pytest.raises(GendiffError, match=name):
            NetConfig(N=8, **kw)


def test_nets_check_their_input_shape():
    from gendiff.zoo import NetConfig

    net = NetConfig(N=8, channels=4, size=8).build((1, 8, 8))
    assert net(torch.zeros(2, 1, 8, 8), 1.0).shape == (2, 1, 8, 8)
    with pytest.raises(GendiffError, match=r"inputs of shape \(B, 1, 8, 8\), got \(2, 1, 4, 4\)"):
        net(torch.zeros(2, 1, 4, 4), 1.0)


@pytest.mark.parametrize("chunk", [1, 3, 7, 50])
def test_streaming_softmax_mean_equals_softmax_over_all_items(chunk):
    from gendiff.denoisers.softmax import StreamingSoftmaxMean

    g = torch.Generator().manual_seed(0)
    logits = 300 * torch.randn(4, 5, 50, generator=g, dtype=torch.float64)  # exp would overflow without the max
    v = torch.randn(50, 3, generator=g, dtype=torch.float64)
    want = torch.softmax(logits, -1) @ v
    sm = StreamingSoftmaxMean((4, 5), 3, dtype=torch.float64, device="cpu")
    for lo in range(0, 50, chunk):
        sm.update(logits[..., lo:lo + chunk].clone(), lambda w, lo=lo: w @ v[lo:lo + chunk])
    torch.testing.assert_close(sm.mean(), want)


def test_tempered_empirical_denoiser_matches_a_loop_and_contains_D_M():
    from gendiff.denoisers import Schedule, TemperedEmpiricalDenoiser

    g = torch.Generator().manual_seed(0)
    y = torch.randn(20, 1, 3, 3, generator=g, dtype=torch.float64)
    x = torch.randn(4, 1, 3, 3, generator=g, dtype=torch.float64)
    sig = torch.tensor([0.3, 0.7, 1.5, 3.0], dtype=torch.float64)
    for tau in (0.5, 1.0, 4.0):  # the definition, one item at a time
        w = torch.stack([torch.softmax(-((x[b] - y) ** 2).flatten(1).sum(1) / (2 * tau * sig[b] ** 2), 0)
                         for b in range(4)])
        ref = (w @ y.flatten(1)).reshape(x.shape)
        assert torch.allclose(TemperedEmpiricalDenoiser(y, tau)(x, sig), ref, atol=1e-12)
    assert torch.allclose(TemperedEmpiricalDenoiser(y, 1.0)(x, sig), EmpiricalDenoiser(y)(x, sig), atol=1e-12)
    # a per-sigma schedule picks each item's temperature from its own sigma
    sched = Schedule([0.5, 2.0], [1.0, 4.0])
    out = TemperedEmpiricalDenoiser(y, sched)(x, sig)
    assert torch.allclose(out[:2], TemperedEmpiricalDenoiser(y, 1.0)(x[:2], sig[:2]), atol=1e-12)
    assert torch.allclose(out[2:], TemperedEmpiricalDenoiser(y, 4.0)(x[2:], sig[2:]), atol=1e-12)
    with pytest.raises(GendiffError, match="temperature must be > 0"):
        TemperedEmpiricalDenoiser(y, 0.0)
