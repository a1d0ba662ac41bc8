import math

import numpy as np
import pytest
import torch

from gendiff import GendiffError, edm, theory
from gendiff.data import GaussianData, empirical_moments
from gendiff.denoisers import GaussianDenoiser, LinearDenoiser, fit_linear_dsm
from gendiff.metrics import (dsm_loss_linear, gaussian_kl, memorization_fraction, nearest_neighbors,
                             score_field_rmse)
from gendiff.sampling import edm_sampler, pushforward_gaussian


def test_gaussian_kl_against_monte_carlo():
    g = torch.Generator().manual_seed(0)
    d = 4
    A, B = (torch.randn(d, d, generator=g, dtype=torch.float64) for _ in range(2))
    S1, S2 = A @ A.T + 0.5 * torch.eye(d), B @ B.T + 0.5 * torch.eye(d)
    m1, m2 = torch.randn(d, generator=g, dtype=torch.float64), torch.randn(d, generator=g, dtype=torch.float64)
    p = torch.distributions.MultivariateNormal(m1, S1)
    q = torch.distributions.MultivariateNormal(m2, S2)
    x = p.sample((400000,))
    lr = p.log_prob(x) - q.log_prob(x)
    assert abs(gaussian_kl(m1, S1, m2, S2) - lr.mean().item()) < 4 * lr.std().item() / math.sqrt(len(x))
    assert gaussian_kl(m1, S1, m1, S1) == pytest.approx(0, abs=1e-12)
    assert torch.distributions.kl_divergence(p, q).item() == pytest.approx(gaussian_kl(m1, S1, m2, S2), rel=1e-9)


def test_gaussian_kl_singular():
    S = torch.diag(torch.tensor([1.0, 0.0], dtype=torch.float64))
    assert gaussian_kl(torch.zeros(2), S, torch.zeros(2), torch.eye(2)) == math.inf
    with pytest.raises(GendiffError, match="singular"):
        gaussian_kl(torch.zeros(2), torch.eye(2), torch.zeros(2), S)


@pytest.mark.parametrize("d,N", [(3, 10), (5, 40)])
def test_expected_kl_exact_vs_monte_carlo(d, N):
    rho = GaussianData.power_law(d, k=1.5, mean_scale=2.0, seed=1)
    fwd, rev = [], []
    for s in range(3000):
        m0, S0 = empirical_moments(rho.sample(N, seed=s))
        fwd.append(gaussian_kl(m0, S0, rho.mu, rho.Sigma))
        rev.append(gaussian_kl(rho.mu, rho.Sigma, m0, S0))
    for vals, ex in ((fwd, theory.expected_kl_forward(d, N)), (rev, theory.expected_kl_reverse(d, N))):
        v = np.array(vals)
        assert abs(v.mean() - ex) < 4 * v.std() / math.sqrt(len(v))
    assert theory.expected_kl_forward(d, d) == math.inf
    # large N: both approach d(d+3)/(4N)
    assert theory.expected_kl_forward(8, 100000) == pytest.approx(theory.kl_large_N(8, 100000), rel=0.01)
    assert theory.expected_kl_reverse(8, 100000) == pytest.approx(theory.kl_large_N(8, 100000), rel=0.01)


def test_dsm_loss_linear_matches_monte_carlo_and_gap_formula():
    rho = GaussianData.power_law(6, k=1.0, mean_scale=1.0, seed=0)
    X = rho.sample(4, seed=2)  # N < d
    mu0, S0 = empirical_moments(X)
    s = 0.8
    W, b = GaussianDenoiser(mu0, S0, c=0.05).wiener(s)
    g = torch.Generator().manual_seed(0)
    xt = rho.sample(300000, seed=9)
    noisy = xt + s * torch.randn(xt.shape, generator=g, dtype=torch.float64)
    per = ((noisy @ W.T + b - xt) ** 2).sum(1)
    test = dsm_loss_linear(W, b, rho.mu, rho.Sigma, s)
    assert abs(per.mean().item() - test) < 4 * per.std().item() / math.sqrt(len(per))
    train = dsm_loss_linear(W, b, mu0, S0, s)
    gap = theory.test_train_gap(rho.Sigma, S0, rho.mu - mu0, s, c=0.05)
    assert test - train == pytest.approx(gap, rel=1e-9)
    lam, contrib = theory.test_train_gap_modes(rho.Sigma, S0, rho.mu - mu0, s, c=0.05)
    assert int((lam == 0).sum()) == 3  # d - N + 1 null directions (rank N - 1)
    assert theory.null_direction_gap(rho.Sigma, S0, rho.mu - mu0, s, c=0.05) == pytest.approx(
        float(contrib[lam == 0].sum()))


def test_c_early_stopping_closed_form_vs_quadrature_and_training():
    eta, tau = 0.1, 500
    quad = theory.ode_output_variance(theory.early_stopping_gain(0.0, eta, tau))
    assert theory.c_early_stopping(eta, tau) == pytest.approx(quad, rel=1e-6)
    assert theory.c_early_stopping(eta, 1e6) == pytest.approx(math.exp(-np.euler_gamma) / (2 * eta * 1e6), rel=1e-3)
    # a trained model on N < d: unseen directions get that variance through a fine sampler
    rho = GaussianData.power_law(6, k=1.0, seed=0)
    X = rho.sample(3, seed=1)
    mu0, S0 = empirical_moments(X)
    lv = edm.sampling_steps(150)[:-1]
    L, _ = fit_linear_dsm(mu0, S0, lv, steps=tau, lr=eta)
    f = lambda x: edm_sampler(L, x, num_steps=150, dtype=torch.float64)  # noqa: E731
    _, C = pushforward_gaussian(f, torch.zeros(6), 80.0**2 * torch.eye(6))
    lam, U = torch.linalg.eigh(S0)
    null = U[:, lam < 1e-12]
    assert (null.T @ C @ null).diagonal().mean().item() == pytest.approx(theory.c_early_stopping(eta, tau), rel=0.03)


def test_ridge_gives_c_and_sigma_min_gives_sigma_min_squared():
    rho = GaussianData.power_law(5, k=1.0, seed=0)
    mu0, S0 = empirical_moments(rho.sample(3, seed=1))
    G = GaussianDenoiser(mu0, S0, c=0.2)
    _, C = pushforward_gaussian(lambda x: G.trajectory(x, 80.0, 0.0), torch.zeros(5), 80.0**2 * torch.eye(5))
    target = S0 + 0.2 * torch.eye(5, dtype=torch.float64)
    evC = torch.linalg.eigvalsh(C)
    evT = torch.linalg.eigvalsh(target)
    assert torch.allclose(evC, evT * 80**2 / (80**2 + evT), rtol=1e-9)
    G0 = GaussianDenoiser(mu0, S0)
    _, C2 = pushforward_gaussian(lambda x: G0.trajectory(x, 80.0, 0.3), torch.zeros(5), 80.0**2 * torch.eye(5))
    ev2 = torch.linalg.eigvalsh(C2)
    lam = torch.linalg.eigvalsh(S0).clamp_min(0)
    assert torch.allclose(ev2, (lam + theory.c_sigma_min(0.3)) * 80**2 / (80**2 + lam), rtol=1e-6)


def test_score_field_rmse_and_nearest_neighbors():
    y = torch.randn(30, 8)
    G = GaussianDenoiser.from_data(y)
    assert score_field_rmse(G, G, y, 1.0) == 0.0
    L = LinearDenoiser.closed_form(*empirical_moments(y), [1.0])

    class Shift(torch.nn.Module):
        def forward(self, x, s):
            return G(x, s) + 0.5

    assert score_field_rmse(Shift(), G, y, 1.0, generator=torch.Generator().manual_seed(0)) == pytest.approx(0.5, rel=1e-5)
    assert score_field_rmse(L, G, y, 1.0) == pytest.approx(0.0, abs=1e-5)
    d, i = nearest_neighbors(y[:5] + 1e-4, y, k=2)
    assert torch.equal(i[:, 0], torch.arange(5))
    brute = torch.cdist(y[:5].double() + 1e-4, y.double())
    assert torch.allclose(d[:, 1].double(), brute.sort(1).values[:, 1], atol=1e-5)
    assert memorization_fraction(y[:10] + 1e-3, y) == 1.0
    far = torch.randn(10, 8) * 5
    assert memorization_fraction(far, y) < 0.5


def test_heldout_edm_loss_matches_hand_computation_for_zero_denoiser():
    from gendiff import edm
    from gendiff.metrics import heldout_edm_loss

    class Zero(torch.nn.Module):
        def forward(self, x, sigma):
            return torch.zeros_like(x)

    y = torch.randn(10, 1, 4, 4, generator=torch.Generator().manual_seed(0))
    g = torch.Generator().manual_seed(3)
    want = 0.0
    for _ in range(2):
        s = edm.sample_training_sigma(10, generator=g)
        torch.randn(y.shape, generator=g)  # the noise draw, unused by a zero output
        want += float((edm.loss_weight(s) * (y**2).flatten(1).mean(1)).mean())
    assert heldout_edm_loss(Zero(), y, repeats=2, seed=3) == pytest.approx(want / 2, rel=1e-6)


def test_pixel_and_nn_rmse_by_hand():
    from gendiff.metrics import nn_rmse, pixel_rmse

    a = torch.zeros(2, 1, 2, 2)
    b = torch.stack([torch.full((1, 2, 2), 1.0), torch.tensor([[[2.0, 0.0], [0.0, 0.0]]])])
    assert pixel_rmse(a, b) == pytest.approx((1.0 + 1.0) / 2)  # sqrt(4/4) and sqrt(4/4)
    y = torch.stack([torch.full((1, 2, 2), 3.0), torch.full((1, 2, 2), 0.5)])
    assert nn_rmse(a, y) == pytest.approx(0.5)


def test_nn_ratio_by_hand():
    from gendiff.metrics import nn_ratio

    y = torch.tensor([[0.0, 0.0], [4.0, 0.0], [0.0, 10.0]]).reshape(3, 1, 1, 2)
    x = torch.tensor([[1.0, 0.0], [2.0, 0.0]]).reshape(2, 1, 1, 2)
    assert nn_ratio(x, y).tolist() == pytest.approx([1 / 3, 1.0])  # distances 1 and 3; 2 and 2
    assert memorization_fraction(x, y) == 0.0 and memorization_fraction(x, y, ratio=0.34) == 0.5


def _ssim_brute(a, b, w=7, L=2.0):
    """SSIM of two 2-D arrays by its definition: every valid w x w window, sample (co)variances, mean of the map."""
    C1, C2 = (0.01 * L) ** 2, (0.03 * L) ** 2
    vals = []
    for i in range(a.shape[0] - w + 1):
        for j in range(a.shape[1] - w + 1):
            p, q = a[i:i + w, j:j + w].ravel(), b[i:i + w, j:j + w].ravel()
            mp, mq = p.mean(), q.mean()
            vp, vq = p.var(ddof=1), q.var(ddof=1)
            cpq = ((p - mp) * (q - mq)).sum() / (p.size - 1)
            vals.append((2 * mp * mq + C1) * (2 * cpq + C2) / ((mp**2 + mq**2 + C1) * (vp + vq + C2)))
    return float(np.mean(vals))


def test_ssim_matches_its_definition_and_does_not_reward_blur():
    from gendiff.metrics import pixel_rmse, ssim

    g = torch.Generator().manual_seed(0)
    a = (torch.rand(3, 1, 12, 12, generator=g) > 0.6).double() * 2 - 1  # sharp strokes in [-1, 1]
    b = (a + 0.3 * torch.randn(a.shape, generator=g, dtype=a.dtype)).clamp(-1, 1)
    want = np.mean([_ssim_brute(a[i, 0].numpy(), b[i, 0].numpy()) for i in range(3)])
    assert ssim(a, b) == pytest.approx(want, rel=1e-6)
    assert ssim(a, a) == pytest.approx(1.0) and ssim(a, b) == pytest.approx(ssim(b, a))
    blur = torch.full_like(a, float(a.mean()))  # the flat image nearest a in pixel RMSE among constants
    assert pixel_rmse(blur, a) < pixel_rmse(b.roll(1, 0), a)  # pixel RMSE prefers the blur to another sharp image
    assert ssim(blur, a) < 0.1  # SSIM sees no structure in it
    with pytest.raises(GendiffError, match="ssim needs"):
        ssim(a, b[:2])


def test_paired_distances_are_the_per_sample_terms_of_the_mean_measures():
    from gendiff.metrics import paired_distances, pixel_rmse, ssim

    g = torch.Generator().manual_seed(1)
    a, b = torch.rand(5, 1, 10, 10, generator=g) * 2 - 1, torch.rand(5, 1, 10, 10, generator=g) * 2 - 1
    proj = torch.randn(100, 6, generator=g)
    d = paired_distances(a, b, features=lambda x: x.flatten(1) @ proj)
    assert d["pixel RMSE"].mean() == pytest.approx(pixel_rmse(a, b)) and d["pixel RMSE"].shape == (5,)
    assert d["1 - SSIM"].mean() == pytest.approx(1 - ssim(a, b))
    fa, fb = a.flatten(1) @ proj, b.flatten(1) @ proj
    assert d["feature RMSE"][2] == pytest.approx(float(((fa[2] - fb[2]) ** 2).mean().sqrt()), rel=1e-5)
    assert paired_distances(a, a)["pixel RMSE"].max() == 0 and "feature RMSE" not in paired_distances(a, a)
    with pytest.raises(GendiffError, match="paired_distances needs"):
        paired_distances(a, b[:2])


def test_near_copy_rate_is_calibrated_and_flags_copies():
    from gendiff.metrics import near_copy_rate

    g = torch.Generator().manual_seed(0)
    y = torch.randn(200, 1, 4, 4, generator=g)
    fresh = torch.randn(4000, 1, 4, 4, generator=g)  # new draws like the held-out reference
    ref = torch.randn(1000, 1, 4, 4, generator=g)
    assert near_copy_rate(fresh, y, ref, level=0.05) == pytest.approx(0.05, abs=0.02)
    assert near_copy_rate(fresh, y, ref, level=0.5) == pytest.approx(0.5, abs=0.04)
    assert near_copy_rate(y[:50] + 1e-3 * torch.randn(50, 1, 4, 4, generator=g), y, ref) == 1.0
    # brute force: the quantile of the reference's nearest distances, by hand
    d_ref = torch.cdist(ref.flatten(1).double(), y.flatten(1).double()).min(1).values
    d_x = torch.cdist(fresh[:300].flatten(1).double(), y.flatten(1).double()).min(1).values
    assert near_copy_rate(fresh[:300], y, ref, 0.1) == pytest.approx(float((d_x < d_ref.quantile(0.1)).double().mean()))
    with pytest.raises(Exception, match="level"):
        near_copy_rate(fresh, y, ref, level=1.5)


def test_log_crossing():
    from gendiff.metrics import log_crossing

    assert log_crossing([8, 32], [1.0, 0.0]) == pytest.approx(16.0)  # halfway in log N
    assert log_crossing([8, 16, 64], [1.0, 0.75, 0.25]) == pytest.approx(32.0)
    assert log_crossing([8, 16], [0.9, 0.1], level=0.9) == pytest.approx(8.0)
    assert math.isnan(log_crossing([8, 16], [0.4, 0.1]))  # never memorized
    assert math.isnan(log_crossing([8, 16], [1.0, 0.6]))  # never generalizes


def test_noise_removed_closed_forms():
    from gendiff.metrics import noise_removed

    x = torch.zeros(4000, 1, 4, 4)
    g = lambda: torch.Generator().manual_seed(1)  # noqa: E731
    assert noise_removed(lambda z, s: z, x, 0.1, generator=g()) == 0.0  # the identity removes nothing
    assert noise_removed(lambda z, s: torch.zeros_like(z), x, 0.1, generator=g()) == pytest.approx(1.0, abs=0.01)
    assert noise_removed(lambda z, s: 0.75 * z, x, 0.3, generator=g()) == pytest.approx(0.25, abs=0.003)
    y = torch.ones(1, 1, 4, 4)  # snapping every input onto one training image far away: about |x - y| / sigma
    r = noise_removed(lambda z, s: y.expand_as(z), x[:10], 0.01, generator=g())
    assert r == pytest.approx(100.0, rel=0.01)


def test_near_copy_rate_levels_match_single_calls():
    from gendiff.metrics import near_copy_rate

    g = torch.Generator().manual_seed(0)
    y, y_ref, x = (torch.randn(n, 1, 4, 4, generator=g) for n in (50, 40, 30))
    x[:10] = y[:10] + 1e-3  # ten copies: they are always near-copies
    many = near_copy_rate(x, y, y_ref, [0.05, 0.5])
    assert many == [near_copy_rate(x, y, y_ref, 0.05), near_copy_rate(x, y, y_ref, 0.5)]
    assert many[0] >= 10 / 30 and many[1] >= many[0]
    with pytest.raises(GendiffError, match="level must be in"):
        near_copy_rate(x, y, y_ref, [0.05, 1.0])


def test_participation_ratio_closed_forms():
    from gendiff.metrics import participation_ratio

    g = torch.Generator().manual_seed(0)
    iso = torch.randn(20000, 16, generator=g)
    assert participation_ratio(iso) == pytest.approx(16, rel=0.02)  # isotropic: every direction
    line = torch.randn(500, 1, generator=g) * torch.ones(1, 16)
    assert participation_ratio(line) == pytest.approx(1.0, rel=1e-6)  # one direction
    two = torch.randn(20000, 16, generator=g) * torch.tensor([3.0, 1.0] + [0.0] * 14)
    assert participation_ratio(two) == pytest.approx(100 / 82, rel=0.03)  # (9 + 1)^2 / (81 + 1)
    with pytest.raises(GendiffError, match="at least 2"):
        participation_ratio(iso[:1])


def test_covariance_spectrum_is_sorted_and_matches_numpy():
    import numpy as np

    from gendiff.metrics import covariance_spectrum

    x = torch.randn(300, 1, 3, 3, generator=torch.Generator().manual_seed(1)) * torch.linspace(0.2, 3, 9).view(1, 1, 3, 3)
    ev = covariance_spectrum(x)
    ref = np.sort(np.linalg.eigvalsh(np.cov(x.reshape(300, -1).double().numpy().T)))[::-1]
    assert torch.all(ev[:-1] >= ev[1:])
    np.testing.assert_allclose(ev.numpy(), ref, rtol=1e-9, atol=1e-12)


def test_fit_power_law_recovers_exponent():
    from gendiff.metrics import fit_power_law

    a, b = fit_power_law([64, 144, 256], [0.35 * 64, 0.35 * 144, 0.35 * 256])
    assert (a, b) == (pytest.approx(0.35), pytest.approx(1.0))
    a, b = fit_power_law([64, 64, 256], [20.0, 30.0, 90.0])  # repeated x: the fit goes through the mean log
    assert b == pytest.approx(np.log(90 / np.sqrt(600)) / np.log(4))
    with pytest.raises(GendiffError, match="distinct x"):
        fit_power_law([64, 64], [20.0, 30.0])


def test_reference_distances_and_the_band_where_D_M_is_the_worse_heldout_denoiser():
    """Against a direct computation; and the wrong-world check of the margin: at low noise D_M (the training set's
    nearest image) beats D_G on training images but is the worse denoiser of new images."""
    from gendiff.denoisers import EmpiricalDenoiser, GaussianDenoiser
    from gendiff.metrics import reference_distances, score_field_rmse, worse_band

    g = torch.Generator().manual_seed(0)
    mix = torch.randn(64, 4, generator=g, dtype=torch.float64) @ torch.randn(4, 16, generator=g, dtype=torch.float64)
    y, held = (0.3 * mix[:48]).reshape(48, 1, 4, 4), (0.3 * mix[48:]).reshape(16, 1, 4, 4)
    D_G, D_M = GaussianDenoiser.from_data(y), EmpiricalDenoiser(y)
    rows = reference_distances(D_G, {"D_G": D_G, "D_M": D_M}, held, [0.05, 2.0],
                               generator=torch.Generator().manual_seed(1))
    get = {(r["sigma"], r["of"], r["to"]): r["rmse"] for r in rows}
    assert get[(0.05, "D", "D_G")] == pytest.approx(0, abs=1e-12)  # D is D_G itself
    one = reference_distances(D_G, {"D_M": D_M}, held, [2.0], generator=torch.Generator().manual_seed(1))
    direct = score_field_rmse(D_G, D_M, held, 2.0, generator=torch.Generator().manual_seed(1))  # eq 10, same noise
    assert [r["rmse"] for r in one if r["to"] == "D_M"] == [pytest.approx(direct, rel=1e-12)]
    with_i = reference_distances(D_G, {"D_M": D_M}, held, [2.0], generator=torch.Generator().manual_seed(1),
                                 per_image=True, batch_size=5)  # batches of 5: the per-image values join up
    assert all(r["rmse_i"].shape == (16,) and r["rmse"] == pytest.approx(r["rmse_i"].mean(), rel=1e-12) for r in with_i)
    same = reference_distances(D_G, {"D_M": D_M}, held, [2.0], generator=torch.Generator().manual_seed(1),
                               per_image=True)
    assert [r["rmse"] for r in same] == [r["rmse"] for r in one]  # per_image adds the values, changes nothing
    assert 0.05 in worse_band(rows, worse="D_M", better="D_G")  # new images: D_M snaps to a training image
    train_rows = reference_distances(D_G, {"D_G": D_G, "D_M": D_M}, y[:16], [0.05],
                                     generator=torch.Generator().manual_seed(1))
    assert worse_band(train_rows, worse="D_M", better="D_G") == []  # on training images D_M is the better one
    near_tie = [dict(sigma=sg, of=o, to="clean", rmse=v) for sg, o, v in
                ((9.7, "D_M", 0.8801), (9.7, "D_G", 0.88), (0.47, "D_M", 0.30), (0.47, "D_G", 0.20))]
    assert worse_band(near_tie, "D_M", "D_G") == [9.7, 0.47]  # any excess at all
    assert worse_band(near_tie, "D_M", "D_G", by=0.05) == [0.47]  # a 1e-4 excess does not make a level "clearly worse"
    with pytest.raises(GendiffError, match="by must be"):
        worse_band(near_tie, "D_M", "D_G", by=-0.1)


def test_foreground_pixels_are_where_the_training_images_vary():
    from gendiff.locality import foreground_pixels

    y = torch.zeros(10, 1, 4, 4)
    y[:, 0, 1:3, 1:3] = torch.linspace(-1, 1, 10)[:, None, None]
    fg = foreground_pixels(y, 0.5)
    assert fg[1:3, 1:3].all() and fg.sum() >= 4
    assert foreground_pixels(y, 0.9).sum() == 4  # only the varying pixels pass a high quantile
    with pytest.raises(GendiffError, match="quantile must be in"):
        foreground_pixels(y, 1.0)


def test_departure_cosine_by_hand_and_learned_part_of_any_denoiser():
    """departure_cosine: 1 for the same departure, -1 for the opposite one, the hand value for two given ones, and
    only the band's inputs count; LearnedPart splits any denoiser as D - c_skip x (EDM's c_skip at SIGMA_DATA)."""
    from gendiff.denoisers.net import LearnedPart
    from gendiff.metrics import departure_cosine

    class Shift(torch.nn.Module):  # D(z) = z + v: departs from the identity by v at every input
        def __init__(self, v):
            super().__init__()
            self.v = v

        def forward(self, z, s):
            return z + self.v

    ident = Shift(torch.zeros(1, 1, 2, 2))
    u, w = torch.tensor([1.0, 0, 0, 0]).reshape(1, 1, 2, 2), torch.tensor([1.0, 1, 0, 0]).reshape(1, 1, 2, 2)
    inputs = [(torch.randn(3, 1, 2, 2), s) for s in (0.05, 1.0, 30.0)]
    assert departure_cosine(Shift(u), Shift(2 * u), ident, inputs) == pytest.approx(1.0)
    assert departure_cosine(Shift(u), Shift(-u), ident, inputs) == pytest.approx(-1.0)
    assert departure_cosine(Shift(u), Shift(w), ident, inputs) == pytest.approx(1 / math.sqrt(2))
    with pytest.raises(GendiffError, match="no input in the band"):
        departure_cosine(Shift(u), Shift(w), ident, inputs, band=(2.0, 3.0))
    y = torch.randn(20, 1, 2, 2)
    G = GaussianDenoiser.from_data(y)
    x, s = torch.randn(4, 1, 2, 2), 0.7
    c_skip = edm.SIGMA_DATA**2 / (s**2 + edm.SIGMA_DATA**2)
    assert torch.allclose(LearnedPart(G)(x, s), G(x, s) - c_skip * x, atol=1e-6)


def test_denoiser_mse_per_image_is_each_images_mean_and_band_means_resample_them():
    """Per image against a direct loop; its mean is the scalar form; analytic.band_means over a resample of the
    images equals the band mean of hand-resampled per-level means, a denoiser scored on fewer images using the
    resampled indices among its own."""
    from gendiff import analytic, edm
    from gendiff.denoisers import GaussianDenoiser
    from gendiff.metrics import denoiser_mse

    g = torch.Generator().manual_seed(0)
    y = torch.randn(20, 1, 4, 4, generator=g, dtype=torch.float64)
    D = GaussianDenoiser.from_data(y)
    z, ref = y[:6] + 0.5 * torch.randn(6, 1, 4, 4, generator=g, dtype=torch.float64), y[:6]
    per = denoiser_mse(D, z, 0.5, ref, per_image=True, batch_size=4)
    loop = torch.stack([((D(z[i:i + 1], 0.5) - ref[i:i + 1]) ** 2).mean() for i in range(6)])
    assert torch.allclose(per, loop.double(), rtol=1e-12) and per.shape == (6,)
    assert denoiser_mse(D, z, 0.5, ref) == pytest.approx(float(per.mean()), rel=1e-12)

    sigmas = [0.05, 0.5, 5.0]  # the "mid" band [0.3, 3] holds 0.5 alone, "pspc" [0.1, 20] holds 0.5 and 5
    rng = np.random.default_rng(0)
    full = {"A": [torch.as_tensor(rng.random(6)) for _ in sigmas], "ELS": [torch.as_tensor(rng.random(2)) for _ in sigmas]}
    assert analytic.band_means(full, sigmas, "pspc")["A"] == pytest.approx(
        edm.band_mean([float(v.mean()) for v in full["A"]], sigmas, "pspc"))
    idx = np.array([1, 1, 4, 0, 5, 3])
    got = analytic.band_means(full, sigmas, "pspc", idx)
    assert got["A"] == pytest.approx((full["A"][1][idx].mean() + full["A"][2][idx].mean()).item() / 2)
    assert got["ELS"] == pytest.approx((full["ELS"][1][[1, 1, 0]].mean() + full["ELS"][2][[1, 1, 0]].mean()).item() / 2)
    assert analytic.band_means(full, sigmas, "pspc", np.array([4, 5]))["ELS"] == pytest.approx(
        analytic.band_means(full, sigmas, "pspc")["ELS"])  # none of its own resampled: all of its own


def test_band_extreme_is_the_smallest_margin_or_ratio_over_the_band_on_the_resampled_images():
    from gendiff.metrics import band_extreme

    per = {(0.5, "D_G"): np.array([1.0, 2.0, 3.0]), (0.5, "D_M"): np.array([2.0, 2.0, 5.0]),
           (0.1, "D_G"): np.array([1.0, 1.0, 1.0]), (0.1, "D_M"): np.array([1.5, 0.5, 1.0]),
           (0.5, "D_M own"): np.array([1.0, 1.0, 1.0]), (0.5, "D_M unseen"): np.array([2.0, 2.0, 2.0]),
           (0.1, "D_M own"): np.array([3.0, 3.0, 3.0]), (0.1, "D_M unseen"): np.array([3.0, 3.0, 3.0])}
    assert band_extreme(per, [0.5, 0.1]) == pytest.approx(0.0)  # margins 1.0 and 0.0: the smallest
    assert band_extreme(per, [0.5]) == pytest.approx(1.0)
    assert band_extreme(per, [0.5, 0.1], idx=np.array([0, 0])) == pytest.approx(0.5)  # margins 1.0 and 0.5
    assert band_extreme(per, [0.5, 0.1], "own_vs_unseen") == pytest.approx(0.5)
    assert math.isnan(band_extreme(per, []))
    with pytest.raises(GendiffError, match="stat"):
        band_extreme(per, [0.5], "nope")
